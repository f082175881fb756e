"""`fix --config-file` under the knobs, on moto in-process: the defaults come from the config,
a created log group passes the strict scan, and a destination or flag that would fail the
config is refused before any write (exit 2)."""

from __future__ import annotations

import pytest

from devtools.estate import REGION_A
from devtools.knob_estate import (
    KNOB_CASES,
    NO_ACTION,
    STRICT,
    STRICT_CONFIG,
    seed_knob_estate,
)
from prowler_vpc_flow_logs.config import policy as config_policy
from prowler_vpc_flow_logs.errors import UserError
from prowler_vpc_flow_logs.knobs import NEVER_EXPIRE
from prowler_vpc_flow_logs.record_format import DEFAULT_FIELDS
from prowler_vpc_flow_logs.remediation.ledger import list_runs
from prowler_vpc_flow_logs.remediation.models import FixSettings
from prowler_vpc_flow_logs.remediation.validate import settings_for
from tests.support import client, create_role, fix_json, snapshot, statuses

DEFAULT_FORMAT = " ".join(f"${{{name}}}" for name in DEFAULT_FIELDS)
KEY = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000"


@pytest.fixture
def knob_world(aws):
    role = create_role()
    key = client("kms").create_key()["KeyMetadata"]["Arn"]
    return seed_knob_estate(client, role), role, key


def group_flags(role: str, name: str = "/vpc/strict", *extra: str) -> list[str]:
    return [
        "--region", REGION_A, "--config-file", str(STRICT_CONFIG),
        "--log-destination-type", "cloud-watch-logs", "--log-group-name", name,
        "--deliver-logs-permission-arn", role, *extra,
    ]  # fmt: skip


def bucket_flags(bucket: str, *extra: str) -> list[str]:
    return [
        "--region", REGION_A, "--config-file", str(STRICT_CONFIG),
        "--log-destination-type", "s3", "--log-destination", f"arn:aws:s3:::{bucket}", *extra,
    ]  # fmt: skip


def strict_failing(estate) -> set[str]:
    return {estate.vpcs[name] for name, (verdict, _) in KNOB_CASES.items() if verdict == "FAIL"}


def test_created_log_group_gets_what_the_config_requires_and_passes_the_strict_scan(
    knob_world, capsys
):
    estate, role, key = knob_world
    code, result, err = fix_json(
        capsys, *group_flags(role, "/vpc/strict", "--create-log-group", "--kms-key-id", key)
    )
    assert code == 0, err
    assert {c["vpc_id"] for c in result["created"]} == strict_failing(estate)
    [group] = client("logs").describe_log_groups(logGroupNamePrefix="/vpc/strict")["logGroups"]
    assert (group["retentionInDays"], group["kmsKeyId"]) == (365, key)
    ids = [c["flow_log_id"] for c in result["created"]]
    for flow_log in client("ec2").describe_flow_logs(FlowLogIds=ids)["FlowLogs"]:
        assert flow_log["MaxAggregationInterval"] == 60
        assert flow_log["LogFormat"] == DEFAULT_FORMAT  # it has every required field
    assert set(statuses([REGION_A], STRICT).values()) == {"PASS"}


def test_a_bucket_that_satisfies_the_config_is_used(knob_world, capsys):
    estate, _, _ = knob_world
    code, result, err = fix_json(capsys, *bucket_flags("knob-kms-400-days"))
    assert code == 0, err
    assert {c["vpc_id"] for c in result["created"]} == strict_failing(estate)
    assert set(statuses([REGION_A], STRICT).values()) == {"PASS"}


# (case, flags (ROLE and KEY filled in), what the one-line error says)
# fmt: off
REFUSED = [
    ("create without a KMS key", "group", ["--create-log-group"], "--create-log-group without --kms-key-id would not satisfy the Prowler config file: vpc_flow_logs_require_kms is true"),
    ("retention shorter than required", "group", ["--create-log-group", "--kms-key-id", "KEY", "--retention-in-days", "30"], "--retention-in-days 30 would not satisfy the Prowler config file: vpc_flow_logs_min_retention_days requires 365"),
    ("existing log group keeps 30 days", "/knob/30-days", [], "CloudWatch Logs log group '/knob/30-days' in us-east-1 would not satisfy the Prowler config file: log group '/knob/30-days' keeps records 30 days; vpc_flow_logs_min_retention_days requires 365"),
    ("existing log group without a key", "/knob/no-kms", [], "log group '/knob/no-kms' is not encrypted with a KMS key; vpc_flow_logs_require_kms is true"),
    ("bucket with SSE-S3 only", "s3:knob-sse-s3", [], "S3 bucket 'knob-sse-s3' would not satisfy the Prowler config file: S3 bucket 'knob-sse-s3' is encrypted with AES256, not KMS"),
    ("bucket expiring after 30 days", "s3:knob-kms-30-days", [], "S3 bucket 'knob-kms-30-days' keeps records under 'AWSLogs/123456789012/vpcflowlogs/us-east-1/' 30 days (lifecycle rule 'expire-30')"),
    ("interval longer than required", "s3:knob-kms-400-days", ["--max-aggregation-interval", "600"], "--max-aggregation-interval 600 would not satisfy the Prowler config file: vpc_flow_logs_max_aggregation_interval is 60"),
    ("format without a required field", "s3:knob-kms-400-days", ["--log-format", NO_ACTION], "--log-format would not satisfy the Prowler config file: LogFormat lacks action"),
    ("KMS key only with --create-log-group", "/knob/400-days", ["--kms-key-id", "KEY"], "conflicting flags: --kms-key-id applies only with --create-log-group"),
    ("KMS key that is not an ARN", "group", ["--create-log-group", "--kms-key-id", "alias/flow-logs"], "--kms-key-id 'alias/flow-logs' is not a KMS key ARN"),
]
# fmt: on


@pytest.mark.parametrize(
    "destination,flags,said", [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED]
)
def test_what_would_fail_the_config_is_refused_before_any_write(
    knob_world, capsys, destination, flags, said
):
    _, role, key = knob_world
    flags = [key if flag == "KEY" else flag for flag in flags]
    if destination.startswith("s3:"):
        args = bucket_flags(destination.removeprefix("s3:"), *flags)
    else:
        args = group_flags(role, "/vpc/strict" if destination == "group" else destination, *flags)
    before = snapshot()
    code, result, err = fix_json(capsys, *args)
    assert code == 2 and result == {}, err
    assert said in err and err.startswith("vpc-flow-logs: error: ") and err.count("\n") == 1, err
    assert snapshot() == before and list_runs() == []


def test_an_invalid_knob_in_the_config_file_is_refused(knob_world, capsys, tmp_path):
    _, role, _ = knob_world
    config = tmp_path / "bad.yaml"
    config.write_text("aws:\n  vpc_flow_logs_require_kms: yes please\n")
    args = group_flags(role) + ["--config-file", str(config)]
    before = snapshot()
    code, _, err = fix_json(capsys, *args)
    assert code == 2 and "vpc_flow_logs_require_kms is 'yes please'" in err, err
    assert snapshot() == before


def settings(**kw) -> FixSettings:
    base = {
        "log_destination_type": "cloud-watch-logs",
        "log_group_name": "/g",
        "deliver_logs_permission_arn": "arn:aws:iam::123456789012:role/r",
        "create_log_group": True,
        "kms_key_id": KEY,
    }
    return FixSettings(**{**base, **kw})


# (knobs in the config file, flags given, the settings the fix uses)
# fmt: off
DEFAULTS = [
    ({}, {}, {}),
    ({"vpc_flow_logs_min_retention_days": 365}, {}, {"retention_in_days": 365}),
    ({"vpc_flow_logs_min_retention_days": 366}, {}, {"retention_in_days": 400}),
    ({"vpc_flow_logs_min_retention_days": 3654}, {}, {"retention_in_days": None}),
    ({"vpc_flow_logs_min_retention_days": 30}, {"retention_in_days": 90}, {"retention_in_days": 90}),
    ({"vpc_flow_logs_min_retention_days": 30}, {"create_log_group": False, "kms_key_id": None}, {"retention_in_days": None}),
    ({"vpc_flow_logs_max_aggregation_interval": 60}, {}, {"max_aggregation_interval": 60}),
    ({"vpc_flow_logs_max_aggregation_interval": 600}, {"max_aggregation_interval": 60}, {"max_aggregation_interval": 60}),
    ({"vpc_flow_logs_required_fields": ["action"]}, {}, {"log_format": None}),
    ({"vpc_flow_logs_required_fields": ["action", "vpc-id"]}, {}, {"log_format": DEFAULT_FORMAT + " ${vpc-id}"}),
    ({"vpc_flow_logs_required_fields": ["vpc-id"]}, {"log_format": "${vpc-id} ${action}"}, {"log_format": "${vpc-id} ${action}"}),
]
# fmt: on


@pytest.mark.parametrize("knobs,given,expected", DEFAULTS)
def test_defaults_come_from_the_knobs(knobs, given, expected):
    chosen = settings_for(settings(**given), config_policy(knobs, "123456789012"))
    assert {name: getattr(chosen, name) for name in expected} == expected
    assert chosen.model_dump(exclude=set(expected)) == settings(**given).model_dump(
        exclude=set(expected)
    )


def test_records_that_must_never_expire_get_no_retention_and_refuse_one():
    policy = config_policy({}, "123456789012").model_copy(
        update={"min_retention_days": NEVER_EXPIRE}
    )
    assert settings_for(settings(), policy).retention_in_days is None
    with pytest.raises(UserError, match="requires records that never expire"):
        settings_for(settings(retention_in_days=3653), policy)


def test_prowler_fixer_follows_the_scans_knobs(knob_world, capsys):
    """`prowler --fixer` with the strict --config-file: the missing key is said once and nothing
    is written; with the key, the created log group and flow logs satisfy the strict config."""
    from prowler_vpc_flow_logs.remediation.fixer import FixerRun, fix_finding
    from prowler_vpc_flow_logs.service import FlowLogs
    from tests.support import aws_provider

    estate, role, key = knob_world
    section = {
        "log-destination-type": "cloud-watch-logs",
        "log-group-name": "/vpc/fixer",
        "deliver-logs-permission-arn": role,
        "create-log-group": True,
    }
    failing = sorted(strict_failing(estate))
    service = FlowLogs(aws_provider({REGION_A}, audit_config=STRICT))
    service.fixer_config = {"vpc_flow_logs_enabled": section}
    before, run = snapshot(), FixerRun()
    assert not any(fix_finding(service, vpc_id, REGION_A, run) for vpc_id in failing)
    assert capsys.readouterr().out.count("vpc_flow_logs_require_kms is true") == 1
    assert snapshot() == before
    service.fixer_config = {"vpc_flow_logs_enabled": {**section, "kms-key-id": key}}
    run = FixerRun()
    assert all(fix_finding(service, vpc_id, REGION_A, run) for vpc_id in failing)
    [group] = client("logs").describe_log_groups(logGroupNamePrefix="/vpc/fixer")["logGroups"]
    assert (group["retentionInDays"], group["kmsKeyId"]) == (365, key)
    assert set(statuses([REGION_A], STRICT).values()) == {"PASS"}
