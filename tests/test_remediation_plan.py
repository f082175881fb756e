"""Unit tests of the plan, the settings, the ledger and the waiter (fast; no Prowler provider)."""

from __future__ import annotations

import json
import os

import pytest

from devtools.estate import REGION_A, ROLE_ARN
from prowler_vpc_flow_logs.errors import UserError
from prowler_vpc_flow_logs.facts import Vpc
from prowler_vpc_flow_logs.policy import Verdict
from prowler_vpc_flow_logs.remediation.batches import create_request
from prowler_vpc_flow_logs.remediation.ledger import (
    BackedOut,
    FlowLogCreated,
    Ledger,
    RunStarted,
    check_run_id,
    list_runs,
    new_run_id,
    now,
)
from prowler_vpc_flow_logs.remediation.models import TAG_KEY, PlannedFix, Skip
from prowler_vpc_flow_logs.remediation.plan import decide
from prowler_vpc_flow_logs.remediation.targets import from_flags
from prowler_vpc_flow_logs.remediation.validate import (
    _trusts_flow_logs,
    check_traffic,
    settings_from,
)
from prowler_vpc_flow_logs.remediation.waiter import wait_active
from tests.support import client

VPC = Vpc(
    id="vpc-0123456789abcdef0",
    arn="arn:aws:ec2:us-east-1:123456789012:vpc/vpc-0123456789abcdef0",
    region=REGION_A,
    owner_id="123456789012",
    name="web",
)
CWL = {
    "log_destination_type": "cloud-watch-logs",
    "log_group_name": "/vpc/fix",
    "deliver_logs_permission_arn": ROLE_ARN,
}


@pytest.mark.parametrize(
    "status, text, unreadable, kind, words",
    [
        (
            "FAIL",
            "VPC web has no VPC-level flow log capturing the required REJECT traffic.",
            False,
            PlannedFix,
            "no VPC-level",
        ),
        ("PASS", "VPC web has VPC flow logs capturing REJECT traffic", False, Skip, "compliant:"),
        ("MANUAL", "owned by account 111122223333", False, Skip, "not ours to fix"),
        (
            "FAIL",
            "VPC web in us-east-1 could not be audited: ec2:DescribeFlowLogs failed",
            True,
            Skip,
            "flow logs are unknown",
        ),
    ],
)
def test_decide(status, text, unreadable, kind, words):
    verdict = Verdict(status=status, status_extended=text, unreadable=unreadable)
    decision = decide(REGION_A, VPC, verdict)
    assert isinstance(decision, kind)
    assert words in (decision.reason)
    if isinstance(decision, PlannedFix):
        assert decision.label == "vpc-0123456789abcdef0 (web)"


@pytest.mark.parametrize(
    "traffic, required, ok",
    [
        ("ALL", "REJECT", True),
        ("REJECT", "REJECT", True),
        ("ACCEPT", "REJECT", False),
        ("ALL", "ALL", True),
        ("REJECT", "ALL", False),
    ],
)
def test_the_fix_must_satisfy_the_checks_policy(traffic, required, ok):
    settings = settings_from({**CWL, "traffic_type": traffic})
    if ok:
        check_traffic(settings, required)
    else:
        with pytest.raises(UserError, match=f"requires {required}"):
            check_traffic(settings, required)


def test_create_request_matches_the_cli_spelling():
    settings = settings_from(
        {**CWL, "max_aggregation_interval": 60, "log_format": "${version} ${srcaddr}"}
    )
    request = create_request(settings, "vfl-20250101T000000Z-abcdef", [VPC.id])
    assert request["ResourceType"] == "VPC" and request["ResourceIds"] == [VPC.id]
    assert request["TrafficType"] == "ALL" and request["LogGroupName"] == "/vpc/fix"
    assert request["DeliverLogsPermissionArn"] == ROLE_ARN and "LogDestination" not in request
    assert request["TagSpecifications"] == [
        {
            "ResourceType": "vpc-flow-log",
            "Tags": [{"Key": TAG_KEY, "Value": "vfl-20250101T000000Z-abcdef"}],
        }
    ]
    assert (
        request["MaxAggregationInterval"] == 60 and request["LogFormat"] == "${version} ${srcaddr}"
    )
    assert len(request["ClientToken"]) <= 64
    s3 = create_request(
        settings_from({"log_destination_type": "s3", "log_destination": "arn:aws:s3:::b-1/p"}),
        "r",
        [VPC.id],
    )
    assert s3["LogDestination"] == "arn:aws:s3:::b-1/p" and "LogGroupName" not in s3


def test_trust_policy_forms():
    allow = {
        "Effect": "Allow",
        "Principal": {"Service": ["ec2.amazonaws.com", "vpc-flow-logs.amazonaws.com"]},
        "Action": ["sts:AssumeRole"],
    }
    assert _trusts_flow_logs({"Statement": [allow]})
    assert _trusts_flow_logs(
        "%7B%22Statement%22%3A%20%7B%22Effect%22%3A%20%22Allow%22%2C%20%22Principal%22%3A%20%7B%22Service%22%3A%20%22vpc-flow-logs.amazonaws.com%22%7D%2C%20%22Action%22%3A%20%22sts%3AAssumeRole%22%7D%7D"
    )
    assert not _trusts_flow_logs({"Statement": [{**allow, "Effect": "Deny"}]})
    assert not _trusts_flow_logs({"Statement": [{**allow, "Action": "sts:TagSession"}]})


def test_targets_from_flags():
    assert from_flags(["eu-west-1", "us-east-1", "eu-west-1"], [], None).regions == [
        "eu-west-1",
        "us-east-1",
    ]
    explicit = from_flags([REGION_A], [VPC.id, VPC.id], None)
    assert explicit.explicit and explicit.vpc_ids == [VPC.id]
    assert not from_flags([REGION_A], [], None).explicit


def _started(run_id: str) -> RunStarted:
    return RunStarted(
        run_id=run_id,
        time=now(),
        account="123456789012",
        regions=[REGION_A],
        settings=settings_from(CWL),
    )


def test_ledger_appends_are_synced_and_summarized(tmp_path, monkeypatch):
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    run_id = new_run_id()
    ledger = Ledger.create(_started(run_id), tmp_path)
    for flow_log_id, region in (("fl-1", REGION_A), ("fl-2", "eu-west-1")):
        ledger.append(FlowLogCreated(
            time=now(), account="123456789012", region=region, vpc_id=VPC.id, flow_log_id=flow_log_id
        ))  # fmt: skip
    assert len(synced) >= 3  # the folder, then every append
    [summary] = list_runs(tmp_path)
    assert (summary.created, summary.finished, summary.backed_out, summary.regions) == (
        2,
        False,
        "no",
        ["eu-west-1", REGION_A],
    )
    ledger.append(BackedOut(time=now(), deleted=["fl-1"]))
    assert list_runs(tmp_path)[0].backed_out == "partly"
    with pytest.raises(FileExistsError):
        Ledger.create(_started(run_id), tmp_path)  # a run id is never reused
    lines = ledger.path.read_text().splitlines()
    assert [json.loads(line)["event"] for line in lines] == [
        "run-started",
        "flow-log-created",
        "flow-log-created",
        "backed-out",
    ]


def test_corrupt_ledger_is_listed_not_fatal(tmp_path):
    run_id = new_run_id()
    ledger = Ledger.create(_started(run_id), tmp_path)
    ledger.path.write_text("garbage\n")
    [summary] = list_runs(tmp_path)
    assert "corrupt at line 1" in summary.error
    with pytest.raises(UserError, match="--from-tags"):
        ledger.events()


def test_run_id_format():
    assert check_run_id(new_run_id())
    for bad in ("", "vfl-1", "../../etc/passwd", "vfl-20250101T000000Z-ABCDEF"):
        with pytest.raises(UserError):
            check_run_id(bad)


def test_waiter_reports_flow_logs_that_do_not_become_active(estate):
    from moto.backends import get_backend
    from moto.core import DEFAULT_ACCOUNT_ID

    ec2 = client("ec2")
    [good, bad, failed] = [
        estate.flow_logs[name][0] for name in ("all-to-log-group", "not-active", "delivery-failed")
    ]
    assert wait_active(ec2, [good], delay=0, max_attempts=1) == {}
    problems = wait_active(ec2, [good, bad, failed], delay=0, max_attempts=2)
    assert problems == {bad: "still INACTIVE", failed: "delivery FAILED (Access error)"}
    get_backend("ec2")[DEFAULT_ACCOUNT_ID][REGION_A].flow_logs[bad].flow_log_status = "ACTIVE"
    assert wait_active(ec2, [good, bad], delay=0, max_attempts=1) == {}


def _plan(**changes):
    from prowler_vpc_flow_logs.remediation.models import FixSettings, Plan

    settings = FixSettings(
        **CWL, create_log_group=True, retention_in_days=changes.pop("retention", None)
    )
    return Plan(account="123456789012", settings=settings, regions=[REGION_A], **changes)


def test_plan_text_collapses_unused_vpcs_and_shows_retention():
    from prowler_vpc_flow_logs.cli.text import plan_text
    from prowler_vpc_flow_logs.remediation.plan import UNUSED_SAID

    unused = [
        Skip(region=f"r-{n}", vpc_id=f"vpc-{n:08x}", kind="unused", reason=UNUSED_SAID)
        for n in range(17)
    ]
    text = plan_text(_plan(skipped=unused, log_groups_to_create=[REGION_A], retention=365))
    assert "skip 17 unused VPC(s) in 17 region(s)" in text and "vpc-00000000" not in text
    assert f"create log group '/vpc/fix' in {REGION_A} (records kept 365 days)" in text
    text = plan_text(_plan(log_groups_to_create=[REGION_A]))
    assert "(records never expire; --retention-in-days N sets it)" in text
    assert "records kept 1 day)" in plan_text(_plan(log_groups_to_create=[REGION_A], retention=1))


def test_the_plan_shows_the_interval_and_format_the_flow_logs_get():
    from prowler_vpc_flow_logs.cli.text import plan_text

    fix = PlannedFix(region=REGION_A, vpc_id=VPC.id, reason="no flow log")
    text = plan_text(_plan(fixes=[fix]))
    assert "ALL traffic to CloudWatch Logs log group '/vpc/fix'" in text
    assert "aggregated over at most 600 s, records in AWS's default format) for 1 VPC(s)" in text
    plan = _plan(fixes=[fix])
    plan.settings = plan.settings.model_copy(
        update={"max_aggregation_interval": 60, "log_format": "${srcaddr} ${action}"}
    )
    assert "aggregated over at most 60 s, records in ${srcaddr} ${action})" in plan_text(plan)


def test_help_keeps_each_subcommand_on_one_line(capsys):
    from prowler_vpc_flow_logs.cli import main

    with pytest.raises(SystemExit):
        main(["--help"])
    lines = capsys.readouterr().out.splitlines()
    assert any(
        line.split() == ["uninstall", "restore", "Prowler's", "built-in", "check"] for line in lines
    )


def test_a_run_that_created_nothing_says_there_is_nothing_to_undo():
    from prowler_vpc_flow_logs.cli.text import fix_text
    from prowler_vpc_flow_logs.remediation.models import OUTCOME_UNKNOWN, Failed, FixResult

    failed = Failed(vpc_id=VPC.id, region=REGION_A, code="Client.AccessDenied", message="no")
    result = FixResult(
        run_id="vfl-20261128T000000Z-abcdef", account="1", regions=[REGION_A], failed=[failed]
    )
    text = fix_text(result)
    assert (
        "Undo with" not in text
        and "nothing to undo (recorded as run vfl-20261128T000000Z-abcdef)" in text
    )
    result.failed.append(failed.model_copy(update={"code": OUTCOME_UNKNOWN}))
    assert "Undo with: vpc-flow-logs backout vfl-20261128T000000Z-abcdef" in fix_text(result)


def test_every_option_has_help_and_shaping_flags_name_the_aws_cli_flag():
    import argparse

    from prowler_vpc_flow_logs.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in commands.choices.items():
        assert sub.description, f"{name} has no description"
        assert sub.epilog and "vpc-flow-logs" in sub.epilog, f"{name} shows no example"
        for action in sub._actions:
            assert action.help, f"{name} {action.option_strings or action.dest} has no help"
    fix = {
        a.option_strings[0]: a.help for a in commands.choices["fix"]._actions if a.option_strings
    }
    for flag in (
        "--log-destination-type",
        "--log-group-name",
        "--deliver-logs-permission-arn",
        "--log-destination",
        "--traffic-type",
        "--max-aggregation-interval",
        "--log-format",
    ):
        assert (
            f"as {'aws ec2 create-flow-logs ' if flag == '--log-destination-type' else ''}{flag}"
            in fix[flag]
        ), flag
    assert "(default: ALL)" in fix["--traffic-type"]
    assert "--profile" in fix["--profile"] and "default" in fix["--profile"]


def test_a_dry_run_shows_no_progress_bar(role, capsys):
    from prowler_vpc_flow_logs.cli import main
    from tests.support import CWL as CWL_FLAGS

    assert main(["fix", "--region", REGION_A, *CWL_FLAGS, "--dry-run"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[-1].startswith("Dry run: nothing was changed (")
    assert "accounts" not in err and "(!)" not in err, err
