"""Seed a large benchmark estate straight into moto's backends (seconds, not minutes).

Per region: N VPCs besides moto's default VPC; the even-numbered half carry one
healthy ALL flow log (alternately to one CloudWatch log group and one S3 bucket of
that region, so two distinct destinations per region); every ``in_use_every``-th VPC
gets a subnet with one network interface (in use). Only works when moto runs in
this process (``mock_aws`` or ``devtools.moto_server.MotoServer``).
"""

from __future__ import annotations

from dataclasses import dataclass

from moto.backends import get_backend
from moto.core import DEFAULT_ACCOUNT_ID

REGIONS = ("us-east-1", "eu-west-1")
ROLE_ARN = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/flow-logs-delivery"
LOG_GROUP = "/bench/vpc-flow-logs"


@dataclass(frozen=True)
class BenchEstate:
    """What was seeded, per region."""

    vpcs_per_region: int
    regions: tuple[str, ...]
    with_flow_log: int  # per region
    in_use: int  # per region
    destinations: int  # distinct flow-log destinations, all regions

    @property
    def total_vpcs(self) -> int:
        """Every VPC Prowler will see, moto's default VPCs included."""
        return (self.vpcs_per_region + 1) * len(self.regions)


def bucket_name(region: str) -> str:
    return f"bench-flow-logs-{region}"


def distinct_destinations(vpcs_per_region: int, regions: tuple[str, ...] = REGIONS) -> int:
    """Distinct flow-log destinations ``seed`` creates: VPC 0 logs to the log group, VPC 2 to the bucket."""
    return len(regions) * ((vpcs_per_region >= 1) + (vpcs_per_region >= 3))


def seed(
    vpcs_per_region: int, regions: tuple[str, ...] = REGIONS, in_use_every: int = 4
) -> BenchEstate:
    """Create the estate in moto's in-process backends (call after a reset)."""
    account = DEFAULT_ACCOUNT_ID
    s3 = get_backend("s3")[account]["aws"]
    with_flow_log = in_use = 0
    destinations = 0
    for region in regions:
        ec2 = get_backend("ec2")[account][region]
        get_backend("logs")[account][region].create_log_group(LOG_GROUP, tags={})
        s3.create_bucket(bucket_name(region), region)
        by_destination: dict[str, list[str]] = {"cloud-watch-logs": [], "s3": []}
        with_flow_log = in_use = 0
        for i in range(vpcs_per_region):
            cidr = f"10.{i // 256 % 256}.{i % 256}.0/24"
            vpc = ec2.create_vpc(cidr_block=cidr)
            if i % in_use_every == 0:
                subnet = ec2.create_subnet(vpc_id=vpc.id, cidr_block=cidr)
                ec2.create_network_interface(subnet, None)
                in_use += 1
            if i % 2 == 0:
                kind = "cloud-watch-logs" if i % 4 == 0 else "s3"
                by_destination[kind].append(vpc.id)
                with_flow_log += 1
        for kind, vpc_ids in by_destination.items():
            if not vpc_ids:
                continue
            destinations += 1
            logs, failed = ec2.create_flow_logs(
                resource_type="VPC",
                resource_ids=vpc_ids,
                traffic_type="ALL",
                deliver_logs_permission_arn=ROLE_ARN if kind == "cloud-watch-logs" else None,
                log_destination_type=kind,
                log_destination=f"arn:aws:s3:::{bucket_name(region)}" if kind == "s3" else None,
                log_group_name=LOG_GROUP if kind == "cloud-watch-logs" else None,
                log_format=None,
                max_aggregation_interval=None,
            )
            assert not failed and len(logs) == len(vpc_ids), failed
    assert destinations == distinct_destinations(vpcs_per_region, regions)
    return BenchEstate(
        vpcs_per_region=vpcs_per_region,
        regions=regions,
        with_flow_log=with_flow_log,
        in_use=in_use,
        destinations=destinations,
    )
