"""A lean Prowler AWS service: VPCs, their flow logs and the flow logs' destinations.

Per audited region, in parallel: one paginated DescribeVpcs and DescribeFlowLogs, joined in
memory; DescribeNetworkInterfaces only when "in use" or ENI-level logs need it; DescribeSubnets
only when subnet-level logs exist. Then each distinct destination is probed once: the number of
calls never grows with the number of VPCs except through pages.
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError
from prowler.lib.logger import logger
from prowler.lib.scan_filters.scan_filters import is_resource_filtered
from prowler.providers.aws.lib.service.service import AWSService

from prowler_vpc_flow_logs import config
from prowler_vpc_flow_logs.clients import MAX_IDS, Clients
from prowler_vpc_flow_logs.destinations import check_destination, parse_flow_log
from prowler_vpc_flow_logs.facts import (
    Destination,
    DestinationState,
    FlowLog,
    Vpc,
    internal_error,
    read_error,
)
from prowler_vpc_flow_logs.scan import RegionData, Scan

PAGE_SIZE = MAX_IDS  # the largest page DescribeVpcs/FlowLogs/NetworkInterfaces/Subnets accept


class FlowLogs(AWSService):
    """Prowler's service for the check: reads every audited region into ``self.scan``."""

    def __init__(self, provider) -> None:
        super().__init__("ec2", provider)
        self.scan = Scan(
            account=self.audited_account,
            policy=config.policy(self.audit_config, self.audited_account),
            scan_unused_services=bool(getattr(provider, "scan_unused_services", False)),
        )
        for problem in config.problems(self.audit_config):
            logger.error(f"{problem}; using the strictest setting")
        self._clients = Clients(self.session)
        self.__threading_call__(self._collect_region)
        self._check_destinations()

    # -- per region ---------------------------------------------------------
    def _collect_region(self, regional_client) -> None:
        region = regional_client.region
        data = self.scan.regions[region] = RegionData()
        try:
            self._read_region(regional_client, data)
        except Exception as error:  # a defect must not cost the region its findings
            failure = internal_error(region, error)
            logger.error(f"{region} -- {failure.describe()}")
            if data.vpcs:
                data.flow_logs_error = failure  # every VPC of the region: could not be audited
            else:
                data.vpcs_error = failure  # one finding for the region

    def _read_region(self, regional_client, data: RegionData) -> None:
        region = regional_client.region
        try:
            self._describe_vpcs(regional_client, data)
        except (ClientError, BotoCoreError) as error:
            data.vpcs_error = read_error("ec2:DescribeVpcs", region, error)
            logger.error(f"{region} -- {data.vpcs_error.describe()}")
            return
        if not data.vpcs:
            return
        try:
            raw_logs = [
                fl
                for page in regional_client.get_paginator("describe_flow_logs").paginate(
                    PaginationConfig={"PageSize": PAGE_SIZE}
                )
                for fl in page["FlowLogs"]
            ]
        except (ClientError, BotoCoreError) as error:
            data.flow_logs_error = read_error("ec2:DescribeFlowLogs", region, error)
            logger.error(f"{region} -- {data.flow_logs_error.describe()}")
            raw_logs = []
        eni_vpc = self._eni_vpcs(regional_client, data, raw_logs)
        subnet_vpc = self._subnet_vpcs(regional_client, data, raw_logs)
        for raw in raw_logs:
            flow_log = self._flow_log(raw, region, eni_vpc, subnet_vpc)
            if flow_log.vpc_id in data.vpcs:
                data.flow_logs.setdefault(flow_log.vpc_id, []).append(flow_log)

    def _describe_vpcs(self, client, data: RegionData) -> None:
        region = client.region
        partition = self.audited_partition
        for page in client.get_paginator("describe_vpcs").paginate(
            PaginationConfig={"PageSize": PAGE_SIZE}
        ):
            for raw in page["Vpcs"]:
                owner = raw.get("OwnerId") or self.audited_account
                arn = f"arn:{partition}:ec2:{region}:{owner}:vpc/{raw['VpcId']}"
                if self.audit_resources and not is_resource_filtered(arn, self.audit_resources):
                    continue
                tags = raw.get("Tags") or []
                name = next((t["Value"] for t in tags if t.get("Key") == "Name"), "")
                data.vpcs[raw["VpcId"]] = Vpc(
                    id=raw["VpcId"], arn=arn, region=region, owner_id=owner, name=name, tags=tags,
                    cidr_block=raw.get("CidrBlock", ""), is_default=bool(raw.get("IsDefault")),
                )  # fmt: skip

    def _eni_vpcs(self, client, data: RegionData, raw_logs: list[dict]) -> dict[str, str]:
        """ENI id -> VPC id, listed only when "in use" or ENI-level logs need it."""
        needs_eni_logs = any(r.get("ResourceId", "").startswith("eni-") for r in raw_logs)
        if self.scan.scan_unused_services and not needs_eni_logs:
            return {}
        eni_vpc: dict[str, str] = {}
        try:
            for page in client.get_paginator("describe_network_interfaces").paginate(
                PaginationConfig={"PageSize": PAGE_SIZE}
            ):
                for eni in page["NetworkInterfaces"]:
                    eni_vpc[eni["NetworkInterfaceId"]] = eni.get("VpcId", "")
        except (ClientError, BotoCoreError) as error:
            data.in_use_error = read_error("ec2:DescribeNetworkInterfaces", client.region, error)
            logger.error(f"{client.region} -- {data.in_use_error.describe()}")
            return {}
        data.in_use = set(eni_vpc.values())
        return eni_vpc

    def _subnet_vpcs(self, client, data: RegionData, raw_logs: list[dict]) -> dict[str, str]:
        """Subnet id -> VPC id, listed only when subnet-level logs exist."""
        if not any(r.get("ResourceId", "").startswith("subnet-") for r in raw_logs):
            return {}
        try:
            return {
                subnet["SubnetId"]: subnet.get("VpcId", "")
                for page in client.get_paginator("describe_subnets").paginate(
                    PaginationConfig={"PageSize": PAGE_SIZE}
                )
                for subnet in page["Subnets"]
            }
        except (ClientError, BotoCoreError) as error:
            data.subnets_error = read_error("ec2:DescribeSubnets", client.region, error)
            logger.error(f"{client.region} -- {data.subnets_error.describe()}")
            return {}

    def _flow_log(
        self, raw: dict, region: str, eni_vpc: dict[str, str], subnet_vpc: dict[str, str]
    ) -> FlowLog:
        resource_id = raw.get("ResourceId", "")
        if resource_id.startswith("vpc-"):
            resource_type, vpc_id = "VPC", resource_id
        elif resource_id.startswith("subnet-"):
            resource_type, vpc_id = "Subnet", subnet_vpc.get(resource_id)
        elif resource_id.startswith("eni-"):
            resource_type, vpc_id = "NetworkInterface", eni_vpc.get(resource_id)
        else:
            resource_type, vpc_id = "Other", None
        return parse_flow_log(raw, region, self.audited_account, resource_type, vpc_id)

    # -- destinations ---------------------------------------------------------
    def _probe(self, destination: Destination) -> None:
        try:
            state = check_destination(
                destination, self._clients, self.audited_account, self.scan.policy.s3_reads(),
                self.scan.policy.destination_roles,
            )  # fmt: skip
        except Exception as error:  # a defect: the destination's existence stays unknown
            failure = internal_error(destination.region or "us-east-1", error)
            state = DestinationState(status="error", detail=failure.describe())
        self.scan.destinations[destination] = state

    def _check_destinations(self) -> None:
        distinct = {
            fl.destination
            for data in self.scan.regions.values()
            for logs in data.flow_logs.values()
            for fl in logs
            if fl.is_vpc_level and fl.destination is not None
        }
        if distinct:
            self.__threading_call__(self._probe, sorted(distinct, key=lambda d: d.arn))
