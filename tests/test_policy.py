"""The precision policy as a pure function: every rule, table-driven, no AWS."""

from __future__ import annotations

import pytest

from prowler_vpc_flow_logs.facts import Destination, DestinationState, FlowLog, ReadError, Vpc
from prowler_vpc_flow_logs.policy import Policy, covered_traffic, evaluate, meets, region_unreadable

ACCOUNT = "123456789012"
VPC = Vpc(
    id="vpc-1",
    arn=f"arn:aws:ec2:us-east-1:{ACCOUNT}:vpc/vpc-1",
    region="us-east-1",
    owner_id=ACCOUNT,
    name="prod",
)


def destination(kind: str, service: str, resource: str, name: str = "flows") -> Destination:
    arn = f"arn:aws:{service}:us-east-1:{ACCOUNT}:{resource}"
    return Destination(kind=kind, arn=arn, name=name, region="us-east-1", account=ACCOUNT)


GROUP = destination("cloud-watch-logs", "logs", "log-group:flows")
BUCKET = Destination(kind="s3", arn="arn:aws:s3:::flow-bucket", name="flow-bucket")
STREAM = destination("kinesis-data-firehose", "firehose", "deliverystream/flows")
OTHER_GROUP = GROUP.model_copy(
    update={"arn": GROUP.arn.replace(ACCOUNT, "210987654321"), "account": "210987654321"}
)
EXISTS = DestinationState(status="exists")
FORBIDDEN = DestinationState(
    status="forbidden", detail="it is not this account's, and answers its reads with 403"
)
STATES = {GROUP: EXISTS, BUCKET: EXISTS, STREAM: EXISTS}


def log(id_: str = "fl-1", traffic: str = "ALL", dest: Destination = GROUP, **kw) -> FlowLog:
    base = dict(
        id=id_,
        resource_id="vpc-1",
        resource_type="VPC",
        vpc_id="vpc-1",
        status="ACTIVE",
        deliver_status="SUCCESS",
        traffic_type=traffic,
        destination=dest,
    )
    base.update(kw)
    return FlowLog(**base)


def policy(required: str = "REJECT") -> Policy:
    return Policy(required_traffic_type=required, audited_account=ACCOUNT)


# (case, flow logs, destination states, required, expected status, words in the text)
# fmt: off
CASES = [
    ("all passes reject", [log(traffic="ALL")], STATES, "REJECT", "PASS", ["capturing REJECT", "fl-1"]),
    ("all passes all", [log(traffic="ALL")], STATES, "ALL", "PASS", ["capturing ALL"]),
    ("reject passes reject", [log(traffic="REJECT", dest=BUCKET)], STATES, "REJECT", "PASS", ["S3 bucket 'flow-bucket'"]),
    ("a bucket folder is named", [log(dest=BUCKET, s3_key_prefix=f"team/logs/AWSLogs/{ACCOUNT}/vpcflowlogs/us-east-1/")], STATES, "REJECT", "PASS", ["fl-1 (ALL to S3 bucket 'flow-bucket', folder 'team/logs/')"]),
    ("reject fails all", [log(traffic="REJECT")], STATES, "ALL", "FAIL", ["records only REJECT", "missing: ACCEPT"]),
    ("accept fails reject", [log(traffic="ACCEPT")], STATES, "REJECT", "FAIL", ["records only ACCEPT traffic"]),
    ("accept passes accept", [log(traffic="ACCEPT")], STATES, "ACCEPT", "PASS", ["capturing ACCEPT"]),
    ("reject fails accept", [log(traffic="REJECT")], STATES, "ACCEPT", "FAIL", ["records only REJECT"]),
    ("accept plus reject covers all", [log("fl-a", "ACCEPT"), log("fl-r", "REJECT", BUCKET)], STATES, "ALL", "PASS", ["fl-a", "fl-r"]),
    ("firehose destination", [log(dest=STREAM)], STATES, "REJECT", "PASS", ["Firehose delivery stream"]),
    ("no flow logs", [], STATES, "REJECT", "FAIL", ["has no VPC-level flow log capturing the required REJECT"]),
    ("not active", [log(status="INACTIVE")], STATES, "REJECT", "FAIL", ["fl-1 is not ACTIVE (FlowLogStatus INACTIVE)"]),
    ("delivery failed with AWS message", [log(deliver_status="FAILED", deliver_error="Access error")], STATES, "REJECT", "FAIL", ["delivery FAILED (Access error)"]),
    ("log group deleted", [log()], {GROUP: DestinationState(status="missing")}, "REJECT", "FAIL", ["log group 'flows' in us-east-1, which does not exist"]),
    ("bucket deleted", [log(dest=BUCKET)], {BUCKET: DestinationState(status="missing")}, "REJECT", "FAIL", ["S3 bucket 'flow-bucket', which does not exist"]),
    ("destination in another account counts, said so", [log(dest=OTHER_GROUP)], {OTHER_GROUP: DestinationState(status="unverifiable", detail="it belongs to account 210987654321")}, "REJECT", "PASS", ["cannot be checked from this account", "belongs to account 210987654321"]),
    ("destination probe error never passes: not audited", [log()], {GROUP: DestinationState(status="error", detail="logs:DescribeLogGroups failed (Throttling)")}, "REJECT", "UNREADABLE", ["could not be audited", "could not be looked up", "logs:DescribeLogGroups failed"]),
    ("destination not probed never passes: not audited", [log()], {}, "REJECT", "UNREADABLE", ["was not looked up"]),
    ("unknown destination that could not decide it: a plain FAIL", [log("fl-a", "ACCEPT")], {GROUP: DestinationState(status="error", detail="denied")}, "REJECT", "FAIL", ["fl-a writes to CloudWatch Logs log group 'flows' in us-east-1, which could not be looked up", "fl-a records only ACCEPT traffic"]),
    ("unknown destination of an inactive log: a plain FAIL", [log(status="INACTIVE")], {GROUP: DestinationState(status="error", detail="denied")}, "REJECT", "FAIL", ["is not ACTIVE (FlowLogStatus INACTIVE) and writes to", "could not be looked up: denied"]),
    ("unknown destination of the missing half: not audited", [log("fl-a", "ACCEPT", dest=BUCKET), log("fl-r", "REJECT")], {BUCKET: EXISTS, GROUP: DestinationState(status="error", detail="denied")}, "ALL", "UNREADABLE", ["fl-r writes to CloudWatch Logs log group 'flows'", "could not be looked up: denied"]),
    ("a usable log passes; the unknown one is noted as not counted", [log("fl-good", dest=BUCKET), log("fl-unknown")], {BUCKET: EXISTS, GROUP: DestinationState(status="error", detail="denied")}, "REJECT", "PASS", ["not counted: fl-unknown writes to", "could not be looked up: denied"]),
    ("one usable log is enough, the broken one is noted", [log("fl-good"), log("fl-bad", deliver_status="FAILED", deliver_error="boom")], STATES, "REJECT", "PASS", ["fl-good", "not counted: fl-bad delivery FAILED (boom)"]),
    ("subnet-level log never passes, is mentioned", [log("fl-s", resource_id="subnet-1", resource_type="Subnet")], STATES, "REJECT", "FAIL", ["has no VPC-level flow log", "fl-s on subnet-1", "do not count for the VPC"]),
    ("eni-level log never passes, is mentioned", [log("fl-e", resource_id="eni-1", resource_type="NetworkInterface")], STATES, "ALL", "FAIL", ["fl-e on eni-1"]),
    # the log archive (issue 20): another account's bucket answers 403; the delivery decides
    ("log archive: 403, delivery healthy, counts and says so", [log(dest=BUCKET)], {BUCKET: FORBIDDEN}, "REJECT", "PASS", ["fl-1 writes to S3 bucket 'flow-bucket', which this account may not read (403); delivery is healthy (DeliverLogsStatus SUCCESS)"]),
    ("log archive: 403 and delivery FAILED fails", [log(dest=BUCKET, deliver_status="FAILED", deliver_error="Access error")], {BUCKET: FORBIDDEN}, "REJECT", "FAIL", ["delivery FAILED (Access error)"]),
    ("log archive: 403 and no delivery status: not audited", [log(dest=BUCKET, deliver_status=None)], {BUCKET: FORBIDDEN}, "REJECT", "UNREADABLE", ["which this account may not read (403), and AWS reports no delivery status"]),
    ("log archive: 403 and not active fails", [log(dest=BUCKET, status="INACTIVE")], {BUCKET: FORBIDDEN}, "REJECT", "FAIL", ["is not ACTIVE"]),
    ("accept usable plus reject broken fails all", [log("fl-a", "ACCEPT"), log("fl-r", "REJECT", status="INACTIVE")], STATES, "ALL", "FAIL", ["fl-r is not ACTIVE", "fl-a records only ACCEPT"]),
]
# fmt: on


@pytest.mark.parametrize(
    "flow_logs,states,required,status,words",
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_policy_rules(flow_logs, states, required, status, words):
    verdict = evaluate(VPC, flow_logs, states, policy(required))
    assert verdict.unreadable == (status == "UNREADABLE"), verdict.status_extended
    assert verdict.status == status.replace("UNREADABLE", "FAIL"), verdict.status_extended
    assert verdict.status_extended.startswith("VPC prod (vpc-1) in us-east-1")
    for word in words:
        assert word in verdict.status_extended
    assert verdict.considered_flow_log_ids == sorted(fl.id for fl in flow_logs)
    assert "disabled" not in verdict.status_extended.lower()


def test_read_error_is_never_pass_nor_disabled():
    error = ReadError(
        action="ec2:DescribeFlowLogs", region="us-east-1", code="AccessDenied", message="no"
    )
    verdict = evaluate(VPC, [log()], STATES, policy(), [error])
    assert verdict.status == "FAIL" and verdict.unreadable
    text = verdict.status_extended
    assert "could not be audited" in text
    assert "ec2:DescribeFlowLogs failed in us-east-1 (AccessDenied: no)" in text
    assert "allowed ec2:DescribeFlowLogs" in text
    assert "disabled" not in text.lower() and "not enabled" not in text.lower()


def test_shared_vpc_is_manual_and_names_owner():
    shared = VPC.model_copy(update={"owner_id": "111122223333"})
    verdict = evaluate(shared, [], STATES, policy())
    assert verdict.status == "MANUAL"
    assert "audit account 111122223333" in verdict.status_extended


def test_unnamed_vpc_is_labelled_by_id():
    verdict = evaluate(VPC.model_copy(update={"name": ""}), [], STATES, policy())
    assert verdict.status_extended.startswith("VPC vpc-1 in us-east-1")


def test_region_unreadable_says_which_call():
    error = ReadError(action="ec2:DescribeVpcs", region="eu-west-1", code="UnauthorizedOperation")
    verdict = region_unreadable("eu-west-1", error)
    assert verdict.status == "FAIL" and verdict.unreadable
    assert "could not be audited" in verdict.status_extended
    assert "ec2:DescribeVpcs" in verdict.status_extended


@pytest.mark.parametrize(
    "required,types,ok",
    [
        ("REJECT", ["ALL"], True),
        ("REJECT", ["REJECT"], True),
        ("REJECT", ["ACCEPT"], False),
        ("ALL", ["ACCEPT", "REJECT"], True),
        ("ALL", ["REJECT"], False),
        ("ACCEPT", ["ALL"], True),
        ("ACCEPT", [None], False),
    ],
)
def test_meets(required, types, ok):
    assert meets(required, types) is ok
    assert covered_traffic(["ALL"]) == {"ACCEPT", "REJECT"}
