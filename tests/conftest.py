"""Shared fixtures: moto in-process (mock_aws) with dummy credentials, and the policy estate."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from unittest import mock

import boto3
import botocore.client
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from devtools.estate import Estate, seed_policy_estate

DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Every test: dummy credentials, no endpoint override, a private state folder."""
    for key in list(os.environ):
        if key.startswith("AWS_") and key not in DUMMY_ENV:
            monkeypatch.delenv(key, raising=False)
    for key, value in DUMMY_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("VPC_FLOW_LOGS_STATE_DIR", str(tmp_path / "state"))


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def client(service: str, region: str):
    return boto3.client(service, region_name=region)


@pytest.fixture
def estate(aws) -> Estate:
    return seed_policy_estate(client)


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


# moto quirk: it authorizes HeadBucket as "s3:HeadBucket", an action AWS does not have (AWS
# authorizes HeadBucket with s3:ListBucket). Tests under moto's IAM enforcement grant (or deny)
# the two together; the shipped policies hold only the real action.
MOTO_ALIASES = {"s3:ListBucket": "s3:HeadBucket"}


def for_moto(policy: dict) -> dict:
    """The policy with moto's alias added next to each real action it stands for."""
    policy = copy.deepcopy(policy)
    for statement in policy["Statement"]:
        listed = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        statement["Action"] = listed + [MOTO_ALIASES[a] for a in listed if a in MOTO_ALIASES]
    return policy


def keyed_verdicts(service) -> dict:
    """A scan's verdicts by VPC id, or by region for a region that could not be listed."""
    from prowler_vpc_flow_logs.findings import verdicts

    return {(vpc.id if vpc else region): verdict for region, vpc, verdict in verdicts(service)}
