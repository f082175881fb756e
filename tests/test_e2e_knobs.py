"""End to end, the knobs (issue 14): the real `prowler` on the knob estate (a moto server on
127.0.0.1) with the knobs off and under examples/strict_config.yaml, then `vpc-flow-logs fix
--config-file` creating a log group that passes the strict scan."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from devtools.estate import REGION_A, trust_policy
from devtools.knob_estate import KNOB_CASES, STRICT, STRICT_CONFIG, expected_knob_verdicts
from devtools.knob_estate import seed_knob_estate as seed
from devtools.moto_server import MotoServer
from devtools.prowler_cli import run_cli, run_prowler
from prowler_vpc_flow_logs.service import FlowLogs
from tests.support import aws_provider, keyed_verdicts

pytestmark = pytest.mark.e2e
KNOBS = ("vpc_flow_logs_min_retention_days", "vpc_flow_logs_require_kms")
KNOBS += ("vpc_flow_logs_max_aggregation_interval", "vpc_flow_logs_required_fields")


@pytest.fixture(scope="module")
def world():
    server = MotoServer().start()
    server.reset()
    role = server.client("iam").create_role(
        RoleName="flow-logs-delivery", AssumeRolePolicyDocument=json.dumps(trust_policy())
    )["Role"]["Arn"]
    yield server, seed(server.client, role), role
    server.stop()


def test_every_knob_case_through_prowler_off_and_strict(world, tmp_path):
    server, estate, _ = world

    def scan(strict: bool):
        config = ["--config-file", str(STRICT_CONFIG)] if strict else []
        args = ["--checks", "vpc_flow_logs_enabled", "-f", REGION_A, *config]
        return run_prowler(args, server.env(), tmp_path, "strict" if strict else "off")

    with ThreadPoolExecutor(max_workers=2) as pool:  # two Prowler processes at a time
        off, strict = pool.map(scan, (False, True))
    assert off.statuses() == expected_knob_verdicts(estate, strict=False), off.output[-3000:]
    assert strict.statuses() == expected_knob_verdicts(estate, strict=True), strict.output[-3000:]
    for finding in off.findings:  # the knobs off: no word of them
        assert not any(knob in finding["status_detail"] for knob in KNOBS), finding
    found = strict.by_resource()
    for name, (verdict, words) in KNOB_CASES.items():
        text = found[estate.vpcs[name]]["status_detail"]
        assert words in text, (name, text)
        if verdict == "FAIL":  # every FAIL names the knob it misses
            assert any(f"; {knob} " in text or f"({knob})" in text for knob in KNOBS), text

    # The strict scan's findings carry its knobs: the fix judges as they say (issue 18, row 3)
    s3 = server.client("s3")
    s3.create_bucket(Bucket="e2e-strict-target")
    s3.put_bucket_encryption(
        Bucket="e2e-strict-target",
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
        },
    )
    fix = [
        "fix", "--from-findings", str(tmp_path / "strict.ocsf.json"), "--log-destination-type",
        "s3", "--log-destination", "arn:aws:s3:::e2e-strict-target", "--dry-run", "--output", "json",
    ]  # fmt: skip
    planned = run_cli(fix, server.env())
    assert planned.returncode == 0, planned.stderr
    strict_fails = {v for v, s in expected_knob_verdicts(estate, True).items() if s == "FAIL"}
    assert {p["vpc_id"] for p in json.loads(planned.stdout)["planned"]} == strict_fails
    plain = tmp_path / "plain.yaml"
    plain.write_text("aws:\n  vpc_flow_logs_required_traffic_type: REJECT\n")
    refused = run_cli([*fix, "--config-file", str(plain)], server.env())
    assert (
        refused.returncode == 2
        and "FAIL in the findings but pass under this fix's policy" in refused.stderr
    )


def test_fix_with_the_strict_config_creates_a_group_that_passes_the_strict_scan(
    world, tmp_path, monkeypatch
):
    server, estate, role = world
    key = server.client("kms").create_key()["KeyMetadata"]["Arn"]
    group = [
        "fix", "--region", REGION_A, "--config-file", str(STRICT_CONFIG),
        "--log-destination-type", "cloud-watch-logs", "--log-group-name", "/vpc/strict",
        "--deliver-logs-permission-arn", role, "--create-log-group",
        "--state-dir", str(tmp_path / "state"), "--yes", "--output", "json",
    ]  # fmt: skip
    refused = run_cli(group, server.env())  # the strict config requires a KMS key
    assert refused.returncode == 2 and refused.stdout == "", refused.stderr
    assert "vpc_flow_logs_require_kms is true" in refused.stderr
    done = run_cli([*group, "--kms-key-id", key], server.env())
    assert done.returncode == 0, done.stderr
    created = {c["vpc_id"] for c in json.loads(done.stdout)["created"]}
    assert created == {v for v, s in expected_knob_verdicts(estate, True).items() if s == "FAIL"}
    [made] = server.client("logs").describe_log_groups(logGroupNamePrefix="/vpc/strict")[
        "logGroups"
    ]
    assert (made["retentionInDays"], made["kmsKeyId"]) == (365, key)
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
    verdicts = keyed_verdicts(FlowLogs(aws_provider({REGION_A}, audit_config=STRICT)))
    assert {verdicts[v].status for v in estate.vpcs.values()} == {"PASS"}
