"""Flow-log destinations: parse them from DescribeFlowLogs and learn whether they still exist.

``check_destination`` is the one probe: the check judges flow logs with it, and the fix reads
the destination it will write to with it, so S3's 403 means the same to both.
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from prowler_vpc_flow_logs.aws_errors import DENIED_CODES, NOT_FOUND_CODES, advice, error_code
from prowler_vpc_flow_logs.clients import ClientFor
from prowler_vpc_flow_logs.facts import Destination, DestinationState
from prowler_vpc_flow_logs.prowler_integration import parse_arn


def arn_resource(arn: str) -> str:
    """Everything after an ARN's fifth colon: "log-group:/vpc/flows:*", "bucket/prefix", ..."""
    parts = arn.split(":", 5)
    return parts[5] if len(parts) == 6 else ""


def bucket_name(arn: str) -> str:
    """The bucket of ``arn:PARTITION:s3:::BUCKET[/PREFIX]`` ("" when there is none)."""
    return arn_resource(arn).split("/", 1)[0]


# The IAM action behind each existence probe, named in findings when it fails.
PROBE_ACTIONS = {
    "cloud-watch-logs": "logs:DescribeLogGroups",
    "s3": "s3:ListBucket",
    "kinesis-data-firehose": "firehose:DescribeDeliveryStream",
}

# HeadBucket answers 403 both for a bucket of another account and for one the scanning role may
# not look at (in AWS even a deleted one can answer 403 without s3:ListBucket): it proves nothing.
S3_FORBIDDEN = (
    "s3:ListBucket failed (HeadBucket answered 403): the bucket may be in another account, "
    "or gone, or the scanning role is not allowed s3:ListBucket on it; allow s3:ListBucket on "
    "the bucket so that this check can confirm it exists"
)


def parse_destination(raw: dict, region: str, account: str) -> Destination | None:
    """The destination of one DescribeFlowLogs entry (or of CreateFlowLogs parameters), or
    None when it names none."""
    kind = raw.get("LogDestinationType") or "cloud-watch-logs"
    arn = parse_arn(raw.get("LogDestination") or "")
    if kind == "cloud-watch-logs":
        name, partition = raw.get("LogGroupName") or "", "aws"
        if arn is not None and arn.resource_type == "log-group":
            name = arn_resource(arn.arn).removeprefix("log-group:").removesuffix(":*")
            region, account, partition = arn.region or region, arn.account_id, arn.partition
        if not name:
            return None
        canonical = f"arn:{partition}:logs:{region}:{account}:log-group:{name}"
        return Destination(kind=kind, arn=canonical, name=name, region=region, account=account)
    if arn is None:
        return None
    if kind == "s3":
        bucket = bucket_name(arn.arn)
        return Destination(kind="s3", arn=f"arn:{arn.partition}:s3:::{bucket}", name=bucket)
    if kind == "kinesis-data-firehose":
        stream = arn_resource(arn.arn).split("/", 1)[-1]
        return Destination(
            kind=kind, arn=arn.arn, name=stream, region=arn.region or "", account=arn.account_id
        )
    return None


def _failed(destination: Destination, error: Exception) -> DestinationState:
    """A probe that failed: the destination's existence is unknown, never assumed."""
    code = error_code(error)
    action = PROBE_ACTIONS[destination.kind]
    return DestinationState(
        status="error", detail=f"{action} failed ({code}); {advice(action, code)}"
    )


def _log_group(destination: Destination, client_for: ClientFor) -> DestinationState:
    logs = client_for("logs", destination.region)
    pages = logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=destination.name)
    for page in pages:
        if any(group["logGroupName"] == destination.name for group in page["logGroups"]):
            return DestinationState(status="exists")
    return DestinationState(status="missing")


def _bucket(destination: Destination, client_for: ClientFor) -> DestinationState:
    s3 = client_for("s3", destination.region or "us-east-1")
    try:
        s3.head_bucket(Bucket=destination.name)
    except ClientError as error:
        code = error_code(error)
        if code in NOT_FOUND_CODES:
            return DestinationState(status="missing")
        if code in {"301", "PermanentRedirect"}:  # it exists, in another region
            return DestinationState(status="exists")
        if code in DENIED_CODES:
            return DestinationState(status="error", detail=S3_FORBIDDEN)
        raise
    return DestinationState(status="exists")


def _stream(destination: Destination, client_for: ClientFor) -> DestinationState:
    firehose = client_for("firehose", destination.region)
    try:
        described = firehose.describe_delivery_stream(DeliveryStreamName=destination.name)
    except ClientError as error:
        if error_code(error) in NOT_FOUND_CODES:
            return DestinationState(status="missing")
        raise
    status = described["DeliveryStreamDescription"].get("DeliveryStreamStatus", "")
    if status.startswith("DELETING"):
        return DestinationState(status="missing", detail=f"stream is {status}")
    return DestinationState(status="exists")


_PROBES = {"cloud-watch-logs": _log_group, "s3": _bucket, "kinesis-data-firehose": _stream}


def check_destination(
    destination: Destination, client_for: ClientFor, audited_account: str
) -> DestinationState:
    """Probe one destination with one call; ``client_for(service, region)`` gives boto3 clients."""
    if destination.account and destination.account != audited_account:
        return DestinationState(
            status="unverifiable", detail=f"it belongs to account {destination.account}"
        )
    try:
        return _PROBES[destination.kind](destination, client_for)
    except (ClientError, BotoCoreError) as error:
        return _failed(destination, error)
