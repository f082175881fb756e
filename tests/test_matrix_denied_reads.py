"""Matrix, denied reads: moto enforcing IAM, the scanner denied each read action in turn.

A row per action of the check's IAM policy. The findings that depend on the denied read are
never PASS, never say "disabled" or "not enabled", and name the failed call and the IAM action;
every other finding keeps the verdict it has with the full policy. The shipped policy is enough.
The reads of the retention and KMS knobs get their rows on the knob estate, under the strict
config: a verdict that hangs on a denied read is "could not be audited", never PASS.
(The same promise through the real `prowler` command: tests/test_e2e_prowler.py.)
"""

from __future__ import annotations

import copy
import json
from importlib.resources import files

import boto3
import pytest
from moto.core.authorization import enable_iam_authentication

from devtools.estate import EXPECTED, REGION_A, REGION_B
from devtools.knob_estate import STRICT, expected_knob_verdicts, seed_knob_estate
from prowler_vpc_flow_logs.service import FlowLogs
from tests.support import aws_provider, client, create_role, for_moto, keyed_verdicts

POLICY = json.loads(files("prowler_vpc_flow_logs").joinpath("iam/check-policy.json").read_text())
ACTIONS = [a for s in POLICY["Statement"] for a in s["Action"]]
REPORTED = {name for name, (_, verdict, _) in EXPECTED.items() if verdict is not None}
NOT_SHARED = REPORTED - {"shared-from-other-account"}  # MANUAL: decided by the owner, not read

# action denied -> (estate cases whose finding hangs on that read, words those findings say)
ROWS: dict[str, tuple[set[str], str]] = {
    # no VPC can be listed: one finding per region instead (asserted below)
    "ec2:DescribeVpcs": (set(), "ec2:DescribeVpcs failed in"),
    "ec2:DescribeFlowLogs": (NOT_SHARED, "could not be audited: ec2:DescribeFlowLogs failed in"),
    # "in use" cannot be decided: the unused VPC is reported too, and says why
    "ec2:DescribeNetworkInterfaces": (
        {"unused-no-flow-logs"},
        "ec2:DescribeNetworkInterfaces failed in",
    ),
    # subnet-level logs cannot be placed; they never count, so only the note changes
    "ec2:DescribeSubnets": ({"subnet-level-only"}, "ec2:DescribeSubnets failed in"),
    "logs:DescribeLogGroups": (
        {"all-to-log-group", "log-group-deleted", "eu-reject-to-missing-group"},
        "logs:DescribeLogGroups failed (",
    ),
    # (a deleted bucket answers 404 whatever the caller may do: its FAIL stands; aws_boundary rule 4)
    "s3:ListBucket": (
        {"reject-to-bucket", "accept-plus-reject", "eu-all-to-bucket"},
        "s3:ListBucket failed",
    ),
    "firehose:DescribeDeliveryStream": (
        {"all-to-firehose"},
        "firehose:DescribeDeliveryStream failed",
    ),
    # read only when a knob needs them (rows below): with the knobs off, nothing changes
    "s3:GetEncryptionConfiguration": (set(), ""),
    "s3:GetLifecycleConfiguration": (set(), ""),
    # read only after a 403, to tell another account's bucket from ours: none on this estate
    "s3:ListAllMyBuckets": (set(), ""),
    # read only through vpc_flow_logs_destination_roles (tests/test_aws_boundary.py)
    "sts:AssumeRole": (set(), ""),
}

# Under the strict config, on the knob estate: action denied -> (cases whose verdict hangs on
# it: "could not be audited"; cases that fail anyway and say what could not be read)
S3_PASSING = {"s3-lifecycle-400-days", "s3-folder-other-rule"}
CWL_PASSING = {"retention-400-days", "retention-unset", "format-with-fields", "one-bad-one-good"}
KNOB_ROWS: dict[str, tuple[set[str], set[str]]] = {
    "s3:GetEncryptionConfiguration": (S3_PASSING | {"s3-sse-s3-only"}, {"s3-lifecycle-30-days"}),
    "s3:GetLifecycleConfiguration": (S3_PASSING | {"s3-lifecycle-30-days"}, {"s3-sse-s3-only"}),
    "logs:DescribeLogGroups": (
        CWL_PASSING | {"retention-30-days", "log-group-without-kms"},
        {"interval-600", "format-without-action"},
    ),
}


def denying(action: str) -> dict:
    """The shipped policy plus an explicit Deny of one action."""
    policy = copy.deepcopy(POLICY)
    policy["Statement"].append({"Effect": "Deny", "Action": [action], "Resource": "*"})
    return policy


def limited_provider(policy: dict, audit_config: dict | None = None):
    """A provider whose credentials belong to a user holding exactly ``policy``."""
    iam = boto3.client("iam", region_name=REGION_A)
    iam.create_user(UserName="scanner")
    iam.put_user_policy(UserName="scanner", PolicyName="check", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="scanner")["AccessKey"]
    provider = aws_provider({REGION_A, REGION_B}, audit_config=audit_config)
    provider.session.current_session = boto3.Session(
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"]
    )
    return provider


def scan_as(policy: dict, audit_config: dict | None = None) -> dict:
    """VPC id (or region, for a region-level finding) -> verdict, moto enforcing IAM."""
    provider = limited_provider(for_moto(policy), audit_config)
    with enable_iam_authentication():
        service = FlowLogs(provider)
    return keyed_verdicts(service)


def test_the_shipped_policy_is_enough(estate):
    result = scan_as(POLICY)
    assert {k: v.status for k, v in result.items()} == estate.expected("REJECT")
    assert [v.status_extended for v in result.values() if " failed " in v.status_extended] == []


def test_every_action_of_the_policy_has_a_row():
    assert sorted(ROWS) == sorted(ACTIONS)


@pytest.mark.parametrize("action", ACTIONS)
def test_denied_read(estate, action):
    affected, words = ROWS[action]
    result = scan_as(denying(action))
    for verdict in result.values():
        text = verdict.status_extended.lower()
        assert "disabled" not in text and "not enabled" not in text, verdict.status_extended
    if action == "ec2:DescribeVpcs":
        assert set(result) == {REGION_A, REGION_B}
        for region in (REGION_A, REGION_B):
            assert result[region].status == "FAIL" and result[region].unreadable
            assert (
                f"The VPCs in {region} could not be audited: {words} {region}"
                in result[region].status_extended
            )
            assert f"allowed {action}" in result[region].status_extended
        return
    expected = estate.expected("REJECT", scan_unused=action == "ec2:DescribeNetworkInterfaces")
    for name in REPORTED | affected:
        verdict = result[estate.vpcs[name]]
        if name in affected:
            assert verdict.status != "PASS", (name, verdict.status_extended)
            assert words in verdict.status_extended, (name, verdict.status_extended)
            assert f"allowed {action}" in verdict.status_extended, (name, verdict.status_extended)
        else:  # what could be read is reported exactly as with the full policy
            assert verdict.status == expected[estate.vpcs[name]], (name, verdict.status_extended)
    if action == "ec2:DescribeFlowLogs":
        assert all(result[estate.vpcs[n]].unreadable for n in affected)


@pytest.fixture
def knob_estate(aws):
    return seed_knob_estate(client, create_role())


def test_the_shipped_policy_is_enough_under_the_strict_config(knob_estate):
    result = scan_as(POLICY, STRICT)
    expected = expected_knob_verdicts(knob_estate, strict=True)
    assert {v: result[v].status for v in expected} == expected
    assert [v.status_extended for v in result.values() if " failed " in v.status_extended] == []


@pytest.mark.parametrize("action", sorted(KNOB_ROWS))
def test_denied_knob_read(knob_estate, action):
    not_audited, failing_anyway = KNOB_ROWS[action]
    result = scan_as(denying(action), STRICT)
    expected = expected_knob_verdicts(knob_estate, strict=True)
    for name, vpc_id in knob_estate.vpcs.items():
        verdict = result[vpc_id]
        text = verdict.status_extended
        if name in not_audited | failing_anyway:
            assert verdict.status == "FAIL", (name, text)
            assert verdict.unreadable == (name in not_audited), (name, text)
            assert f"{action} failed (" in text and f"allowed {action}" in text, (name, text)
        else:  # what could be read is reported exactly as with the full policy
            assert verdict.status == expected[vpc_id], (name, text)
            assert action not in text, (name, text)
