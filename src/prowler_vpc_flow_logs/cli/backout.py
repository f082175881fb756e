"""``vpc-flow-logs backout`` and ``runs``: undo exactly what a fix run created; list the runs."""

from __future__ import annotations

import argparse
import json
import sys

from prowler_vpc_flow_logs.clients import Clients
from prowler_vpc_flow_logs.errors import FAILED, UserError
from prowler_vpc_flow_logs.prowler_integration import retrying_session
from prowler_vpc_flow_logs.remediation.backout import backout
from prowler_vpc_flow_logs.remediation.ledger import list_runs
from prowler_vpc_flow_logs.remediation.models import TAG_KEY, BackoutResult
from prowler_vpc_flow_logs.remediation.targets import check_regions

from .common import add_profile, add_state_and_output, ask, command, emit, state
from .text import backout_text, runs_text


def _backout(args: argparse.Namespace) -> int:
    if args.region and not args.from_tags:
        raise UserError("conflicting flags: --region is used only with --from-tags")
    if args.dry_run and args.yes:
        raise UserError(
            "conflicting flags: --dry-run changes nothing, so --yes has no meaning with it"
        )

    def confirm(preview: BackoutResult) -> bool:
        print(backout_text(preview), file=sys.stderr)
        return ask(f"Delete {len(preview.deleted)} flow log(s)?")

    regions = check_regions(args.region or [])
    clients = Clients(retrying_session(args.profile))
    result = backout(
        args.run_id, clients, state(args), from_tags=args.from_tags, regions=regions,
        dry_run=args.dry_run, confirm=None if args.yes else confirm,
    )  # fmt: skip
    emit(args, result, backout_text(result))
    return FAILED if result.refused or result.unsearched else 0


def _runs(args: argparse.Namespace) -> int:
    runs = list_runs(state(args))
    if args.output == "json":
        print(json.dumps([r.model_dump() for r in runs], indent=2))
    else:
        print(runs_text(runs))
    return 0


BACKOUT_EXAMPLES = """\
  vpc-flow-logs runs
  vpc-flow-logs backout vfl-20261128T101500Z-a1b2c3 --dry-run
  vpc-flow-logs backout vfl-20261128T101500Z-a1b2c3 --yes
  vpc-flow-logs backout vfl-20261128T101500Z-a1b2c3 --from-tags --region us-east-1 --yes
"""


def register(subparsers) -> None:
    back = command(
        subparsers,
        "backout",
        "delete exactly the flow logs a fix run created",
        "Delete the flow logs a fix run created: those its ledger records and those that carry its "
        f"tag {TAG_KEY}=RUN_ID in the regions where it created (a create whose answer was lost is "
        "found by its tag). A flow log whose tag changed is kept, and so is every other flow log; "
        "log groups the run created are kept (they may hold records).",
        BACKOUT_EXAMPLES,
    )
    back.add_argument(
        "run_id",
        metavar="RUN_ID",
        help="the run to undo, as `vpc-flow-logs runs` lists it (vfl-YYYYMMDDTHHMMSSZ-xxxxxx)",
    )
    back.add_argument(
        "--dry-run", action="store_true", help="show what would be deleted; change nothing"
    )
    back.add_argument("--yes", action="store_true", help="do not ask before deleting")
    back.add_argument(
        "--from-tags",
        action="store_true",
        help="the ledger is lost or corrupt: find the run's flow logs by its tag in the --region(s)",
    )
    back.add_argument(
        "--region",
        action="append",
        metavar="R",
        help="region to search with --from-tags (repeatable)",
    )
    add_profile(back)
    add_state_and_output(back)
    back.set_defaults(func=_backout)

    runs = command(
        subparsers,
        "runs",
        "list recorded fix runs",
        "List the fix runs recorded in the state folder: time, account, regions, flow logs created "
        "and failed, whether the run finished and whether it was backed out.",
        "  vpc-flow-logs runs\n  vpc-flow-logs runs --output json\n",
    )
    add_state_and_output(runs)
    runs.set_defaults(func=_runs)
