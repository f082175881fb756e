"""Matrix, bad input: every `vpc-flow-logs` subcommand refuses bad input with one clear message,
a non-zero exit and no traceback, and changes nothing in AWS (moto's state is compared)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from devtools.estate import REGION_A, REGION_B, trust_policy
from prowler_vpc_flow_logs.cli import main
from prowler_vpc_flow_logs.remediation.ledger import Ledger
from tests.support import (
    BOTH,
    CWL,
    client,
    create_role,
    ocsf_finding,
    snapshot,
)

S3 = ["--log-destination-type", "s3", "--log-destination", f"arn:aws:s3:::flow-logs-{REGION_A}"]


@pytest.fixture
def small(aws) -> SimpleNamespace:
    """A quick estate for refusals: the delivery role, a bucket and one failing, in-use VPC per region."""
    create_role()
    client("s3").create_bucket(Bucket=f"flow-logs-{REGION_A}")
    vpcs = {}
    for name, region, cidr in (
        ("no-flow-logs", REGION_A, "10.9.0.0/16"),
        ("eu", REGION_B, "10.22.0.0/16"),
    ):
        ec2 = client("ec2", region)
        vpc_id = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr.replace("/16", "/24"))["Subnet"][
            "SubnetId"
        ]
        ec2.create_network_interface(SubnetId=subnet)
        vpcs[name] = vpc_id
    return SimpleNamespace(vpcs=vpcs)


def refused(capsys, argv: list[str], words: str, code: int = 2) -> None:
    """Run the CLI; it must exit non-zero with one error line naming ``words`` and change nothing."""
    before = snapshot()
    assert main(argv) == code
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if line.startswith("vpc-flow-logs: error:")]
    assert len(errors) == 1, err
    assert words in errors[0], errors[0]
    assert snapshot() == before


# fmt: off
CASES = {
    "unknown-vpc": (lambda e: ["fix", "--region", REGION_A, "--vpc-id", "vpc-0123456789abcdef0", *CWL], "VPC not found: vpc-0123456789abcdef0"),
    "vpc-in-other-region": (lambda e: ["fix", "--region", REGION_B, "--vpc-id", e.vpcs["no-flow-logs"], *CWL], "looked in eu-west-1"),
    "malformed-vpc-id": (lambda e: ["fix", "--region", REGION_A, "--vpc-id", "vpc-xyz", *CWL], "not a VPC id"),
    "malformed-role-arn": (lambda e: ["fix", *BOTH, "--log-destination-type", "cloud-watch-logs", "--log-group-name", "/g", "--deliver-logs-permission-arn", "arn:aws:iam::role/x"], "is not an IAM role ARN"),
    "malformed-bucket-arn": (lambda e: ["fix", *BOTH, "--log-destination-type", "s3", "--log-destination", "s3://flow-logs-us-east-1"], "is not an S3 bucket ARN"),
    "missing-bucket": (lambda e: ["fix", *BOTH, "--log-destination-type", "s3", "--log-destination", "arn:aws:s3:::no-such-bucket-here"], "S3 bucket 'no-such-bucket-here' does not exist"),
    "missing-role": (lambda e: ["fix", *BOTH, *[a.replace("flow-logs-delivery", "nobody") for a in CWL]], "role/nobody does not exist"),
    "role-in-other-account": (lambda e: ["fix", *BOTH, *[a.replace("123456789012", "210987654321") for a in CWL]], "is in account 210987654321"),
    "missing-log-group": (lambda e: ["fix", *BOTH, *CWL[:6]], "log group '/vpc/fix' does not exist in eu-west-1, us-east-1"),
    "unknown-region": (lambda e: ["fix", "--region", "us-mars-1", *CWL], "unknown region(s): us-mars-1"),
    "kms-key-of-another-region": (lambda e: ["fix", *BOTH, *CWL, "--kms-key-id", "arn:aws:kms:us-east-1:123456789012:key/k1"], "--kms-key-id arn:aws:kms:us-east-1:123456789012:key/k1 is a key of us-east-1, but log group(s) would be created in eu-west-1: a log group can use only a KMS key of its own region"),
    "traffic-does-not-fix": (lambda e: ["fix", *BOTH, *CWL, "--traffic-type", "ACCEPT"], "would not make a VPC pass"),
    "bad-log-format": (lambda e: ["fix", *BOTH, *CWL, "--log-format", "srcaddr dstaddr"], "is not a flow log format"),
    "unknown-log-format-field": (lambda e: ["fix", *BOTH, *CWL, "--log-format", "${srcaddr} ${bogus-field}"], "--log-format names field(s) AWS does not know: bogus-field"),
    "unknown-profile": (lambda e: ["fix", *BOTH, *CWL, "--profile", "no-such-profile"], "cannot use profile 'no-such-profile'"),
    "state-dir-not-writable": (lambda e: ["fix", *BOTH, *CWL, "--yes", "--state-dir", "/proc/x"], "cannot record runs in /proc/x/runs"),
    "conflict-s3-with-log-group": (lambda e: ["fix", *BOTH, *S3, "--log-group-name", "/g"], "conflicting flags: --log-group-name"),
    "conflict-findings-with-vpc": (lambda e: ["fix", "--from-findings", "x.json", "--vpc-id", e.vpcs["no-flow-logs"], *CWL], "conflicting flags: --from-findings"),
    "conflict-retention-without-create": (lambda e: ["fix", *BOTH, *CWL[:6], "--retention-in-days", "30"], "conflicting flags: --retention-in-days"),
    "negative-wait": (lambda e: ["fix", *BOTH, *CWL, "--wait", "-1"], "--wait -1: give the seconds to wait"),
    "conflict-dry-run-yes": (lambda e: ["fix", *BOTH, *CWL, "--dry-run", "--yes"], "conflicting flags: --dry-run"),
    "conflict-cwl-with-bucket": (lambda e: ["fix", *BOTH, *CWL, "--log-destination", "arn:aws:s3:::b"], "conflicting flags: --log-destination"),
    "no-destination-type": (lambda e: ["fix", *BOTH], "--log-destination-type is required"),
    "bad-retention": (lambda e: ["fix", *BOTH, *CWL[:-1], "31"], "--retention-in-days 31 is not one"),
    "unknown-run-id": (lambda e: ["backout", "vfl-20250101T000000Z-abcdef", "--yes"], "no run vfl-20250101T000000Z-abcdef"),
    "malformed-run-id": (lambda e: ["backout", "run-1", "--yes"], "'run-1' is not a run id"),
    "backout-region-without-from-tags": (lambda e: ["backout", "vfl-20250101T000000Z-abcdef", "--region", REGION_A], "conflicting flags: --region"),
    "from-tags-without-region": (lambda e: ["backout", "vfl-20250101T000000Z-abcdef", "--from-tags", "--yes"], "--from-tags needs the regions"),
    "from-tags-unknown-region": (lambda e: ["backout", "vfl-20250101T000000Z-abcdef", "--from-tags", "--region", "xx-east-9"], "unknown region(s): xx-east-9"),
}
# fmt: on


CONFIGS = {
    "config-value-empty": (
        "aws:\n  vpc_flow_logs_required_traffic_type:\n",
        "vpc_flow_logs_required_traffic_type is empty in the Prowler config file",
    ),
    "config-value-null": (
        "aws:\n  vpc_flow_logs_required_traffic_type: null\n",
        "vpc_flow_logs_required_traffic_type is empty in the Prowler config file",
    ),
    "config-value-a-number": (
        "aws:\n  vpc_flow_logs_required_traffic_type: 5\n",
        "vpc_flow_logs_required_traffic_type is 5 in the Prowler config file",
    ),
    "config-value-malformed": (
        "aws:\n  vpc_flow_logs_required_traffic_type: EVERYTHING\n",
        "vpc_flow_logs_required_traffic_type is 'EVERYTHING' in the Prowler config file; it must be one of ALL, ACCEPT, REJECT",
    ),
    "config-value-not-a-string": (
        "aws:\n  vpc_flow_logs_required_traffic_type: [ALL]\n",
        "vpc_flow_logs_required_traffic_type is ['ALL']",
    ),
    "config-not-yaml": ("aws: [unclosed\n", "is not a YAML file"),
}


@pytest.mark.parametrize("case", sorted(CONFIGS))
def test_bad_prowler_config_file(case, small, capsys, tmp_path):
    content, words = CONFIGS[case]
    config = tmp_path / "config.yaml"
    config.write_text(content)
    refused(capsys, ["fix", *BOTH, *CWL, "--config-file", str(config)], words)


def test_missing_prowler_config_file(small, capsys, tmp_path):
    refused(
        capsys, ["fix", *BOTH, *CWL, "--config-file", str(tmp_path / "none.yaml")], "does not exist"
    )


# usage errors argparse catches: one line naming the problem, exit 2
# fmt: off
USAGE = {
    "unknown-subcommand": (["bogus"], "invalid choice: 'bogus'"),
    "no-subcommand": ([], "the following arguments are required: COMMAND"),
    "install-unknown-flag": (["install", "--yes"], "unrecognized arguments: --yes"),
    "status-extra-argument": (["status", "now"], "unrecognized arguments: now"),
    "runs-bad-output": (["runs", "--output", "xml"], "argument --output: invalid choice: 'xml'"),
    "fix-bad-traffic-type": (["fix", *BOTH, *CWL, "--traffic-type", "EVERYTHING"], "argument --traffic-type: invalid choice"),
    "fix-bad-aggregation": (["fix", *BOTH, *CWL, "--max-aggregation-interval", "61"], "argument --max-aggregation-interval: invalid choice: 61"),
    "fix-bad-destination-type": (["fix", *BOTH, "--log-destination-type", "kinesis"], "argument --log-destination-type: invalid choice"),
    "fix-retention-not-a-number": (["fix", *BOTH, *CWL[:-1], "thirty"], "argument --retention-in-days: invalid int value: 'thirty'"),
    "backout-without-run": (["backout", "--yes"], "the following arguments are required: RUN_ID"),
}
# fmt: on


@pytest.mark.parametrize("case", sorted(USAGE))
def test_usage_error(case, small, capsys):
    argv, words = USAGE[case]
    before = snapshot()
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and ": error: " in err and words in err, err
    assert "Traceback" not in err
    assert snapshot() == before


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input(case, small, capsys):
    argv, words = CASES[case]
    refused(capsys, argv(small), words)


def test_untrusting_role(small, capsys):
    client("iam").delete_role(RoleName="flow-logs-delivery")
    create_role(trust=trust_policy("ec2.amazonaws.com"))
    refused(capsys, ["fix", *BOTH, *CWL], "does not trust vpc-flow-logs.amazonaws.com")


@pytest.mark.parametrize(
    "content, words",
    [
        ("not json", "not JSON"),
        (json.dumps({"findings": []}), "expected a non-empty JSON list"),
        (
            json.dumps(
                [
                    {
                        "metadata": {"product": {"name": "Other"}},
                        "status_code": "FAIL",
                        "finding_info": {},
                    }
                ]
            ),
            "entry 0 is not a Prowler OCSF finding",
        ),
        (json.dumps([{"Id": "x", "Compliance": {}}]), "entry 0 is not a Prowler OCSF finding"),
    ],
)
def test_findings_file_that_is_not_prowlers(content, words, small, capsys, tmp_path):
    path = tmp_path / "findings.json"
    path.write_text(content)
    refused(capsys, ["fix", "--from-findings", str(path), *CWL], words)


def test_missing_findings_file(small, capsys, tmp_path):
    refused(capsys, ["fix", "--from-findings", str(tmp_path / "nope.json"), *CWL], "does not exist")


def test_findings_of_another_account(small, capsys, tmp_path):
    path = tmp_path / "f.ocsf.json"
    path.write_text(
        json.dumps([ocsf_finding("arn:aws:ec2:us-east-1:999999999999:vpc/vpc-0123456789abcdef0")])
    )
    refused(capsys, ["fix", "--from-findings", str(path), *CWL], "about account 999999999999")


@pytest.mark.parametrize(
    "damage, words",
    [
        (lambda text: text + "{not json\n", "is corrupt at line"),
        (
            lambda text: "\n".join(text.splitlines()[1:]) + "\n",
            "does not start with the run's header",
        ),
        (lambda text: text.replace('"flow-log-created"', '"flow-log-made"'), "is corrupt at line"),
    ],
)
def test_corrupt_ledger(damage, words, small, capsys):
    assert main(["fix", "--region", REGION_B, *CWL, "--yes", "--output", "json"]) == 0
    run_id = json.loads(capsys.readouterr().out)["run_id"]
    path = Ledger.open(run_id).path
    path.write_text(damage(path.read_text()))
    refused(capsys, ["backout", run_id, "--yes"], words)


def test_fix_from_findings_replans_from_a_fresh_scan(role, estate, capsys, tmp_path):
    arn = "arn:aws:ec2:{}:123456789012:vpc/{}"
    findings = [
        ocsf_finding(arn.format(REGION_A, estate.vpcs["no-flow-logs"])),
        ocsf_finding(arn.format(REGION_B, estate.vpcs["eu-reject-to-missing-group"])),
        ocsf_finding(arn.format(REGION_A, estate.vpcs["all-to-log-group"])),  # stale: passes now
        ocsf_finding(
            arn.format(REGION_A, estate.vpcs["accept-only"]), check="ec2_instance_public_ip"
        ),
        ocsf_finding(arn.format(REGION_A, estate.vpcs["accept-only"]), status="PASS"),
    ]
    path = tmp_path / "scan.ocsf.json"
    path.write_text(json.dumps(findings))
    before = snapshot()
    assert main(["fix", "--from-findings", str(path), *CWL, "--dry-run", "--output", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {p["vpc_id"] for p in result["planned"]} == {
        estate.vpcs["no-flow-logs"],
        estate.vpcs["eu-reject-to-missing-group"],
    }
    assert [s["vpc_id"] for s in result["skipped"]] == [estate.vpcs["all-to-log-group"]]
    assert snapshot() == before


def test_home_that_cannot_hold_state(small, capsys, tmp_path, monkeypatch):
    """No --state-dir and a HOME where nothing can be written (here: HOME is a file)."""
    home = tmp_path / "home-is-a-file"
    home.write_text("")
    for name in ("VPC_FLOW_LOGS_STATE_DIR", "XDG_STATE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    refused(
        capsys,
        ["fix", *BOTH, *CWL, "--yes"],
        f"cannot record runs in {home}/.local/state/prowler-vpc-flow-logs/runs",
    )


def test_findings_file_without_this_checks_findings(small, capsys, tmp_path):
    """A CIS scan's file with other checks only: say so, never "nothing to fix" over every region."""
    path = tmp_path / "cis.ocsf.json"
    arn = f"arn:aws:ec2:{REGION_A}:123456789012:vpc/{small.vpcs['no-flow-logs']}"
    path.write_text(
        json.dumps(
            [
                ocsf_finding(arn, check="ec2_instance_public_ip"),
                ocsf_finding(arn, check="vpc_default_security_group_closed"),
            ]
        )
    )
    refused(
        capsys,
        ["fix", "--from-findings", str(path), *CWL],
        "holds no findings of vpc_flow_logs_enabled (2 finding(s) of other checks)",
    )


def test_findings_that_all_pass_scan_nothing(small, capsys, tmp_path, monkeypatch):
    path = tmp_path / "passing.ocsf.json"
    path.write_text(
        json.dumps(
            [
                ocsf_finding(
                    f"arn:aws:ec2:{REGION_A}:123456789012:vpc/{small.vpcs['no-flow-logs']}",
                    status="PASS",
                )
            ]
        )
    )
    from prowler_vpc_flow_logs.remediation.accounts import Reach

    monkeypatch.setattr(Reach, "provider", lambda *a, **k: pytest.fail("no region needs a scan"))
    assert main(["fix", "--from-findings", str(path), *CWL, "--yes"]) == 0
    assert "Nothing to fix" in capsys.readouterr().out


def test_muted_findings_are_skipped_and_said(role, estate, capsys, tmp_path):
    arn = "arn:aws:ec2:{}:123456789012:vpc/{}"
    muted = {
        **ocsf_finding(arn.format(REGION_A, estate.vpcs["accept-only"])),
        "status": "Suppressed",
    }
    path = tmp_path / "muted.ocsf.json"
    path.write_text(
        json.dumps([muted, ocsf_finding(arn.format(REGION_A, estate.vpcs["no-flow-logs"]))])
    )
    assert main(["fix", "--from-findings", str(path), *CWL, "--dry-run", "--output", "json"]) == 0
    out, err = capsys.readouterr()
    result = json.loads(out)
    assert [p["vpc_id"] for p in result["planned"]] == [estate.vpcs["no-flow-logs"]]
    [skip] = result["skipped"]
    assert (
        skip["vpc_id"] == estate.vpcs["accept-only"]
        and "muted by Prowler's mutelist" in skip["reason"]
    )
    assert (
        f"{estate.vpcs['accept-only']}: muted by Prowler's mutelist in the findings file (an accepted risk)"
        in err
    )


def test_findings_of_a_stricter_scan_are_judged_under_their_own_policy(
    role, estate, capsys, tmp_path
):
    """A FAIL finding that this run's policy judges PASS is never skipped quietly (issue 18, row
    3): the findings come from a scan under a strict config file and carry its knobs. Without
    --config-file the fix judges as they say; a --config-file that contradicts them is refused."""
    arn = "arn:aws:ec2:{}:123456789012:vpc/{}"
    strict = 'Flow logs considered: fl-1. Judged under: {"vpc_flow_logs_required_traffic_type": "REJECT", "vpc_flow_logs_max_aggregation_interval": 60}'
    passing_by_default = [estate.vpcs["all-to-log-group"], estate.vpcs["eu-all-to-bucket"]]
    path = tmp_path / "strict.ocsf.json"
    findings = [ocsf_finding(arn.format(REGION_A, passing_by_default[0]), details=strict)]
    findings.append(ocsf_finding(arn.format(REGION_B, passing_by_default[1]), details=strict))
    findings.append(ocsf_finding(arn.format(REGION_A, estate.vpcs["no-flow-logs"]), details=strict))
    path.write_text(json.dumps(findings))
    argv = ["fix", "--from-findings", str(path), *CWL, "--dry-run", "--output", "json"]
    assert main(argv) == 0
    planned = {f["vpc_id"] for f in json.loads(capsys.readouterr().out)["planned"]}
    assert planned == {*passing_by_default, estate.vpcs["no-flow-logs"]}

    default = tmp_path / "default.yaml"
    default.write_text("aws:\n  vpc_flow_logs_required_traffic_type: REJECT\n")
    refused(
        capsys,
        [*argv, "--config-file", str(default)],
        f"2 VPC(s) FAIL in the findings but pass under this fix's policy ({passing_by_default[0]} "
        f"in {REGION_A}, {passing_by_default[1]} in {REGION_B}): the scan judged under "
        '{"vpc_flow_logs_max_aggregation_interval": 60, "vpc_flow_logs_required_traffic_type": '
        '"REJECT"}, the --config-file gives {"vpc_flow_logs_required_traffic_type": "REJECT"}; '
        "pass the config file the scan used",
    )
    mixed = [
        findings[0],
        ocsf_finding(arn.format(REGION_A, estate.vpcs["accept-only"]), details="x"),
    ]
    mixed[1]["resources"][0]["data"]["details"] = strict.replace("60", "600")
    path.write_text(json.dumps(mixed))
    refused(capsys, argv, "were judged under different Prowler config files")


def test_a_destination_outside_the_allowed_ones_is_refused(small, capsys, tmp_path):
    """vpc_flow_logs_allowed_destinations (issue 20): the fix never creates a flow log the check
    would not count."""
    config = tmp_path / "archive-only.yaml"
    config.write_text(
        "aws:\n  vpc_flow_logs_allowed_destinations: ['arn:aws:s3:::org-log-archive*']\n"
    )
    refused(
        capsys,
        ["fix", *BOTH, *S3, "--config-file", str(config), "--dry-run"],
        "the new flow logs would not satisfy the Prowler config file: each writes to "
        f"arn:aws:s3:::flow-logs-{REGION_A}, which vpc_flow_logs_allowed_destinations does not "
        "allow (arn:aws:s3:::org-log-archive*)",
    )


def test_a_finding_whose_vpc_is_gone_is_skipped_and_named_the_rest_proceed(small, capsys, tmp_path):
    """Issue 19, row 4: one VPC deleted after the scan no longer refuses the whole fix (exit 2);
    it is named (CANNOT FIX), the others are planned, and the exit code is 1. An unknown VPC
    given with --vpc-id is still bad input (the rows above)."""
    arn = "arn:aws:ec2:{}:123456789012:vpc/{}"
    gone = "vpc-0123456789abcdef0"
    path = tmp_path / "scan.ocsf.json"
    path.write_text(json.dumps([
        ocsf_finding(arn.format(REGION_A, small.vpcs["no-flow-logs"])),
        ocsf_finding(arn.format(REGION_A, gone)),
    ]))  # fmt: skip
    before = snapshot()
    assert main(["fix", "--from-findings", str(path), *S3, "--dry-run"]) == 1
    out = capsys.readouterr().out
    assert "CANNOT FIX 1 VPC(s) (the others go ahead):" in out
    assert (
        f"{gone}: not found in {REGION_A}: deleted since the scan that wrote the findings?" in out
    )
    assert f"for 1 VPC(s) ({REGION_A}: 1)" in out and snapshot() == before
