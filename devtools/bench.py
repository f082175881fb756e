"""Benchmark our vpc_flow_logs_enabled against Prowler's built-in, as the estate grows.

One moto server on 127.0.0.1 (in this process). For each N (VPCs per region, in
two regions, besides moto's default VPC) the estate is seeded once into moto's
backends (see ``devtools.bench_estate``), then the real ``prowler aws --checks
vpc_flow_logs_enabled --scan-unused-services -f REGIONS`` runs as a subprocess
under ``devtools.callprobe``, which counts every botocore call (pages included)
and times the check's service construction (data collection). Each check runs
without and with an injected per-call latency. N = 0 with our check is Prowler's
start-up floor. Prowler's built-in is switched in with ``vpc-flow-logs uninstall``
and out with ``vpc-flow-logs install``; our check is reinstalled whatever happens
(exception, SIGINT, SIGTERM). Prints a table; writes JSON and a PNG plot.

    python -m devtools.bench [--sizes 0,10,100,500,1000] [--builtin-max 500] ...
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import logging
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from devtools.bench_estate import REGIONS, BenchEstate, seed
from devtools.bench_report import BUILTIN, OURS, fmt_s, publish
from devtools.moto_server import MotoServer

REPO = Path(__file__).resolve().parent.parent
CHECK = "vpc_flow_logs_enabled"


class Interrupted(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C so that every ``finally`` runs."""


def _raise_interrupted(signum: int, frame: object) -> None:
    raise Interrupted(f"signal {signum}")


class Switch:
    """Which check Prowler runs, through the ``vpc-flow-logs`` CLI of this interpreter's venv."""

    def __init__(self, bin_dir: Path) -> None:
        self.cli = str(bin_dir / "vpc-flow-logs")

    def _run(self, command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.cli, command], capture_output=True, text=True)

    def ours_active(self) -> bool:
        return self._run("status").returncode == 0

    def install(self) -> None:
        """Make our check active; raises if the CLI fails."""
        result = self._run("install")
        if result.returncode != 0 or not self.ours_active():
            raise RuntimeError(f"vpc-flow-logs install failed: {result.stdout}{result.stderr}")

    def restore_ours(self) -> None:
        """Reinstall our check with SIGINT/SIGTERM held off, so a second Ctrl-C cannot skip it."""
        old = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.install()
        finally:
            for sig, handler in old.items():
                signal.signal(sig, handler)

    @contextmanager
    def builtin(self) -> Iterator[None]:
        """Prowler's built-in check inside the block, ours again after it (always)."""
        try:
            result = self._run("uninstall")
            if result.returncode != 0:
                raise RuntimeError(
                    f"vpc-flow-logs uninstall failed: {result.stdout}{result.stderr}"
                )
            yield
        finally:
            self.restore_ours()


class Runner:
    """Runs ``prowler`` under the call probe and keeps what each run measured."""

    def __init__(self, server: MotoServer, regions: tuple[str, ...], work: Path) -> None:
        self.server = server
        self.regions = regions
        self.work = work
        self.child: subprocess.Popen[bytes] | None = None
        self.count = 0

    def kill_child(self) -> None:
        """Stop the prowler run in progress (its own process group), if any."""
        if self.child is not None and self.child.returncode is None:
            try:
                os.killpg(self.child.pid, signal.SIGTERM)
                self.child.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired, ChildProcessError):
                os.killpg(self.child.pid, signal.SIGKILL)

    def run(self, check: str, estate: BenchEstate, latency_ms: float) -> dict[str, Any]:
        self.count += 1
        run_dir = self.work / f"{self.count:02d}-{check}-{estate.vpcs_per_region}-{latency_ms:g}ms"
        run_dir.mkdir(parents=True)
        probe = run_dir / "probe.json"
        command = [
            sys.executable, "-m", "devtools.callprobe", "--out", str(probe),
            "--latency-ms", f"{latency_ms:g}", "--",
            "aws", "--checks", CHECK, "--scan-unused-services", "-f", *self.regions,
            "-o", str(run_dir / "output"), "--ignore-exit-code-3",
        ]  # fmt: skip
        load = round(os.getloadavg()[0], 2)  # other work on the machine skews wall times
        with open(run_dir / "prowler.log", "wb") as log:
            start = time.perf_counter()
            self.child = subprocess.Popen(
                command,
                cwd=REPO,
                env=self.server.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            _, status, usage = os.wait4(self.child.pid, 0)
            wall = time.perf_counter() - start
            self.child.returncode = os.waitstatus_to_exitcode(status)
        if self.child.returncode != 0 or not probe.exists():
            raise RuntimeError(
                f"prowler failed ({self.child.returncode}); see {run_dir / 'prowler.log'}"
            )
        return summarize(
            json.loads(probe.read_text()), check, estate, latency_ms, wall,
            usage.ru_maxrss / 1024, findings(run_dir / "output"),
        ) | {"cpu_s": round(usage.ru_utime + usage.ru_stime, 2), "load_avg_1m": load}  # fmt: skip


def findings(output_dir: Path) -> dict[str, int]:
    """Status -> count, from the run's OCSF JSON output."""
    counts: Counter[str] = Counter()
    for path in output_dir.glob("*.ocsf.json"):
        for finding in json.loads(path.read_text() or "[]"):
            counts[str(finding.get("status_code", "?"))] += 1
    return dict(counts)


def summarize(
    probe: dict[str, Any], check: str, estate: BenchEstate, latency_ms: float, wall: float,
    rss_mb: float, statuses: dict[str, int],
) -> dict[str, Any]:  # fmt: skip
    """One run's record: times, memory, and API calls by phase, region and operation."""
    calls = probe["calls"]
    collection = [c for c in calls if c["phase"] == "collection"]
    per_region: Counter[str] = Counter()
    ec2_per_region: Counter[str] = Counter()
    by_operation: Counter[str] = Counter()
    for c in collection:
        per_region[c["region"]] += c["calls"]
        by_operation[f"{c['service']}:{c['operation']}"] += c["calls"]
        if c["service"] == "ec2":
            ec2_per_region[c["region"]] += c["calls"]
    return {
        "check": check,
        "vpcs_per_region": estate.vpcs_per_region,
        "total_vpcs": estate.total_vpcs,
        "latency_ms": latency_ms,
        "wall_s": round(wall, 3),
        "peak_rss_mb": round(rss_mb, 1),
        "collection_s": probe["collection_s"],
        "first_to_last_call_s": probe["first_to_last_call_s"],
        "services": probe["services"],
        "calls_total": sum(c["calls"] for c in calls),
        "calls_startup": sum(c["calls"] for c in calls if c["phase"] == "startup"),
        "calls_collection": sum(c["calls"] for c in collection),
        "calls_collection_per_region": dict(sorted(per_region.items())),
        "ec2_calls_per_region": dict(sorted(ec2_per_region.items())),
        "non_ec2_collection_calls": sum(c["calls"] for c in collection if c["service"] != "ec2"),
        "continuation_pages": sum(c["continuations"] for c in calls),
        "calls_by_operation": dict(sorted(by_operation.items())),
        "calls": calls,
        "findings": statuses,
        "findings_ok": sum(statuses.values()) == estate.total_vpcs,
    }


def versions() -> dict[str, str]:
    info = {"python": platform.python_version(), "cpus": str(os.cpu_count())}
    for dist in ("prowler", "moto", "botocore", "prowler-vpc-flow-logs"):
        try:
            info[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            info[dist] = "?"
    return info


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    sizes = parser.add_argument_group("estate")
    sizes.add_argument("--sizes", default="10,100,500,1000",
                       help="VPCs per region, comma-separated (N=0, the floor, is always run)")  # fmt: skip
    sizes.add_argument("--builtin-max", type=int, default=500,
                       help="largest N for the built-in check (it takes ~7.5 min at 1,000); -1: no cap")  # fmt: skip
    sizes.add_argument("--builtin-latency-max", type=int, default=100,
                       help="largest N for the built-in check with injected latency; -1: no cap")  # fmt: skip
    parser.add_argument("--latency-ms", type=float, default=100.0, help="injected per-call latency")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per no-latency measurement, median wall kept (the built-in above "
                             "N=100 runs once: minutes long, noise is small against it)")  # fmt: skip
    parser.add_argument(
        "--out-dir", type=Path, default=REPO / "docs", help="bench.json and bench.png go here"
    )
    parser.add_argument("--render", type=Path, metavar="JSON",
                        help="run nothing: redo the table, targets and plot from a bench.json")  # fmt: skip
    parser.add_argument(
        "--keep-runs", action="store_true", help="keep each run's Prowler output and log"
    )
    return parser.parse_args(argv)


def measure(
    runner: Runner, check: str, estate: BenchEstate, latency: float, repeat: int
) -> dict[str, Any]:
    """Run ``repeat`` times; the record of the median-wall run, with every wall time kept."""
    records = [runner.run(check, estate, latency) for _ in range(max(1, repeat))]
    walls = [r["wall_s"] for r in records]
    chosen = sorted(records, key=lambda r: r["wall_s"])[(len(records) - 1) // 2]
    chosen = {
        **chosen,
        "wall_s": round(statistics.median(walls), 3),
        "wall_s_runs": walls,
        "cpu_s": statistics.median(r["cpu_s"] for r in records),
        "cpu_s_runs": [r["cpu_s"] for r in records],
        "peak_rss_mb_runs": [r["peak_rss_mb"] for r in records],
    }
    status = "ok" if chosen["findings_ok"] else f"EXPECTED {estate.total_vpcs} FINDINGS"
    print(
        f"  {check:8} N={estate.vpcs_per_region:<5} latency={latency:>4g} ms  wall={chosen['wall_s']:7.2f} s  "
        f"cpu={chosen['cpu_s']:6.1f} s  collection={fmt_s(chosen['collection_s']):>6} s  rss={chosen['peak_rss_mb']:6.0f} MB  "
        f"calls={chosen['calls_total']:>5}  findings={chosen['findings']} {status}",
        flush=True,
    )
    return chosen


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render:
        publish(json.loads(args.render.read_text()), args.out_dir)
        return 0
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()} - {0})
    cap = args.builtin_max if args.builtin_max >= 0 else max(sizes, default=0)
    cap_latency = (
        args.builtin_latency_max if args.builtin_latency_max >= 0 else max(sizes, default=0)
    )
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    bin_dir = Path(sys.executable).parent
    switch = Switch(bin_dir)
    work = Path(tempfile.mkdtemp(prefix="vpc-flow-logs-bench-"))
    server = MotoServer().start()
    runner = Runner(server, REGIONS, work)
    runs: list[dict[str, Any]] = []
    latency = args.latency_ms
    print(f"prowler from {bin_dir}; moto at {server.url}; runs in {work}")
    print(f"sizes (VPCs per region, 2 regions): 0 (floor), {', '.join(map(str, sizes))}; "
          f"built-in capped at N<={cap} (no latency) and N<={cap_latency} ({latency:g} ms latency)"
          + ("" if cap >= max(sizes, default=0) else "; lift with --builtin-max -1"), flush=True)  # fmt: skip
    old_term = signal.signal(signal.SIGTERM, _raise_interrupted)
    started = time.perf_counter()
    try:
        switch.install()  # ours active to begin with, whatever the venv had
        for n in [0, *sizes]:
            server.reset()
            t0 = time.perf_counter()
            estate = seed(n)
            print(f"N={n}: seeded {estate.total_vpcs} VPCs ({estate.with_flow_log}/region with a flow log, "
                  f"{estate.in_use}/region in use) in {time.perf_counter() - t0:.1f} s", flush=True)  # fmt: skip
            runs.append(measure(runner, OURS, estate, 0, args.repeat))
            runs.append(measure(runner, OURS, estate, latency, 1))
            if n <= cap:
                with switch.builtin():
                    runs.append(measure(runner, BUILTIN, estate, 0, args.repeat if n <= 100 else 1))
                    if n <= cap_latency:
                        runs.append(measure(runner, BUILTIN, estate, latency, 1))
    except KeyboardInterrupt:
        print("interrupted: restoring our check", file=sys.stderr)
        runner.kill_child()
        return 130
    finally:
        runner.kill_child()
        switch.restore_ours()
        signal.signal(signal.SIGTERM, old_term)
        server.stop()
        print(f"our check is active again: {switch.ours_active()}", flush=True)
        if not args.keep_runs:
            subprocess.run(["rm", "-rf", str(work)], check=False)

    result = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "versions": versions(),
        "settings": {
            "regions": list(REGIONS),
            "sizes": sizes,
            "latency_ms": latency,
            "repeat": args.repeat,
            "builtin_max": cap,
            "builtin_latency_max": cap_latency,
            "prowler_args": [
                "aws",
                "--checks",
                CHECK,
                "--scan-unused-services",
                "-f",
                *REGIONS,
                "-o",
                "<tmp>",
                "--ignore-exit-code-3",
            ],
            "estate": "N VPCs per region besides moto's default VPC; even-numbered half with one ALL "
            "flow log (alternately to a CloudWatch log group and an S3 bucket of the region); "
            "every 4th VPC with one subnet and one network interface",
        },  # fmt: skip
        "bench_wall_s": round(time.perf_counter() - started, 1),
        "runs": runs,
    }
    publish(result, args.out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
