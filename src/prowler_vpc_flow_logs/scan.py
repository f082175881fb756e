"""What one scan read, as plain data: per region its VPCs, their flow logs and the reads that
failed; the destinations' states; the policy. service.py (Prowler's side) fills it; the
verdicts, the plan and the fix read it."""

from __future__ import annotations

from pydantic import BaseModel, Field

from prowler_vpc_flow_logs.facts import Destination, DestinationState, FlowLog, ReadError, Vpc
from prowler_vpc_flow_logs.policy import Policy


class RegionData(BaseModel):
    """What one region yielded."""

    vpcs: dict[str, Vpc] = Field(default_factory=dict)
    flow_logs: dict[str, list[FlowLog]] = Field(default_factory=dict)  # VPC id -> its flow logs
    in_use: set[str] | None = None  # VPCs with network interfaces; None: not read
    vpcs_error: ReadError | None = None
    flow_logs_error: ReadError | None = None
    in_use_error: ReadError | None = None
    subnets_error: ReadError | None = None  # subnet-level logs could not be placed


class Scan(BaseModel):
    """Every audited region of one account, and the destinations its VPC-level flow logs use."""

    account: str
    policy: Policy
    scan_unused_services: bool = False
    regions: dict[str, RegionData] = Field(default_factory=dict)
    destinations: dict[Destination, DestinationState] = Field(default_factory=dict)

    def in_scope(self, region: str, vpc: Vpc) -> bool:
        """Report this VPC? Unused VPCs are skipped unless --scan-unused-services."""
        in_use = self.regions[region].in_use
        return self.scan_unused_services or in_use is None or vpc.id in in_use
