"""End to end: `vpc-flow-logs fix --organization` against a moto server, then the real
`prowler aws -R` scan of a member through its role, then the backout."""

from __future__ import annotations

import json

import pytest

from devtools.moto_server import moto_server
from devtools.org_estate import REGIONS, ROLE, flow_logs_of, seed_organization
from devtools.prowler_cli import run_cli, run_prowler

pytestmark = pytest.mark.e2e


def test_an_organization_fixed_then_a_member_scanned_by_prowler_then_backed_out(tmp_path):
    with moto_server() as server:
        server.reset()
        org = seed_organization(members=2, failing=3, endpoint_url=server.url)
        env = server.env(VPC_FLOW_LOGS_STATE_DIR=str(tmp_path / "state"))
        member = org.members[0]

        def flow_logs() -> dict[str, set[str]]:
            return {
                account: {fl["FlowLogId"] for fl in found}
                for account, found in flow_logs_of(org, server.url).items()
            }

        before = flow_logs()
        s3 = ["--log-destination-type", "s3", "--log-destination", f"arn:aws:s3:::{org.bucket}"]
        regions = [arg for region in REGIONS for arg in ("--region", region)]
        fixed = run_cli(
            [
                "fix",
                "--organization",
                "--role-name",
                ROLE,
                *regions,
                *s3,
                "--yes",
                "--output",
                "json",
            ],
            env,
        )
        assert fixed.returncode == 0, fixed.stderr
        result = json.loads(fixed.stdout)
        assert result["accounts"] == org.accounts and len(result["created"]) == 18
        assert "accounts" in fixed.stderr  # the progress bar (alive-progress) on stderr

        role = f"arn:aws:iam::{member}:role/{ROLE}"
        scan = run_prowler(
            ["-R", role, "--checks", "vpc_flow_logs_enabled", "-f", *REGIONS],
            env,
            tmp_path,
            "member",
        )
        expected = {
            vpc
            for region in REGIONS
            for vpc in org.failing[member][region] + org.passing[member][region]
        }
        assert set(scan.statuses()) == expected, scan.output[-3000:]
        assert set(scan.statuses().values()) == {"PASS"}  # every fixed VPC, and the one that passed
        assert {f["cloud"]["account"]["uid"] for f in scan.findings} == {member}
        # through the account boundary: the member may not read the log archive (issue 20)
        for finding in scan.findings:
            assert (
                "which this account may not read (403); delivery is healthy"
                in (finding["status_detail"])
            ), finding["status_detail"]
        assert "is another account's and answers this account's reads with 403" in fixed.stderr

        back = run_cli(["backout", result["run_id"], "--yes"], env)
        assert back.returncode == 0, back.stderr
        assert "18 deleted, 0 refused" in back.stdout
        assert flow_logs() == before
        runs = json.loads(run_cli(["runs", "--output", "json"], env).stdout)
        assert runs[0]["accounts"] == org.accounts and runs[0]["backed_out"] == "yes"
