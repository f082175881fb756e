"""``vpc-flow-logs install``, ``uninstall`` and ``status``: which vpc_flow_logs_enabled Prowler runs."""

from __future__ import annotations

import argparse

from prowler_vpc_flow_logs import CHECK_ID, __version__
from prowler_vpc_flow_logs.activation import (
    SUPPORTED_PROWLER,
    active_check,
    find_prowler,
    install_check,
    lost_activation,
    uninstall_check,
)

from .common import command


def _install(args: argparse.Namespace) -> int:
    print(install_check(find_prowler(), force=args.force))
    return 0


def _uninstall(args: argparse.Namespace) -> int:
    print(uninstall_check(find_prowler()))
    return 0


def _status(args: argparse.Namespace) -> int:
    install = find_prowler()
    state = active_check(install)
    supported = (
        "supported"
        if install.version in SUPPORTED_PROWLER
        else f"unsupported, need {SUPPORTED_PROWLER}"
    )
    print(f"Prowler {install.version} ({supported}) at {install.package_dir}")
    lost = lost_activation(install)
    labels = {
        "ours": f"prowler-vpc-flow-logs {__version__} (active)",
        "built-in": "Prowler's built-in check"
        + ("" if lost else " (run `vpc-flow-logs install` to activate ours)"),
        "outdated": "another version of prowler-vpc-flow-logs (run `vpc-flow-logs install` to update it)",
        "missing": "MISSING: Prowler has no working check (run `vpc-flow-logs install`)",
        "modified": "a modified check that is neither ours nor the built-in (run `vpc-flow-logs install --force`)",
    }
    print(f"{CHECK_ID}: {labels[state]}")
    if lost:
        print(f"WARNING: {lost}")
    backup = "yes" if install.backup_dir.is_dir() else "no"
    print(f"built-in backup: {backup} ({install.backup_dir})")
    return 0 if state == "ours" else 1


def register(commands) -> None:
    install = command(
        commands, "install", "make Prowler run this plug-in's check",
        "Replace Prowler's built-in vpc_flow_logs_enabled with this plug-in's check: the built-in "
        "files are verified against Prowler's RECORD and backed up first.",
        "  vpc-flow-logs install && vpc-flow-logs status\n",
    )  # fmt: skip
    install.add_argument(
        "--force",
        action="store_true",
        help="install on an unsupported Prowler or over a modified check",
    )
    install.set_defaults(func=_install)
    uninstall = command(
        commands, "uninstall", "restore Prowler's built-in check",
        "Put Prowler's built-in vpc_flow_logs_enabled back, byte for byte (from the backup, else from "
        "Prowler's wheel), verified against Prowler's RECORD. Run it before `pip uninstall "
        "prowler-vpc-flow-logs`.",
        "  vpc-flow-logs uninstall && pip uninstall prowler-vpc-flow-logs\n",
    )  # fmt: skip
    uninstall.set_defaults(func=_uninstall)
    status = command(
        commands, "status", "which check Prowler will run; exit 0 only if ours",
        "Say which vpc_flow_logs_enabled Prowler will run (ours, the built-in, another or none), "
        "whether Prowler was reinstalled or upgraded over the plug-in, and where the backup of the "
        "built-in is. Exit code 0 only when ours is active.",
        "  vpc-flow-logs status || vpc-flow-logs install\n",
    )  # fmt: skip
    status.set_defaults(func=_status)
