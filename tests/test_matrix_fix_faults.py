"""Matrix, fix faults: whatever goes wrong during `vpc-flow-logs fix`, nothing is lost.

Each row: the exit code is non-zero, each VPC's outcome is reported, the ledger and the run's
tag hold every flow log that was created, and `backout` removes exactly those. moto cannot fail
these ways by itself, so each row changes one call (named in the row) and nothing else.
"""

from __future__ import annotations

import json

import botocore.client
from moto.backends import get_backend
from moto.core import DEFAULT_ACCOUNT_ID

from devtools.estate import REGION_A, REGION_B
from prowler_vpc_flow_logs.cli import main
from prowler_vpc_flow_logs.remediation.ledger import FlowLogCreated, Ledger, list_runs
from prowler_vpc_flow_logs.remediation.models import TAG_KEY
from tests.support import BOTH, CWL, FIX_GROUP, client, fix_json, flow_log_ids

S3 = ["--log-destination-type", "s3", "--log-destination", f"arn:aws:s3:::flow-logs-{REGION_A}"]


def tagged(run_id: str) -> set[str]:
    """The flow logs that carry the run's tag, in both regions."""
    found = set()
    for region in (REGION_A, REGION_B):
        pages = client("ec2", region).describe_flow_logs(
            Filters=[{"Name": f"tag:{TAG_KEY}", "Values": [run_id]}]
        )
        found |= {fl["FlowLogId"] for fl in pages["FlowLogs"]}
    return found


def nothing_lost(run_id: str, created: set[str], before: set[str]) -> None:
    """Ledger and tags hold exactly ``created``; backout deletes exactly those and nothing else."""
    events = Ledger.open(run_id).events()
    assert {e.flow_log_id for e in events if isinstance(e, FlowLogCreated)} == created
    assert tagged(run_id) == created
    assert flow_log_ids() == before | created
    assert main(["backout", run_id, "--yes"]) == 0
    assert flow_log_ids() == before


def _create_fails_for(vpc_id: str, crash_after: int | None = None):
    """CreateFlowLogs answers Unsuccessful for one VPC of its batch (creating the others, as AWS
    does), or the process dies when N batches are done."""
    original = botocore.client.BaseClient._make_api_call
    done = {"batches": 0, "created": 0}

    def call(self, name, params):
        if name != "CreateFlowLogs":
            return original(self, name, params)
        if crash_after is not None and done["batches"] == crash_after:
            raise KeyboardInterrupt("simulated crash")
        assert list_runs()[0].created == done["created"]  # every earlier batch is recorded
        others = [v for v in params["ResourceIds"] if v != vpc_id]
        response = (
            original(self, name, {**params, "ResourceIds": others})
            if others
            else {"FlowLogIds": []}
        )
        if vpc_id in params["ResourceIds"]:
            error = {"Code": "Client.AccessDenied", "Message": "denied for the test"}
            response["Unsuccessful"] = [{"ResourceId": vpc_id, "Error": error}]
        done["batches"] += 1
        done["created"] += len(response["FlowLogIds"])
        return response

    call.done = done
    return call


def test_create_unsuccessful_for_one_vpc(role, estate, capsys, monkeypatch):
    before = flow_log_ids()
    bad = estate.vpcs["no-flow-logs"]
    with monkeypatch.context() as patch:
        patch.setattr(botocore.client.BaseClient, "_make_api_call", _create_fails_for(bad))
        code, result, err = fix_json(capsys, "--region", REGION_A, *CWL)
    assert code == 1
    assert [(f["vpc_id"], f["code"]) for f in result["failed"]] == [(bad, "Client.AccessDenied")]
    assert (
        f"FAILED for {bad} (no-flow-logs) in us-east-1: Client.AccessDenied: denied for the test"
        in err
    )
    assert len(result["created"]) >= 5 and bad not in {c["vpc_id"] for c in result["created"]}
    assert list_runs()[0].failed == 1
    nothing_lost(result["run_id"], {c["flow_log_id"] for c in result["created"]}, before)


def test_crash_after_n_batches(role, estate, capsys, monkeypatch):
    before = flow_log_ids()
    crash = _create_fails_for("vpc-none", crash_after=3)
    with monkeypatch.context() as patch:
        patch.setattr(botocore.client.BaseClient, "_make_api_call", crash)
        # Ctrl-C (or a kill) when 3 batches of at most 2 VPCs are done, one place at a time
        argv = ["fix", *BOTH, *CWL, "--yes", "--batch-size", "2", "--max-workers", "1"]
        assert main(argv) == 130
    assert "interrupted" in capsys.readouterr().err
    [run] = list_runs()
    assert crash.done["batches"] == 3 and run.created == crash.done["created"] == 5
    assert not run.finished
    assert main(["runs"]) == 0 and "INCOMPLETE" in capsys.readouterr().out
    nothing_lost(run.run_id, flow_log_ids() - before, before)


def test_flow_log_never_active_within_the_wait(role, estate, capsys, monkeypatch):
    """moto makes every flow log ACTIVE at once: one VPC's new flow log is set INACTIVE in moto's backend."""
    before = flow_log_ids()
    stuck_vpc = estate.vpcs["eu-reject-to-missing-group"]
    original = botocore.client.BaseClient._make_api_call

    def call(self, name, params):
        response = original(self, name, params)
        if name == "CreateFlowLogs" and params["ResourceIds"] == [stuck_vpc]:
            backend = get_backend("ec2")[DEFAULT_ACCOUNT_ID][self.meta.region_name]
            backend.flow_logs[response["FlowLogIds"][0]].flow_log_status = "INACTIVE"
        return response

    with monkeypatch.context() as patch:
        patch.setattr(botocore.client.BaseClient, "_make_api_call", call)
        code, result, _ = fix_json(capsys, *BOTH, *CWL, "--wait", "5")
    assert code == 1 and result["failed"] == []
    stuck = next(c["flow_log_id"] for c in result["created"] if c["vpc_id"] == stuck_vpc)
    assert result["not_active"] == [f"{stuck}: still INACTIVE"]
    nothing_lost(result["run_id"], {c["flow_log_id"] for c in result["created"]}, before)


def test_log_group_deleted_between_plan_and_apply(role, estate, capsys, monkeypatch):
    """The log group exists at plan time; it is deleted while the user is asked to confirm."""
    client("logs", REGION_A).create_log_group(logGroupName=FIX_GROUP)
    client("logs", REGION_B).create_log_group(logGroupName=FIX_GROUP)
    before = flow_log_ids()

    def confirm_after_deletion():
        client("logs", REGION_B).delete_log_group(logGroupName=FIX_GROUP)
        return "y"

    monkeypatch.setattr("builtins.input", confirm_after_deletion)
    code = main(["fix", *BOTH, *CWL[:6], "--output", "json"])
    out, err = capsys.readouterr()
    result = json.loads(out)
    assert code == 1
    assert "create log group" not in err  # it existed when planned
    failed = {f["vpc_id"]: f for f in result["failed"]}
    assert set(failed) == {estate.vpcs["eu-reject-to-missing-group"]}
    assert failed[estate.vpcs["eu-reject-to-missing-group"]]["message"] == (
        f"log group '{FIX_GROUP}' no longer exists in eu-west-1 (it was deleted after the plan)"
    )
    assert {c["region"] for c in result["created"]} == {REGION_A}
    nothing_lost(result["run_id"], {c["flow_log_id"] for c in result["created"]}, before)


def test_bucket_deleted_between_plan_and_apply(role, estate, capsys, monkeypatch):
    client("s3").create_bucket(Bucket="flow-logs-short-lived")
    before = flow_log_ids()

    def confirm_after_deletion():
        client("s3").delete_bucket(Bucket="flow-logs-short-lived")
        return "y"

    monkeypatch.setattr("builtins.input", confirm_after_deletion)
    code = main(
        [
            "fix",
            "--region",
            REGION_A,
            "--log-destination-type",
            "s3",
            "--log-destination",
            "arn:aws:s3:::flow-logs-short-lived",
            "--output",
            "json",
        ]
    )
    result = json.loads(capsys.readouterr().out)
    assert code == 1 and result["created"] == [] and len(result["failed"]) >= 5
    assert {f["code"] for f in result["failed"]} == {"DestinationGone"}
    assert "S3 bucket 'flow-logs-short-lived' no longer exists" in result["failed"][0]["message"]
    assert list_runs()[0].failed == len(result["failed"])
    nothing_lost(result["run_id"], set(), before)


def _answer_lost(how: BaseException):
    """CreateFlowLogs completes on the server (the flow log exists, tagged), then the client
    never sees the answer: ``how`` is raised instead of returning it."""
    original = botocore.client.BaseClient._make_api_call

    def call(self, name, params):
        response = original(self, name, params)
        if name == "CreateFlowLogs":
            raise how
        return response

    return call


def test_ctrl_c_while_a_create_is_in_flight_then_a_plain_backout(role, estate, capsys, monkeypatch):
    before = flow_log_ids()
    with monkeypatch.context() as patch:
        patch.setattr(
            botocore.client.BaseClient, "_make_api_call", _answer_lost(KeyboardInterrupt())
        )
        assert main(["fix", "--region", REGION_A, *CWL, "--yes"]) == 130
    err = capsys.readouterr().err
    [run] = list_runs()
    assert f"interrupted during run {run.run_id}" in err
    assert f"Undo with: vpc-flow-logs backout {run.run_id}" in err
    lost = tagged(run.run_id)  # the whole batch in flight was created
    created = [e for e in Ledger.open(run.run_id).events() if isinstance(e, FlowLogCreated)]
    assert len(lost) >= 5 and created == []  # only their tag knows them
    assert main(["runs"]) == 0 and "backed out: no" in capsys.readouterr().out
    assert main(["backout", run.run_id, "--yes"]) == 0  # plain: no --from-tags
    out = capsys.readouterr().out
    for flow_log_id in lost:
        assert (
            f"found by the run tag (not in the ledger; a create whose answer was lost): {flow_log_id}"
            in out
        )
    assert tagged(run.run_id) == set() and flow_log_ids() == before
    assert main(["runs"]) == 0 and "backed out: yes" in capsys.readouterr().out


def test_a_lost_answer_is_reconciled_by_the_run_tag(role, estate, capsys, monkeypatch):
    """botocore gives up on the connection after the server created the flow log."""
    from botocore.exceptions import ReadTimeoutError

    before = flow_log_ids()
    lost = ReadTimeoutError(endpoint_url="https://ec2.us-east-1.amazonaws.com/")
    with monkeypatch.context() as patch:
        patch.setattr(botocore.client.BaseClient, "_make_api_call", _answer_lost(lost))
        code, result, _ = fix_json(capsys, "--region", REGION_A, *CWL)
    assert code == 0 and result["failed"] == []
    created = {c["flow_log_id"] for c in result["created"]}
    assert len(created) >= 5 and tagged(result["run_id"]) == created
    nothing_lost(result["run_id"], created, before)  # each found by its tag and recorded


def test_a_lost_answer_that_cannot_be_reconciled_is_said(role, estate, capsys, monkeypatch):
    from botocore.exceptions import EndpointConnectionError

    original = botocore.client.BaseClient._make_api_call

    def call(self, name, params):
        if name == "CreateFlowLogs":
            original(self, name, params)  # created on the server ...
            raise EndpointConnectionError(endpoint_url="https://ec2.eu-west-1.amazonaws.com/")
        if (
            name == "DescribeFlowLogs" and "Filters" in params
        ):  # ... and the look-up by tag fails too
            raise EndpointConnectionError(endpoint_url="https://ec2.eu-west-1.amazonaws.com/")
        return original(self, name, params)

    before = flow_log_ids()
    with monkeypatch.context() as patch:
        patch.setattr(botocore.client.BaseClient, "_make_api_call", call)
        code, result, _ = fix_json(capsys, "--region", REGION_B, *CWL)
    assert code == 1 and result["created"] == []
    [failed] = result["failed"]
    assert failed["code"] == "OutcomeUnknown"
    assert f"vpc-flow-logs backout {result['run_id']}` finds it" in failed["message"]
    [run] = list_runs()
    assert run.unknown_outcomes == 1
    assert main(["runs"]) == 0 and "1 create(s) with a lost answer" in capsys.readouterr().out
    assert len(tagged(result["run_id"])) == 1  # AWS did create it
    assert main(["backout", result["run_id"], "--yes"]) == 0
    assert flow_log_ids() == before and tagged(result["run_id"]) == set()
