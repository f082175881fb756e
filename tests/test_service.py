"""The lean service and the policy together, on moto in-process (mock_aws)."""

from __future__ import annotations

import pytest

from devtools.estate import EXPECTED, EXPECTED_WORDS, REGION_A, REGION_B, default_vpcs
from prowler_vpc_flow_logs.config import TRAFFIC_TYPE_KEY as KEY
from prowler_vpc_flow_logs.config import problems, required_traffic_type, strictest_note
from prowler_vpc_flow_logs.service import FlowLogs
from tests.support import aws_provider, client, failing_call, keyed_verdicts

REGIONS = {REGION_A, REGION_B}


def scan(regions=REGIONS, **kwargs) -> dict:
    """VPC id (or region for an unreadable region) -> verdict."""
    service = FlowLogs(aws_provider(regions, **kwargs))
    return keyed_verdicts(service)


@pytest.mark.parametrize("required", ["REJECT", "ALL"])
def test_every_policy_case_gets_its_verdict(estate, required):
    config = {"vpc_flow_logs_required_traffic_type": required}
    result = scan(audit_config=config)
    assert {k: v.status for k, v in result.items()} == estate.expected(required)
    for name, words in EXPECTED_WORDS.items():
        assert words in result[estate.vpcs[name]].status_extended, name
    for verdict in result.values():
        assert "disabled" not in verdict.status_extended.lower()


def test_scan_unused_services_reports_unused_and_default_vpcs(estate):
    result = scan(scan_unused_services=True)
    expected = estate.expected("REJECT", scan_unused=True)
    for vpc_id in default_vpcs(client).values():
        expected[vpc_id] = "FAIL"
    assert {k: v.status for k, v in result.items()} == expected


def test_details_list_considered_flow_logs(estate):
    result = scan()
    verdict = result[estate.vpcs["accept-plus-reject"]]
    assert verdict.considered_flow_log_ids == sorted(estate.flow_logs["accept-plus-reject"])
    subnet = result[estate.vpcs["subnet-level-only"]]
    assert subnet.considered_flow_log_ids == estate.flow_logs["subnet-level-only"]


def test_region_filter_only_reads_audited_regions(estate):
    result = scan(regions={REGION_B})
    assert set(result) == {
        estate.vpcs["eu-all-to-bucket"],
        estate.vpcs["eu-reject-to-missing-group"],
    }


def test_resource_arn_filter(estate):
    vpc_id = estate.vpcs["accept-only"]
    arn = f"arn:aws:ec2:{REGION_A}:123456789012:vpc/{vpc_id}"
    result = scan(resource_arn=[arn])
    assert list(result) == [vpc_id]
    assert result[vpc_id].status == "FAIL"


def test_describe_vpcs_denied_gives_one_finding_for_the_region(estate):
    with failing_call("DescribeVpcs", REGION_B):
        result = scan()
    region_verdict = result[REGION_B]
    assert region_verdict.status == "FAIL"
    assert "ec2:DescribeVpcs failed in eu-west-1 (AccessDenied" in region_verdict.status_extended
    assert "could not be audited" in region_verdict.status_extended
    # the other region is still audited normally
    assert result[estate.vpcs["all-to-log-group"]].status == "PASS"


def test_describe_flow_logs_denied_never_passes_nor_says_disabled(estate):
    with failing_call("DescribeFlowLogs", REGION_A, code="UnauthorizedOperation"):
        result = scan()
    for name, (region, verdict, _) in EXPECTED.items():
        if region != REGION_A or verdict in (None, "MANUAL"):
            continue
        text = result[estate.vpcs[name]].status_extended
        assert result[estate.vpcs[name]].status == "FAIL", name
        assert "ec2:DescribeFlowLogs failed in us-east-1 (UnauthorizedOperation" in text
        assert "disabled" not in text.lower() and "not enabled" not in text.lower()
    assert result[estate.vpcs["eu-all-to-bucket"]].status == "PASS"


@pytest.mark.parametrize(
    "config,expected,said",
    [
        ({}, "REJECT", None),
        ({KEY: "all"}, "ALL", None),
        ({KEY: " ACCEPT "}, "ACCEPT", None),
        ({KEY: "bogus"}, "ALL", "'bogus'"),
        ({KEY: None}, "ALL", "empty"),  # `key:` with no value, or `key: null`
        ({KEY: ""}, "ALL", "empty"),
        ({KEY: ["ALL"]}, "ALL", "['ALL']"),
        ({KEY: 5}, "ALL", "5"),
        ({KEY: True}, "ALL", "True"),
        ({KEY: {"type": "ALL"}}, "ALL", "{'type': 'ALL'}"),
        (None, "REJECT", None),
    ],
)
def test_config_knob(config, expected, said):
    assert required_traffic_type(config) == expected
    note = strictest_note(config)
    if said is None:
        assert note == "" and problems(config) == []
    else:
        assert (
            note
            == f"ALL traffic is required because {KEY} is {said} in the Prowler config file; it must be one of ALL, ACCEPT, REJECT"
        )


def test_invalid_config_value_uses_all_and_every_finding_says_why(estate):
    result = scan(audit_config={"vpc_flow_logs_required_traffic_type": "bogus"})
    assert result[estate.vpcs["reject-to-bucket"]].status == "FAIL"  # ALL, the strictest
    for verdict in result.values():
        assert (
            "ALL traffic is required because vpc_flow_logs_required_traffic_type is 'bogus'"
            in verdict.status_extended
        )
