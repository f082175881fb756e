"""End to end: the real `prowler` command, with the plug-in installed, against a moto server on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from moto.core.authorization import enable_iam_authentication

from devtools.estate import EXPECTED_WORDS, REGION_A, REGION_B, default_vpcs, seed_policy_estate
from devtools.moto_server import MotoServer
from devtools.prowler_cli import run_cli, run_prowler
from tests.support import prowler_tree

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parent.parent
REGIONS = ["-f", REGION_A, REGION_B]


@pytest.fixture(scope="module")
def world():
    server = MotoServer().start()
    server.reset()

    estate = seed_policy_estate(server.client)
    yield server, estate, default_vpcs(server.client)
    server.stop()


def test_default_policy_with_mutelist(world, tmp_path):
    server, estate, _ = world
    muted_vpc = estate.vpcs["no-flow-logs"]
    mutelist = tmp_path / "mutelist.yaml"
    mutelist.write_text(
        "Mutelist:\n  Accounts:\n    '*':\n      Checks:\n        vpc_flow_logs_enabled:\n"
        f"          Regions: ['*']\n          Resources: ['{muted_vpc}']\n"
    )
    run = run_prowler(
        ["--checks", "vpc_flow_logs_enabled", *REGIONS, "--mutelist-file", str(mutelist)],
        server.env(),
        tmp_path,
        "default",
    )
    assert run.findings, run.output[-3000:]
    assert run.statuses() == estate.expected("REJECT")  # unused VPCs are not reported
    found = run.by_resource()
    for name, words in EXPECTED_WORDS.items():
        assert words in found[estate.vpcs[name]]["status_detail"], name
    assert found[muted_vpc]["status"] == "Suppressed"
    assert found[muted_vpc]["status_code"] == "FAIL"
    assert found[estate.vpcs["accept-only"]]["status"] == "New"
    assert found[estate.vpcs["all-to-log-group"]]["resources"][0]["type"] == "AwsEc2Vpc"
    assert found[estate.vpcs["eu-all-to-bucket"]]["resources"][0]["region"] == REGION_B
    assert all(f["metadata"]["event_code"] == "vpc_flow_logs_enabled" for f in run.findings)


def test_denied_read_through_prowler(world, tmp_path):
    """Matrix row "denied reads" through the CLI: moto enforces IAM; logs:DescribeLogGroups denied."""
    server, estate, _ = world
    iam = server.client("iam")
    allow_all_but = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "logs:DescribeLogGroups", "Resource": "*"},
        ],
    }
    iam.create_user(UserName="denied-scanner")
    iam.put_user_policy(
        UserName="denied-scanner", PolicyName="p", PolicyDocument=json.dumps(allow_all_but)
    )
    key = iam.create_access_key(UserName="denied-scanner")["AccessKey"]
    env = server.env(
        AWS_ACCESS_KEY_ID=key["AccessKeyId"], AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"]
    )
    with enable_iam_authentication():
        run = run_prowler(["--checks", "vpc_flow_logs_enabled", *REGIONS], env, tmp_path, "denied")
    assert run.findings, run.output[-3000:]
    expected = estate.expected("REJECT")
    affected = {
        estate.vpcs[n]
        for n in ("all-to-log-group", "log-group-deleted", "eu-reject-to-missing-group")
    }
    found = run.by_resource()
    for vpc_id, finding in found.items():
        text = finding["status_detail"]
        assert "disabled" not in text.lower() and "not enabled" not in text.lower(), text
        if vpc_id in affected:
            assert finding["status_code"] == "FAIL", text
            assert (
                "logs:DescribeLogGroups failed" in text and "allowed logs:DescribeLogGroups" in text
            ), text
        else:
            assert finding["status_code"] == expected[vpc_id], text
    assert set(found) == set(expected)
    # these two hang on the look-up (the third already fails on its delivery error)
    for name in ("all-to-log-group", "log-group-deleted"):
        assert "could not be audited" in found[estate.vpcs[name]]["status_detail"]


def test_all_policy_from_config_file_and_unused_vpcs(world, tmp_path):
    server, estate, defaults = world
    config = tmp_path / "config.yaml"
    config.write_text("aws:\n  vpc_flow_logs_required_traffic_type: ALL\n")
    run = run_prowler(
        [
            "--checks",
            "vpc_flow_logs_enabled",
            *REGIONS,
            "--config-file",
            str(config),
            "--scan-unused-services",
        ],
        server.env(),
        tmp_path,
        "all",
    )
    expected = estate.expected("ALL", scan_unused=True)
    expected.update({vpc: "FAIL" for vpc in defaults.values()})
    assert run.statuses() == expected, run.output[-3000:]
    text = run.by_resource()[estate.vpcs["reject-to-bucket"]]["status_detail"]
    assert "required ALL traffic" in text and "records only REJECT" in text


MALFORMED_KNOB = {
    "empty": ("", "empty"),
    "null": (" null", "empty"),
    "list": (" [ALL]", "['ALL']"),
    "number": (" 5", "5"),
}


def test_malformed_knob_values_through_prowler(world, tmp_path):
    """Each malformed value: the strictest policy (ALL), said in every finding; never no findings."""
    server, estate, _ = world

    def scan(case: str):
        config = tmp_path / f"{case}.yaml"
        config.write_text(
            f"aws:\n  vpc_flow_logs_required_traffic_type:{MALFORMED_KNOB[case][0]}\n"
        )
        args = ["--checks", "vpc_flow_logs_enabled", *REGIONS, "--config-file", str(config)]
        return run_prowler(args, server.env(), tmp_path, case)

    with ThreadPoolExecutor(max_workers=2) as pool:  # two Prowler processes at a time
        runs = dict(zip(MALFORMED_KNOB, pool.map(scan, MALFORMED_KNOB), strict=True))
    for case, run in runs.items():
        assert run.statuses() == estate.expected("ALL"), (case, run.output[-3000:])
        said = (
            "ALL traffic is required because vpc_flow_logs_required_traffic_type is "
            f"{MALFORMED_KNOB[case][1]} in the Prowler config file"
        )
        assert all(said in f["status_detail"] for f in run.findings), case


def test_a_check_whose_package_was_uninstalled_says_so_through_prowler(world, tmp_path):
    """`pip uninstall prowler-vpc-flow-logs` before `vpc-flow-logs uninstall`: FAIL per region, loudly."""
    server, _, _ = world
    run = run_prowler(
        ["--checks", "vpc_flow_logs_enabled", *REGIONS],
        server.env(),
        tmp_path,
        "gone",
        without_package=True,
    )
    assert sorted(f["resources"][0]["region"] for f in run.findings) == [REGION_B, REGION_A], (
        run.output[-3000:]
    )
    for finding in run.findings:
        assert finding["status_code"] == "FAIL"
        assert (
            "prowler-vpc-flow-logs is not installed in this Python environment"
            in finding["status_detail"]
        )
    assert "There are no findings" not in run.output
    assert (
        "CRITICAL" in run.output and "no VPC was evaluated" in run.output
    )  # shown without --log-level


@pytest.mark.xdist_group("prowler_tree_alone")  # changes Prowler's tree: see conftest.py
def test_custom_checks_folder_runs_ours_and_leaves_prowler_working(world, tmp_path):
    server, estate, _ = world
    with prowler_tree(alone=True):  # -x swaps the check folder in Prowler's tree
        run = run_prowler(
            ["-x", str(REPO / "checks"), "--checks", "vpc_flow_logs_enabled", "-f", REGION_B],
            server.env(),
            tmp_path,
            "custom",
        )
    found = run.by_resource()
    assert set(found) == {
        estate.vpcs["eu-all-to-bucket"],
        estate.vpcs["eu-reject-to-missing-group"],
    }
    assert "delivery FAILED" in found[estate.vpcs["eu-reject-to-missing-group"]]["status_detail"]
    assert "restored prowler-vpc-flow-logs's check" in run.output
    status = run_cli(["status"])
    assert status.returncode == 0, status.stdout + status.stderr
    again = run_prowler(
        ["--checks", "vpc_flow_logs_enabled", "-f", REGION_B], server.env(), tmp_path, "after"
    )
    assert again.statuses() == {vpc: f["status_code"] for vpc, f in found.items()}


def _check_files_match_record() -> bool:
    dist = importlib.metadata.distribution("prowler")
    prefix = "prowler/providers/aws/services/vpc/vpc_flow_logs_enabled/"
    entries = [f for f in dist.files if f.as_posix().startswith(prefix) and f.hash]
    assert entries
    for entry in entries:
        digest = hashlib.sha256(Path(dist.locate_file(entry)).read_bytes()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != entry.hash.value:
            return False
    folder = Path(dist.locate_file(prefix))
    return {p.name for p in folder.iterdir() if p.is_file()} == {e.name for e in entries}


@pytest.mark.xdist_group("prowler_tree_alone")
def test_uninstall_restores_builtin_byte_for_byte_then_install_again(monkeypatch):
    monkeypatch.delenv("VPC_FLOW_LOGS_STATE_DIR")  # use the backup `make test`'s install made

    def cli(*args):
        return run_cli(list(args))

    with prowler_tree(alone=True):
        assert not _check_files_match_record()  # ours is active
        try:
            done = cli("uninstall")
            assert done.returncode == 0, done.stderr
            assert _check_files_match_record()
            assert cli("status").returncode == 1
        finally:
            done = cli("install")
    assert done.returncode == 0, done.stderr
    status = cli("status")
    assert status.returncode == 0 and "(active)" in status.stdout
