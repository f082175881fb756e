"""``vpc-flow-logs backout`` and ``runs``: undo exactly what a fix run created; list the runs."""

from __future__ import annotations

import argparse
import json
import sys

from prowler_vpc_flow_logs.clients import ClientFor, Clients
from prowler_vpc_flow_logs.errors import FAILED, UserError
from prowler_vpc_flow_logs.prowler_provider import quiet_prowler
from prowler_vpc_flow_logs.remediation.accounts import (
    Reach,
    Unreachable,
    check_account_ids,
    check_role_settings,
)
from prowler_vpc_flow_logs.remediation.backout import AccountClients, backout
from prowler_vpc_flow_logs.remediation.ledger import Ledger, RunStarted, check_run_id, list_runs
from prowler_vpc_flow_logs.remediation.models import TAG_KEY, BackoutResult
from prowler_vpc_flow_logs.remediation.targets import check_regions

from . import common
from .text import backout_text, runs_text


def _clients_of(args: argparse.Namespace) -> tuple[Reach, AccountClients]:
    """How the backout reaches each account: the caller's own credentials, or the role the run
    recorded (or --role-name), assumed by Prowler's AwsProvider."""
    try:
        started: RunStarted | None = Ledger.open(args.run_id, common.state(args)).events()[0]
    except UserError:  # no readable ledger: --from-tags
        started = None
    role = check_role_settings(args.role_name, args.external_id, args.role_session_name)
    reach = Reach(args.profile, role or (started.role if started else None))
    regions = sorted(started.regions) if started and started.regions else ["us-east-1"]

    def clients_of(account: str) -> ClientFor:
        if account == reach.account:
            return Clients(reach.session)
        if reach.role is None:
            raise Unreachable(
                f"account {account} is not the caller's ({reach.account}) and no role reaches it: "
                "pass --role-name"
            )
        return Clients(reach.provider(account, regions).session.current_session)

    return reach, clients_of


def _backout(args: argparse.Namespace) -> int:
    if args.region and not args.from_tags:
        raise UserError("conflicting flags: --region is used only with --from-tags")
    if args.dry_run and args.yes:
        raise UserError(
            "conflicting flags: --dry-run changes nothing, so --yes has no meaning with it"
        )
    check_run_id(args.run_id)
    regions = check_regions(args.region or [])
    accounts = check_account_ids(args.account_id or [])
    excluded = check_account_ids(args.exclude_account or [])
    if (accounts or args.organization or excluded) and not args.from_tags:
        raise UserError(
            "conflicting flags: --organization, --account-id and --exclude-account are used only "
            "with --from-tags (the ledger names the accounts)"
        )

    def confirm(preview: BackoutResult) -> bool:
        print(backout_text(preview), file=sys.stderr)
        return common.ask(f"Delete {len(preview.deleted)} flow log(s)?")

    with quiet_prowler():  # once, here: the accounts' providers are built in worker threads
        reach, clients_of = _clients_of(args)
        if args.from_tags:  # the ledger may be lost: where the flags say (else the caller's)
            accounts = reach.choose(args.organization, accounts, [], excluded)
        result = backout(
            args.run_id, clients_of, common.state(args), from_tags=args.from_tags, regions=regions,
            dry_run=args.dry_run, confirm=None if args.yes else confirm, accounts=accounts,
            max_workers=args.max_workers, delete_log_groups=args.delete_log_groups,
        )  # fmt: skip
    common.emit(args, result, backout_text(result))
    return FAILED if result.refused or result.unsearched or result.account_errors else 0


def _runs(args: argparse.Namespace) -> int:
    runs = list_runs(common.state(args))
    dump = [r.model_dump() for r in runs]
    print(json.dumps(dump, indent=2) if args.output == "json" else runs_text(runs))
    return 0


BACKOUT_EXAMPLES = """\
  vpc-flow-logs runs
  vpc-flow-logs backout vfl-20261128T101500Z-a1b2c3 --dry-run
  vpc-flow-logs backout vfl-20261128T101500Z-a1b2c3 --yes
  vpc-flow-logs backout vfl-20261128T101500Z-a1b2c3 --from-tags --region us-east-1 --yes
  vpc-flow-logs backout vfl-20261128T101500Z-a1b2c3 --from-tags --organization \\
      --role-name OrganizationAccountAccessRole --region us-east-1 --region eu-west-1 --yes
"""


def register(subparsers) -> None:
    back = common.command(
        subparsers, "backout", "delete exactly the flow logs a fix run created",
        "Delete the flow logs a fix run created: those its ledger records and those that carry its "
        f"tag {TAG_KEY}=RUN_ID in the regions where it created (a create whose answer was lost is "
        "found by its tag). A flow log whose tag changed is kept, and so is every other flow log; "
        "log groups the run created are kept (they hold the records) unless --delete-log-groups.",
        BACKOUT_EXAMPLES,
    )  # fmt: skip
    back.add_argument(
        "run_id", metavar="RUN_ID",
        help="the run to undo, as `vpc-flow-logs runs` lists it (vfl-YYYYMMDDTHHMMSSZ-xxxxxx)",
    )  # fmt: skip
    back.add_argument("--dry-run", action="store_true", help="show what would be deleted; change nothing")  # fmt: skip
    back.add_argument("--yes", action="store_true", help="do not ask before deleting")
    back.add_argument(
        "--from-tags", action="store_true",
        help="the ledger is lost or corrupt: find the run's flow logs by its tag in the --region(s)",
    )  # fmt: skip
    back.add_argument("--region", action="append", metavar="R", help="region to search with --from-tags (repeatable)")  # fmt: skip
    common.add_profile(back)
    common.add_account_options(back, "with --from-tags: search", " (default: the caller's account)")
    back.add_argument(
        "--delete-log-groups", action="store_true",
        help="also delete the log groups the run created (and the records in them) when they still carry its tag (default: keep them)",
    )  # fmt: skip
    role_help = "the role to assume in the run's other accounts (default: the one the run recorded)"
    common.add_role_options(back, role_help, "accounts backed out")
    common.add_state_and_output(back)
    back.set_defaults(func=_backout)

    runs = common.command(
        subparsers, "runs", "list recorded fix runs",
        "List the fix runs recorded in the state folder: time, account, regions, flow logs created "
        "and failed, whether the run finished and whether it was backed out.",
        "  vpc-flow-logs runs\n  vpc-flow-logs runs --output json\n",
    )  # fmt: skip
    common.add_state_and_output(runs)
    runs.set_defaults(func=_runs)
