"""Prowler's --fixer path in-process: same plan/apply/ledger code, one run per process, undoable."""

from __future__ import annotations

import importlib
from unittest import mock

import pytest

from devtools.estate import REGION_A, REGION_B, ROLE_ARN
from prowler_vpc_flow_logs.clients import Clients
from prowler_vpc_flow_logs.prowler_provider import retrying_session
from prowler_vpc_flow_logs.remediation.backout import backout
from prowler_vpc_flow_logs.remediation.fixer import FixerRun, fix_finding
from prowler_vpc_flow_logs.remediation.ledger import list_runs
from prowler_vpc_flow_logs.service import FlowLogs
from prowler_vpc_flow_logs.verdicts import verdicts
from tests.support import aws_provider, flow_log_ids, snapshot, statuses

FIXER_MODULE = "prowler_vpc_flow_logs.check.vpc_flow_logs_enabled_fixer"
CONFIG = {
    "vpc_flow_logs_enabled": {
        "log-destination-type": "cloud-watch-logs",
        "log-group-name": "/vpc/fix",
        "deliver_logs_permission_arn": ROLE_ARN,  # underscores work too
        "create-log-group": True,
    }
}


def service_with(fixer_config: dict) -> FlowLogs:
    service = FlowLogs(aws_provider({REGION_A, REGION_B}))
    service.fixer_config = fixer_config
    return service


def test_fixer_fixes_each_failing_finding_in_one_run_that_backout_undoes(role, estate, capsys):
    before_ids, before_status = flow_log_ids(), statuses()
    service = service_with(CONFIG)
    run = FixerRun()
    failing = [(r, vpc.id) for r, vpc, v in verdicts(service.scan) if vpc and v.status == "FAIL"]
    assert len(failing) == 8
    assert all(fix_finding(service, vpc_id, region, run) for region, vpc_id in failing)
    assert {s for s in statuses().values()} == {"PASS", "MANUAL"}
    [summary] = list_runs()
    assert (summary.source, summary.created, summary.regions) == (
        "prowler-fixer",
        8,
        sorted([REGION_A, REGION_B]),
    )
    assert f"(run {summary.run_id})" in capsys.readouterr().out
    # a finding for a VPC that passes now, or is not a VPC of the scan, is refused (False) without a write
    after = snapshot()
    assert not fix_finding(service, estate.vpcs["shared-from-other-account"], REGION_A, run)
    assert not fix_finding(service, "vpc-0123456789abcdef0", REGION_A, run)
    assert snapshot() == after
    clients = Clients(retrying_session())
    result = backout(summary.run_id, lambda account: clients)
    assert len(result.deleted) == 8
    assert flow_log_ids() == before_ids and statuses() == before_status


@pytest.mark.parametrize(
    "config, words",
    [
        ({}, "no 'vpc_flow_logs_enabled:' section"),
        (
            {"vpc_flow_logs_enabled": {**CONFIG["vpc_flow_logs_enabled"], "colour": "red"}},
            "unknown setting(s) in 'vpc_flow_logs_enabled:': colour",
        ),
        (
            {"vpc_flow_logs_enabled": {"log-destination-type": "s3", "log-destination": "bucket"}},
            "is not an S3 bucket ARN",
        ),
        (
            {
                "vpc_flow_logs_enabled": {
                    **CONFIG["vpc_flow_logs_enabled"],
                    "create-log-group": False,
                }
            },
            "does not exist in us-east-1",
        ),
    ],
)
def test_fixer_bad_config_writes_nothing(config, words, role, estate, capsys):
    service = service_with(config)
    before = snapshot()
    assert not fix_finding(service, estate.vpcs["no-flow-logs"], REGION_A, FixerRun())
    assert words in capsys.readouterr().out
    assert snapshot() == before and list_runs() == []


def test_prowler_adapter_signature_and_delegation(role, estate, capsys):
    """Prowler picks fixer(resource_id=..., region=...) by parameter names."""
    service = service_with({})
    with mock.patch(
        "prowler_vpc_flow_logs.flow_logs_client.flow_logs_client", new=service, create=True
    ):
        module = importlib.import_module(FIXER_MODULE)
        with mock.patch.object(module, "flow_logs_client", new=service):
            assert {"resource_id", "region"} <= set(module.fixer.__code__.co_varnames)
            assert module.fixer(resource_id=estate.vpcs["no-flow-logs"], region=REGION_A) is False
    assert "no 'vpc_flow_logs_enabled:' section" in capsys.readouterr().out


def test_a_state_folder_that_cannot_be_written_is_said_once_and_nothing_is_written(
    role, estate, capsys, tmp_path
):
    unwritable = tmp_path / "a-file"
    unwritable.write_text("")
    section = {**CONFIG["vpc_flow_logs_enabled"], "state-dir": str(unwritable)}
    service = service_with({"vpc_flow_logs_enabled": section})
    before = snapshot()
    run = FixerRun()
    failing = [(r, vpc.id) for r, vpc, v in verdicts(service.scan) if vpc and v.status == "FAIL"]
    assert not any(fix_finding(service, vpc_id, region, run) for region, vpc_id in failing)
    out = capsys.readouterr().out
    assert out.count(f"cannot record runs in {unwritable}/runs") == 1, out
    assert "No flow log will be created in this Prowler run" in out
    assert snapshot() == before


def test_a_missing_section_is_said_once_for_many_findings(role, estate, capsys):
    service = service_with({})
    run = FixerRun()
    failing = [(r, vpc.id) for r, vpc, v in verdicts(service.scan) if vpc and v.status == "FAIL"]
    assert len(failing) > 1 and not any(fix_finding(service, v, r, run) for r, v in failing)
    assert capsys.readouterr().out.count("no 'vpc_flow_logs_enabled:' section") == 1


def test_account_in_the_fixer_config_names_the_scanned_accounts_role(role, estate, capsys):
    """One fixer config serves every member scanned with `prowler -R` (issue 19, row 7)."""
    placeholder = ROLE_ARN.replace("123456789012", "{account}")
    service = service_with(
        {
            "vpc_flow_logs_enabled": {
                **CONFIG["vpc_flow_logs_enabled"],
                "deliver_logs_permission_arn": placeholder,
            }
        }
    )
    run = FixerRun()
    vpc_id = estate.vpcs["no-flow-logs"]
    assert fix_finding(service, vpc_id, REGION_A, run)
    assert "{account}" not in capsys.readouterr().out
    assert run.settings.deliver_logs_permission_arn == ROLE_ARN


def test_prowler_is_quieted_once_however_many_threads_enter(monkeypatch):
    """The root logger is CRITICAL while any remediation command runs and back to its level
    after the last one, even when many enter and leave at once (issue 19 row 11, issue 21)."""
    import logging
    import threading

    from prowler_vpc_flow_logs.prowler_provider import quiet_prowler

    root = logging.getLogger()
    monkeypatch.setattr(root, "level", logging.WARNING)
    seen: list[int] = []
    start = threading.Barrier(16)

    def one() -> None:
        start.wait()
        with quiet_prowler():
            with quiet_prowler():  # nested, as plan_fix inside a command
                seen.append(root.level)

    with quiet_prowler():
        threads = [threading.Thread(target=one) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert root.level == logging.CRITICAL
    assert seen == [logging.CRITICAL] * 16 and root.level == logging.WARNING
