"""Helpers the tests share (fixtures are in conftest.py): AWS clients of the mocked account, the
delivery role, snapshots of what a write would change, verdicts, and the CLI's JSON output."""

from __future__ import annotations

import copy
import fcntl
import functools
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import boto3
import botocore.client
from botocore.exceptions import ClientError

from devtools.estate import REGION_A, REGION_B, ROLE_ARN, trust_policy
from prowler_vpc_flow_logs.cli import main
from prowler_vpc_flow_logs.prowler_provider import build_provider

DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
REGIONS = (REGION_A, REGION_B)
FIX_GROUP = "/vpc/fix"
CWL = [
    "--log-destination-type", "cloud-watch-logs", "--log-group-name", FIX_GROUP,
    "--deliver-logs-permission-arn", ROLE_ARN, "--create-log-group", "--retention-in-days", "30",
]  # fmt: skip
BOTH = ["--region", REGION_A, "--region", REGION_B]
# The CIS keys our findings carry first, in this order (Security Hub keeps 20 standards).
CIS_FIRST = [
    "CIS-Controls-7.1",
    "CIS-Controls-8.1",
    "CIS-7.0",
    "CIS-6.0",
    "CIS-5.0",
    "CIS-4.0.1",
    "CIS-3.0",
    "CIS-2.0",
    "CIS-1.5",
    "CIS-1.4",
]


# pytest-xdist runs tests side by side, each worker a process: a test that runs or reads the
# installed Prowler's check folder holds this venv's lock shared, the step that changes it alone.
_holds: list[int] = []  # this process's holds (flock modes), innermost last


@functools.cache
def _tree_lock() -> int:
    """One descriptor per process, so that flock converts its hold rather than fight it."""
    return os.open(Path(sys.prefix) / ".prowler-tree.lock", os.O_RDWR | os.O_CREAT)


@contextmanager
def prowler_tree(alone: bool = False) -> Iterator[None]:
    """Hold the installed Prowler's tree: shared with other readers, or ``alone`` to change it
    (inside a shared hold: given up, taken alone, then shared again)."""
    outer = _holds[-1] if _holds else fcntl.LOCK_UN
    mode = fcntl.LOCK_EX if alone or outer == fcntl.LOCK_EX else fcntl.LOCK_SH
    if mode != outer:
        fcntl.flock(_tree_lock(), mode)
    _holds.append(mode)
    try:
        yield
    finally:
        _holds.pop()
        if mode != outer:
            fcntl.flock(_tree_lock(), outer)


def client(service: str, region: str = REGION_A, **kwargs):
    """A boto3 client of the mocked account (mock_aws is active in the test). Building one takes
    ~40 ms, so each is made once per boto3 default session (mock_aws starts a new one) and AWS
    environment."""
    if kwargs:
        return boto3.client(service, region_name=region, **kwargs)
    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    made = vars(boto3.DEFAULT_SESSION).setdefault("_tests_clients", {})
    env = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_")))
    key = (service, region, env)
    if key not in made:
        made[key] = boto3.client(service, region_name=region)
    return made[key]


def aws_provider(
    regions: set[str],
    scan_unused_services: bool = False,
    audit_config: dict | None = None,
    resource_arn: list[str] | None = None,
):
    """Prowler's AwsProvider as the CLI and the fix build it (in-process)."""
    return build_provider(
        regions,
        audit_config=audit_config,
        scan_unused_services=scan_unused_services,
        resource_arn=resource_arn,
    )


def failing_call(operation: str, region: str | None = None, code: str = "AccessDenied"):
    """Patch botocore so that one operation (optionally in one region) fails like AWS would."""
    original = botocore.client.BaseClient._make_api_call

    def call(self, operation_name, params):
        if operation_name == operation and region in (None, self.meta.region_name):
            raise ClientError(
                {"Error": {"Code": code, "Message": "denied by test"}}, operation_name
            )
        return original(self, operation_name, params)

    return mock.patch.object(botocore.client.BaseClient, "_make_api_call", call)


# moto quirks: it authorizes HeadBucket as "s3:HeadBucket", an action AWS does not have (AWS
# authorizes HeadBucket with s3:ListBucket), and GetBucketEncryption as "s3:ListBucket" (AWS:
# s3:GetEncryptionConfiguration). Tests under moto's IAM enforcement grant (or deny) each real
# action together with moto's name for it; the shipped policies hold only the real actions.
MOTO_ALIASES = {"s3:ListBucket": "s3:HeadBucket", "s3:GetEncryptionConfiguration": "s3:ListBucket"}


def for_moto(policy: dict) -> dict:
    """The policy with moto's alias added next to each real action it stands for."""
    policy = copy.deepcopy(policy)
    for statement in policy["Statement"]:
        listed = (
            [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        )
        statement["Action"] = listed + [MOTO_ALIASES[a] for a in listed if a in MOTO_ALIASES]
    return policy


def keyed_verdicts(service) -> dict:
    """A scan's verdicts by VPC id, or by region for a region that could not be listed."""
    from prowler_vpc_flow_logs.verdicts import verdicts

    return {(vpc.id if vpc else region): verdict for region, vpc, verdict in verdicts(service.scan)}


def statuses(regions=REGIONS, audit_config: dict | None = None) -> dict[str, str]:
    """VPC id -> the check's verdict, from a fresh in-process scan."""
    from prowler_vpc_flow_logs.service import FlowLogs

    service = FlowLogs(aws_provider(set(regions), audit_config=audit_config))
    return {
        vpc_id: v.status
        for vpc_id, v in keyed_verdicts(service).items()
        if vpc_id.startswith("vpc-")
    }


def create_role(name: str = "flow-logs-delivery", trust: dict | None = None) -> str:
    document = json.dumps(trust or trust_policy())
    return client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=document)["Role"][
        "Arn"
    ]


def flow_log_key(flow_log: dict) -> tuple[str, str, str]:
    """A flow log as a write would change it: its id, its resource and its tags."""
    tags = json.dumps(flow_log.get("Tags", []), sort_keys=True)
    return flow_log["FlowLogId"], flow_log["ResourceId"], tags


def snapshot() -> dict:
    """Every flow log (id, resource, tags) and log group in both regions: what a write would change."""
    state = {}
    for region in REGIONS:
        logs = client("ec2", region).describe_flow_logs()["FlowLogs"]
        state[region] = {
            "flow_logs": sorted(flow_log_key(fl) for fl in logs),
            "log_groups": sorted(
                g["logGroupName"] for g in client("logs", region).describe_log_groups()["logGroups"]
            ),
        }
    return state


def flow_log_ids() -> set[str]:
    return {
        fl["FlowLogId"] for r in REGIONS for fl in client("ec2", r).describe_flow_logs()["FlowLogs"]
    }


def fix_json(capsys, *args: str) -> tuple[int, dict, str]:
    """Run `vpc-flow-logs fix ARGS --yes --output json`: (exit code, its result, what it said on stderr)."""
    code = main(["fix", *args, "--yes", "--output", "json"])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else {}, err


def ocsf_finding(
    arn: str, status: str = "FAIL", check: str = "vpc_flow_logs_enabled", details: str = ""
) -> dict:
    """The fields of a Prowler OCSF finding that the fix reads (the rest are left out);
    ``details``: the resource details the check writes (with the policy it judged under)."""
    region = arn.split(":")[3]
    resource = {"uid": arn, "region": region, **({"data": {"details": details}} if details else {})}
    return {
        "metadata": {"event_code": check, "product": {"name": "Prowler", "uid": "prowler"}},
        "finding_info": {"uid": f"prowler-aws-{check}-{arn}"},
        "status_code": status,
        "resources": [resource],
        "cloud": {"account": {"uid": arn.split(":")[4]}, "region": region},
    }
