"""Seed estates on moto: one VPC per case the precision policy names, across two regions.

Each VPC carries its case as its Name tag; ``EXPECTED`` says the verdict under the
default policy (REJECT) and under ALL. Where moto cannot produce a state through
its API (a flow log that is not ACTIVE, a VPC owned by another account, a
cross-account log group that delivers), the seeder sets it in moto's backend,
which only works when moto runs in this process (``mock_aws`` or ``MotoServer``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from moto.backends import get_backend
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ec2.models.vpcs import VPC

REGION_A = "us-east-1"
REGION_B = "eu-west-1"
OTHER_ACCOUNT = "111122223333"
ROLE_ARN = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/flow-logs-delivery"


def trust_policy(service: str = "vpc-flow-logs.amazonaws.com") -> dict:
    """A role trust policy that lets ``service`` assume the role (the delivery role's, by default)."""
    statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    return {"Version": "2012-10-17", "Statement": [statement]}


# One VPC per case: its region, its verdict under REJECT (the default) and under ALL; "-" = not
# reported unless --scan-unused-services (a VPC without network interfaces).
_CASES = """
all-to-log-group            us-east-1  PASS    PASS
reject-to-bucket            us-east-1  PASS    FAIL
accept-only                 us-east-1  FAIL    FAIL
accept-plus-reject          us-east-1  PASS    PASS
delivery-failed             us-east-1  FAIL    FAIL
not-active                  us-east-1  FAIL    FAIL
log-group-deleted           us-east-1  FAIL    FAIL
bucket-deleted              us-east-1  FAIL    FAIL
no-flow-logs                us-east-1  FAIL    FAIL
subnet-level-only           us-east-1  FAIL    FAIL
all-to-firehose             us-east-1  PASS    PASS
cross-account-log-group     us-east-1  PASS    PASS
shared-from-other-account   us-east-1  MANUAL  MANUAL
unused-no-flow-logs         us-east-1  -       -
eu-all-to-bucket            eu-west-1  PASS    PASS
eu-reject-to-missing-group  eu-west-1  FAIL    FAIL
"""
# case name -> (region, verdict under REJECT, verdict under ALL); None: not reported
EXPECTED: dict[str, tuple[str, str | None, str | None]] = {
    name: (region, None if reject == "-" else reject, None if all_ == "-" else all_)
    for name, region, reject, all_ in (line.split() for line in _CASES.strip().splitlines())
}

# What the text of each verdict must say (checked by tests and shown by the demo).
# fmt: off
EXPECTED_WORDS: dict[str, str] = {
    "accept-only": "records only ACCEPT traffic",
    "delivery-failed": "delivery FAILED",
    "not-active": "is not ACTIVE",
    "log-group-deleted": "which does not exist",
    "bucket-deleted": "which does not exist",
    "no-flow-logs": "has no VPC-level flow log",
    "subnet-level-only": "subnet- or ENI-level flow logs",
    "cross-account-log-group": "cannot be checked from this account",
    "shared-from-other-account": f"audit account {OTHER_ACCOUNT}",
}
# fmt: on

ClientFactory = Callable[[str, str], object]


class _SharedVpc(VPC):
    """A moto VPC that reports another owner, as a VPC shared through AWS RAM does."""

    @property
    def owner_id(self) -> str:
        return OTHER_ACCOUNT


@dataclass
class Estate:
    vpcs: dict[str, str] = field(default_factory=dict)  # case name -> VPC id
    flow_logs: dict[str, list[str]] = field(default_factory=dict)  # case name -> flow log ids

    def expected(self, policy: str, scan_unused: bool = False) -> dict[str, str]:
        """VPC id -> verdict for the given policy (REJECT or ALL)."""
        column = 1 if policy == "REJECT" else 2
        result = {}
        for name, vpc_id in self.vpcs.items():
            verdict = EXPECTED[name][column]
            if verdict is None and scan_unused:
                verdict = "FAIL"
            if verdict is not None:
                result[vpc_id] = verdict
        return result


def ec2_backend(region: str):
    return get_backend("ec2")[DEFAULT_ACCOUNT_ID][region]


class Seeder:
    """Creates named VPCs and their flow logs, recording both in ``estate``."""

    def __init__(self, client: ClientFactory, estate: Estate) -> None:
        self.client, self.estate = client, estate

    def vpc(self, name: str, cidr: str, region: str = REGION_A, in_use: bool = True) -> str:
        ec2 = self.client("ec2", region)
        vpc_id = ec2.create_vpc(
            CidrBlock=cidr,
            TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": name}]}],
        )["Vpc"]["VpcId"]
        if in_use:
            subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr.replace("/16", "/24"))
            ec2.create_network_interface(SubnetId=subnet["Subnet"]["SubnetId"])
        self.estate.vpcs[name] = vpc_id
        self.estate.flow_logs[name] = []
        return vpc_id

    def flow_log(self, name: str, traffic: str, region: str = REGION_A, **destination) -> str:
        if (
            "LogGroupName" in destination
            or destination.get("LogDestinationType", "cloud-watch-logs") == "cloud-watch-logs"
        ):
            destination.setdefault("DeliverLogsPermissionArn", ROLE_ARN)
        response = self.client("ec2", region).create_flow_logs(
            ResourceType="VPC",
            ResourceIds=[self.estate.vpcs[name]],
            TrafficType=traffic,
            **destination,
        )
        assert not response["Unsuccessful"], response["Unsuccessful"]
        self.estate.flow_logs[name].extend(response["FlowLogIds"])
        return response["FlowLogIds"][0]


def seed_policy_estate(client: ClientFactory) -> Estate:
    """Create one VPC per policy case (see EXPECTED) in two regions."""
    estate = Estate()
    seeder = Seeder(client, estate)
    vpc, flow_log = seeder.vpc, seeder.flow_log
    for region in (REGION_A, REGION_B):
        s3 = client("s3", region)
        bucket = f"flow-logs-{region}"
        kwargs = (
            {}
            if region == "us-east-1"
            else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        )
        s3.create_bucket(Bucket=bucket, **kwargs)
        client("logs", region).create_log_group(logGroupName="/vpc/flow-logs")

    bucket_a = f"arn:aws:s3:::flow-logs-{REGION_A}"
    vpc("all-to-log-group", "10.1.0.0/16")
    flow_log("all-to-log-group", "ALL", LogGroupName="/vpc/flow-logs")

    vpc("reject-to-bucket", "10.2.0.0/16")
    flow_log("reject-to-bucket", "REJECT", LogDestinationType="s3", LogDestination=bucket_a)

    vpc("accept-only", "10.3.0.0/16")
    flow_log("accept-only", "ACCEPT", LogGroupName="/vpc/flow-logs")

    vpc("accept-plus-reject", "10.4.0.0/16")
    flow_log("accept-plus-reject", "ACCEPT", LogGroupName="/vpc/flow-logs")
    flow_log("accept-plus-reject", "REJECT", LogDestinationType="s3", LogDestination=bucket_a)

    vpc("delivery-failed", "10.5.0.0/16")  # moto reports FAILED for a log group that does not exist
    flow_log("delivery-failed", "ALL", LogGroupName="/vpc/never-created")

    vpc("not-active", "10.6.0.0/16")
    inactive = flow_log("not-active", "ALL", LogGroupName="/vpc/flow-logs")
    ec2_backend(REGION_A).flow_logs[inactive].flow_log_status = "INACTIVE"  # moto: always ACTIVE

    logs_a = client("logs", REGION_A)
    logs_a.create_log_group(logGroupName="/vpc/deleted-later")
    vpc("log-group-deleted", "10.7.0.0/16")
    flow_log("log-group-deleted", "ALL", LogGroupName="/vpc/deleted-later")
    logs_a.delete_log_group(
        logGroupName="/vpc/deleted-later"
    )  # moto keeps DeliverLogsStatus SUCCESS

    s3_a = client("s3", REGION_A)
    s3_a.create_bucket(Bucket="flow-logs-deleted-later")
    vpc("bucket-deleted", "10.8.0.0/16")
    flow_log(
        "bucket-deleted",
        "REJECT",
        LogDestinationType="s3",
        LogDestination="arn:aws:s3:::flow-logs-deleted-later",
    )
    s3_a.delete_bucket(Bucket="flow-logs-deleted-later")

    vpc("no-flow-logs", "10.9.0.0/16")

    subnet_vpc = vpc("subnet-level-only", "10.10.0.0/16")
    ec2_a = client("ec2", REGION_A)
    subnet_id = ec2_a.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [subnet_vpc]}])[
        "Subnets"
    ][0]["SubnetId"]
    response = ec2_a.create_flow_logs(
        ResourceType="Subnet",
        ResourceIds=[subnet_id],
        TrafficType="ALL",
        LogGroupName="/vpc/flow-logs",
        DeliverLogsPermissionArn=ROLE_ARN,
    )
    estate.flow_logs["subnet-level-only"].extend(response["FlowLogIds"])

    firehose = client("firehose", REGION_A)
    stream_arn = firehose.create_delivery_stream(
        DeliveryStreamName="flow-logs-stream",
        ExtendedS3DestinationConfiguration={"RoleARN": ROLE_ARN, "BucketARN": bucket_a},
    )["DeliveryStreamARN"]
    vpc("all-to-firehose", "10.11.0.0/16")
    flow_log(
        "all-to-firehose",
        "ALL",
        LogDestinationType="kinesis-data-firehose",
        LogDestination=stream_arn,
        DeliverLogsPermissionArn=ROLE_ARN,
    )

    vpc("cross-account-log-group", "10.12.0.0/16")
    cross = flow_log(
        "cross-account-log-group",
        "ALL",
        LogDestinationType="cloud-watch-logs",
        LogDestination=f"arn:aws:logs:{REGION_A}:999999999999:log-group:central-flow-logs",
    )
    backend_log = ec2_backend(REGION_A).flow_logs[cross]
    backend_log.deliver_logs_status, backend_log.deliver_logs_error_message = "SUCCESS", None

    shared = vpc("shared-from-other-account", "10.13.0.0/16")
    ec2_backend(REGION_A).vpcs[shared].__class__ = _SharedVpc  # moto has no RAM-shared VPCs

    vpc("unused-no-flow-logs", "10.14.0.0/16", in_use=False)

    vpc("eu-all-to-bucket", "10.21.0.0/16", REGION_B)
    flow_log(
        "eu-all-to-bucket",
        "ALL",
        REGION_B,
        LogDestinationType="s3",
        LogDestination=f"arn:aws:s3:::flow-logs-{REGION_B}",
    )
    vpc("eu-reject-to-missing-group", "10.22.0.0/16", REGION_B)
    flow_log("eu-reject-to-missing-group", "REJECT", REGION_B, LogGroupName="/vpc/not-there")
    return estate


def default_vpcs(client: ClientFactory) -> dict[str, str]:
    """Region -> id of moto's default VPC (unused: no network interfaces)."""
    return {
        region: client("ec2", region).describe_vpcs(
            Filters=[{"Name": "is-default", "Values": ["true"]}]
        )["Vpcs"][0]["VpcId"]
        for region in (REGION_A, REGION_B)
    }
