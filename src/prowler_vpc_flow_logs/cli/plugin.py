"""``vpc-flow-logs install``, ``uninstall`` and ``status``: which vpc_flow_logs_enabled Prowler runs."""

from __future__ import annotations

import argparse
import functools

from prowler_vpc_flow_logs import CHECK_ID, __version__, activation, selftest
from prowler_vpc_flow_logs.activation import find_prowler

from .common import command


def _change(change, args: argparse.Namespace) -> int:
    print(change(find_prowler(), force=args.force))
    return 0


def _status(args: argparse.Namespace) -> int:
    install = find_prowler()
    state = activation.active_check(install)
    place = selftest.standing(install.version)
    standing = {
        "tested": f"tested: {selftest.tested_range()}",
        "newer": f"newer than the tested {selftest.tested_range()}",
        "older": f"unsupported: older than {selftest.TESTED[0]}",
    }[place]
    print(f"Prowler {install.version} ({standing}) at {install.package_dir}")
    result = selftest.run()
    passed = "passed" if result.passed else "FAILED"
    print(f"self-test: {passed} ({len(result.probed)} reliances probed)")
    for failure in result.failures:
        print(f"FAILED: {failure.reliance}: {failure.reason}")
    lost = activation.lost_activation(install)
    labels = {
        "ours": f"prowler-vpc-flow-logs {__version__} (active)",
        "built-in": "Prowler's built-in check"
        + ("" if lost else " (run `vpc-flow-logs install` to activate ours)"),
        "outdated": "another version of prowler-vpc-flow-logs (run `vpc-flow-logs install` to update it)",
        "missing": "MISSING: Prowler has no working check (run `vpc-flow-logs install`)",
        "modified": "a check changed by hand or by another tool, neither ours nor the built-in (`vpc-flow-logs install --force` replaces it with ours, `uninstall --force` with the built-in)",
    }
    print(f"{CHECK_ID}: {labels[state]}")
    if lost:
        print(f"WARNING: {lost}")
    backup = "yes" if install.backup_dir.is_dir() else "no"
    print(f"built-in backup: {backup} ({install.backup_dir})")
    return 0 if state == "ours" and result.passed and place != "older" else 1


def register(commands) -> None:
    changes = (  # (what it runs, the command, its summary, description and example, --force's help)
        (activation.install_check, "install", "make Prowler run this plug-in's check",
         "Replace Prowler's built-in vpc_flow_logs_enabled with this plug-in's check: first a "
         "self-test probes each Prowler internal the plug-in relies on (any Prowler from "
         f"{selftest.TESTED[0]} that passes it is accepted), then the built-in files are verified "
         "against Prowler's RECORD and backed up.",
         "  vpc-flow-logs install && vpc-flow-logs status\n",
         "install even when Prowler fails the self-test or is older than supported, or over a modified check"),
        (activation.uninstall_check, "uninstall", "restore Prowler's built-in check",
         "Put Prowler's built-in vpc_flow_logs_enabled back from the backup `install` made, "
         "verified byte for byte against Prowler's RECORD. Run it before `pip uninstall "
         "prowler-vpc-flow-logs`.",
         "  vpc-flow-logs uninstall && pip uninstall prowler-vpc-flow-logs\n",
         "restore the built-in even over a check that was changed by hand"),
    )  # fmt: skip
    for change, *about, force_help in changes:
        sub = command(commands, *about)
        sub.add_argument("--force", action="store_true", help=force_help)
        sub.set_defaults(func=functools.partial(_change, change))
    status = command(
        commands, "status", "which check Prowler will run and the self-test; exit 0 only if ours and passed",
        "Say which vpc_flow_logs_enabled Prowler will run (ours, the built-in, another or none), "
        "the self-test of Prowler's internals, whether Prowler was reinstalled or upgraded over the "
        "plug-in, and where the backup of the built-in is. Exit code 0 only when ours is active and "
        "the self-test passed on a supported Prowler.",
        "  vpc-flow-logs status || vpc-flow-logs install\n",
    )  # fmt: skip
    status.set_defaults(func=_status)
