"""What a scan learns, as plain data: VPCs, flow logs, destinations and the reads that failed."""

from __future__ import annotations

from typing import Literal, get_args

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from prowler_vpc_flow_logs.aws_errors import advice, error_code

FixableKind = Literal["cloud-watch-logs", "s3"]  # what the fix creates (no Firehose)
DestinationKind = Literal[FixableKind, "kinesis-data-firehose"]
FIXABLE_KINDS: tuple[str, ...] = get_args(FixableKind)
# "forbidden": a bucket of another account that answers this account's reads with 403 (it
# exists: S3 answers 404 for a bucket that does not); its flow logs are judged by their delivery.
DestinationStatus = Literal["exists", "missing", "unverifiable", "forbidden", "error"]
Tag = dict[str, str]


class ReadError(BaseModel):
    """An AWS read call that failed after botocore's retries, or (no ``action``) a failure of
    the check itself: either way what it should have read is unknown."""

    model_config = ConfigDict(frozen=True)

    action: str  # the IAM action behind the call ("ec2:DescribeFlowLogs"); "" for the check
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


def read_error(action: str, region: str, error: Exception) -> ReadError:
    """A ReadError from a botocore exception (AWS's own message, which may be empty)."""
    if isinstance(error, ClientError):
        message = str(error.response.get("Error", {}).get("Message", ""))
    else:
        message = str(error)
    return ReadError(action=action, region=region, code=error_code(error), message=message)


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


class LifecycleRule(BaseModel):
    """One S3 lifecycle rule, as far as expiring current objects goes."""

    model_config = ConfigDict(frozen=True)

    id: str = ""
    enabled: bool = True
    prefix: str = ""  # "" covers the whole bucket
    tag_filtered: bool = False  # flow-log objects carry no tags: such a rule never applies
    expiration_days: int | None = None
    expiration_date: str | None = None  # ISO date: every object expires on that day
    size_greater_than: int | None = None  # ObjectSizeGreaterThan, bytes: only larger objects
    size_less_than: int | None = None  # ObjectSizeLessThan, bytes: only smaller objects

    def describe(self) -> str:
        name = f"lifecycle rule '{self.id}'" if self.id else "a lifecycle rule without an ID"
        sizes = [
            f"larger than {self.size_greater_than:,} bytes" if self.size_greater_than else "",
            f"smaller than {self.size_less_than:,} bytes" if self.size_less_than else "",
        ]
        sized = " and ".join(s for s in sizes if s)
        return f"{name}, objects {sized}" if sized else name


class DestinationState(BaseModel):
    """Whether a destination still exists, as far as this account can tell, and what the probe
    learned about how it keeps records (for the retention and KMS knobs)."""

    status: DestinationStatus
    detail: str = ""
    retention_days: int | None = None  # log group's retentionInDays; None: records never expire
    kms_key_id: str | None = None  # log group's kmsKeyId, or the bucket's default KMS key
    encryption: str | None = None  # S3 default encryption (SSEAlgorithm, "" none); None: not read
    lifecycle: list[LifecycleRule] | None = None  # S3 lifecycle rules; None: not read
    unread: dict[str, str] = Field(default_factory=dict)  # "encryption"/"lifecycle" -> why not
    read_through: str = ""  # the role of the destination's account it was read through
    role_problem: str = ""  # why no role of vpc_flow_logs_destination_roles could read it


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
    max_aggregation_interval: int | None = None  # MaxAggregationInterval; None: AWS's 600
    log_format: str | None = None  # LogFormat; None: AWS's default format
    s3_key_prefix: str | None = None  # where an S3 flow log writes: [prefix/]AWSLogs/<acct>/...

    @property
    def is_vpc_level(self) -> bool:
        return self.resource_type == "VPC"


def s3_folder(key_prefix: str | None) -> str:
    """The folder of a bucket/folder destination, from the key prefix its records get ("")."""
    prefix = key_prefix or ""
    return prefix[: prefix.rfind("AWSLogs/")].strip("/") if "AWSLogs/" in prefix else ""


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
