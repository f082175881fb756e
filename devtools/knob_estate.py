"""Seed the knob estate on moto: one VPC per case of the opt-in knobs (issue 14), in us-east-1.

Every flow log is ACTIVE, delivering, records ALL traffic and writes to a destination that
exists, so with the knobs off every VPC passes; under ``STRICT`` (examples/strict_config.yaml:
365 days, KMS, 60 s, the CIS fields) each VPC gets the verdict ``KNOB_CASES`` names and
every FAIL says the words it lists. moto refuses an S3 destination with a folder (a moto
bug), so the prefixed flow log is created at the bucket root and its destination set in moto's
backend, which only works when moto runs in this process (``mock_aws`` or ``MotoServer``).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from devtools.estate import REGION_A, ClientFactory, Estate, Seeder, ec2_backend

STRICT_CONFIG = Path(__file__).resolve().parent.parent / "examples" / "strict_config.yaml"
STRICT = yaml.safe_load(STRICT_CONFIG.read_text())["aws"]
FOLDER = "team"  # the S3 folder of the prefixed flow log
CIS_FORMAT = "${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${action} ${vpc-id}"
NO_ACTION = "${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol}"

# One VPC per case: its verdict under STRICT and what its finding then says; every case passes
# with the knobs off.
_CASES = """
retention-30-days      FAIL  log group '/knob/30-days' keeps records 30 days; vpc_flow_logs_min_retention_days requires 365
retention-400-days     PASS  (required as well: records kept at least 365 days, KMS encryption
retention-unset        PASS  to CloudWatch Logs log group '/knob/never-expire'
log-group-without-kms  FAIL  log group '/knob/no-kms' is not encrypted with a KMS key; vpc_flow_logs_require_kms is true
s3-lifecycle-30-days   FAIL  S3 bucket 'knob-kms-30-days' keeps records under 'AWSLogs/123456789012/vpcflowlogs/us-east-1/' 30 days (lifecycle rule 'expire-30'); vpc_flow_logs_min_retention_days requires 365
s3-lifecycle-400-days  PASS  to S3 bucket 'knob-kms-400-days'
s3-sse-s3-only         FAIL  S3 bucket 'knob-sse-s3' is encrypted with AES256, not KMS; vpc_flow_logs_require_kms is true
s3-folder-other-rule   PASS  to S3 bucket 'knob-kms-folder'
interval-600           FAIL  MaxAggregationInterval is 600 s; vpc_flow_logs_max_aggregation_interval requires 60
format-without-action  FAIL  LogFormat lacks action (vpc_flow_logs_required_fields)
format-with-fields     PASS  capturing REJECT traffic as required
one-bad-one-good       PASS  Note: not counted:
firehose               PASS  counts although the record retention and KMS encryption of its Firehose delivery stream
"""
# case -> (verdict under STRICT, what its finding says under STRICT)
KNOB_CASES: dict[str, tuple[str, str]] = {
    name: (verdict, words)
    for name, verdict, words in (line.split(maxsplit=2) for line in _CASES.strip().splitlines())
}


def expected_knob_verdicts(estate: Estate, strict: bool) -> dict[str, str]:
    """VPC id -> verdict with the knobs off (every case passes) or under STRICT."""
    return {
        estate.vpcs[name]: (verdict if strict else "PASS")
        for name, (verdict, _) in KNOB_CASES.items()
    }


def _bucket(client: ClientFactory, name: str, kms_key: str | None, *rules: dict) -> str:
    s3 = client("s3", REGION_A)
    s3.create_bucket(Bucket=name)
    default = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms_key} if kms_key else {}
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": default or {"SSEAlgorithm": "AES256"}}]
        },
    )
    if rules:
        s3.put_bucket_lifecycle_configuration(
            Bucket=name, LifecycleConfiguration={"Rules": list(rules)}
        )
    return f"arn:aws:s3:::{name}"


def _expire(rule_id: str, days: int, prefix: str = "", status: str = "Enabled", **filters) -> dict:
    return {
        "ID": rule_id,
        "Status": status,
        "Filter": filters or {"Prefix": prefix},
        "Expiration": {"Days": days},
    }


def seed_knob_estate(client: ClientFactory, role_arn: str) -> Estate:
    """One VPC per case of KNOB_CASES in us-east-1 (the delivery role is ``role_arn``)."""
    estate = Estate()
    seeder = Seeder(client, estate)
    key = client("kms", REGION_A).create_key()["KeyMetadata"]["Arn"]
    logs = client("logs", REGION_A)
    for group, days, kms in (
        ("/knob/30-days", 30, key),
        ("/knob/400-days", 400, key),
        ("/knob/never-expire", None, key),
        ("/knob/no-kms", 400, None),
    ):
        logs.create_log_group(logGroupName=group, **({"kmsKeyId": kms} if kms else {}))
        if days:
            logs.put_retention_policy(logGroupName=group, retentionInDays=days)
    bucket_400 = _bucket(
        client,
        "knob-kms-400-days",
        key,
        _expire("expire-400", 400, "AWSLogs/"),
        _expire("tagged-1", 1, Tag={"Key": "kind", "Value": "scratch"}),
        _expire("disabled-1", 1, status="Disabled"),
    )
    bucket_30 = _bucket(client, "knob-kms-30-days", key, _expire("expire-30", 30))
    bucket_sse_s3 = _bucket(client, "knob-sse-s3", None)
    bucket_folder = _bucket(client, "knob-kms-folder", key, _expire("archive-30", 30, "AWSLogs/"))
    stream = client("firehose", REGION_A).create_delivery_stream(
        DeliveryStreamName="knob-stream",
        ExtendedS3DestinationConfiguration={"RoleARN": role_arn, "BucketARN": bucket_400},
    )["DeliveryStreamARN"]

    def case(name: str, cidr: int, *flow_logs: dict) -> None:
        seeder.vpc(name, f"10.{100 + cidr}.0.0/16")
        for destination in flow_logs:
            seeder.flow_log(name, "ALL", DeliverLogsPermissionArn=role_arn, **destination)

    def group(name: str, interval: int = 60, **kw) -> dict:
        return {"LogGroupName": name, "MaxAggregationInterval": interval, **kw}

    def to_s3(arn: str, **kw) -> dict:
        return {
            "LogDestinationType": "s3",
            "LogDestination": arn,
            "MaxAggregationInterval": 60,
            **kw,
        }

    case("retention-30-days", 1, group("/knob/30-days"))
    case("retention-400-days", 2, group("/knob/400-days"))
    case("retention-unset", 3, group("/knob/never-expire"))
    case("log-group-without-kms", 4, group("/knob/no-kms"))
    case("s3-lifecycle-30-days", 5, to_s3(bucket_30))
    case("s3-lifecycle-400-days", 6, to_s3(bucket_400))
    case("s3-sse-s3-only", 7, to_s3(bucket_sse_s3))
    case("s3-folder-other-rule", 8, to_s3(bucket_folder))
    folder_log = ec2_backend(REGION_A).flow_logs[estate.flow_logs["s3-folder-other-rule"][0]]
    folder_log.log_destination = f"{bucket_folder}/{FOLDER}/"  # moto refuses it at creation
    case("interval-600", 9, group("/knob/400-days", 600))
    case("format-without-action", 10, group("/knob/400-days", LogFormat=NO_ACTION))
    case("format-with-fields", 11, group("/knob/400-days", LogFormat=CIS_FORMAT))
    case("one-bad-one-good", 12, group("/knob/30-days", 600), group("/knob/never-expire"))
    case(
        "firehose",
        13,
        {
            "LogDestinationType": "kinesis-data-firehose",
            "LogDestination": stream,
            "MaxAggregationInterval": 60,
        },
    )
    return estate
