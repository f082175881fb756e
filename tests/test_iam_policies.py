"""The shipped IAM policies, proven with moto's IAM enforcement (in-process).

A user holding exactly fix-policy.json can fix and cannot back out; a user holding
exactly backout-policy.json can back out and cannot fix. Every action the run
performs is in the policy, and every action in the policy is either performed
(seen by moto's authorizer) or listed below with the reason moto cannot see it.
moto evaluates actions (with ``Resource: "*"``) and ignores conditions it does not
support, so the conditions that narrow the real policies (tag-on-create only,
PassRole only to flow logs, delete only tagged flow logs) are asserted statically.
"""

from __future__ import annotations

import json
from importlib.resources import files

import pytest
from moto.core.authorization import enable_iam_authentication

from devtools.estate import REGION_A, REGION_B
from devtools.knob_estate import STRICT, seed_knob_estate
from prowler_vpc_flow_logs.cli import main
from tests.support import CWL, MOTO_ALIASES, client, create_role, flow_log_ids, for_moto, statuses
from tests.test_matrix_denied_reads import POLICY as CHECK_POLICY
from tests.test_matrix_denied_reads import scan_as

POLICIES = files("prowler_vpc_flow_logs") / "iam"
# Needed on AWS, not authorized by moto 5.2.5 (or not reached on this estate), and why.
NOT_SEEN_BY_MOTO = {
    "iam:PassRole": "implicit in CreateFlowLogs with DeliverLogsPermissionArn on AWS",
    "ec2:CreateTags": "implicit in CreateFlowLogs with TagSpecifications on AWS",
    "logs:TagResource": "implicit in CreateLogGroup with tags on AWS",
    "logs:CreateLogDelivery": "implicit in CreateFlowLogs to S3 on AWS",
    "logs:DeleteLogDelivery": "implicit in DeleteFlowLogs of an S3 flow log on AWS",
    "s3:ListBucket": "HeadBucket's permission on AWS (moto names it s3:HeadBucket); S3 destinations only",
    "firehose:DescribeDeliveryStream": "probes existing Firehose destinations; none on this estate",
    "ec2:DescribeSubnets": "read only when subnet-level flow logs exist; none on this estate",
    "ec2:DescribeRegions": "read by Prowler's AwsProvider only when no region is given",
    "s3:GetEncryptionConfiguration": "read only under vpc_flow_logs_require_kms (moto names it s3:ListBucket)",
    "s3:GetLifecycleConfiguration": "read only under vpc_flow_logs_min_retention_days, for an S3 destination",
    "s3:ListAllMyBuckets": "read only after a bucket answers 403 (another account's?); none on this estate",
    "sts:AssumeRole": "read only through vpc_flow_logs_destination_roles; proven in test_aws_boundary.py",
}


# Read by the check only across accounts (a log archive), and why: proven under IAM enforcement
# in tests/test_aws_boundary.py::test_the_check_policy_reads_the_log_archive_through_its_role.
ACROSS_ACCOUNTS = {
    "s3:ListAllMyBuckets": "after a 403, tells another account's bucket from this account's own",
    "sts:AssumeRole": "reads another account's destination through vpc_flow_logs_destination_roles",
}


def policy(name: str) -> dict:
    return json.loads((POLICIES / name).read_text())


def actions(document: dict, scoped: bool = False) -> set[str]:
    """The document's actions; every statement allows them on every resource unless ``scoped``."""
    found: set[str] = set()
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow" and (scoped or statement["Resource"] == "*")
        value = statement["Action"]
        found |= {value} if isinstance(value, str) else set(value)
    assert not any("*" in a for a in found), "no wildcard actions"
    return found


def conditions(document: dict) -> dict[str, dict]:
    found: dict[str, list[dict]] = {}
    for statement in document["Statement"]:
        listed = statement["Action"]
        for action in [listed] if isinstance(listed, str) else listed:
            found.setdefault(action, []).append(statement.get("Condition", {}))
    return {a: c[0] if len(c) == 1 else c for a, c in found.items()}


def test_policies_are_packaged_and_narrowed_by_conditions():
    fix, back = policy("fix-policy.json"), policy("backout-policy.json")
    assert not any(a.startswith(("ec2:Delete", "logs:Delete")) for a in actions(fix))
    assert actions(back) == {
        "sts:GetCallerIdentity", "ec2:DescribeFlowLogs", "ec2:DeleteFlowLogs", "logs:DeleteLogDelivery",
        "logs:DescribeLogGroups", "logs:ListTagsForResource", "logs:DeleteLogGroup",
    }  # fmt: skip
    # tags on create; after a refused batch, only the run tag and only on an untagged flow log
    assert conditions(fix)["ec2:CreateTags"] == [
        {"StringEquals": {"ec2:CreateAction": "CreateFlowLogs"}},
        {
            "ForAllValues:StringEquals": {"aws:TagKeys": ["prowler-vpc-flow-logs:run-id"]},
            "Null": {"aws:ResourceTag/prowler-vpc-flow-logs:run-id": "true"},
        },
    ]
    assert conditions(back)["logs:DeleteLogGroup"] == {
        "Null": {"aws:ResourceTag/prowler-vpc-flow-logs:run-id": "false"}
    }
    assert conditions(fix)["iam:PassRole"] == {
        "StringEquals": {"iam:PassedToService": "vpc-flow-logs.amazonaws.com"}
    }
    assert conditions(back)["ec2:DeleteFlowLogs"] == {
        "Null": {"aws:ResourceTag/prowler-vpc-flow-logs:run-id": "false"}
    }


def _user(name: str, document: dict) -> dict[str, str]:
    iam = client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName=name, PolicyDocument=json.dumps(document))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
    }


def _as(monkeypatch, keys: dict[str, str]) -> None:
    for name in ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in keys.items():
        monkeypatch.setenv(name, value)


def test_fix_policy_fixes_backout_policy_backs_out_and_neither_does_the_other(
    estate, seen, monkeypatch, capsys
):
    create_role()
    fix_doc, back_doc = policy("fix-policy.json"), policy("backout-policy.json")
    fixer, backer = _user("fixer", for_moto(fix_doc)), _user("backer", back_doc)
    before = flow_log_ids()
    regions = ["--region", REGION_A, "--region", REGION_B]
    with enable_iam_authentication():
        _as(monkeypatch, backer)  # the backout user cannot even plan a fix
        assert main(["fix", *regions, *CWL, "--yes"]) != 0
        assert "not authorized to perform: ec2:DescribeVpcs" in capsys.readouterr().out
        _as(monkeypatch, fixer)
        failing = {v for v, s in statuses().items() if s == "FAIL"}
        assert len(failing) >= 7
        seen.clear()
        assert main(["fix", *regions, *CWL, "--yes", "--output", "json"]) == 0
        run = json.loads(capsys.readouterr().out)
        fix_seen = set(seen)
        assert {c["vpc_id"] for c in run["created"]} == failing
        assert "FAIL" not in statuses().values()
        assert main(["backout", run["run_id"], "--yes"]) == 1  # the fix user may not delete
        assert "DeleteFlowLogs failed" in capsys.readouterr().out
        _as(monkeypatch, backer)
        seen.clear()
        assert main(["backout", run["run_id"], "--yes", "--delete-log-groups"]) == 0
        assert capsys.readouterr().out.count("deleted log group ") == 2
        back_seen = set(seen)
    assert flow_log_ids() == before
    assert fix_seen - {"s3:HeadBucket"} <= actions(fix_doc) and back_seen <= actions(back_doc)
    assert actions(fix_doc) - fix_seen <= set(NOT_SEEN_BY_MOTO), actions(fix_doc) - fix_seen
    assert actions(back_doc) - back_seen <= set(NOT_SEEN_BY_MOTO), actions(back_doc) - back_seen
    assert {
        "ec2:CreateFlowLogs",
        "logs:CreateLogGroup",
        "logs:PutRetentionPolicy",
        "iam:GetRole",
    } <= fix_seen
    assert {"ec2:DeleteFlowLogs", "ec2:DescribeFlowLogs"} <= back_seen


@pytest.mark.parametrize(
    "dropped", ["ec2:CreateFlowLogs", "logs:CreateLogGroup", "ec2:DescribeVpcs"]
)
def test_fix_policy_without_a_needed_action_fails_without_a_flow_log(
    dropped, estate, monkeypatch, capsys
):
    create_role()
    document = policy("fix-policy.json")
    for statement in document["Statement"]:
        value = statement["Action"]
        statement["Action"] = [
            a for a in ([value] if isinstance(value, str) else value) if a != dropped
        ] or ["sts:GetCallerIdentity"]
    keys = _user("partial", document)
    before = flow_log_ids()
    with enable_iam_authentication():
        _as(monkeypatch, keys)
        assert main(["fix", "--region", REGION_A, "--region", REGION_B, *CWL, "--yes"]) != 0
    assert flow_log_ids() == before


def test_organization_policies_fix_and_back_out_members_through_their_role(
    aws, seen, monkeypatch, capsys
):
    """The caller holds organization-caller-policy.json; each member's role holds fix-policy.json
    and backout-policy.json and trusts the caller's account (member-role-trust.json)."""
    from devtools.org_estate import account_session, flow_logs_of, seed_organization

    org = seed_organization(members=2, failing=2)
    caller_doc = policy("organization-caller-policy.json")
    trust = json.loads(
        (POLICIES / "member-role-trust.json")
        .read_text()
        .replace("MANAGEMENT_ACCOUNT_ID", org.management)
        .replace("EXTERNAL_ID", "ext-123")
    )
    assert trust["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{org.management}:root"}
    role_name = caller_doc["Statement"][2]["Resource"].rsplit("/", 1)[1]
    for member in org.members:
        iam = account_session(member, org.management).client("iam")
        iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))
        for name in ("fix-policy.json", "backout-policy.json"):
            iam.put_role_policy(
                RoleName=role_name,
                PolicyName=name,
                PolicyDocument=json.dumps(for_moto(policy(name))),
            )

    def flow_logs() -> dict[str, set[str]]:
        return {a: {fl["FlowLogId"] for fl in found} for a, found in flow_logs_of(org).items()}

    before = flow_logs()
    caller = _user("org-caller", caller_doc)
    listless = _user(
        "listless",
        {**caller_doc, "Statement": [caller_doc["Statement"][0], caller_doc["Statement"][2]]},
    )
    members = [arg for member in org.members for arg in ("--account-id", member)]
    reach = ["--role-name", role_name, "--external-id", "ext-123"]
    s3 = ["--log-destination-type", "s3", "--log-destination", f"arn:aws:s3:::{org.bucket}"]
    with enable_iam_authentication():
        _as(monkeypatch, caller)
        seen.clear()
        argv = [
            "fix",
            *members,
            *reach,
            "--region",
            REGION_A,
            "--region",
            REGION_B,
            *s3,
            "--yes",
            "--output",
            "json",
        ]
        assert main(argv) == 0, capsys.readouterr().err
        run = json.loads(capsys.readouterr().out)
        assert {c["account"] for c in run["created"]} == set(org.members) and len(
            run["created"]
        ) == 8
        assert main(["backout", run["run_id"], "--yes"]) == 0  # the role (and external id) recorded
        assert "8 deleted" in capsys.readouterr().out
        granted = (
            actions(caller_doc, scoped=True)
            | actions(for_moto(policy("fix-policy.json")))
            | actions(policy("backout-policy.json"))
        )
        assert (
            {"sts:AssumeRole", "ec2:CreateFlowLogs", "ec2:DeleteFlowLogs"} <= set(seen) <= granted
        ), set(seen) - granted
        # without organizations:ListAccounts the caller cannot list the organization
        _as(monkeypatch, listless)
        assert main(["fix", "--organization", *reach, "--region", REGION_A, *s3, "--dry-run"]) == 1
        assert "cannot list the organization's accounts" in capsys.readouterr().err
    assert flow_logs() == before


def test_check_policy_is_exactly_what_a_strict_scan_reads(estate, seen):
    """Both estates under the strict config: every read of the check is in check-policy.json,
    and every action of check-policy.json is read (moto's names mapped back to AWS's)."""
    seed_knob_estate(client, create_role())
    result = scan_as(CHECK_POLICY, STRICT)
    assert not [v for v in result.values() if " failed " in v.status_extended]
    real = {alias: action for action, alias in MOTO_ALIASES.items()}
    across = set(
        ACROSS_ACCOUNTS
    )  # proven in test_aws_boundary.py, where another account's bucket is
    assert {real.get(action, action) for action in seen} == actions(CHECK_POLICY) - across
