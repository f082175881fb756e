"""fix and backout against moto in-process: every failing VPC passes, idempotency, exact backout."""

from __future__ import annotations

import pytest

from devtools.estate import REGION_A, REGION_B
from prowler_vpc_flow_logs.cli import main
from prowler_vpc_flow_logs.remediation.ledger import FlowLogCreated, Ledger, list_runs
from prowler_vpc_flow_logs.remediation.models import TAG_KEY
from prowler_vpc_flow_logs.remediation.plan import make_plan
from tests.support import (
    BOTH,
    CWL,
    FIX_GROUP,
    client,
    fix_json,
    flow_log_ids,
    snapshot,
    statuses,
)


def test_fix_makes_every_failing_vpc_pass_then_backout_restores_exactly(role, estate, capsys):
    before_ids, before_status = flow_log_ids(), statuses()
    failing = {v for v, s in before_status.items() if s == "FAIL"}
    assert failing and {s for s in before_status.values()} == {"PASS", "FAIL", "MANUAL"}

    assert main(["fix", *BOTH, *CWL, "--dry-run"]) == 0
    assert flow_log_ids() == before_ids  # dry run: no write
    assert "would be created" in capsys.readouterr().out

    code, result, _ = fix_json(capsys, *BOTH, *CWL)
    assert code == 0, result
    run_id = result["run_id"]
    assert {c["vpc_id"] for c in result["created"]} == failing
    assert {(c["region"]) for c in result["created"]} == {REGION_A, REGION_B}
    assert result["failed"] == [] and result["not_active"] == []
    skipped = {s["vpc_id"]: s["reason"] for s in result["skipped"]}
    assert skipped[estate.vpcs["all-to-log-group"]].startswith("compliant:")
    assert "owned by account" in skipped[estate.vpcs["shared-from-other-account"]]
    after = statuses()
    assert {v for v, s in after.items() if s == "FAIL"} == set()
    assert after[estate.vpcs["shared-from-other-account"]] == "MANUAL"
    # every created flow log carries the run id tag and is ACTIVE
    for region in (REGION_A, REGION_B):
        created = [c["flow_log_id"] for c in result["created"] if c["region"] == region]
        for fl in client("ec2", region).describe_flow_logs(FlowLogIds=created)["FlowLogs"]:
            assert {"Key": TAG_KEY, "Value": run_id} in fl["Tags"]
            assert fl["FlowLogStatus"] == "ACTIVE" and fl["LogGroupName"] == FIX_GROUP
        groups = client("logs", region).describe_log_groups(logGroupNamePrefix=FIX_GROUP)[
            "logGroups"
        ]
        assert groups[0]["retentionInDays"] == 30

    # idempotent: a second fix creates nothing and records no run
    code, again, _ = fix_json(capsys, *BOTH, *CWL)
    assert code == 0 and again["created"] == [] and again["run_id"] is None
    assert [r.run_id for r in list_runs()] == [run_id]

    # a flow log someone adds later (not by this run) survives the backout
    extra = client("ec2").create_flow_logs(
        ResourceType="VPC",
        ResourceIds=[estate.vpcs["no-flow-logs"]],
        TrafficType="REJECT",
        LogDestinationType="s3",
        LogDestination=f"arn:aws:s3:::flow-logs-{REGION_A}",
    )["FlowLogIds"][0]

    assert main(["backout", run_id, "--dry-run"]) == 0
    assert f"would delete {result['created'][0]['flow_log_id']}" in capsys.readouterr().out
    assert main(["backout", run_id, "--yes"]) == 0
    assert flow_log_ids() == before_ids | {extra}
    client("ec2").delete_flow_logs(FlowLogIds=[extra])
    assert statuses() == before_status
    [summary] = list_runs()
    assert summary.backed_out == "yes" and summary.created == len(failing) and summary.finished
    assert main(["runs"]) == 0
    assert "backed out: yes" in capsys.readouterr().out
    # a second backout deletes nothing more and says the flow logs are gone
    assert main(["backout", run_id, "--yes"]) == 0
    assert "already gone" in capsys.readouterr().out


def test_backout_asks_and_a_no_deletes_nothing(role, estate, capsys, monkeypatch):
    _, result, _ = fix_json(capsys, "--region", REGION_B, *CWL)
    before = snapshot()
    monkeypatch.setattr("builtins.input", lambda: "n")
    assert main(["backout", result["run_id"]]) == 1
    assert "not confirmed" in capsys.readouterr().err
    assert snapshot() == before


def test_fix_asks_and_eof_changes_nothing(role, estate, capsys, monkeypatch):
    before = snapshot()

    def eof():
        raise EOFError

    monkeypatch.setattr("builtins.input", eof)
    assert main(["fix", *BOTH, *CWL]) == 1
    assert "not confirmed" in capsys.readouterr().err
    assert snapshot() == before and list_runs() == []


def test_lost_ledger_backout_from_tags(role, estate, capsys):
    before = flow_log_ids()
    code, result, _ = fix_json(capsys, *BOTH, *CWL)
    assert code == 0
    Ledger.open(result["run_id"]).path.unlink()
    assert main(["backout", result["run_id"], "--yes"]) == 2
    assert "--from-tags" in capsys.readouterr().err
    assert main(["backout", result["run_id"], "--yes", "--from-tags", *BOTH]) == 0
    assert flow_log_ids() == before


def test_s3_destination_and_explicit_vpc_ids(role, estate, capsys):
    target = estate.vpcs["unused-no-flow-logs"]  # not reported by the scan, but named explicitly
    bucket = f"arn:aws:s3:::flow-logs-{REGION_A}"
    code, result, _ = fix_json(
        capsys,
        "--region",
        REGION_A,
        "--vpc-id",
        target,
        "--vpc-id",
        estate.vpcs["all-to-log-group"],
        "--log-destination-type",
        "s3",
        "--log-destination",
        bucket,
        "--traffic-type",
        "REJECT",
        "--max-aggregation-interval",
        "60",
    )
    assert code == 0, result
    assert [c["vpc_id"] for c in result["created"]] == [target]
    assert [s["vpc_id"] for s in result["skipped"]] == [estate.vpcs["all-to-log-group"]]
    [fl] = client("ec2").describe_flow_logs(FlowLogIds=[result["created"][0]["flow_log_id"]])[
        "FlowLogs"
    ]
    assert (fl["LogDestination"], fl["TrafficType"], fl["MaxAggregationInterval"]) == (
        bucket,
        "REJECT",
        60,
    )


def test_plan_follows_the_policy_knob(role, estate):
    """Under required ALL, REJECT-only VPCs fail and are planned; ACCEPT is refused as a fix."""
    from prowler_vpc_flow_logs.errors import UserError
    from prowler_vpc_flow_logs.remediation.targets import Targets
    from prowler_vpc_flow_logs.remediation.validate import settings_from
    from prowler_vpc_flow_logs.service import FlowLogs
    from tests.support import aws_provider

    service = FlowLogs(
        aws_provider({REGION_A}, audit_config={"vpc_flow_logs_required_traffic_type": "ALL"})
    )
    # a folder of the bucket its REJECT flow log writes to: not the same destination (issue 19)
    settings = settings_from(
        {"log_destination_type": "s3", "log_destination": "arn:aws:s3:::flow-logs-us-east-1/all/"}
    )
    plan = make_plan(service.scan, Targets(regions=[REGION_A]), settings)
    assert estate.vpcs["reject-to-bucket"] in {f.vpc_id for f in plan.fixes}
    same_bucket = settings.model_copy(
        update={"log_destination": "arn:aws:s3:::flow-logs-us-east-1"}
    )
    plan = make_plan(service.scan, Targets(regions=[REGION_A]), same_bucket)
    [conflict] = [s for s in plan.skipped if s.vpc_id == estate.vpcs["reject-to-bucket"]]
    assert conflict.kind == "conflict" and "already writes to S3 bucket" in conflict.reason
    with pytest.raises(UserError, match="requires ALL"):
        make_plan(
            service.scan,
            Targets(regions=[REGION_A]),
            settings.model_copy(update={"traffic_type": "REJECT"}),
        )
    # the plan follows the check: under ALL, the check fails the VPC the plan fixes
    assert (
        statuses(audit_config={"vpc_flow_logs_required_traffic_type": "ALL"})[
            estate.vpcs["reject-to-bucket"]
        ]
        == "FAIL"
    )


def test_ledger_event_order(role, estate, capsys):
    _, result, _ = fix_json(capsys, "--region", REGION_B, *CWL)
    events = Ledger.open(result["run_id"]).events()
    kinds = [e.event for e in events]
    assert kinds == [
        "run-started",
        "log-group-created",
        "create-requested",
        "flow-log-created",
        "run-finished",
    ]
    vpc_id = result["created"][0]["vpc_id"]
    assert events[2].region == REGION_B and events[2].vpc_ids == [
        vpc_id
    ]  # recorded before the call
    assert isinstance(events[3], FlowLogCreated) and events[3].vpc_id == vpc_id
