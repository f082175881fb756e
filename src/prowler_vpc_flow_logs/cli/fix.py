"""``vpc-flow-logs fix``: plan from the check's verdicts, confirm, create, record."""

from __future__ import annotations

import argparse
import contextlib
import sys

from prowler_vpc_flow_logs import config
from prowler_vpc_flow_logs.clients import MAX_IDS
from prowler_vpc_flow_logs.errors import FAILED, UserError
from prowler_vpc_flow_logs.facts import FIXABLE_KINDS
from prowler_vpc_flow_logs.knobs import DEFAULT_INTERVAL, INTERVALS
from prowler_vpc_flow_logs.policy import DEFAULT_TRAFFIC_TYPE, TRAFFIC_TYPES
from prowler_vpc_flow_logs.prowler_provider import load_config_file
from prowler_vpc_flow_logs.remediation.accounts import check_account_ids, check_role_settings
from prowler_vpc_flow_logs.remediation.batches import BATCH_SIZE
from prowler_vpc_flow_logs.remediation.fix import Scope, plan_fix, run_fix, scanner
from prowler_vpc_flow_logs.remediation.ledger import check_writable
from prowler_vpc_flow_logs.remediation.models import TAG_KEY, FixSettings
from prowler_vpc_flow_logs.remediation.targets import from_flags
from prowler_vpc_flow_logs.remediation.validate import settings_from
from prowler_vpc_flow_logs.remediation.waiter import DEFAULT_WAIT

from .common import (
    add_account_options,
    add_profile,
    add_role_options,
    add_state_and_output,
    ask,
    command,
    emit,
    state,
)
from .progress import RunProgress
from .text import fix_plan_text, fix_text

TRAFFIC_DEFAULT = FixSettings.model_fields["traffic_type"].default


def _prowler_config(path: str) -> dict:
    """The AWS section of a Prowler config file, refused when unreadable or when a knob is invalid."""
    audit_config = load_config_file(path)
    problems = config.problems(audit_config)
    if problems:
        raise UserError(f"{'; '.join(problems)} ({path}); correct it, then run the fix again")
    return audit_config


def _scope(args: argparse.Namespace) -> Scope:
    role = check_role_settings(args.role_name, args.external_id, args.role_session_name)
    if args.max_workers < 1:
        raise UserError(f"--max-workers {args.max_workers}: give 1 or more")
    return Scope(
        profile=args.profile, role=role, organization=args.organization,
        account_ids=check_account_ids(args.account_id or []), max_workers=args.max_workers,
        excluded=check_account_ids(args.exclude_account or []),
    )  # fmt: skip


def _fix(args: argparse.Namespace) -> int:
    scanner()  # a Prowler that cannot scan is said before anything else
    settings = settings_from({name: getattr(args, name) for name in FixSettings.model_fields})
    if args.dry_run and args.yes:
        raise UserError(
            "conflicting flags: --dry-run changes nothing, so --yes has no meaning with it"
        )
    if args.wait < 0:
        raise UserError(f"--wait {args.wait}: give the seconds to wait, 0 or more")
    if not 1 <= args.batch_size <= MAX_IDS:
        raise UserError(
            f"--batch-size {args.batch_size}: give 1 to {MAX_IDS} (AWS's limit for VPCs)"
        )
    scope = _scope(args)
    if not args.dry_run:
        check_writable(state(args))  # before anything is read or written in AWS
    targets = from_flags(args.region or [], args.vpc_id or [], args.from_findings)
    audit_config = _prowler_config(args.config_file) if args.config_file else None
    fix_plan, clients = plan_fix(targets, settings, scope, audit_config)
    out = sys.stderr if args.output == "json" else sys.stdout
    print(fix_plan_text(fix_plan), file=out)
    confirm = None if args.yes else (lambda p: ask(f"Create {len(p.fixes)} flow log(s)?"))
    writes = not args.dry_run and bool(fix_plan.fixes)  # a bar only for a run that creates
    with RunProgress(fix_plan) if writes else contextlib.nullcontext() as progress:
        result = run_fix(
            fix_plan, clients, state(args), args.dry_run, confirm, progress, args.wait,
            args.batch_size, scope.max_workers,
        )  # fmt: skip
    emit(args, result, fix_text(result))
    return FAILED if result.left_for_the_user else 0


FIX_EXAMPLES = """\
  vpc-flow-logs fix --region us-east-1 --log-destination-type s3 \\
      --log-destination arn:aws:s3:::my-flow-logs --dry-run
  vpc-flow-logs fix --region eu-west-1 --log-destination-type cloud-watch-logs \\
      --log-group-name /vpc/flow-logs --create-log-group --retention-in-days 365 \\
      --deliver-logs-permission-arn arn:aws:iam::123456789012:role/flow-logs-delivery --yes
  vpc-flow-logs fix --from-findings output/prowler-output-*.ocsf.json \\
      --log-destination-type s3 --log-destination arn:aws:s3:::my-flow-logs
  vpc-flow-logs fix --organization --role-name OrganizationAccountAccessRole \\
      --region us-east-1 --region eu-west-1 --log-destination-type s3 \\
      --log-destination arn:aws:s3:::org-flow-logs --yes
"""


def register(subparsers) -> None:
    fix = command(
        subparsers, "fix", "create the missing VPC flow logs (recorded, undoable)",
        "Create a VPC flow log for every VPC that fails the check. The plan comes from the check's "
        "own verdicts and is shown (and confirmed) before any write; every flow log is tagged "
        f"{TAG_KEY}=RUN_ID and recorded, so `vpc-flow-logs backout RUN_ID` removes exactly those. "
        "Flags that shape the flow log are spelled as `aws ec2 create-flow-logs` spells them.",
        FIX_EXAMPLES,
    )  # fmt: skip
    add = fix.add_argument
    add("--region", action="append", metavar="R",
        help="region to scan, or to look --vpc-id up in (repeatable; default: every enabled region)")  # fmt: skip
    add("--vpc-id", action="append", metavar="ID",
        help="fix only this VPC, even an unused one (repeatable; needs --region or a default region)")  # fmt: skip
    add("--from-findings", nargs="+", action="extend", metavar="FILE",
        help="fix the FAIL findings of Prowler OCSF JSON files (prowler ... -M json-ocsf), each in its "
        "finding's own account; muted findings are skipped")  # fmt: skip
    add("--log-destination-type", choices=FIXABLE_KINDS,
        help="as aws ec2 create-flow-logs --log-destination-type (required; Firehose is not offered)")  # fmt: skip
    add("--log-group-name", metavar="NAME",
        help="as --log-group-name of create-flow-logs: the log group, with cloud-watch-logs")  # fmt: skip
    add("--deliver-logs-permission-arn", metavar="ARN",
        help="as --deliver-logs-permission-arn of create-flow-logs: the IAM role that "
        "vpc-flow-logs.amazonaws.com assumes to write to the log group; {account} in it stands for "
        "each account (arn:aws:iam::{account}:role/NAME), as every account needs its own")  # fmt: skip
    add("--log-destination", metavar="BUCKET_ARN",
        help="as --log-destination of create-flow-logs: arn:aws:s3:::BUCKET[/PREFIX], with s3")  # fmt: skip
    add("--traffic-type", choices=TRAFFIC_TYPES,
        help=f"as --traffic-type of create-flow-logs (default: {TRAFFIC_DEFAULT}); must satisfy the check's policy")  # fmt: skip
    add("--max-aggregation-interval", type=int, choices=INTERVALS,
        help=f"as --max-aggregation-interval of create-flow-logs, in seconds (default: the --config-file's vpc_flow_logs_max_aggregation_interval, else AWS's {DEFAULT_INTERVAL})")  # fmt: skip
    add("--log-format", metavar="FMT",
        help="as --log-format of create-flow-logs, e.g. '${srcaddr} ${dstaddr} ${action}' (default: AWS's default format, plus the --config-file's vpc_flow_logs_required_fields it lacks)")  # fmt: skip
    add("--create-log-group", action="store_true",
        help="create the log group in each region where it is missing (tagged with the run id; the backout keeps it)")  # fmt: skip
    add("--retention-in-days", type=int, metavar="N",
        help="as aws logs put-retention-policy --retention-in-days, for a created log group (default: the --config-file's vpc_flow_logs_min_retention_days rounded up to a value CloudWatch Logs accepts, else records never expire)")  # fmt: skip
    add("--kms-key-id", metavar="KEY_ARN",
        help="as aws logs create-log-group --kms-key-id, for a created log group (required with --create-log-group when the --config-file sets vpc_flow_logs_require_kms: true)")  # fmt: skip
    add("--config-file", metavar="FILE",
        help=f"Prowler config file whose vpc_flow_logs_* knobs the new flow logs must satisfy (default: traffic {DEFAULT_TRAFFIC_TYPE}, the other knobs off); it sets the defaults above and refuses a destination that would not satisfy it")  # fmt: skip
    add("--wait", type=int, default=DEFAULT_WAIT, metavar="SECONDS",
        help=f"how long to wait for the new flow logs to be ACTIVE (default: {DEFAULT_WAIT}; 0: do not wait)")  # fmt: skip
    add("--dry-run", action="store_true", help="show the plan; read only, change nothing")
    add("--yes", action="store_true", help="do not ask before creating")
    add_profile(fix)
    add_account_options(fix, "fix")
    add_role_options(
        fix,
        "the role assumed in every account other than the caller's, arn:aws:iam::ACCOUNT:role/NAME (as Prowler's -R)",
        "accounts and regions worked on",
    )
    add("--batch-size", type=int, default=BATCH_SIZE, metavar="N",
        help=f"VPCs per CreateFlowLogs call, as --resource-ids of create-flow-logs takes several (default: {BATCH_SIZE}; at most {MAX_IDS})")  # fmt: skip
    add_state_and_output(fix)
    fix.set_defaults(func=_fix)
