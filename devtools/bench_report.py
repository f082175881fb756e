"""The benchmark's report: the table, the targets and the plot, from the runs ``devtools.bench``
measured (``python -m devtools.bench --render docs/bench.json`` redoes them without running)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from devtools.bench_estate import distinct_destinations

OURS, BUILTIN = "ours", "built-in"

# Targets from issue 5 (at the largest N, 1,000 VPCs per region).
TARGET_EC2_CALLS_PER_REGION = 8
TARGET_FLOOR_RATIO = 1.3
TARGET_SPEEDUP = 20.0
TARGET_COLLECTION_S = 2.0
TARGET_RSS_DELTA_MB = 50.0


def fmt_s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}" if value < 10 else f"{value:.1f}"


def pick(runs: list[dict[str, Any]], check: str, n: int, latency: float) -> dict[str, Any] | None:
    return next(
        (
            r
            for r in runs
            if r["check"] == check and r["vpcs_per_region"] == n and r["latency_ms"] == latency
        ),
        None,
    )


def per_region(run: dict[str, Any] | None) -> str:
    if run is None:
        return "-"
    values = run["calls_collection_per_region"].values()
    return str(max(values, default=0))


def table(
    runs: list[dict[str, Any]], sizes: list[int], latency: float, floor: dict[str, Any]
) -> str:
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


def targets(
    runs: list[dict[str, Any]], largest: int, latency: float, floor: dict[str, Any]
) -> list[dict[str, Any]]:
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
    builtins = [
        r
        for r in runs
        if r["check"] == BUILTIN and r["latency_ms"] == 0 and r["vpcs_per_region"] > 0
    ]
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
    left.axhline(
        floor["wall_s"], color="grey", linestyle=":", label="Prowler start-up floor (empty estate)"
    )
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
