"""Plain data the policy works on: VPCs, flow logs, destinations, read errors and verdicts."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

TrafficType = Literal["ACCEPT", "REJECT", "ALL"]
Status = Literal["PASS", "FAIL", "MANUAL"]
DestinationKind = Literal["cloud-watch-logs", "s3", "kinesis-data-firehose"]
DestinationStatus = Literal["exists", "missing", "unverifiable", "error"]
Tag = dict[str, str]


# Error codes AWS uses for rate limiting (botocore's standard retry mode retries them).
THROTTLING_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled",
    "RequestThrottledException", "RequestLimitExceeded", "TooManyRequestsException",
    "SlowDown", "BandwidthLimitExceeded", "ProvisionedThroughputExceededException",
    "LimitExceededException", "EC2ThrottledException", "PriorRequestNotComplete",
    "503",  # S3 HEAD answers have no body: a SlowDown reaches botocore as its status only
})


def advice(action: str, code: str) -> str:
    """What to do about a failed read: wait for throttling, else grant the action."""
    if code in THROTTLING_CODES:
        return (
            "AWS throttled it beyond botocore's retries; run the scan again, or raise "
            "--aws-retries-max-attempts"
        )
    return f"make sure the scanning role is allowed {action}"


class ReadError(BaseModel):
    """An AWS read call that failed after botocore's retries, or (no ``action``) a failure of
    the check itself: either way what it should have read is unknown."""

    model_config = ConfigDict(frozen=True)

    action: str  # the IAM action behind the call, e.g. "ec2:DescribeFlowLogs"; "" for the check itself
    region: str
    code: str
    message: str = ""

    def describe(self) -> str:
        detail = f"{self.code}: {self.message}" if self.message else self.code
        if not self.action:
            return (
                f"the check itself failed in {self.region} ({detail}); this is a defect of "
                "prowler-vpc-flow-logs: please report it with this message"
            )
        return f"{self.action} failed in {self.region} ({detail}); {advice(self.action, self.code)}"


def internal_error(region: str, error: Exception) -> ReadError:
    """A ReadError for an unexpected exception inside the check (never a verdict of its own)."""
    return ReadError(action="", region=region, code=error.__class__.__name__, message=str(error))


class Destination(BaseModel):
    """Where a flow log writes; hashable so each distinct destination is checked once."""

    model_config = ConfigDict(frozen=True)

    kind: DestinationKind
    arn: str
    name: str  # log group name, bucket name or delivery stream name
    region: str = ""  # empty for S3 (bucket ARNs carry no region)
    account: str = ""  # empty when the ARN does not say (S3)

    def describe(self) -> str:
        if self.kind == "cloud-watch-logs":
            return f"CloudWatch Logs log group '{self.name}' in {self.region}"
        if self.kind == "s3":
            return f"S3 bucket '{self.name}'"
        return f"Firehose delivery stream '{self.name}' in {self.region}"


class DestinationState(BaseModel):
    """Whether a destination still exists, as far as this account can tell."""

    status: DestinationStatus
    detail: str = ""


class FlowLog(BaseModel):
    """One flow log as DescribeFlowLogs reports it, joined to the VPC it belongs to."""

    id: str
    resource_id: str
    resource_type: str  # VPC, Subnet, NetworkInterface, TransitGateway, ...
    vpc_id: str | None = None
    status: str = "ACTIVE"  # FlowLogStatus
    deliver_status: str | None = None  # DeliverLogsStatus
    deliver_error: str | None = None  # DeliverLogsErrorMessage
    traffic_type: str | None = None
    destination: Destination | None = None

    @property
    def is_vpc_level(self) -> bool:
        return self.resource_type == "VPC"


class Vpc(BaseModel):
    """A VPC as the check reports it (the finding's resource)."""

    id: str
    arn: str
    region: str
    owner_id: str
    name: str = ""
    tags: list[Tag] = Field(default_factory=list)
    cidr_block: str = ""
    is_default: bool = False

    @property
    def label(self) -> str:
        return f"VPC {self.name} ({self.id})" if self.name else f"VPC {self.id}"

    def dict(self, **kwargs):  # Prowler's Check_Report calls .dict() on the resource
        return self.model_dump(**kwargs)


class Policy(BaseModel):
    """What compliant means for this scan."""

    required_traffic_type: TrafficType = "REJECT"
    audited_account: str
    note: str = ""  # said in every finding, e.g. why the configured value was not used


class Verdict(BaseModel):
    """The policy's answer for one VPC (or for a region that could not be read)."""

    status: Status
    status_extended: str
    considered_flow_log_ids: list[str] = Field(default_factory=list)
    usable_flow_log_ids: list[str] = Field(default_factory=list)
    unreadable: bool = False  # a read failed: the VPC's flow logs are unknown
