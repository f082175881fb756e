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

from devtools.bench_estate import REGIONS, BenchEstate, distinct_destinations, seed
from devtools.moto_server import MotoServer

REPO = Path(__file__).resolve().parent.parent
CHECK = "vpc_flow_logs_enabled"
OURS, BUILTIN = "ours", "built-in"

# Targets from issue 5 (at the largest N, 1,000 VPCs per region).
TARGET_EC2_CALLS_PER_REGION = 8
TARGET_FLOOR_RATIO = 1.3
TARGET_SPEEDUP = 20.0
TARGET_COLLECTION_S = 2.0
TARGET_RSS_DELTA_MB = 50.0


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
                raise RuntimeError(f"vpc-flow-logs uninstall failed: {result.stdout}{result.stderr}")
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
                command, cwd=REPO, env=self.server.env(), stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            _, status, usage = os.wait4(self.child.pid, 0)
            wall = time.perf_counter() - start
            self.child.returncode = os.waitstatus_to_exitcode(status)
        if self.child.returncode != 0 or not probe.exists():
            raise RuntimeError(f"prowler failed ({self.child.returncode}); see {run_dir / 'prowler.log'}")
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


def fmt_s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}" if value < 10 else f"{value:.1f}"


def pick(runs: list[dict[str, Any]], check: str, n: int, latency: float) -> dict[str, Any] | None:
    return next(
        (r for r in runs if r["check"] == check and r["vpcs_per_region"] == n and r["latency_ms"] == latency),
        None,
    )


def per_region(run: dict[str, Any] | None) -> str:
    if run is None:
        return "-"
    values = run["calls_collection_per_region"].values()
    return str(max(values, default=0))


def table(runs: list[dict[str, Any]], sizes: list[int], latency: float, floor: dict[str, Any]) -> str:
    """The results as a Markdown table ("-": not run)."""
    lines = [
        "| VPCs/region | ours: wall s (x floor) | ours: CPU s (x floor) | built-in: wall s | built-in / ours | "
        "ours: peak RSS MB (vs floor) | built-in: peak RSS MB | "
        "API calls/region in collection: ours / built-in | whole-run API calls: ours / built-in | "
        f"collection s at {latency:g} ms/call: ours / built-in |",
        "|" + "---|" * 10,
    ]
    for n in sizes:
        ours, builtin = pick(runs, OURS, n, 0), pick(runs, BUILTIN, n, 0)
        ours_l, builtin_l = pick(runs, OURS, n, latency), pick(runs, BUILTIN, n, latency)
        if ours is None:
            continue
        cells = [
            f"{n:,}",
            f"{fmt_s(ours['wall_s'])} ({ours['wall_s'] / floor['wall_s']:.2f}x)",
            f"{fmt_s(ours['cpu_s'])} ({ours['cpu_s'] / floor['cpu_s']:.2f}x)",
            fmt_s(builtin["wall_s"]) if builtin else "-",
            f"{builtin['wall_s'] / ours['wall_s']:.1f}x" if builtin else "-",
            f"{ours['peak_rss_mb']:.0f} ({ours['peak_rss_mb'] - floor['peak_rss_mb']:+.0f})",
            f"{builtin['peak_rss_mb']:.0f}" if builtin else "-",
            f"{per_region(ours)} / {per_region(builtin)}",
            f"{ours['calls_total']:,} / " + (f"{builtin['calls_total']:,}" if builtin else "-"),
            f"{fmt_s(ours_l['collection_s'] if ours_l else None)} / "
            + fmt_s(builtin_l["collection_s"] if builtin_l else None),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def targets(runs: list[dict[str, Any]], largest: int, latency: float, floor: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of issue 5 at the largest N: measured value, limit, met or not."""
    ours = pick(runs, OURS, largest, 0)
    ours_l = pick(runs, OURS, largest, latency)
    result: list[dict[str, Any]] = []
    if ours is None:
        return result
    ec2_max = max(ours["ec2_calls_per_region"].values(), default=0)
    destinations = distinct_destinations(largest)
    result.append({
        "target": f"API calls per region at N={largest}: <= {TARGET_EC2_CALLS_PER_REGION} + 1 per distinct destination",
        "measured": f"{ec2_max} EC2 calls per region + {ours['non_ec2_collection_calls']} destination probes "
                    f"for {destinations} distinct destinations",
        "met": ec2_max <= TARGET_EC2_CALLS_PER_REGION and ours["non_ec2_collection_calls"] <= destinations,
    })  # fmt: skip
    ratio = ours["wall_s"] / floor["wall_s"]
    cpu_ratio = ours["cpu_s"] / floor["cpu_s"]
    result.append({
        "target": f"whole run at N={largest} <= {TARGET_FLOOR_RATIO}x start-up floor",
        "measured": f"wall {ours['wall_s']:.2f} s / {floor['wall_s']:.2f} s = {ratio:.2f}x "
                    f"(Prowler process CPU {ours['cpu_s']:.1f} s / {floor['cpu_s']:.1f} s = {cpu_ratio:.2f}x)",
        "met": ratio <= TARGET_FLOOR_RATIO,
    })  # fmt: skip
    builtins = [r for r in runs if r["check"] == BUILTIN and r["latency_ms"] == 0 and r["vpcs_per_region"] > 0]
    if builtins:
        b = max(builtins, key=lambda r: r["vpcs_per_region"])
        o = pick(runs, OURS, b["vpcs_per_region"], 0)
        speedup = b["wall_s"] / o["wall_s"] if o else 0.0
        at = b["vpcs_per_region"]
        result.append({
            "target": f">= {TARGET_SPEEDUP:g}x faster than the built-in at N={largest}",
            "measured": f"{speedup:.1f}x at N={at}" + ("" if at == largest else
                        f" (built-in capped at N={at}; not measured at N={largest})"),
            "met": speedup >= TARGET_SPEEDUP if at == largest else None,
        })  # fmt: skip
    if ours_l is not None:
        result.append({
            "target": f"data collection at N={largest} under {latency:g} ms/call <= {TARGET_COLLECTION_S:g} s",
            "measured": f"{ours_l['collection_s']:.2f} s",
            "met": ours_l["collection_s"] <= TARGET_COLLECTION_S,
        })  # fmt: skip
    delta = ours["peak_rss_mb"] - floor["peak_rss_mb"]
    result.append({
        "target": f"peak RSS at N={largest} within {TARGET_RSS_DELTA_MB:g} MB of the floor",
        "measured": f"{ours['peak_rss_mb']:.0f} MB vs {floor['peak_rss_mb']:.0f} MB ({delta:+.0f} MB)",
        "met": delta <= TARGET_RSS_DELTA_MB,
    })  # fmt: skip
    return result


def plot(runs: list[dict[str, Any]], latency: float, floor: dict[str, Any], path: Path) -> None:
    """Whole-run wall time and latency-injected collection time against N, log scales."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter

    labels = {OURS: "our check", BUILTIN: "Prowler's built-in check"}
    for check, style in ((OURS, "o-"), (BUILTIN, "s--")):
        pts = sorted((r["vpcs_per_region"], r["wall_s"]) for r in runs
                     if r["check"] == check and r["latency_ms"] == 0 and r["vpcs_per_region"] > 0)  # fmt: skip
        if pts:
            left.plot(*zip(*pts, strict=True), style, label=labels[check])
        pts = sorted((r["vpcs_per_region"], r["collection_s"]) for r in runs
                     if r["check"] == check and r["latency_ms"] == latency and r["vpcs_per_region"] > 0)  # fmt: skip
        if pts:
            right.plot(*zip(*pts, strict=True), style, label=labels[check])
    left.axhline(floor["wall_s"], color="grey", linestyle=":", label="Prowler start-up floor (empty estate)")
    left.axhline(floor["wall_s"] * TARGET_FLOOR_RATIO, color="green", linestyle=":", alpha=0.6,
                 label=f"{TARGET_FLOOR_RATIO}x floor (target)")  # fmt: skip
    right.axhline(TARGET_COLLECTION_S, color="green", linestyle=":", alpha=0.6,
                  label=f"{TARGET_COLLECTION_S:g} s (target)")  # fmt: skip
    left.set_title("Whole `prowler aws --checks vpc_flow_logs_enabled` run")
    left.set_ylabel("wall time (s)")
    right.set_title(f"Data collection with {latency:g} ms injected per API call")
    right.set_ylabel("service construction time (s)")
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("VPCs per region (2 regions, moto)")
        ax.grid(True, which="both", alpha=0.3)
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.yaxis.set_major_formatter(ScalarFormatter())
        ax.yaxis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
        ax.yaxis.set_minor_formatter(ScalarFormatter())
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


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
    parser.add_argument("--out-dir", type=Path, default=REPO / "docs", help="bench.json and bench.png go here")
    parser.add_argument("--render", type=Path, metavar="JSON",
                        help="run nothing: redo the table, targets and plot from a bench.json")  # fmt: skip
    parser.add_argument("--keep-runs", action="store_true", help="keep each run's Prowler output and log")
    return parser.parse_args(argv)


def measure(runner: Runner, check: str, estate: BenchEstate, latency: float, repeat: int) -> dict[str, Any]:
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
    cap_latency = args.builtin_latency_max if args.builtin_latency_max >= 0 else max(sizes, default=0)
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
            "regions": list(REGIONS), "sizes": sizes, "latency_ms": latency, "repeat": args.repeat,
            "builtin_max": cap, "builtin_latency_max": cap_latency,
            "prowler_args": ["aws", "--checks", CHECK, "--scan-unused-services", "-f", *REGIONS,
                             "-o", "<tmp>", "--ignore-exit-code-3"],
            "estate": "N VPCs per region besides moto's default VPC; even-numbered half with one ALL "
                      "flow log (alternately to a CloudWatch log group and an S3 bucket of the region); "
                      "every 4th VPC with one subnet and one network interface",
        },  # fmt: skip
        "bench_wall_s": round(time.perf_counter() - started, 1),
        "runs": runs,
    }
    publish(result, args.out_dir)
    return 0


def publish(result: dict[str, Any], out_dir: Path) -> None:
    """Print the table and the targets; write bench.json and bench.png into ``out_dir``."""
    runs, sizes = result["runs"], result["settings"]["sizes"]
    latency = result["settings"]["latency_ms"]
    floor = pick(runs, OURS, 0, 0)
    assert floor is not None, "no floor run (our check at N=0)"
    md = table(runs, [0, *sizes], latency, floor)
    goals = targets(runs, max(sizes, default=0), latency, floor)
    print(f"\n{md}\n")
    for goal in goals:
        mark = {True: "MET", False: "MISSED", None: "NOT MEASURED"}[goal["met"]]
        print(f"[{mark}] {goal['target']}: {goal['measured']}")
    result |= {
        "floor": {k: floor[k] for k in ("wall_s", "cpu_s", "peak_rss_mb", "calls_total")},
        "targets": goals,
        "table_markdown": md,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "bench.json").write_text(json.dumps(result, indent=1) + "\n")
    plot(runs, latency, floor, out_dir / "bench.png")
    print(f"\nwrote {out_dir / 'bench.json'} and {out_dir / 'bench.png'} "
          f"(benchmark took {result['bench_wall_s']:.0f} s)")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
