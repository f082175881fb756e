"""Shared helpers of the remediation tests (no tests here): the delivery role, state snapshots, verdicts."""

from __future__ import annotations

import json

import boto3
import pytest

from devtools.estate import REGION_A, REGION_B, ROLE_ARN
from devtools.provider import aws_provider
from prowler_vpc_flow_logs.cli import main
from prowler_vpc_flow_logs.findings import verdicts
from prowler_vpc_flow_logs.service import FlowLogs

REGIONS = (REGION_A, REGION_B)
FIX_GROUP = "/vpc/fix"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "vpc-flow-logs.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
CWL = [
    "--log-destination-type", "cloud-watch-logs", "--log-group-name", FIX_GROUP,
    "--deliver-logs-permission-arn", ROLE_ARN, "--create-log-group", "--retention-in-days", "30",
]
BOTH = ["--region", REGION_A, "--region", REGION_B]


def client(service: str, region: str = REGION_A, **kwargs):
    return boto3.client(service, region_name=region, **kwargs)


def create_role(name: str = "flow-logs-delivery", trust: dict = TRUST) -> str:
    return client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


@pytest.fixture
def role(estate) -> str:
    """The estate plus the delivery role its ROLE_ARN names."""
    return create_role()


def snapshot() -> dict:
    """Every flow log (id, resource, tags) and log group in both regions: what a write would change."""
    state = {}
    for region in REGIONS:
        logs = client("ec2", region).describe_flow_logs()["FlowLogs"]
        state[region] = {
            "flow_logs": sorted((fl["FlowLogId"], fl["ResourceId"], json.dumps(fl.get("Tags", []), sort_keys=True)) for fl in logs),
            "log_groups": sorted(g["logGroupName"] for g in client("logs", region).describe_log_groups()["logGroups"]),
        }
    return state


def flow_log_ids() -> set[str]:
    return {fl["FlowLogId"] for r in REGIONS for fl in client("ec2", r).describe_flow_logs()["FlowLogs"]}


def statuses(regions=REGIONS, audit_config: dict | None = None) -> dict[str, str]:
    """VPC id -> the check's verdict, from a fresh in-process scan."""
    service = FlowLogs(aws_provider(set(regions), audit_config=audit_config))
    return {vpc.id: v.status for _, vpc, v in verdicts(service) if vpc is not None}


def fix_json(capsys, *args: str) -> tuple[int, dict, str]:
    """Run `vpc-flow-logs fix ARGS --yes --output json`: (exit code, its result, what it said on stderr)."""
    code = main(["fix", *args, "--yes", "--output", "json"])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else {}, err
