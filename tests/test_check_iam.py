"""The check's IAM policy is enough and every action in it is needed (moto enforcing IAM)."""

from __future__ import annotations

import copy
import json
from importlib.resources import files

import boto3
import pytest
from moto.core.authorization import enable_iam_authentication

from devtools.estate import REGION_A, REGION_B
from devtools.provider import aws_provider
from prowler_vpc_flow_logs.findings import verdicts
from prowler_vpc_flow_logs.service import FlowLogs

POLICY = json.loads(files("prowler_vpc_flow_logs").joinpath("iam/check-policy.json").read_text())
ACTIONS = [a for s in POLICY["Statement"] for a in s["Action"]]


def limited_provider(policy: dict):
    """A provider whose credentials belong to a user holding exactly ``policy``."""
    iam = boto3.client("iam", region_name=REGION_A)
    iam.create_user(UserName="scanner")
    iam.put_user_policy(UserName="scanner", PolicyName="check", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="scanner")["AccessKey"]
    provider = aws_provider({REGION_A, REGION_B})
    session = boto3.Session(
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"]
    )
    provider.session.current_session = session
    return provider


# moto quirk: it authorizes HeadBucket as "s3:HeadBucket", an action AWS does not have (AWS
# authorizes HeadBucket with s3:ListBucket). The tests grant it alongside s3:ListBucket and
# drop both together; the shipped policy has only the real action.
MOTO_ALIASES = {"s3:ListBucket": "s3:HeadBucket"}


def for_moto(policy: dict) -> dict:
    policy = copy.deepcopy(policy)
    for statement in policy["Statement"]:
        statement["Action"] += [MOTO_ALIASES[a] for a in statement["Action"] if a in MOTO_ALIASES]
    return policy


def scan_as(policy: dict) -> dict:
    provider = limited_provider(for_moto(policy))
    with enable_iam_authentication():
        service = FlowLogs(provider)
    return {(vpc.id if vpc else region): v for region, vpc, v in verdicts(service)}


def test_policy_is_enough(estate):
    result = scan_as(POLICY)
    assert {k: v.status for k, v in result.items()} == estate.expected("REJECT")
    texts = [v.status_extended for v in result.values()]
    assert [t for t in texts if " failed " in t or "denied" in t] == []


@pytest.mark.parametrize("action", ACTIONS)
def test_each_action_is_needed(estate, action):
    policy = copy.deepcopy(POLICY)
    for statement in policy["Statement"]:
        statement["Action"] = [a for a in statement["Action"] if a != action]
    result = scan_as(policy)
    texts = " ".join(v.status_extended for v in result.values())
    if action == "ec2:DescribeSubnets":
        # without it the subnet-level log cannot be joined to its VPC, so it is not mentioned
        assert "subnet- or ENI-level" not in texts
    else:
        assert action in texts
    assert "disabled" not in texts.lower()
