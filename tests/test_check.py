"""The Prowler Check class: one report per VPC with Prowler's own report type (mock_aws)."""

from __future__ import annotations

import importlib
from unittest import mock

from devtools.estate import REGION_A, REGION_B
from devtools.provider import aws_provider
from prowler_vpc_flow_logs.service import FlowLogs
from tests.conftest import failing_call

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
    assert (
        good.resource_details == "Flow logs considered: " + estate.flow_logs["all-to-log-group"][0]
    )
    assert good.check_metadata.CheckID == "vpc_flow_logs_enabled"
    assert good.check_metadata.ResourceType == "AwsEc2Vpc"
    shared = by_id[estate.vpcs["shared-from-other-account"]]
    assert shared.status == "MANUAL"
    assert shared.resource_arn.startswith(f"arn:aws:ec2:{REGION_A}:111122223333:vpc/")
    none = by_id[estate.vpcs["no-flow-logs"]]
    assert none.resource_details == "Flow logs considered: none"


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
