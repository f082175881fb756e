"""Flow-log destinations: parse them from DescribeFlowLogs and learn whether they still exist.

``check_destination`` is the one probe: the check judges flow logs with it, and the fix reads
the destination it will write to with it, so S3's 403 means the same to both. A log group's
retention and KMS key come with its one DescribeLogGroups call; a bucket's default encryption
and lifecycle rules are read only when a knob needs them (``reads``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from botocore.exceptions import BotoCoreError, ClientError

from prowler_vpc_flow_logs.aws_errors import (
    DENIED_CODES,
    NOT_FOUND_CODES,
    advice,
    error_code,
    error_message,
)
from prowler_vpc_flow_logs.clients import ClientFor, assumed
from prowler_vpc_flow_logs.facts import Destination, DestinationState, FlowLog, LifecycleRule
from prowler_vpc_flow_logs.prowler_provider import parse_arn


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

# HeadBucket answers 403 both for a bucket of another account and for one of this account's own
# that the scanning role may not look at; ListBuckets tells the two apart (_forbidden).
S3_FORBIDDEN = (
    "s3:ListBucket failed (HeadBucket answered 403) on a bucket of this account: the scanning "
    "role is not allowed s3:ListBucket on it; allow it so that this check can confirm it exists"
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


def bucket_folder(arn: str) -> str:
    """The folder of ``arn:PARTITION:s3:::BUCKET/FOLDER/`` ("" when there is none)."""
    return arn_resource(arn).partition("/")[2].strip("/")


def s3_key_prefix(raw: dict, region: str, account: str) -> str | None:
    """Where an S3 flow log (a DescribeFlowLogs entry) writes its records in the bucket:
    ``[folder/]AWSLogs/<account>/vpcflowlogs/<region>/``, or the Hive-compatible layout."""
    if raw.get("LogDestinationType") != "s3":
        return None
    folder = bucket_folder(raw.get("LogDestination") or "")
    if (raw.get("DestinationOptions") or {}).get("HiveCompatiblePartitions"):
        tail = f"AWSLogs/aws-account-id={account}/aws-service=vpcflowlogs/aws-region={region}/"
    else:
        tail = f"AWSLogs/{account}/vpcflowlogs/{region}/"
    return f"{folder}/{tail}" if folder else tail


def parse_flow_log(
    raw: dict, region: str, account: str, resource_type: str = "VPC", vpc_id: str | None = None
) -> FlowLog:
    """One DescribeFlowLogs entry as plain data (``vpc_id``: the VPC it belongs to)."""
    return FlowLog(
        id=raw["FlowLogId"], resource_id=raw.get("ResourceId", ""), resource_type=resource_type,
        vpc_id=vpc_id, status=raw.get("FlowLogStatus") or "ACTIVE",
        deliver_status=raw.get("DeliverLogsStatus"),
        deliver_error=raw.get("DeliverLogsErrorMessage"),
        traffic_type=raw.get("TrafficType"), destination=parse_destination(raw, region, account),
        max_aggregation_interval=raw.get("MaxAggregationInterval"), log_format=raw.get("LogFormat"),
        s3_key_prefix=s3_key_prefix(raw, region, account),
    )  # fmt: skip


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
        for group in page["logGroups"]:
            if group["logGroupName"] == destination.name:
                return DestinationState(
                    status="exists",
                    retention_days=group.get("retentionInDays"),  # absent: never expire
                    kms_key_id=group.get("kmsKeyId"),
                )
    return DestinationState(status="missing")


def _encryption(s3, bucket: str, **proof: str) -> dict:
    try:
        found = s3.get_bucket_encryption(Bucket=bucket, **proof)
    except ClientError as error:
        if error_code(error) == "ServerSideEncryptionConfigurationNotFoundError":
            return {"encryption": ""}
        raise
    rules = found["ServerSideEncryptionConfiguration"].get("Rules", [])
    key = "ApplyServerSideEncryptionByDefault"
    default = next((rule[key] for rule in rules if key in rule), {})
    return {
        "encryption": default.get("SSEAlgorithm", ""),
        "kms_key_id": default.get("KMSMasterKeyID"),
    }


def _expiration_date(value) -> str | None:
    if isinstance(value, (datetime, date)):
        return value.strftime("%Y-%m-%d")
    return str(value)[:10] if value else None


def lifecycle_rule(raw: dict) -> LifecycleRule:
    """One rule of GetBucketLifecycleConfiguration as plain data (prefix in Filter.Prefix,
    Filter.And.Prefix or the legacy top-level Prefix; object-size bounds in Filter or Filter.And)."""
    rule_filter = raw.get("Filter")
    if rule_filter is None:
        prefix, tagged, both, rule_filter = raw.get("Prefix", ""), False, {}, {}
    else:
        both = rule_filter.get("And") or {}
        prefix = rule_filter.get("Prefix", both.get("Prefix", ""))
        tagged = "Tag" in rule_filter or bool(both.get("Tags"))
    expiration = raw.get("Expiration") or {}
    size = {**both, **rule_filter}  # ObjectSizeGreaterThan/LessThan, in Filter or in Filter.And
    return LifecycleRule(
        id=raw.get("ID", ""), enabled=raw.get("Status") == "Enabled", prefix=prefix or "",
        tag_filtered=tagged, expiration_days=expiration.get("Days"),
        expiration_date=_expiration_date(expiration.get("Date")),
        size_greater_than=size.get("ObjectSizeGreaterThan"),
        size_less_than=size.get("ObjectSizeLessThan"),
    )  # fmt: skip


def _lifecycle(s3, bucket: str, **proof: str) -> dict:
    try:
        rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket, **proof)["Rules"]
    except ClientError as error:
        if error_code(error) == "NoSuchLifecycleConfiguration":
            return {"lifecycle": []}  # nothing expires
        raise
    return {"lifecycle": [lifecycle_rule(rule) for rule in rules]}


# Each extra read of a bucket, by the fact it reads: the IAM action behind it, and the read.
_S3_READS: dict[str, tuple[str, Callable[..., dict]]] = {
    "encryption": ("s3:GetEncryptionConfiguration", _encryption),
    "lifecycle": ("s3:GetLifecycleConfiguration", _lifecycle),
}


def _forbidden(destination: Destination, client_for: ClientFor) -> DestinationState:
    """HeadBucket answered 403. A bucket that is not among this account's own (ListBuckets) is
    another account's, such as a log archive: "forbidden", judged by the flow log's delivery. One
    of this account's own that it may not read is a denied read, and so is not knowing which."""
    try:
        s3 = client_for("s3", destination.region or "us-east-1")
        pages = s3.get_paginator("list_buckets").paginate()
        own = {bucket["Name"] for page in pages for bucket in page.get("Buckets", [])}
    except (ClientError, BotoCoreError) as error:
        return DestinationState(
            status="error",
            detail=f"{S3_FORBIDDEN}; and s3:ListAllMyBuckets failed ({error_code(error)}), so "
            "whether the bucket is this account's is unknown",
        )
    if destination.name in own:
        return DestinationState(status="error", detail=S3_FORBIDDEN)
    return DestinationState(
        status="forbidden", detail="it is not this account's, and answers its reads with 403"
    )


def _bucket(
    destination: Destination,
    client_for: ClientFor,
    reads: frozenset[str] = frozenset(),
    owner: str | None = None,
) -> DestinationState:
    """HeadBucket, then the ``reads``; with ``owner``, S3 proves the bucket is that account's
    (ExpectedBucketOwner: 403 otherwise)."""
    s3 = client_for("s3", destination.region or "us-east-1")
    proof = {"ExpectedBucketOwner": owner} if owner else {}
    try:
        s3.head_bucket(Bucket=destination.name, **proof)
    except ClientError as error:
        code = error_code(error)
        if code in NOT_FOUND_CODES:
            return DestinationState(status="missing")
        if code in {"301", "PermanentRedirect"}:  # it exists, in another region
            return DestinationState(status="exists")
        if code in DENIED_CODES:
            return _forbidden(destination, client_for)
        raise
    state = DestinationState(status="exists")
    for fact in sorted(reads):
        action, read = _S3_READS[fact]
        try:
            for name, value in read(s3, destination.name, **proof).items():
                setattr(state, name, value)
        except (ClientError, BotoCoreError) as error:
            code = error_code(error)
            if code == "NoSuchBucket":
                return DestinationState(status="missing")
            state.unread[fact] = f"{action} failed ({code}); {advice(action, code)}"
    return state


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


_PROBES = {"cloud-watch-logs": _log_group, "kinesis-data-firehose": _stream}  # S3: _bucket


def check_destination(
    destination: Destination,
    client_for: ClientFor,
    audited_account: str,
    reads: frozenset[str] = frozenset(),
    roles: tuple[str, ...] = (),
) -> DestinationState:
    """Probe one destination with one call, plus a bucket's ``reads`` ("encryption",
    "lifecycle": ``Policy.s3_reads``); ``client_for(service, region)`` gives boto3 clients.
    A destination of another account is read through the role of that account among ``roles``
    (vpc_flow_logs_destination_roles), when there is one."""
    try:
        if destination.account and destination.account != audited_account:
            state = DestinationState(
                status="unverifiable", detail=f"it belongs to account {destination.account}"
            )
            mine = [r for r in roles if _account_of(r) == destination.account]
            return _through_roles(destination, client_for, reads, mine, state) if mine else state
        if destination.kind == "s3":
            state = _bucket(destination, client_for, reads)
            others = [r for r in roles if _account_of(r) != audited_account]
            if state.status == "forbidden" and others:
                return _through_roles(destination, client_for, reads, others, state)
            return state
        return _PROBES[destination.kind](destination, client_for)
    except (ClientError, BotoCoreError) as error:
        return _failed(destination, error)


def _account_of(role_arn: str) -> str:
    arn = parse_arn(role_arn)
    return arn.account_id if arn else ""


def _through_roles(
    destination: Destination,
    client_for: ClientFor,
    reads: frozenset[str],
    roles: list[str],
    unread: DestinationState,
) -> DestinationState:
    """Read the destination through each role until one of its account proves it owns it (S3:
    ExpectedBucketOwner); ``unread`` with the reasons when none does. Never raises."""
    region = destination.region or "us-east-1"
    why: list[str] = []
    for role in roles:
        try:
            through = assumed(client_for, role, region, "prowler-vpc-flow-logs")
        except (ClientError, BotoCoreError) as error:
            why.append(f"role {role} could not be assumed ({error_message(error)})")
            continue
        try:
            if destination.kind == "s3":
                state = _bucket(destination, through, reads, owner=_account_of(role))
            else:
                state = _PROBES[destination.kind](destination, through)
        except (ClientError, BotoCoreError) as error:
            state = _failed(destination, error)
        if state.status in ("exists", "missing"):
            return state.model_copy(update={"read_through": role})
        why.append(f"role {role} could not read it ({state.detail or state.status})")
    return unread.model_copy(update={"role_problem": "; ".join(why)})
