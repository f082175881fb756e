"""The knobs' facts on moto in-process (mock_aws): what the one destination probe reads, how the
service parses flow logs, and every verdict of the knob estate with the knobs off and on."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from devtools.estate import REGION_A
from devtools.knob_estate import (
    FOLDER,
    KNOB_CASES,
    STRICT,
    expected_knob_verdicts,
    seed_knob_estate,
)
from prowler_vpc_flow_logs import knobs
from prowler_vpc_flow_logs.clients import Clients
from prowler_vpc_flow_logs.destinations import (
    check_destination,
    lifecycle_rule,
    parse_destination,
    s3_key_prefix,
)
from prowler_vpc_flow_logs.facts import DestinationState, LifecycleRule
from prowler_vpc_flow_logs.service import FlowLogs
from tests.support import aws_provider, client, create_role, failing_call, keyed_verdicts

ACCOUNT = "123456789012"
BOTH = frozenset({"encryption", "lifecycle"})


def probe(arn: str, kind: str = "s3", reads: frozenset[str] = BOTH, **raw):
    raw = {"LogDestinationType": kind, "LogDestination": arn, **raw}
    destination = parse_destination(raw, REGION_A, ACCOUNT)
    return check_destination(destination, Clients(__import__("boto3").Session()), ACCOUNT, reads)


@pytest.fixture
def knob_estate(aws):
    return seed_knob_estate(client, create_role())


# -- parsing ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "destination,options,expected",
    [
        ("arn:aws:s3:::b", None, f"AWSLogs/{ACCOUNT}/vpcflowlogs/us-east-1/"),
        ("arn:aws:s3:::b/", None, f"AWSLogs/{ACCOUNT}/vpcflowlogs/us-east-1/"),
        ("arn:aws:s3:::b/team/logs/", None, f"team/logs/AWSLogs/{ACCOUNT}/vpcflowlogs/us-east-1/"),
        ("arn:aws:s3:::b/team", None, f"team/AWSLogs/{ACCOUNT}/vpcflowlogs/us-east-1/"),
        (
            "arn:aws:s3:::b/team",
            {"HiveCompatiblePartitions": True, "FileFormat": "parquet"},
            f"team/AWSLogs/aws-account-id={ACCOUNT}/aws-service=vpcflowlogs/aws-region=us-east-1/",
        ),
    ],
)
def test_s3_key_prefix(destination, options, expected):
    raw = {"LogDestinationType": "s3", "LogDestination": destination}
    if options:
        raw["DestinationOptions"] = options
    assert s3_key_prefix(raw, REGION_A, ACCOUNT) == expected
    assert s3_key_prefix({"LogGroupName": "g"}, REGION_A, ACCOUNT) is None


@pytest.mark.parametrize(
    "raw,expected",
    [
        (
            {"ID": "a", "Status": "Enabled", "Filter": {"Prefix": "AWSLogs/"}, "Expiration": {"Days": 365}},
            LifecycleRule(id="a", prefix="AWSLogs/", expiration_days=365),
        ),
        (
            {"Status": "Enabled", "Filter": {"And": {"Prefix": "x/", "Tags": [{"Key": "k", "Value": "v"}]}}, "Expiration": {"Days": 1}},
            LifecycleRule(prefix="x/", tag_filtered=True, expiration_days=1),
        ),
        (
            {"ID": "t", "Status": "Enabled", "Filter": {"Tag": {"Key": "k", "Value": "v"}}, "Expiration": {"Days": 1}},
            LifecycleRule(id="t", tag_filtered=True, expiration_days=1),
        ),
        (
            {"ID": "legacy", "Status": "Disabled", "Prefix": "old/", "Expiration": {"Days": 400}},
            LifecycleRule(id="legacy", enabled=False, prefix="old/", expiration_days=400),
        ),
        (
            {"ID": "d", "Status": "Enabled", "Filter": {}, "Expiration": {"Date": datetime(2030, 1, 1, tzinfo=timezone.utc)}},
            LifecycleRule(id="d", expiration_date="2030-01-01"),
        ),
        (
            {"ID": "nc", "Status": "Enabled", "Filter": {"Prefix": ""}, "NoncurrentVersionExpiration": {"NoncurrentDays": 30}},
            LifecycleRule(id="nc"),
        ),
    ],
)  # fmt: skip
def test_lifecycle_rule_shapes(raw, expected):
    assert lifecycle_rule(raw) == expected


MIB = 1024 * 1024
PREFIX = f"AWSLogs/{ACCOUNT}/vpcflowlogs/us-east-1/"


# moto drops size filters (it stores only Prefix/Tag/And), so the parser is tested on the shapes
# GetBucketLifecycleConfiguration returns on AWS; the largest flow-log file is 75 MB.
@pytest.mark.parametrize(
    "rule_filter,applies,said",
    [
        ({"ObjectSizeGreaterThan": 1024**3}, False, None),  # above any flow-log file
        ({"ObjectSizeGreaterThan": 75 * MIB}, False, None),
        ({"ObjectSizeGreaterThan": 75 * MIB - 1}, True, "objects larger than 78,643,199 bytes"),
        ({"ObjectSizeGreaterThan": 1024}, True, "objects larger than 1,024 bytes"),
        ({"ObjectSizeLessThan": 1024}, True, "objects smaller than 1,024 bytes"),
        ({"ObjectSizeLessThan": 18}, False, None),  # below any gzip file
        ({"And": {"Prefix": "AWSLogs/", "ObjectSizeGreaterThan": 2 * 1024**3}}, False, None),
        (
            {"And": {"Prefix": "AWSLogs/", "ObjectSizeGreaterThan": 100, "ObjectSizeLessThan": 5000}},
            True,
            "objects larger than 100 bytes and smaller than 5,000 bytes",
        ),
        ({"And": {"ObjectSizeGreaterThan": 5000, "ObjectSizeLessThan": 5001}}, False, None),
    ],
)  # fmt: skip
def test_a_size_filtered_rule_applies_only_where_flow_log_files_can_fall(
    rule_filter, applies, said
):
    raw = {"ID": "s", "Status": "Enabled", "Filter": rule_filter, "Expiration": {"Days": 7}}
    rule = lifecycle_rule(raw)
    assert knobs.applies(rule, PREFIX) is applies
    found = knobs.shortest_rule([rule], PREFIX)
    problem = knobs._bucket_retention(
        "b", DestinationState(status="exists", lifecycle=[rule]), PREFIX, 365
    )
    if not applies:
        assert found is None and problem is None
    else:
        assert problem == (
            f"S3 bucket 'b' keeps records under '{PREFIX}' 7 days (lifecycle rule 's', {said}); "
            "vpc_flow_logs_min_retention_days requires 365"
        )


def test_one_day_is_said_in_the_singular():
    rule = LifecycleRule(id="r", expiration_days=1)
    problem = knobs._bucket_retention(
        "b", DestinationState(status="exists", lifecycle=[rule]), PREFIX, 30
    )
    assert "keeps records under" in problem and " 1 day (lifecycle rule 'r')" in problem
    group = knobs._log_group_retention("g", DestinationState(status="exists", retention_days=1), 30)
    assert (
        group == "log group 'g' keeps records 1 day; vpc_flow_logs_min_retention_days requires 30"
    )


# -- the probe ------------------------------------------------------------------------------
def test_log_group_retention_and_key_come_with_its_one_describe(aws):
    logs = client("logs")
    logs.create_log_group(logGroupName="/g", kmsKeyId="arn:aws:kms:us-east-1:1:key/k")
    logs.put_retention_policy(logGroupName="/g", retentionInDays=30)
    logs.create_log_group(logGroupName="/g-plain")
    state = probe(None, "cloud-watch-logs", LogGroupName="/g")
    assert (state.status, state.retention_days, state.kms_key_id) == (
        "exists",
        30,
        "arn:aws:kms:us-east-1:1:key/k",
    )
    plain = probe(None, "cloud-watch-logs", LogGroupName="/g-plain")
    assert (plain.status, plain.retention_days, plain.kms_key_id) == ("exists", None, None)


def test_bucket_reads_only_what_is_asked(aws):
    s3 = client("s3")
    s3.create_bucket(Bucket="bucket-plain")
    s3.create_bucket(Bucket="bucket-kms")
    s3.put_bucket_encryption(
        Bucket="bucket-kms",
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": "k",
                    }
                }
            ]
        },
    )
    s3.put_bucket_lifecycle_configuration(
        Bucket="bucket-kms",
        LifecycleConfiguration={
            "Rules": [{"ID": "r", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 9}}]
        },
    )
    none = probe("arn:aws:s3:::bucket-kms", reads=frozenset())
    assert (none.encryption, none.lifecycle, none.unread) == (None, None, {})
    kms = probe("arn:aws:s3:::bucket-kms")
    assert (kms.encryption, kms.kms_key_id) == ("aws:kms", "k")
    assert kms.lifecycle == [LifecycleRule(id="r", expiration_days=9)]
    plain = probe("arn:aws:s3:::bucket-plain")  # no configuration: not encrypted, nothing expires
    assert (plain.status, plain.encryption, plain.lifecycle, plain.unread) == ("exists", "", [], {})
    assert probe("arn:aws:s3:::bucket-gone").status == "missing"


@pytest.mark.parametrize(
    "operation,fact,action",
    [
        ("GetBucketEncryption", "encryption", "s3:GetEncryptionConfiguration"),
        ("GetBucketLifecycleConfiguration", "lifecycle", "s3:GetLifecycleConfiguration"),
    ],
)
@pytest.mark.parametrize(
    "code,advice",
    [
        ("AccessDenied", "make sure the scanning role is allowed"),
        ("SlowDown", "AWS throttled it beyond botocore's retries; run the scan again"),
    ],
)
def test_a_failed_bucket_read_is_unread_never_assumed(aws, operation, fact, action, code, advice):
    client("s3").create_bucket(Bucket="bucket-b")
    with failing_call(operation, code=code):
        state = probe("arn:aws:s3:::bucket-b")
    assert state.status == "exists"
    assert getattr(state, fact) is None
    assert state.unread[fact].startswith(f"{action} failed ({code}); {advice}")
    assert set(state.unread) == {fact}


# -- the service on the knob estate ------------------------------------------------------------
def test_service_parses_interval_format_and_s3_path(knob_estate):
    service = FlowLogs(aws_provider({REGION_A}))
    logs = {
        fl.vpc_id: fl
        for data in service.scan.regions.values()
        for v in data.flow_logs.values()
        for fl in v
    }
    folder = logs[knob_estate.vpcs["s3-folder-other-rule"]]
    assert folder.s3_key_prefix == f"{FOLDER}/AWSLogs/{ACCOUNT}/vpcflowlogs/{REGION_A}/"
    assert folder.max_aggregation_interval == 60
    assert logs[knob_estate.vpcs["interval-600"]].max_aggregation_interval == 600
    assert "${action}" not in logs[knob_estate.vpcs["format-without-action"]].log_format
    assert logs[knob_estate.vpcs["retention-30-days"]].s3_key_prefix is None


@pytest.mark.parametrize("strict", [False, True], ids=["knobs-off", "strict"])
def test_every_knob_case_gets_its_verdict(knob_estate, strict):
    service = FlowLogs(aws_provider({REGION_A}, audit_config=STRICT if strict else {}))
    result = keyed_verdicts(service)
    expected = expected_knob_verdicts(knob_estate, strict)
    assert {v: result[v].status for v in expected} == expected
    for name, (_, words) in KNOB_CASES.items():
        text = result[knob_estate.vpcs[name]].status_extended
        if strict:
            assert words in text, (name, text)
        else:
            assert "required as well" not in text and "vpc_flow_logs_" not in text, text
    one = result[knob_estate.vpcs["one-bad-one-good"]].status_extended
    if strict:
        assert "keeps records 30 days" in one and "MaxAggregationInterval is 600 s" in one, one
