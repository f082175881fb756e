"""Seed an AWS Organization on moto: the management account and members, each with in-use VPCs
that fail the check and one that passes, in two regions, and a central flow-log bucket.

moto creates ``OrganizationAccountAccessRole`` in every member it creates, trusted by the
management account; credentials from AssumeRole act in the member account. Works with
``mock_aws`` (``endpoint_url=None``) and with a moto server (its URL).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import boto3

from devtools.aws_boundary import log_archive_policy
from devtools.estate import REGION_A, REGION_B

ROLE = "OrganizationAccountAccessRole"
BUCKET = "org-flow-logs"
REGIONS = (REGION_A, REGION_B)


@dataclass
class Org:
    management: str
    members: list[str]
    failing: dict[str, dict[str, list[str]]] = field(
        default_factory=dict
    )  # account -> region -> VPCs
    passing: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    bucket: str = BUCKET

    @property
    def accounts(self) -> list[str]:
        return sorted([self.management, *self.members])


def account_session(
    account: str, management: str, endpoint_url: str | None = None
) -> boto3.Session:
    """A session acting in ``account``: the management account's own, or the member's role."""
    base = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION_A
    )
    if account == management:
        return base
    sts = base.client("sts", endpoint_url=endpoint_url)
    role = f"arn:aws:iam::{account}:role/{ROLE}"
    credentials = sts.assume_role(RoleArn=role, RoleSessionName="org-estate")["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION_A,
    )


def create_organization(
    organizations, sts, members: int, name: str = "member"
) -> tuple[str, list[str]]:
    """A new organization of the caller's account and ``members`` new member accounts:
    (management account, member accounts)."""
    organizations.create_organization(FeatureSet="ALL")
    management = sts.get_caller_identity()["Account"]
    member_ids = [
        organizations.create_account(AccountName=f"{name}-{n}", Email=f"{name}-{n}@example.com")[
            "CreateAccountStatus"
        ]["AccountId"]
        for n in range(members)
    ]
    return management, member_ids


def flow_logs_of(org: Org, endpoint_url: str | None = None, **describe) -> dict[str, list[dict]]:
    """Account -> every flow log DescribeFlowLogs lists in both regions (``describe``: its filters)."""
    found: dict[str, list[dict]] = {}
    for account in org.accounts:
        session = account_session(account, org.management, endpoint_url)
        found[account] = [
            flow_log
            for region in REGIONS
            for flow_log in session.client(
                "ec2", region_name=region, endpoint_url=endpoint_url
            ).describe_flow_logs(**describe)["FlowLogs"]
        ]
    return found


def _vpc(ec2, number: int, name: str) -> str:
    cidr = f"10.{number}.0.0/16"
    tags = [{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": name}]}]
    vpc_id = ec2.create_vpc(CidrBlock=cidr, TagSpecifications=tags)["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr.replace("/16", "/24"))["Subnet"]
    ec2.create_network_interface(SubnetId=subnet["SubnetId"])  # in use: the check reports it
    return vpc_id


def seed_organization(members: int = 2, failing: int = 3, endpoint_url: str | None = None) -> Org:
    """An organization of the management account and ``members`` members; in each account and
    region ``failing`` VPCs without flow logs and one with a flow log to the central bucket."""
    management_session = account_session("", "", endpoint_url)
    management, member_ids = create_organization(
        management_session.client("organizations", endpoint_url=endpoint_url),
        management_session.client("sts", endpoint_url=endpoint_url),
        members,
    )
    org = Org(management=management, members=member_ids)
    s3 = management_session.client("s3", endpoint_url=endpoint_url)
    s3.create_bucket(Bucket=BUCKET)  # the log archive: members may deliver, not read
    s3.put_bucket_policy(Bucket=BUCKET, Policy=log_archive_policy(BUCKET))
    for account in org.accounts:
        session = account_session(account, management, endpoint_url)
        for region in REGIONS:
            ec2 = session.client("ec2", region_name=region, endpoint_url=endpoint_url)
            base = 100 if region == REGION_B else 0
            ids = [_vpc(ec2, base + n + 1, f"fail-{n}") for n in range(failing)]
            good = _vpc(ec2, base + 99, "pass")
            ec2.create_flow_logs(
                ResourceType="VPC", ResourceIds=[good], TrafficType="ALL",
                LogDestinationType="s3", LogDestination=f"arn:aws:s3:::{BUCKET}",
            )  # fmt: skip
            org.failing.setdefault(account, {})[region] = ids
            org.passing.setdefault(account, {})[region] = [good]
    return org
