"""The Prowler Check class: one report per VPC with Prowler's own report type (mock_aws)."""

from __future__ import annotations

import importlib
from unittest import mock

from devtools.estate import REGION_A, REGION_B
from prowler_vpc_flow_logs.service import FlowLogs
from tests.support import aws_provider, failing_call, prowler_tree

CHECK_MODULE = "prowler_vpc_flow_logs.check.vpc_flow_logs_enabled"


def run_check(provider):
    service = FlowLogs(provider)
    with (
        mock.patch(
            "prowler.providers.common.provider.Provider.get_global_provider",
            return_value=provider,
        ),
        mock.patch(
            "prowler_vpc_flow_logs.flow_logs_client.flow_logs_client", new=service, create=True
        ),
    ):
        module = importlib.import_module(CHECK_MODULE)
        with mock.patch.object(module, "flow_logs_client", new=service):
            return module.vpc_flow_logs_enabled().execute()


def test_reports_carry_resource_status_and_details(estate):
    reports = run_check(aws_provider({REGION_A, REGION_B}))
    by_id = {r.resource_id: r for r in reports}
    assert set(by_id) == set(estate.expected("REJECT"))
    good = by_id[estate.vpcs["all-to-log-group"]]
    assert good.status == "PASS"
    assert good.resource_arn == f"arn:aws:ec2:{REGION_A}:123456789012:vpc/{good.resource_id}"
    assert good.region == REGION_A
    assert {"Key": "Name", "Value": "all-to-log-group"} in good.resource_tags
    policy = 'Judged under: {"vpc_flow_logs_required_traffic_type": "REJECT"}'  # read by the fix
    assert good.resource_details == (
        f"Flow logs considered: {estate.flow_logs['all-to-log-group'][0]}. {policy}"
    )
    assert good.check_metadata.CheckID == "vpc_flow_logs_enabled"
    assert good.check_metadata.ResourceType == "AwsEc2Vpc"
    shared = by_id[estate.vpcs["shared-from-other-account"]]
    assert shared.status == "MANUAL"
    assert shared.resource_arn.startswith(f"arn:aws:ec2:{REGION_A}:111122223333:vpc/")
    none = by_id[estate.vpcs["no-flow-logs"]]
    assert none.resource_details == f"Flow logs considered: none. {policy}"


def test_unreadable_region_report(estate):
    with failing_call("DescribeVpcs", REGION_B):
        reports = run_check(aws_provider({REGION_A, REGION_B}))
    region_reports = [r for r in reports if r.region == REGION_B]
    assert len(region_reports) == 1
    report = region_reports[0]
    assert report.status == "FAIL"
    assert report.resource_id == "unknown"
    assert report.resource_arn == f"arn:aws:ec2:{REGION_B}:123456789012:vpc/unknown"
    assert "ec2:DescribeVpcs" in report.status_extended


def test_metadata_loads_with_prowlers_model():
    from prowler.lib.check.models import CheckMetadata

    from prowler_vpc_flow_logs.activation import OUR_CHECK_DIR

    meta = CheckMetadata.parse_file(OUR_CHECK_DIR / "vpc_flow_logs_enabled.metadata.json")
    assert meta.CheckID == "vpc_flow_logs_enabled"
    assert meta.ServiceName == "vpc" and meta.ResourceType == "AwsEc2Vpc"
    assert meta.Severity == "medium"
    assert any("CIS AWS Foundations" in t for t in meta.CheckType)
    assert any("AWS Security Best Practices" in t for t in meta.CheckType)
    assert "aws ec2 create-flow-logs" in meta.Remediation.Code.CLI
    assert "AWS::EC2::FlowLog" in meta.Remediation.Code.NativeIaC
    assert "aws_flow_log" in meta.Remediation.Code.Terraform
    assert any("flow-logs.html" in url for url in meta.AdditionalURLs)


def test_checks_folder_holds_only_check_folders():
    from pathlib import Path

    checks = Path(__file__).resolve().parent.parent / "checks"
    entries = [p for p in checks.iterdir() if p.name != "__pycache__"]
    assert entries and all(p.is_dir() for p in entries)
    for folder in entries:
        modules = {p.name for p in folder.glob("*.py")}
        assert modules <= {"__init__.py", f"{folder.name}.py", f"{folder.name}_fixer.py"}


class _Uninstalled:
    """A meta path finder that makes prowler_vpc_flow_logs absent, as `pip uninstall` would."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.split(".")[0] == "prowler_vpc_flow_logs":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def _load_check_file(name: str, path):
    """Import the check file under another module name, as Prowler imports its copy."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def test_a_check_whose_package_is_gone_fails_every_region_loudly(estate, monkeypatch, caplog):
    """`pip uninstall prowler-vpc-flow-logs` before `vpc-flow-logs uninstall`: never "no findings"."""
    import sys

    from prowler_vpc_flow_logs.activation import OUR_CHECK_DIR

    check_file = OUR_CHECK_DIR / "vpc_flow_logs_enabled.py"
    provider = aws_provider({REGION_A, REGION_B})
    for name in [n for n in sys.modules if n.split(".")[0] == "prowler_vpc_flow_logs"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [_Uninstalled, *sys.meta_path])
    module = _load_check_file("vpc_flow_logs_enabled_without_its_package", check_file)
    monkeypatch.setattr(sys, "meta_path", [f for f in sys.meta_path if f is not _Uninstalled])
    assert isinstance(module.UNAVAILABLE, ModuleNotFoundError)
    with mock.patch(
        "prowler.providers.common.provider.Provider.get_global_provider", return_value=provider
    ):
        reports = module.vpc_flow_logs_enabled().execute()
    assert sorted(r.region for r in reports) == [REGION_B, REGION_A]
    for report in reports:
        assert report.status == "FAIL" and report.resource_id == "unknown"
        assert report.resource_arn == f"arn:aws:ec2:{report.region}:123456789012:vpc/unknown"
        assert f"The VPCs in {report.region} could not be audited" in report.status_extended
        assert (
            "prowler-vpc-flow-logs is not installed in this Python environment"
            in report.status_extended
        )
        assert "pip install --force-reinstall --no-deps prowler==" in report.status_extended
        # no package of that name is published: never send users to the index for it
        assert "pip install /path/to/prowler-vpc-flow-logs" in report.status_extended
        assert "pip install prowler-vpc-flow-logs" not in report.status_extended
    assert [r.levelname for r in caplog.records if "no VPC was evaluated" in r.message] == [
        "CRITICAL"
    ]


def test_a_defect_while_reading_a_region_gives_that_region_findings(estate):
    """No exception inside the check may leave a region without findings."""
    with mock.patch.object(FlowLogs, "_flow_log", side_effect=KeyError("FlowLogStatus")):
        reports = run_check(aws_provider({REGION_A, REGION_B}))
    by_region: dict[str, list] = {}
    for report in reports:
        by_region.setdefault(report.region, []).append(report)
    assert set(by_region) == {REGION_A, REGION_B}
    assert {r.resource_id for r in reports} == set(
        estate.expected("REJECT")
    )  # every VPC still reported
    for report in reports:
        if report.status == "MANUAL":
            continue
        assert report.status == "FAIL", report.status_extended
        assert "could not be audited: the check itself failed in" in report.status_extended
        assert "KeyError: 'FlowLogStatus'" in report.status_extended


def test_a_defect_before_any_vpc_is_read_gives_the_region_one_finding(estate):
    with mock.patch.object(FlowLogs, "_describe_vpcs", side_effect=RuntimeError("boom")):
        reports = run_check(aws_provider({REGION_A}))
    [report] = reports
    assert (report.status, report.resource_id, report.region) == ("FAIL", "unknown", REGION_A)
    assert (
        "The VPCs in us-east-1 could not be audited: the check itself failed in us-east-1 (RuntimeError: boom)"
        in report.status_extended
    )


def test_a_defect_in_one_verdict_costs_only_that_vpc(estate):
    from prowler_vpc_flow_logs import verdicts

    original = verdicts.verdict_for
    broken = estate.vpcs["accept-only"]

    def verdict_for(service, region, vpc):
        if vpc.id == broken:
            raise ValueError("bad data")
        return original(service, region, vpc)

    with mock.patch.object(verdicts, "verdict_for", verdict_for):
        reports = run_check(aws_provider({REGION_A, REGION_B}))
    by_id = {r.resource_id: r for r in reports}
    assert set(by_id) == set(estate.expected("REJECT"))
    assert (
        by_id[broken].status == "FAIL" and "ValueError: bad data" in by_id[broken].status_extended
    )
    assert by_id[estate.vpcs["all-to-log-group"]].status == "PASS"


def test_metadata_keeps_every_check_type_the_builtin_declares(monkeypatch):
    """Security Hub Types and the CSV's CHECK_TYPE keep the built-in's PCI-DSS and NIST types."""
    import json

    from prowler_vpc_flow_logs.activation import OUR_CHECK_DIR, find_prowler

    monkeypatch.delenv("VPC_FLOW_LOGS_STATE_DIR")  # the backup `make plugin`'s install made
    builtin = find_prowler().backup_dir / "vpc_flow_logs_enabled.metadata.json"
    with prowler_tree():  # never while an e2e test uninstalls (pytest-xdist)
        theirs = json.loads(builtin.read_text())["CheckType"]
    ours = json.loads((OUR_CHECK_DIR / "vpc_flow_logs_enabled.metadata.json").read_text())[
        "CheckType"
    ]
    assert any("PCI-DSS" in t for t in theirs) and set(theirs) <= set(ours)
