"""The ``vpc-flow-logs`` command: install, uninstall and status of the check in Prowler."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

from prowler_vpc_flow_logs import CHECK_ID, __version__
from prowler_vpc_flow_logs.activation import (
    SUPPORTED_PROWLER,
    ActivationError,
    active_check,
    find_prowler,
    install_check,
    lost_activation,
    uninstall_check,
)
from prowler_vpc_flow_logs.remediation.cli import register as register_remediation
from prowler_vpc_flow_logs.remediation.models import TAG_KEY


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


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit code 2), never a usage dump."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="vpc-flow-logs",
        description="A precise vpc_flow_logs_enabled check for Prowler, with an exact fix and backout.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    install = commands.add_parser(
        "install",
        help="make Prowler run this plug-in's check",
        description="Replace Prowler's built-in vpc_flow_logs_enabled with this plug-in's check: the "
        "built-in files are verified against Prowler's RECORD and backed up first.",
        epilog="example: vpc-flow-logs install && vpc-flow-logs status",
    )
    install.add_argument(
        "--force",
        action="store_true",
        help="install on an unsupported Prowler or over a modified check",
    )
    install.set_defaults(func=_install)

    uninstall = commands.add_parser(
        "uninstall",
        help="restore Prowler's built-in check",
        description="Put Prowler's built-in vpc_flow_logs_enabled back, byte for byte (from the "
        "backup, else from Prowler's wheel), verified against Prowler's RECORD. Run it before "
        "`pip uninstall prowler-vpc-flow-logs`.",
        epilog="example: vpc-flow-logs uninstall && pip uninstall prowler-vpc-flow-logs",
    )
    uninstall.set_defaults(func=_uninstall)

    status = commands.add_parser(
        "status",
        help="which check Prowler will run; exit 0 only if ours",
        description="Say which vpc_flow_logs_enabled Prowler will run (ours, the built-in, another "
        "or none), whether Prowler was reinstalled or upgraded over the plug-in, and where the "
        "backup of the built-in is. Exit code 0 only when ours is active.",
        epilog="example: vpc-flow-logs status || vpc-flow-logs install",
    )
    status.set_defaults(func=_status)
    register_remediation(commands)
    return parser


def _terminate(signum, frame) -> None:
    raise KeyboardInterrupt  # SIGTERM ends a run the way Ctrl-C does: recorded, with its run id


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main_thread else None
    try:
        return args.func(args)
    except ActivationError as error:
        print(f"vpc-flow-logs: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt as interrupted:
        run_id = getattr(interrupted, "run_id", None)
        if run_id:
            print(
                f"vpc-flow-logs: interrupted during run {run_id}; every flow log it created (even one "
                f"whose answer was lost) carries the tag {TAG_KEY}={run_id}. Undo with: "
                f"vpc-flow-logs backout {run_id}",
                file=sys.stderr,
            )
        else:
            print("vpc-flow-logs: interrupted", file=sys.stderr)
        return 130
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
