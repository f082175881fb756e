"""The remediation part of `make demo`: plan (dry run), fix, rescan, backout, rescan.

Called by devtools/demo.py after its scan with the running moto server, the
environment that points the real commands at it, and the seeded estate. Every
step runs the real console scripts (`vpc-flow-logs`, `prowler`) as a user would.
Raises SystemExit(1) when an outcome is not the one the issue promises.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from devtools.estate import REGION_A, REGION_B, Estate, trust_policy
from devtools.prowler_cli import ProwlerRun, run_cli, run_prowler

REGIONS = ["--region", REGION_A, "--region", REGION_B]


def _client(server, service: str, region: str = REGION_A):
    return server.client(service, region)


def _flow_logs(server) -> set[str]:
    return {
        fl["FlowLogId"]
        for region in (REGION_A, REGION_B)
        for fl in _client(server, "ec2", region).describe_flow_logs()["FlowLogs"]
    }


def _role(server) -> str:
    iam = _client(server, "iam")
    try:
        return iam.get_role(RoleName="flow-logs-delivery")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        return iam.create_role(
            RoleName="flow-logs-delivery", AssumeRolePolicyDocument=json.dumps(trust_policy())
        )["Role"]["Arn"]


def _cli(env: dict[str, str], *args: str, show: bool = True) -> subprocess.CompletedProcess:
    if show:
        print(f"\n$ vpc-flow-logs {' '.join(args)}\n", flush=True)
    done = run_cli(list(args), env)
    if show:
        print(done.stdout.rstrip())
        if done.stderr.strip():
            print(done.stderr.rstrip())
    return done


def _table(names: dict[str, str], before: dict[str, str], after: ProwlerRun, label: str) -> None:
    width = max(len(n) for n in names.values())
    print(f"\n{'VPC (Name tag)':<{width}}  {'before':<7} {label}")
    for vpc_id, status in sorted(after.statuses().items(), key=lambda kv: names.get(kv[0], kv[0])):
        print(f"{names.get(vpc_id, vpc_id):<{width}}  {before.get(vpc_id, '-'):<7} {status}")


def _fail(message: str) -> None:
    print(f"demo: {message}", file=sys.stderr)
    raise SystemExit(1)


def run_remediation_demo(server, env: dict[str, str], estate: Estate) -> None:
    """Plan, fix, rescan (failing VPCs pass), back out, rescan (original verdicts and flow log ids)."""
    print("\n==== Remediation: a planned fix and an exact backout ====")
    names = {vpc_id: name for name, vpc_id in estate.vpcs.items()}
    expected = estate.expected("REJECT")
    before_ids = _flow_logs(server)
    role = _role(server)
    with tempfile.TemporaryDirectory() as tmp:
        state = ["--state-dir", str(Path(tmp) / "state")]
        destination = [
            "--log-destination-type",
            "cloud-watch-logs",
            "--log-group-name",
            "/vpc/flow-logs-remediation",
            "--deliver-logs-permission-arn",
            role,
            "--create-log-group",
            "--retention-in-days",
            "90",
        ]
        _cli(env, "fix", *REGIONS, *destination, "--dry-run", *state)
        if _flow_logs(server) != before_ids:
            _fail("the dry run changed the estate")

        print(f"\n$ vpc-flow-logs fix {' '.join(REGIONS)} ... --yes --output json\n", flush=True)
        done = _cli(
            env, "fix", *REGIONS, *destination, "--yes", "--output", "json", *state, show=False
        )
        if done.returncode != 0:
            print(done.stderr)
            _fail("fix failed")
        result = json.loads(done.stdout)
        run_id = result["run_id"]
        for created in result["created"]:
            print(
                f"  created {created['flow_log_id']} for {names.get(created['vpc_id'], created['vpc_id'])} in {created['region']}"
            )
        print(
            f"  run {run_id}: {len(result['created'])} created, {len(result['skipped'])} skipped, {len(result['failed'])} failed"
        )

        print(
            "\n$ prowler aws --checks vpc_flow_logs_enabled -f us-east-1 eu-west-1   (after the fix)"
        )
        fixed = run_prowler(
            ["--checks", "vpc_flow_logs_enabled", "-f", REGION_A, REGION_B], env, Path(tmp), "fixed"
        )
        _table(names, expected, fixed, "after fix")
        if "FAIL" in fixed.statuses().values():
            _fail("a VPC still fails after the fix")

        again = _cli(
            env, "fix", *REGIONS, *destination, "--yes", "--output", "json", *state, show=False
        )
        if json.loads(again.stdout)["created"]:
            _fail("a second fix created flow logs")
        print("\nA second `vpc-flow-logs fix` creates nothing: every targeted VPC passes.")

        _cli(env, "runs", *state)
        _cli(env, "backout", run_id, "--yes", *state)

        print(
            "\n$ prowler aws --checks vpc_flow_logs_enabled -f us-east-1 eu-west-1   (after the backout)"
        )
        restored = run_prowler(
            ["--checks", "vpc_flow_logs_enabled", "-f", REGION_A, REGION_B],
            env,
            Path(tmp),
            "restored",
        )
        _table(names, expected, restored, "after backout")
        if restored.statuses() != expected:
            _fail("the backout did not bring the original verdicts back")
        if _flow_logs(server) != before_ids:
            _fail("the backout did not leave exactly the original flow logs")
        print(
            f"\nBackout left exactly the {len(before_ids)} flow logs that existed before the fix, "
            "and every VPC has its original verdict."
        )


if __name__ == "__main__":  # standalone: python -m devtools.demo_remediation
    from devtools.demo import client_factory
    from devtools.estate import seed_policy_estate
    from devtools.moto_server import MotoServer

    moto = MotoServer().start()
    try:
        run_remediation_demo(moto, moto.env(), seed_policy_estate(client_factory(moto)))
    finally:
        moto.stop()
