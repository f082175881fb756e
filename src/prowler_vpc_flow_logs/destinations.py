"""Flow-log destinations: parse them from DescribeFlowLogs and learn whether they still exist."""

from __future__ import annotations

from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError

from prowler_vpc_flow_logs.models import Destination, DestinationState, advice

# The IAM action behind each existence probe, named in findings when it fails.
PROBE_ACTIONS = {
    "cloud-watch-logs": "logs:DescribeLogGroups",
    "s3": "s3:ListBucket",
    "kinesis-data-firehose": "firehose:DescribeDeliveryStream",
}

_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "403", "Forbidden"}


def parse_destination(raw: dict, region: str, account: str) -> Destination | None:
    """The destination of one DescribeFlowLogs entry, or None when it names none."""
    kind = raw.get("LogDestinationType") or "cloud-watch-logs"
    arn = raw.get("LogDestination") or ""
    if kind == "cloud-watch-logs":
        name = raw.get("LogGroupName") or ""
        dest_region, dest_account = region, account
        if arn.startswith("arn:"):
            parts = arn.split(":")
            if len(parts) >= 7 and parts[5] == "log-group":
                dest_region, dest_account, name = parts[3], parts[4], parts[6]
        if not name:
            return None
        partition = arn.split(":")[1] if arn.startswith("arn:") else "aws"
        canonical = f"arn:{partition}:logs:{dest_region}:{dest_account}:log-group:{name}"
        return Destination(
            kind=kind, arn=canonical, name=name, region=dest_region, account=dest_account
        )
    if not arn.startswith("arn:"):
        return None
    parts = arn.split(":", 5)
    if kind == "s3" and len(parts) == 6:
        bucket = parts[5].split("/", 1)[0]
        return Destination(kind="s3", arn=f"arn:{parts[1]}:s3:::{bucket}", name=bucket)
    if kind == "kinesis-data-firehose" and len(parts) == 6:
        stream = parts[5].split("/", 1)[-1]
        return Destination(kind=kind, arn=arn, name=stream, region=parts[3], account=parts[4])
    return None


def _error_code(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", "ClientError"))
    return error.__class__.__name__


def _failed(destination: Destination, error: Exception) -> DestinationState:
    """A probe that failed: the destination's existence is unknown, never assumed."""
    code = _error_code(error)
    action = PROBE_ACTIONS[destination.kind]
    return DestinationState(status="error", detail=f"{action} failed ({code}); {advice(action, code)}")


# HeadBucket answers 403 both for a bucket of another account and for one the scanning role may
# not look at (in AWS even a deleted one can answer 403 without s3:ListBucket): it proves nothing.
S3_FORBIDDEN = (
    "s3:ListBucket failed (HeadBucket answered 403): the bucket may be in another account, "
    "or gone, or the scanning role is not allowed s3:ListBucket on it; allow s3:ListBucket on "
    "the bucket so that this check can confirm it exists"
)


def check_destination(
    destination: Destination, client_for: Callable[[str, str], object], audited_account: str
) -> DestinationState:
    """Probe one destination with one call; ``client_for(service, region)`` gives boto3 clients."""
    if destination.account and destination.account != audited_account:
        return DestinationState(
            status="unverifiable", detail=f"it belongs to account {destination.account}"
        )
    try:
        if destination.kind == "cloud-watch-logs":
            logs = client_for("logs", destination.region)
            pages = logs.get_paginator("describe_log_groups").paginate(
                logGroupNamePrefix=destination.name
            )
            for page in pages:
                if any(g["logGroupName"] == destination.name for g in page["logGroups"]):
                    return DestinationState(status="exists")
            return DestinationState(status="missing")
        if destination.kind == "s3":
            s3 = client_for("s3", destination.region or "us-east-1")
            try:
                s3.head_bucket(Bucket=destination.name)
            except ClientError as error:
                code = _error_code(error)
                if code in {"404", "NoSuchBucket", "NotFound"}:
                    return DestinationState(status="missing")
                if code in {"301", "PermanentRedirect"}:
                    return DestinationState(status="exists")
                if code in _DENIED:
                    return DestinationState(status="error", detail=S3_FORBIDDEN)
                raise
            return DestinationState(status="exists")
        firehose = client_for("firehose", destination.region)
        try:
            described = firehose.describe_delivery_stream(DeliveryStreamName=destination.name)
        except ClientError as error:
            if _error_code(error) == "ResourceNotFoundException":
                return DestinationState(status="missing")
            raise
        status = described["DeliveryStreamDescription"].get("DeliveryStreamStatus", "")
        if status.startswith("DELETING"):
            return DestinationState(status="missing", detail=f"stream is {status}")
        return DestinationState(status="exists")
    except (ClientError, BotoCoreError) as error:
        return _failed(destination, error)
