"""The ``vpc-flow-logs`` command: one parser, one place where errors become exit codes.

Subcommands: install, uninstall, status (plugin.py); fix (fix.py); backout, runs (backout.py).
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Sequence

from botocore.exceptions import BotoCoreError, ClientError

from prowler_vpc_flow_logs import __version__
from prowler_vpc_flow_logs.errors import FAILED, INTERRUPTED, UserError
from prowler_vpc_flow_logs.remediation.models import TAG_KEY

# Only a fix scans, so only it imports Prowler's AWSService, when it runs (remediation.fix.scanner).
from . import backout, fix, plugin
from .common import Formatter, Parser


def build_parser() -> Parser:
    parser = Parser(
        prog="vpc-flow-logs",
        description="A precise vpc_flow_logs_enabled check for Prowler, with an exact fix and backout.",
        formatter_class=Formatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    plugin.register(commands)
    fix.register(commands)
    backout.register(commands)
    return parser


def _terminate(signum, frame) -> None:
    raise KeyboardInterrupt  # SIGTERM ends a run the way Ctrl-C does: recorded, with its run id


def _interrupted(interrupted: KeyboardInterrupt) -> int:
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
    return INTERRUPTED


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main_thread else None
    try:
        return args.func(args)
    except UserError as error:
        print(f"vpc-flow-logs: error: {error}", file=sys.stderr)
        return error.exit_code
    except (ClientError, BotoCoreError) as error:
        print(f"vpc-flow-logs: AWS error: {error}", file=sys.stderr)
        return FAILED
    except KeyboardInterrupt as interrupted:
        return _interrupted(interrupted)
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
