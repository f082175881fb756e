"""Matrix, batch answers (issue 19): whichever way AWS answers a CreateFlowLogs batch, nothing the
fix creates escapes the ledger, the run tag and the backout.

AWS answers a batch in one of three shapes (EC2 API Reference, CreateFlowLogs: per-resource
failures come back with HTTP 200 in ``Unsuccessful``; an error code such as FlowLogAlreadyExists
or FlowLogsLimitExceeded refuses the call): everything made; part refused in ``Unsuccessful``;
or the whole call refused. moto 5.2.5 adds a fourth on a duplicate: it makes the flow logs of the
ids before it, raises FlowLogAlreadyExists for the call and leaves what it made untagged. Each
row below produces one shape by changing the CreateFlowLogs call (named in the row) and nothing
else; the row where moto answers by itself uses moto as it is.
"""

from __future__ import annotations

import botocore.client
from botocore.exceptions import ClientError, EndpointConnectionError

from devtools.estate import REGION_A
from prowler_vpc_flow_logs.cli import main
from prowler_vpc_flow_logs.remediation.ledger import FlowLogCreated, Ledger
from prowler_vpc_flow_logs.remediation.models import TAG_KEY
from tests.support import client, fix_json, flow_log_ids

BUCKET = "batch-answers"
S3 = ["--log-destination-type", "s3", "--log-destination", f"arn:aws:s3:::{BUCKET}"]
ORIGINAL = botocore.client.BaseClient._make_api_call


def estate(with_accept_only: int = 0, clean: int = 6) -> tuple[list[str], list[str]]:
    """VPCs in use without flow logs, and VPCs whose ACCEPT-only flow log already writes to the
    bucket (unusable, so they fail the check), interleaved: (clean ids, conflicting ids)."""
    client("s3").create_bucket(Bucket=BUCKET)
    ec2 = client("ec2")
    ids: list[str] = []
    for n in range(clean + with_accept_only):
        vpc_id = ec2.create_vpc(CidrBlock=f"10.{100 + n}.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.{100 + n}.0.0/24")["Subnet"]
        ec2.create_network_interface(SubnetId=subnet["SubnetId"])
        ids.append(vpc_id)
    conflicting = ids[1::2][:with_accept_only]
    for vpc_id in conflicting:
        ec2.create_flow_logs(
            ResourceType="VPC", ResourceIds=[vpc_id], TrafficType="ACCEPT",
            LogDestinationType="s3", LogDestination=f"arn:aws:s3:::{BUCKET}",
        )  # fmt: skip
    return [v for v in ids if v not in conflicting], conflicting


def vpc_flags(ids: list[str]) -> list[str]:
    return ["--region", REGION_A, *[a for v in ids for a in ("--vpc-id", v)]]


def tagged(run_id: str) -> set[str]:
    found = client("ec2").describe_flow_logs(
        Filters=[{"Name": f"tag:{TAG_KEY}", "Values": [run_id]}]
    )
    return {fl["FlowLogId"] for fl in found["FlowLogs"]}


def nothing_escapes(run_id: str, before: set[str], created: set[str]) -> None:
    """Every flow log the run made is in the ledger and tagged; the backout leaves ``before``."""
    assert flow_log_ids() - before == created
    events = Ledger.open(run_id).events()
    assert {e.flow_log_id for e in events if isinstance(e, FlowLogCreated)} == created
    assert tagged(run_id) == created
    assert main(["backout", run_id, "--yes"]) == 0
    assert flow_log_ids() == before


def test_moto_as_it_is_conflicts_are_named_in_the_plan_and_nothing_is_left(aws, capsys):
    """The trial's reproduction: 3 VPCs without flow logs, 3 whose ACCEPT-only flow log writes to
    the bucket, interleaved, in one batch."""
    clean, conflicting = estate(with_accept_only=3, clean=3)
    before = flow_log_ids()
    assert main(["fix", *vpc_flags(clean + conflicting), *S3, "--dry-run"]) == 1
    plan = capsys.readouterr().out
    assert "CANNOT FIX 3 VPC(s) (the others go ahead):" in plan
    for vpc_id in conflicting:
        assert f"{vpc_id}: fl-" in plan and "already writes to S3 bucket 'batch-answers'" in plan
    assert "delete or repair fl-" in plan and "for 3 VPC(s)" in plan
    code, result, _ = fix_json(capsys, *vpc_flags(clean + conflicting), *S3)
    assert code == 1  # something was left for the user
    assert {c["vpc_id"] for c in result["created"]} == set(clean) and not result["failed"]
    assert {s["vpc_id"] for s in result["skipped"] if s["kind"] == "conflict"} == set(conflicting)
    nothing_escapes(result["run_id"], before, {c["flow_log_id"] for c in result["created"]})


def _answer(shape: str, culprit: str, calls: list[list[str]]):
    """CreateFlowLogs answering in ``shape`` whenever ``culprit`` is in a batch of several."""

    def call(self, name, params):
        if name != "CreateFlowLogs":
            return ORIGINAL(self, name, params)
        ids = params["ResourceIds"]
        calls.append(list(ids))
        if culprit not in ids:
            return ORIGINAL(self, name, params)
        if shape == "refused whole" or len(ids) == 1:
            raise ClientError(
                {"Error": {"Code": "FlowLogsLimitExceeded", "Message": "limit (for the test)"}},
                name,
            )
        before_culprit = ids[: ids.index(culprit)]  # moto's shape: made, untagged, then an error
        if before_culprit:
            untagged = {
                k: v for k, v in params.items() if k not in ("TagSpecifications", "ClientToken")
            }
            ORIGINAL(self, name, {**untagged, "ResourceIds": before_culprit})
        if shape == "answer lost":
            raise EndpointConnectionError(endpoint_url="https://ec2.us-east-1.amazonaws.com")
        raise ClientError(
            {"Error": {"Code": "FlowLogAlreadyExists", "Message": "duplicate (for the test)"}}, name
        )

    return call


def _run_shape(shape: str, capsys, monkeypatch) -> tuple[int, dict, list[list[str]], str]:
    clean, _ = estate(clean=6)
    culprit = sorted(clean)[3]  # the plan orders VPCs by id: 3 come before it in the batch
    calls: list[list[str]] = []
    monkeypatch.setattr(
        botocore.client.BaseClient, "_make_api_call", _answer(shape, culprit, calls)
    )
    code, result, _ = fix_json(capsys, *vpc_flags(clean), *S3, "--wait", "0")
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", ORIGINAL)
    return code, result, calls, culprit


def test_a_batch_applied_in_part_then_refused_is_adopted(aws, capsys, monkeypatch):
    before = flow_log_ids()
    code, result, calls, culprit = _run_shape("applied in part", capsys, monkeypatch)
    assert code == 1
    assert [(f["vpc_id"], f["code"]) for f in result["failed"]] == [
        (culprit, "FlowLogsLimitExceeded")
    ]
    assert len(result["created"]) == 5 and not result["untagged"]
    assert len(calls) <= 2 * 6 - 1  # bounded: halving, never a loop
    created = {c["flow_log_id"] for c in result["created"]}
    events = Ledger.open(result["run_id"]).events()
    adopted = [e for e in events if isinstance(e, FlowLogCreated) and e.adopted]
    assert len(adopted) == 3  # the 3 made before the culprit, untagged, then tagged by the fix
    nothing_escapes(result["run_id"], before, created)


def test_a_batch_refused_whole_creates_the_others(aws, capsys, monkeypatch):
    before = flow_log_ids()
    code, result, calls, culprit = _run_shape("refused whole", capsys, monkeypatch)
    assert code == 1 and [f["vpc_id"] for f in result["failed"]] == [culprit]
    assert len(result["created"]) == 5 and len(calls) <= 2 * 6 - 1
    events = Ledger.open(result["run_id"]).events()
    assert not any(e.adopted for e in events if isinstance(e, FlowLogCreated))
    nothing_escapes(result["run_id"], before, {c["flow_log_id"] for c in result["created"]})


def test_a_lost_answer_after_part_was_made_is_adopted(aws, capsys, monkeypatch):
    before = flow_log_ids()
    code, result, _, _ = _run_shape("answer lost", capsys, monkeypatch)
    assert code == 1
    made = {c["flow_log_id"] for c in result["created"]}
    assert len(made) == 3  # what appeared before the answer was lost
    assert {f["code"] for f in result["failed"]} == {"OutcomeUnknown"}
    nothing_escapes(result["run_id"], before, made)


def test_a_duplicate_made_after_the_plan_fails_that_vpc_without_a_refused_call(
    aws, capsys, monkeypatch
):
    clean, _ = estate(clean=4)
    late = clean[2]
    made_by_someone: list[str] = []

    def call(self, name, params):
        filters = {f["Name"] for f in params.get("Filters") or []}
        if name == "DescribeFlowLogs" and "resource-id" in filters and not made_by_someone:
            made_by_someone.extend(ORIGINAL(self, "CreateFlowLogs", {
                "ResourceType": "VPC", "ResourceIds": [late], "TrafficType": "REJECT",
                "LogDestinationType": "s3", "LogDestination": f"arn:aws:s3:::{BUCKET}",
            })["FlowLogIds"])  # fmt: skip
        if name == "CreateFlowLogs":
            assert late not in params["ResourceIds"]  # never sent: AWS would refuse the batch
        return ORIGINAL(self, name, params)

    before = flow_log_ids()
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", call)
    code, result, _ = fix_json(capsys, *vpc_flags(clean), *S3, "--wait", "0")
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", ORIGINAL)
    assert code == 1
    [failed] = result["failed"]
    assert (failed["vpc_id"], failed["code"]) == (late, "FlowLogAlreadyExists")
    assert (
        made_by_someone[0] in failed["message"] and "appeared after the plan" in failed["message"]
    )
    nothing_escapes(
        result["run_id"],
        before | set(made_by_someone),
        {c["flow_log_id"] for c in result["created"]},
    )
    assert made_by_someone[0] in flow_log_ids()  # someone else's: kept
