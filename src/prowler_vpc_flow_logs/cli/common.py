"""What every ``vpc-flow-logs`` subcommand shares: its parser, common options and output."""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

from prowler_vpc_flow_logs.remediation.models import MAX_WORKERS, SESSION_NAME


class Formatter(argparse.HelpFormatter):
    """argparse's, but with room for the longest subcommand name: argparse measures the indented
    subcommands two columns short, so `uninstall` would sit alone on its line."""

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        for sub in getattr(action, "_choices_actions", []):
            width = len(sub.metavar or sub.dest) + self._current_indent + 2
            self._action_max_length = max(self._action_max_length, width)


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit code 2), never a usage dump."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def command(subparsers, name: str, summary: str, description: str, examples: str) -> Parser:
    """A subcommand with a wrapped description and its examples, line by line."""
    return subparsers.add_parser(
        name, help=summary, description=textwrap.fill(description, 88), epilog="examples:\n" + examples,
        formatter_class=argparse.RawDescriptionHelpFormatter,  # keeps the examples' lines
    )  # fmt: skip


def add_state_and_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state-dir", metavar="DIR",
        help="state folder; runs are recorded in DIR/runs/ (default: $VPC_FLOW_LOGS_STATE_DIR, "
        "else $XDG_STATE_HOME/prowler-vpc-flow-logs, else ~/.local/state/prowler-vpc-flow-logs)",
    )  # fmt: skip
    parser.add_argument(
        "--output", choices=("text", "json"), default="text",
        help="text for people, json for scripts (one JSON document on stdout; default: text)",
    )  # fmt: skip


def add_profile(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile", metavar="P",
        help="as the AWS CLI's --profile: the named profile to use (default: the default credential chain)",
    )  # fmt: skip


def add_account_options(parser: argparse.ArgumentParser, verb: str, note: str = "") -> None:
    """Which accounts: the organization's, named ones, less excluded ones (fix and backout)."""
    parser.add_argument(
        "--organization", action="store_true",
        help=f"{verb} every ACTIVE account of the caller's organization (organizations:ListAccounts); needs --role-name{note}",
    )  # fmt: skip
    parser.add_argument(
        "--account-id", action="append", metavar="ID",
        help=f"{verb} this account (repeatable); others than the caller's are reached through --role-name{note}",
    )  # fmt: skip
    parser.add_argument(
        "--exclude-account", action="append", metavar="ID",
        help=f"leave this account out (repeatable), e.g. one that lacks its delivery role{note}",
    )  # fmt: skip


def add_role_options(parser: argparse.ArgumentParser, role_help: str, workers_help: str) -> None:
    """How other accounts are reached (as Prowler's -R, --external-id, --role-session-name)."""
    parser.add_argument("--role-name", metavar="NAME", help=role_help)
    parser.add_argument(
        "--external-id", metavar="ID",
        help="as Prowler's --external-id: the external ID the role's trust policy requires (default: none)",
    )  # fmt: skip
    parser.add_argument(
        "--role-session-name", metavar="NAME", default=SESSION_NAME,
        help=f"as Prowler's --role-session-name (default: {SESSION_NAME})",
    )  # fmt: skip
    parser.add_argument(
        "--max-workers", type=int, default=MAX_WORKERS, metavar="N",
        help=f"{workers_help} at once (default: {MAX_WORKERS})",
    )  # fmt: skip


def state(args: argparse.Namespace) -> Path | None:
    return Path(args.state_dir) if args.state_dir else None


def emit(args: argparse.Namespace, model, text: str) -> None:
    print(model.model_dump_json(indent=2) if args.output == "json" else text)


def ask(question: str) -> bool:
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    try:
        return input().strip().lower() in {"y", "yes"}
    except EOFError:
        print("", file=sys.stderr)
        return False
