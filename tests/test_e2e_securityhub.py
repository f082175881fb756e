"""End to end: `prowler aws --checks vpc_flow_logs_enabled --security-hub` against a moto server.

moto 5.2.5 does not implement ListEnabledProductsForImport, which Prowler calls before it
sends anything; devtools.securityhub_ext (loaded only here, in the test process that runs
the server) adds it and EnableImportFindingsForProduct. Everything else is moto's own
Security Hub: EnableSecurityHub, BatchImportFindings (upsert by finding Id), GetFindings.
"""

from __future__ import annotations

import pytest

from devtools import securityhub_ext
from devtools.estate import REGION_A, REGION_B, ROLE_ARN, seed_policy_estate
from devtools.moto_server import MotoServer
from devtools.prowler_cli import run_prowler
from prowler_vpc_flow_logs import CHECK_ID

pytestmark = pytest.mark.e2e
REGIONS = (REGION_A, REGION_B)
ASFF_STATUS = {"PASS": "PASSED", "FAIL": "FAILED"}


@pytest.fixture(scope="module")
def hub():
    securityhub_ext.install()  # before the server answers its first Security Hub call
    server = MotoServer().start()
    server.reset()

    client = server.client

    estate = seed_policy_estate(client)
    for region in REGIONS:  # what a user does once per region
        securityhub = client("securityhub", region)
        securityhub.enable_security_hub()
        securityhub.enable_import_findings_for_product(
            ProductArn=f"arn:aws:securityhub:{region}::product/prowler/prowler"
        )
    yield server, client, estate
    server.stop()


def send(server: MotoServer, out) -> str:
    args = ["--checks", CHECK_ID, "--security-hub", "-f", *REGIONS]
    return run_prowler(args, server.env(), out, "sh", formats=()).output


def hub_findings(client) -> dict[str, dict]:
    """VPC id -> the Security Hub finding of our check, read back with GetFindings."""
    found: dict[str, dict] = {}
    for region in REGIONS:
        pages = client("securityhub", region).get_paginator("get_findings").paginate()
        for finding in (f for page in pages for f in page["Findings"]):
            if finding["GeneratorId"] == f"prowler-{CHECK_ID}":
                vpc = finding["Resources"][0]["Id"].rsplit("/", 1)[-1]
                assert vpc not in found, f"two findings for {vpc}"
                found[vpc] = finding
    return found


def test_security_hub_gets_one_finding_per_vpc_and_updates_it(hub, tmp_path):
    server, client, estate = hub
    expected = {
        vpc: ASFF_STATUS[s] for vpc, s in estate.expected("REJECT").items() if s != "MANUAL"
    }

    eu_vpcs = {estate.vpcs["eu-all-to-bucket"], estate.vpcs["eu-reject-to-missing-group"]}
    output = send(server, tmp_path / "first")
    assert f"{len(expected)} findings sent to AWS Security Hub" in output, output[-3000:]
    first = hub_findings(client)
    assert {vpc: f["Compliance"]["Status"] for vpc, f in first.items()} == expected
    for vpc, finding in first.items():
        compliance = finding["Compliance"]
        standards = [s["StandardsId"] for s in compliance["AssociatedStandards"]]
        assert finding["Resources"][0]["Type"] == "AwsEc2Vpc"
        assert finding["Resources"][0]["Region"] == (REGION_B if vpc in eu_vpcs else REGION_A)
        assert standards[:2] == ["CIS-Controls-7.1", "CIS-Controls-8.1"] and "CIS-5.0" in standards
        assert compliance["RelatedRequirements"][:2] == [
            "CIS-Controls-7.1 6.2 12.5",
            "CIS-Controls-8.1 8.2 13.6",
        ]
        assert len(standards) <= 20 and len(compliance["RelatedRequirements"]) <= 32

    fixed = estate.vpcs["no-flow-logs"]
    assert first[fixed]["Compliance"]["Status"] == "FAILED"
    client("ec2", REGION_A).create_flow_logs(
        ResourceType="VPC",
        ResourceIds=[fixed],
        TrafficType="ALL",
        LogGroupName="/vpc/flow-logs",
        DeliverLogsPermissionArn=ROLE_ARN,
    )
    output = send(server, tmp_path / "second")
    assert f"{len(expected)} findings sent to AWS Security Hub" in output, output[-3000:]
    second = hub_findings(client)
    assert set(second) == set(first)  # no finding added or lost
    assert {vpc: f["Id"] for vpc, f in second.items()} == {vpc: f["Id"] for vpc, f in first.items()}
    assert second[fixed]["Compliance"]["Status"] == "PASSED"
    assert {v: f["Compliance"]["Status"] for v, f in second.items() if v != fixed} == {
        v: s for v, s in expected.items() if v != fixed
    }
    assert all(f["RecordState"] == "ACTIVE" for f in second.values())
