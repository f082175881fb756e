"""Matrix, backout safety: the backout never deletes a flow log it cannot prove its run created.

A flow log is deleted only when the run's ledger names it, it still exists, it still carries
the run's tag and is still attached to the VPC the ledger names. Each row changes the world
after the fix (by hand, as an operator would) and checks what is kept and what is said.
"""

from __future__ import annotations

from unittest import mock

import botocore.client
import botocore.exceptions
import pytest

from devtools.estate import REGION_A
from prowler_vpc_flow_logs.cli import main
from prowler_vpc_flow_logs.remediation.ledger import BackedOut, Ledger
from prowler_vpc_flow_logs.remediation.models import TAG_KEY
from tests.support import CWL, client, fix_json, flow_log_ids


@pytest.fixture
def run(role, estate, capsys) -> dict:
    """A fix run in us-east-1 (several flow logs), and the flow logs that existed before it."""
    before = flow_log_ids()
    code, result, _ = fix_json(capsys, "--region", REGION_A, *CWL)
    assert code == 0
    assert len(result["created"]) >= 3
    return {"before": before, "ids": [c["flow_log_id"] for c in result["created"]], **result}


def backout(capsys, run_id: str) -> tuple[int, str]:
    code = main(["backout", run_id, "--yes"])
    return code, capsys.readouterr().out


def test_stale_ledger_a_flow_log_deleted_by_hand(run, capsys):
    first, *rest = run["ids"]
    client("ec2").delete_flow_logs(FlowLogIds=[first])
    code, out = backout(capsys, run["run_id"])
    assert code == 0
    assert f"already gone: {first} (deleted outside this backout)" in out
    assert all(f"deleted {i}" in out for i in rest)
    assert flow_log_ids() == run["before"]
    recorded = [e for e in Ledger.open(run["run_id"]).events() if isinstance(e, BackedOut)]
    assert recorded[-1].gone == [first] and sorted(recorded[-1].deleted) == sorted(rest)


@pytest.mark.parametrize("change", ["tag removed", "tag names another run"])
def test_a_flow_log_whose_run_tag_changed_is_kept(run, capsys, change):
    first, *rest = run["ids"]
    ec2 = client("ec2")
    if change == "tag removed":
        ec2.delete_tags(Resources=[first], Tags=[{"Key": TAG_KEY}])
        says = f"its tag {TAG_KEY} is missing, not {run['run_id']}"
    else:
        ec2.create_tags(Resources=[first], Tags=[{"Key": TAG_KEY, "Value": "someone-else"}])
        says = f"its tag {TAG_KEY} is 'someone-else', not {run['run_id']}"
    code, out = backout(capsys, run["run_id"])
    assert code == 1  # something recorded was not deleted: the operator must look
    assert f"refused {first}: {says}" in out and "cannot prove it created it" in out
    assert flow_log_ids() == run["before"] | {first}
    assert all(f"deleted {i}" in out for i in rest)


def test_someone_elses_flow_log_on_the_same_vpc_is_kept_and_said(run, estate, capsys):
    vpc_id = run["created"][0]["vpc_id"]
    theirs = client("ec2").create_flow_logs(
        ResourceType="VPC",
        ResourceIds=[vpc_id],
        TrafficType="REJECT",
        LogDestinationType="s3",
        LogDestination=f"arn:aws:s3:::flow-logs-{REGION_A}",
    )["FlowLogIds"][0]
    code, out = backout(capsys, run["run_id"])
    assert code == 0
    assert f"kept {theirs} on {vpc_id}: not created by this run" in out
    assert flow_log_ids() == run["before"] | {theirs}


def test_from_tags_after_the_ledger_is_lost_keeps_untagged_flow_logs(run, capsys):
    first, *rest = run["ids"]
    client("ec2").delete_tags(Resources=[first], Tags=[{"Key": TAG_KEY}])
    Ledger.open(run["run_id"]).path.unlink()
    assert main(["backout", run["run_id"], "--yes", "--from-tags", "--region", REGION_A]) == 0
    out = capsys.readouterr().out
    assert first not in out  # untagged: nothing links it to the run any more
    assert all(f"deleted {i}" in out for i in rest)
    assert flow_log_ids() == run["before"] | {first}


def test_a_region_that_cannot_be_searched_by_tag_is_said_and_not_backed_out(run, capsys):
    original = botocore.client.BaseClient._make_api_call

    def call(self, name, params):
        if name == "DescribeFlowLogs" and any(
            f["Name"].startswith("tag:") for f in params.get("Filters", [])
        ):
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": "UnauthorizedOperation", "Message": "denied by test"}}, name
            )
        return original(self, name, params)

    with mock.patch.object(botocore.client.BaseClient, "_make_api_call", call):
        code, out = backout(capsys, run["run_id"])
    assert code == 1
    assert f"COULD NOT SEARCH {REGION_A} for flow logs tagged with the run (denied by test)" in out
    assert flow_log_ids() == run["before"]  # the recorded ones are deleted all the same
    assert main(["runs"]) == 0 and "backed out: partly" in capsys.readouterr().out
    code, out = backout(capsys, run["run_id"])  # later, with the permission back
    assert code == 0 and main(["runs"]) == 0 and "backed out: yes" in capsys.readouterr().out


def test_a_torn_last_record_keeps_the_run_readable(run, capsys):
    ledger = Ledger.open(run["run_id"])
    with open(ledger.path, "a", encoding="utf-8") as handle:
        handle.write('{"event": "flow-log-created", "time": "2026-')  # the crash cut this write
    assert main(["runs"]) == 0
    out = capsys.readouterr().out
    assert (
        "UNREADABLE" not in out
        and f"created {len(run['ids'])}" in out
        and "last record torn" in out
    )
    code, out = backout(capsys, run["run_id"])
    assert code == 0 and flow_log_ids() == run["before"]
