"""The account boundary as AWS draws it (devtools/aws_boundary.py), and the check across it.

Each rule is asserted through the boundary and, where moto by itself answers otherwise, that
difference is named (moto 5.2.5 serves another account's bucket as if it were the caller's own).
Every test of the suite runs through the boundary (tests/conftest.py); these leave it for a
moment only to show what moto alone would answer.
"""

from __future__ import annotations

import json
from pathlib import Path
from unittest import mock

import boto3
import botocore.client
import pytest
from botocore.exceptions import ClientError
from moto.s3.responses import S3Response

from devtools.aws_boundary import MOTO_ALONE, boundary, log_archive_policy
from prowler_vpc_flow_logs.clients import Clients
from prowler_vpc_flow_logs.destinations import check_destination, parse_destination
from prowler_vpc_flow_logs.service import FlowLogs
from tests.support import aws_provider, keyed_verdicts

ARCHIVE_ACCOUNT = "123456789012"  # moto's default account owns the log archive
MEMBER = "210987654321"
ARCHIVE = "org-log-archive"
REGION = "us-east-1"


def member_session() -> boto3.Session:
    """Credentials acting in the member account (moto's AssumeRole acts in the role's account)."""
    credentials = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{MEMBER}:role/scanner", RoleSessionName="member-scan"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )


@pytest.fixture
def archive(aws) -> boto3.Session:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=ARCHIVE)
    s3.put_bucket_policy(Bucket=ARCHIVE, Policy=log_archive_policy(ARCHIVE))
    s3.put_bucket_encryption(
        Bucket=ARCHIVE,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
        },
    )
    return member_session()


def status_of(call) -> int:
    try:
        call()
    except ClientError as error:
        return int(error.response["ResponseMetadata"]["HTTPStatusCode"])
    return 200


def test_another_accounts_bucket_answers_403_to_reads_404_when_gone(archive):
    member_s3 = archive.client("s3")
    reads = {
        "HeadBucket": lambda: member_s3.head_bucket(Bucket=ARCHIVE),
        "GetBucketEncryption": lambda: member_s3.get_bucket_encryption(Bucket=ARCHIVE),
        "GetBucketLifecycleConfiguration": lambda: member_s3.get_bucket_lifecycle_configuration(
            Bucket=ARCHIVE
        ),
    }
    assert {name: status_of(read) for name, read in reads.items()} == dict.fromkeys(reads, 403)
    assert status_of(lambda: member_s3.head_bucket(Bucket="no-such-archive")) == 404
    owner = boto3.client("s3", region_name=REGION)
    assert status_of(lambda: owner.head_bucket(Bucket=ARCHIVE)) == 200
    assert status_of(lambda: owner.head_bucket(Bucket=ARCHIVE, ExpectedBucketOwner=MEMBER)) == 403
    # what moto answers by itself: the member reads the archive as if it were its own
    with mock.patch.object(S3Response, "head_bucket", MOTO_ALONE["head_bucket"]):
        assert status_of(reads["HeadBucket"]) == 200


def test_a_bucket_policy_that_grants_the_reads_opens_them(archive):
    policy = json.loads(log_archive_policy(ARCHIVE, readers=[MEMBER]))
    boto3.client("s3", region_name=REGION).put_bucket_policy(
        Bucket=ARCHIVE, Policy=json.dumps(policy)
    )
    member_s3 = archive.client("s3")
    assert status_of(lambda: member_s3.head_bucket(Bucket=ARCHIVE)) == 200
    assert member_s3.get_bucket_encryption(Bucket=ARCHIVE)["ServerSideEncryptionConfiguration"]


def test_create_flow_logs_to_a_bucket_that_refuses_delivery_is_unsuccessful_per_vpc(archive):
    boto3.client("s3", region_name=REGION).delete_bucket_policy(Bucket=ARCHIVE)
    ec2 = archive.client("ec2")
    vpcs = [ec2.create_vpc(CidrBlock=f"10.{n}.0.0/16")["Vpc"]["VpcId"] for n in (1, 2)]
    answer = ec2.create_flow_logs(
        ResourceType="VPC", ResourceIds=vpcs, TrafficType="ALL",
        LogDestinationType="s3", LogDestination=f"arn:aws:s3:::{ARCHIVE}",
    )  # fmt: skip
    assert answer["FlowLogIds"] == []
    assert [(u["ResourceId"], u["Error"]["Code"]) for u in answer["Unsuccessful"]] == [
        (vpc, "400") for vpc in vpcs
    ]
    assert (
        "Access Denied for LogDestination: org-log-archive"
        in (answer["Unsuccessful"][0]["Error"]["Message"])
    )
    assert ec2.describe_flow_logs()["FlowLogs"] == []


def test_another_accounts_log_group_cannot_be_read_by_its_arn(archive):
    boto3.client("logs", region_name=REGION).create_log_group(logGroupName="/org/flows")
    arn = f"arn:aws:logs:{REGION}:{ARCHIVE_ACCOUNT}:log-group:/org/flows"
    member_logs = archive.client("logs")
    with pytest.raises(ClientError) as denied:
        member_logs.describe_log_groups(logGroupIdentifiers=[arn])
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"


def test_the_probe_tells_a_log_archive_from_a_denied_read_of_our_own(archive):
    raw = {"LogDestinationType": "s3", "LogDestination": f"arn:aws:s3:::{ARCHIVE}"}
    destination = parse_destination(raw, REGION, MEMBER)
    state = check_destination(destination, Clients(archive), MEMBER, frozenset({"encryption"}))
    assert state.status == "forbidden" and "not this account's" in state.detail
    assert state.encryption is None  # not read: the knob says it cannot be judged


def test_a_member_scan_passes_vpcs_that_deliver_to_the_log_archive(archive, monkeypatch):
    """Item 5 of issue 20: the fix's own flow logs to the log archive pass the member's scan."""
    ec2 = archive.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.0.0/24")["Subnet"]["SubnetId"]
    ec2.create_network_interface(SubnetId=subnet)
    made = ec2.create_flow_logs(
        ResourceType="VPC", ResourceIds=[vpc], TrafficType="ALL",
        LogDestinationType="s3", LogDestination=f"arn:aws:s3:::{ARCHIVE}",
    )  # fmt: skip
    assert made["FlowLogIds"] and not made["Unsuccessful"]
    credentials = archive.get_credentials().get_frozen_credentials()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials.secret_key)
    monkeypatch.setenv("AWS_SESSION_TOKEN", credentials.token)
    verdict = keyed_verdicts(FlowLogs(aws_provider({REGION})))[vpc]
    assert verdict.status == "PASS", verdict.status_extended
    assert (
        f"writes to S3 bucket '{ARCHIVE}', which this account may not read (403); delivery is "
        "healthy (DeliverLogsStatus SUCCESS)"
    ) in verdict.status_extended
    with boundary():  # nested use (the moto server enters it too) changes nothing
        assert keyed_verdicts(FlowLogs(aws_provider({REGION})))[vpc].status == "PASS"


# -- vpc_flow_logs_destination_roles (issue 20, item 3) -----------------------------------------
READER = f"arn:aws:iam::{ARCHIVE_ACCOUNT}:role/log-archive-reader"


def member_scan(archive: boto3.Session, monkeypatch, audit_config: dict) -> dict:
    """The member's scan (its credentials), under ``audit_config``: VPC id -> verdict."""
    credentials = archive.get_credentials().get_frozen_credentials()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials.secret_key)
    monkeypatch.setenv("AWS_SESSION_TOKEN", credentials.token)
    return keyed_verdicts(FlowLogs(aws_provider({REGION}, audit_config=audit_config)))


def vpc_to_archive(archive: boto3.Session, n: int) -> str:
    ec2 = archive.client("ec2")
    vpc = ec2.create_vpc(CidrBlock=f"10.{n}.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{n}.0.0/24")["Subnet"]["SubnetId"]
    ec2.create_network_interface(SubnetId=subnet)
    ec2.create_flow_logs(
        ResourceType="VPC", ResourceIds=[vpc], TrafficType="ALL", MaxAggregationInterval=60,
        LogDestinationType="s3", LogDestination=f"arn:aws:s3:::{ARCHIVE}",
    )  # fmt: skip
    return vpc


def test_knobs_are_judged_for_real_through_the_archives_role(archive, monkeypatch):
    boto3.client("iam").create_role(RoleName="log-archive-reader", AssumeRolePolicyDocument="{}")
    vpc = vpc_to_archive(archive, 11)
    strict = {"vpc_flow_logs_require_kms": True, "vpc_flow_logs_destination_roles": [READER]}
    verdict = member_scan(archive, monkeypatch, strict)[vpc]
    assert verdict.status == "PASS", verdict.status_extended
    assert f"S3 bucket '{ARCHIVE}' was read through {READER}" in verdict.status_extended
    assert "cannot be judged" not in verdict.status_extended
    boto3.client("s3", region_name=REGION).put_bucket_lifecycle_configuration(
        Bucket=ARCHIVE,
        LifecycleConfiguration={
            "Rules": [{"ID": "30d", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 30}}]
        },
    )
    retention = {
        "vpc_flow_logs_min_retention_days": 365,
        "vpc_flow_logs_destination_roles": [READER],
    }
    verdict = member_scan(archive, monkeypatch, retention)[vpc]
    assert verdict.status == "FAIL" and "(lifecycle rule '30d')" in verdict.status_extended
    without = member_scan(archive, monkeypatch, {"vpc_flow_logs_min_retention_days": 365})[vpc]
    assert without.status == "PASS" and "cannot be judged by this check" in without.status_extended


def test_a_role_that_is_not_the_owners_or_cannot_be_assumed_is_said(archive, monkeypatch):
    """The bucket's owner is proven with ExpectedBucketOwner; a role that cannot be assumed is
    said, and the scan goes on. moto never reads trust policies, so the refusal AWS gives a
    caller the trust policy does not name is made here (STS API Reference, AssumeRole)."""
    vpc = vpc_to_archive(archive, 12)
    elsewhere = "arn:aws:iam::333333333333:role/reader"  # a role, but not of the bucket's owner
    untrusted = f"arn:aws:iam::{ARCHIVE_ACCOUNT}:role/untrusted"
    original = botocore.client.BaseClient._make_api_call

    def call(self, name, params):
        if name == "AssumeRole" and params["RoleArn"] == untrusted:
            error = {"Code": "AccessDenied", "Message": "not authorized to perform: sts:AssumeRole"}
            raise ClientError({"Error": error}, name)
        return original(self, name, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", call)
    roles = {
        "vpc_flow_logs_require_kms": True,
        "vpc_flow_logs_destination_roles": [elsewhere, untrusted],
    }
    verdict = member_scan(archive, monkeypatch, roles)[vpc]
    text = verdict.status_extended
    print(text)
    assert verdict.status == "PASS", text  # delivery healthy; the knob said unjudgeable
    assert (
        "was not read through a role: role arn:aws:iam::333333333333:role/reader could not read it"
        in text
    )
    assert (
        f"role {untrusted} could not be assumed (not authorized to perform: sts:AssumeRole)" in text
    )
    assert "cannot be judged by this check" in text


def test_the_check_policy_reads_the_log_archive_through_its_role(aws, seen, monkeypatch):
    """A scanner holding exactly check-policy.json reads another account's log archive through
    a role there holding exactly destination-read-policy.json, and uses every cross-account
    action of its policy (moto enforcing IAM). Here the scanned account is moto's default one
    (moto validates IAM users' keys there) and the archive is the other account's."""
    from moto.core.authorization import enable_iam_authentication

    from prowler_vpc_flow_logs.iam import __file__ as iam_folder
    from tests.support import for_moto

    folder = Path(iam_folder).parent
    check = for_moto(json.loads((folder / "check-policy.json").read_text()))
    read = for_moto(json.loads((folder / "destination-read-policy.json").read_text()))
    owner = member_session()  # here: the log-archive account
    owner.client("s3").create_bucket(Bucket=ARCHIVE)
    owner.client("s3").put_bucket_policy(Bucket=ARCHIVE, Policy=log_archive_policy(ARCHIVE))
    owner.client("iam").create_role(RoleName="log-archive-reader", AssumeRolePolicyDocument="{}")
    owner.client("iam").put_role_policy(
        RoleName="log-archive-reader", PolicyName="read", PolicyDocument=json.dumps(read)
    )
    reader = f"arn:aws:iam::{MEMBER}:role/log-archive-reader"
    vpc = vpc_to_archive(boto3.Session(region_name=REGION), 14)
    iam = boto3.client("iam")
    iam.create_user(UserName="scanner")
    iam.put_user_policy(UserName="scanner", PolicyName="check", PolicyDocument=json.dumps(check))
    key = iam.create_access_key(UserName="scanner")["AccessKey"]
    strict = {"vpc_flow_logs_require_kms": True, "vpc_flow_logs_destination_roles": [reader]}
    provider = aws_provider({REGION}, audit_config=strict)
    provider.session.current_session = boto3.Session(
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"]
    )
    seen.clear()
    with enable_iam_authentication():
        verdict = keyed_verdicts(FlowLogs(provider))[vpc]
    # judged for real through the role (without it: "cannot be judged by this check")
    assert verdict.status == "FAIL", verdict.status_extended
    assert (
        "S3 bucket 'org-log-archive' has no default encryption, not KMS" in verdict.status_extended
    )
    assert {"sts:AssumeRole", "s3:ListAllMyBuckets"} <= seen, seen
