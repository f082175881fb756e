"""Benchmark `vpc-flow-logs fix --organization` against the one-by-one sequential approach.

One moto server on 127.0.0.1 (in this process). For each size, an organization of N accounts
(the management account and N-1 members, reached through OrganizationAccountAccessRole) is
seeded straight into moto's backends: per account and region, V in-use VPCs of which F have no
flow log (the rest already log to the central bucket). Then the real `vpc-flow-logs fix
--organization` runs as a subprocess under ``devtools.callprobe`` with a latency injected before
every API call (100 ms by default, about an AWS round trip), counting every call:

* ours: the defaults (places in parallel, batches of 100 VPCs per CreateFlowLogs);
* one by one: ``--max-workers 1 --batch-size 1``, one CreateFlowLogs per VPC, one place after
  the other, as the fix worked before (measured up to ``--sequential-max`` accounts; above that
  its time is estimated from the largest measured size, per VPC, and marked so).

    python -m devtools.bench_org [--sizes 1,10,50] [--vpcs 100] [--fix 100] [--latency-ms 100]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from moto.backends import get_backend

from devtools.aws_boundary import log_archive_policy
from devtools.moto_server import MotoServer, moto_server
from devtools.org_estate import BUCKET, REGIONS, ROLE, create_organization

REPO = Path(__file__).resolve().parent.parent


def seed(
    server: MotoServer,
    accounts: int,
    vpcs: int,
    failing: int,
    regions: tuple[str, ...] = REGIONS,
    conflicting: int = 0,
) -> list[str]:
    """An organization of ``accounts`` accounts, seeded into moto's backends; their ids. Of the
    failing VPCs, ``conflicting`` (spread evenly) have an ACCEPT-only flow log to the central
    bucket: they fail the check, and AWS takes no second flow log of theirs to that bucket."""
    management, members = create_organization(
        server.client("organizations"), server.client("sts"), accounts - 1, name="m"
    )
    ids = [management, *members]
    server.client("s3").create_bucket(Bucket=BUCKET)
    server.client("s3").put_bucket_policy(Bucket=BUCKET, Policy=log_archive_policy(BUCKET))
    every = failing // conflicting if conflicting else 0
    for account in ids:
        for region in regions:
            ec2 = get_backend("ec2")[account][region]
            logged, accept_only = [], []
            for i in range(vpcs):
                cidr = f"10.{i // 256 % 256}.{i % 256}.0/24"
                vpc = ec2.create_vpc(cidr_block=cidr)
                subnet = ec2.create_subnet(vpc_id=vpc.id, cidr_block=cidr)
                ec2.create_network_interface(subnet, None)
                if i >= failing:
                    logged.append(vpc.id)
                elif every and i % every == every // 2 and len(accept_only) < conflicting:
                    accept_only.append(vpc.id)
            for traffic, resource_ids in (("ALL", logged), ("ACCEPT", accept_only)):
                if resource_ids:
                    ec2.create_flow_logs(
                        resource_type="VPC", resource_ids=resource_ids, traffic_type=traffic,
                        deliver_logs_permission_arn=None, log_destination_type="s3",
                        log_destination=f"arn:aws:s3:::{BUCKET}", log_group_name=None,
                        log_format=None, max_aggregation_interval=None,
                    )  # fmt: skip
    return ids


def run_fix(
    server: MotoServer,
    work: Path,
    name: str,
    latency_ms: float,
    extra: list[str],
    regions: tuple[str, ...] = REGIONS,
) -> dict[str, Any]:
    """The real `vpc-flow-logs fix --organization` under callprobe: wall time and API calls."""
    report = work / f"{name}.json"
    args = [
        "fix", "--organization", "--role-name", ROLE, *[a for r in regions for a in ("--region", r)],
        "--log-destination-type", "s3", "--log-destination", f"arn:aws:s3:::{BUCKET}",
        "--yes", "--output", "json", *extra,
    ]  # fmt: skip
    command = [sys.executable, "-m", "devtools.callprobe", "--program", "vpc-flow-logs", "--out",
               str(report), "--latency-ms", str(latency_ms), "--", *args]  # fmt: skip
    env = server.env(VPC_FLOW_LOGS_STATE_DIR=str(work / "state"), PYTHONPATH=str(REPO))
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=REPO, timeout=7200)
    wall = time.perf_counter() - started
    if done.returncode not in (0, 1) or not done.stdout.strip():  # 1: some VPC cannot be fixed
        raise SystemExit(f"{name}: exit {done.returncode}\n{done.stderr[-3000:]}")
    probe = json.loads(report.read_text())
    calls = Counter()
    for row in probe["calls"]:
        calls[f"{row['service']}:{row['operation']}"] += row["calls"]
    result = json.loads(done.stdout)
    conflicts = sum(1 for skip in result["skipped"] if skip["kind"] == "conflict")
    return {"wall_s": round(wall, 2), "created": len(result["created"]), "calls": sum(calls.values()),
            "create_calls": calls["ec2:CreateFlowLogs"], "conflicts": conflicts,
            "left_untagged": len(result["untagged"]), "by_operation": dict(calls)}  # fmt: skip


def measure(args: argparse.Namespace) -> dict[str, Any]:
    rows = []
    with moto_server() as server, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cases = [("target", 3, 30, 20)] + [("size", n, args.vpcs, args.fix) for n in args.sizes]
        for kind, accounts, vpcs, failing in cases:
            for approach, extra in (
                ("ours", []),
                ("one by one", ["--max-workers", "1", "--batch-size", "1"]),
            ):
                if approach == "one by one" and (
                    kind == "target" or accounts > args.sequential_max
                ):
                    continue
                server.reset()
                seed(server, accounts, vpcs, failing)
                name = f"{kind}-{accounts}-{approach.replace(' ', '-')}"
                print(
                    f"{name}: {accounts} account(s) x {len(REGIONS)} regions x {vpcs} VPCs ({failing} to fix each)",
                    flush=True,
                )
                result = run_fix(server, work, name, args.latency_ms, extra)
                assert result["created"] == accounts * len(REGIONS) * failing, result
                rows.append({"kind": kind, "accounts": accounts, "vpcs": vpcs, "failing": failing,
                             "approach": approach, **result})  # fmt: skip
                print(
                    f"  {result['wall_s']} s, {result['calls']} API calls, {result['create_calls']} CreateFlowLogs",
                    flush=True,
                )
        # one region, 1,000 VPCs to fix, clean and with VPCs whose flow log already writes to the
        # bucket (issue 19): the conflicting ones are named in the plan, the calls stay the same
        one_region = REGIONS[:1]
        for conflicting in (0, args.conflicts):
            server.reset()
            seed(server, 1, args.large, args.large, one_region, conflicting)
            name = f"conflicts-{conflicting}"
            print(
                f"{name}: 1 account x 1 region x {args.large} VPCs to fix, {conflicting} conflicting",
                flush=True,
            )
            result = run_fix(server, work, name, args.latency_ms, [], one_region)
            assert (
                result["created"] == args.large - conflicting == args.large - result["conflicts"]
            ), result
            assert result["left_untagged"] == 0, result
            rows.append({"kind": "conflicts", "accounts": 1, "vpcs": args.large,
                         "failing": args.large, "approach": "ours", **result})  # fmt: skip
            print(
                f"  {result['wall_s']} s, {result['calls']} API calls, {result['create_calls']} CreateFlowLogs, "
                f"{result['conflicts']} named in the plan",
                flush=True,
            )
    return {
        "date": dt.date.today().isoformat(),
        "latency_ms": args.latency_ms,
        "cpus": os.cpu_count(),
        "rows": rows,
    }


def table(result: dict[str, Any]) -> str:
    """Markdown: per size, ours against one by one (measured, or estimated per VPC)."""
    rows = result["rows"]
    sequential = [r for r in rows if r["approach"] == "one by one"]
    per_vpc = sequential[-1]["wall_s"] / sequential[-1]["created"] if sequential else None
    lines = [
        "| accounts x regions x VPCs (to fix) | ours: wall s | ours: API calls (CreateFlowLogs) | one by one: wall s | one by one: API calls (CreateFlowLogs) | speed-up |",
        "|---|---|---|---|---|---|",
    ]
    for ours in [r for r in rows if r["approach"] == "ours" and r["kind"] != "conflicts"]:
        mine = next(
            (
                r
                for r in sequential
                if r["accounts"] == ours["accounts"] and r["kind"] == ours["kind"]
            ),
            None,
        )
        if mine:
            seq_wall, seq_calls = (
                f"{mine['wall_s']:.1f}",
                f"{mine['calls']:,} ({mine['create_calls']:,})",
            )
        elif per_vpc and ours["kind"] == "size":
            seq_wall, seq_calls = f"~{per_vpc * ours['created']:.0f} (estimated)", "not run"
        else:
            seq_wall, seq_calls = "not run", "not run"
        base = (
            mine["wall_s"]
            if mine
            else (per_vpc * ours["created"] if per_vpc and ours["kind"] == "size" else None)
        )
        speed = f"{base / ours['wall_s']:.0f}x" if base else "-"
        label = f"{ours['accounts']} x {len(REGIONS)} x {ours['vpcs']} ({ours['created']:,})"
        lines.append(
            f"| {label} | {ours['wall_s']:.1f} | {ours['calls']:,} ({ours['create_calls']:,}) | {seq_wall} | {seq_calls} | {speed} |"
        )
    conflicts = [r for r in rows if r["kind"] == "conflicts"]
    if conflicts:
        lines += [
            "",
            "| 1 x 1 x VPCs to fix | already writing to the bucket (named in the plan) | created | wall s | API calls (CreateFlowLogs) | left untagged |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {r['vpcs']:,} | {r['conflicts']} | {r['created']:,} | {r['wall_s']:.1f} | "
            f"{r['calls']:,} ({r['create_calls']}) | {r['left_untagged']} |"
            for r in conflicts
        ]
    return "\n".join(lines)


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for approach, marker in (("ours", "o"), ("one by one", "s")):
        points = [
            (r["created"], r["wall_s"])
            for r in result["rows"]
            if r["approach"] == approach and r["kind"] == "size"
        ]
        if points:
            ax.plot(*zip(*points, strict=True), marker=marker, label=approach)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("flow logs created (accounts x 2 regions x VPCs to fix)")
    ax.set_ylabel(f"wall time, s ({result['latency_ms']:.0f} ms per API call)")
    ax.set_title("vpc-flow-logs fix --organization")
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench_org", description=__doc__)
    parser.add_argument(
        "--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[1, 10, 50]
    )
    parser.add_argument("--vpcs", type=int, default=100, help="in-use VPCs per account and region")
    parser.add_argument("--fix", type=int, default=100, help="of which without flow logs")
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--large", type=int, default=1000, help="VPCs of the one-region case")
    parser.add_argument(
        "--conflicts", type=int, default=100, help="of which already log ACCEPT to the bucket"
    )
    parser.add_argument(
        "--sequential-max", type=int, default=10, help="largest size run one by one"
    )
    parser.add_argument("--out-dir", type=Path, default=REPO / "docs")
    parser.add_argument(
        "--render", type=Path, help="redo the table and plot from this JSON; run nothing"
    )
    args = parser.parse_args(argv)
    result = json.loads(args.render.read_text()) if args.render else measure(args)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    if not args.render:
        (args.out_dir / "bench-org.json").write_text(json.dumps(result, indent=1) + "\n")
    plot(result, args.out_dir / "bench-org.png")
    print("\n" + table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
