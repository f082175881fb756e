"""End to end: `prowler aws ... --fixer` against a moto server, then `vpc-flow-logs backout` and a re-plan from Prowler's OCSF file."""

from __future__ import annotations

import json
import re

import pytest

from devtools.estate import REGION_A, REGION_B, seed_policy_estate, trust_policy
from devtools.moto_server import moto_server
from devtools.prowler_cli import run_cli, run_prowler

pytestmark = pytest.mark.e2e


def test_prowler_fixer_then_backout(tmp_path, monkeypatch):
    state = tmp_path / "state"
    with moto_server() as server:
        server.reset()  # moto's backends are per process: start from an empty account
        env = server.env(VPC_FLOW_LOGS_STATE_DIR=str(state))

        client = server.client

        estate = seed_policy_estate(client)
        role = client("iam").create_role(
            RoleName="flow-logs-delivery", AssumeRolePolicyDocument=json.dumps(trust_policy())
        )["Role"]["Arn"]
        config = tmp_path / "fixer.yaml"
        config.write_text(
            "aws:\n  vpc_flow_logs_enabled:\n    log-destination-type: cloud-watch-logs\n"
            f"    log-group-name: /vpc/fix\n    deliver-logs-permission-arn: {role}\n"
            "    create-log-group: true\n    retention-in-days: 30\n"
        )

        def flow_logs() -> set[str]:
            return {
                fl["FlowLogId"]
                for r in (REGION_A, REGION_B)
                for fl in client("ec2", r).describe_flow_logs()["FlowLogs"]
            }

        before = flow_logs()
        expected = estate.expected("REJECT")
        failing = {vpc for vpc, status in expected.items() if status == "FAIL"}

        listed = run_prowler(["--list-fixer"], env)
        assert "vpc_flow_logs_enabled" in listed.output

        fix_args = ["--checks", "vpc_flow_logs_enabled", "-f", REGION_A, REGION_B]
        out = run_prowler([*fix_args, "--fixer", "--fixer-config", str(config)], env).output
        fixed = set(re.findall(r"FIXING (vpc-[0-9a-f]+) in ", out))
        assert fixed == failing, out[-3000:]  # --fixer is called for exactly the FAIL findings
        assert out.count("DONE") == len(failing) and "ERROR" not in out, out[-3000:]
        assert f"{len(failing)} findings fixed!" in out

        def cli(*args: str):
            return run_cli(list(args), env)

        [run] = json.loads(cli("runs", "--output", "json").stdout)
        assert (run["source"], run["created"], run["finished"]) == (
            "prowler-fixer",
            len(failing),
            True,
        )
        assert run["regions"] == sorted([REGION_A, REGION_B])
        assert f"undo with: vpc-flow-logs backout {run['run_id']}" in out
        created = flow_logs() - before
        assert len(created) == len(failing)
        assert all(f"created {fl}" in out for fl in created)

        back = cli("backout", run["run_id"], "--yes")
        assert back.returncode == 0, back.stderr
        assert f"{len(failing)} deleted, 0 refused" in back.stdout
        assert flow_logs() == before

        # a real rescan shows the original verdicts; its OCSF file drives a fix plan
        rescan = run_prowler(
            ["--checks", "vpc_flow_logs_enabled", "-f", REGION_A, REGION_B], env, tmp_path, "rescan"
        )
        assert rescan.statuses() == expected, rescan.output[-3000:]
        again = cli(
            "fix",
            "--from-findings",
            str(tmp_path / "rescan.ocsf.json"),
            "--log-destination-type",
            "s3",
            "--log-destination",
            f"arn:aws:s3:::flow-logs-{REGION_A}",
            "--dry-run",
            "--output",
            "json",
        )
        assert again.returncode == 0, again.stderr
        assert {p["vpc_id"] for p in json.loads(again.stdout)["planned"]} == failing
        assert flow_logs() == before
        assert "backed out: yes" in cli("runs").stdout
