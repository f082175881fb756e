"""``vpc-flow-logs fix``, ``backout`` and ``runs``: added to the main CLI by ``register``."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from .errors import FAILED, RemediationError
from .ledger import check_writable, list_runs
from .models import OUTCOME_UNKNOWN, TAG_KEY, BackoutResult, FixResult, Plan
from .plan import UNUSED
from .run import plan_fix, run_backout, run_fix
from .targets import from_flags
from .validate import settings_from

WAIT_DELAY = 5  # seconds between two looks at the new flow logs' status


def _ask(question: str) -> bool:
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    try:
        return input().strip().lower() in {"y", "yes"}
    except EOFError:
        print("", file=sys.stderr)
        return False


def _short(reason: str) -> str:
    return "compliant (PASS)" if reason.startswith("compliant:") else reason


def plan_text(plan: Plan) -> str:
    lines = [f"Plan for account {plan.account}, regions {', '.join(plan.regions) or '-'}:"]
    if plan.fixes:
        lines.append(f"  create a VPC flow log ({plan.settings.describe()}) for {len(plan.fixes)} VPC(s):")
        lines += [f"    {f.region}  {f.label}: {f.reason}" for f in plan.fixes]
    else:
        lines.append("  nothing to fix")
    retention = plan.settings.retention_in_days
    kept = f"records kept {retention} days" if retention else "records never expire; --retention-in-days N sets it"
    for region in plan.log_groups_to_create:
        lines.append(f"  create log group '{plan.settings.log_group_name}' in {region} ({kept})")
    unused = [s for s in plan.skipped if s.reason.startswith(UNUSED)]
    listed = [s for s in plan.skipped if not s.reason.startswith(UNUSED)]
    if listed:
        lines.append(f"  skip {len(listed)} VPC(s):")
        lines += [f"    {s.region}  {s.vpc_id}: {_short(s.reason)}" for s in listed]
    if unused:
        regions = len({s.region for s in unused})
        lines.append(
            f"  skip {len(unused)} unused VPC(s) in {regions} region(s) (no network interfaces; the "
            "check does not report them; name one with --vpc-id to fix it; --output json lists them)"
        )
    lines += [f"  warning: {w}" for w in plan.warnings]
    lines += [f"  CANNOT READ: {u}" for u in plan.unreadable]
    return "\n".join(lines)


def fix_text(result: FixResult) -> str:
    if result.dry_run:
        return f"Dry run: nothing was changed ({len(result.planned)} flow log(s) would be created)."
    if result.run_id is None and result.unreadable:
        return "Nothing was fixed, and some targets could not be read (see CANNOT READ above)."
    if result.run_id is None:
        return "Nothing to fix: every targeted VPC passes or is skipped. No run was recorded."
    lines = [f"Run {result.run_id} (account {result.account})"]
    lines += [f"  created {c.flow_log_id} for {c.vpc_id} in {c.region}" for c in result.created]
    lines += [f"  log group created: {g}" for g in result.log_groups_created]
    lines += [f"  FAILED {f.vpc_id} in {f.region}: {f.code}: {f.message}" for f in result.failed]
    lines += [f"  not ACTIVE: {n}" for n in result.not_active]
    lines.append(f"{len(result.created)} created, {len(result.failed)} failed, {len(result.skipped)} skipped.")
    if result.created or any(f.code == OUTCOME_UNKNOWN for f in result.failed):
        lines.append(f"Undo with: vpc-flow-logs backout {result.run_id}")
    else:
        lines.append(f"Nothing was created, so there is nothing to undo (recorded as run {result.run_id}).")
    return "\n".join(lines)


def backout_text(result: BackoutResult) -> str:
    verb = "would delete" if result.dry_run else "deleted"
    lines = [f"Backout of {result.run_id}{' (dry run: nothing was changed)' if result.dry_run else ''}"]
    lines += [f"  {verb} {c.flow_log_id} ({c.vpc_id} in {c.region})" for c in result.deleted]
    lines += [f"  refused {i}: {why}" for i, why in sorted(result.refused.items())]
    lines += [f"  already gone: {i} (deleted outside this backout)" for i in result.gone]
    lines += [f"  kept {i} on {vpc}: not created by this run" for i, vpc in sorted(result.others.items())]
    lines += [f"  kept log group {g} (created by the run; it may hold flow log records)" for g in result.kept_log_groups]
    lines += [f"  found by the run tag (not in the ledger; a create whose answer was lost): {i}" for i in result.found_by_tag]
    lines += [
        f"  COULD NOT SEARCH {region} for flow logs tagged with the run ({why}); run the backout again"
        for region, why in sorted(result.unsearched.items())
    ]
    lines.append(f"{len(result.deleted)} {verb}, {len(result.refused)} refused, {len(result.gone)} already gone.")
    return "\n".join(lines)


def _state(args: argparse.Namespace) -> Path | None:
    return Path(args.state_dir) if args.state_dir else None


def _emit(args: argparse.Namespace, model, text: str) -> None:
    print(model.model_dump_json(indent=2) if args.output == "json" else text)


def _prowler_config(path: str) -> dict:
    """The AWS section of a Prowler config file, refused when unreadable or when our knob is invalid."""
    import yaml
    from prowler.config.config import load_and_validate_config_file

    from prowler_vpc_flow_logs import config

    if not Path(path).is_file():
        raise RemediationError(f"--config-file {path} does not exist")
    try:
        yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise RemediationError(f"--config-file {path} is not a YAML file: {str(error).splitlines()[0]}") from error
    audit_config = load_and_validate_config_file("aws", path)
    problems = config.problems(audit_config)
    if problems:
        raise RemediationError(f"{'; '.join(problems)} ({path}); correct it, then run the fix again")
    return audit_config


def _fix(args: argparse.Namespace) -> int:
    settings = settings_from({
        "log_destination_type": args.log_destination_type,
        "log_group_name": args.log_group_name,
        "deliver_logs_permission_arn": args.deliver_logs_permission_arn,
        "log_destination": args.log_destination,
        "traffic_type": args.traffic_type,
        "max_aggregation_interval": args.max_aggregation_interval,
        "log_format": args.log_format,
        "create_log_group": args.create_log_group,
        "retention_in_days": args.retention_in_days,
    })
    if args.dry_run and args.yes:
        raise RemediationError("conflicting flags: --dry-run changes nothing, so --yes has no meaning with it")
    if args.wait < 0:
        raise RemediationError(f"--wait {args.wait}: give the seconds to wait, 0 or more")
    if not args.dry_run:
        check_writable(_state(args))  # before anything is read or written in AWS
    targets = from_flags(args.region or [], args.vpc_id or [], args.from_findings)
    audit_config = _prowler_config(args.config_file) if args.config_file else None
    plan, clients = plan_fix(targets, settings, args.profile, audit_config)
    out = sys.stderr if args.output == "json" else sys.stdout
    print(plan_text(plan), file=out)

    def progress(done: int, total: int, text: str) -> None:
        print(f"[{done}/{total}] {text}", file=sys.stderr, flush=True)

    confirm = None if args.yes else (lambda p: _ask(f"Create {len(p.fixes)} flow log(s)?"))
    wait = (WAIT_DELAY, -(-args.wait // WAIT_DELAY)) if args.wait else None
    result = run_fix(plan, clients, _state(args), args.dry_run, confirm, progress, wait)
    _emit(args, result, fix_text(result))
    return FAILED if result.failed or result.not_active or result.unreadable else 0


def _backout(args: argparse.Namespace) -> int:
    if args.region and not args.from_tags:
        raise RemediationError("conflicting flags: --region is used only with --from-tags")
    if args.dry_run and args.yes:
        raise RemediationError("conflicting flags: --dry-run changes nothing, so --yes has no meaning with it")

    def confirm(preview: BackoutResult) -> bool:
        print(backout_text(preview), file=sys.stderr)
        return _ask(f"Delete {len(preview.deleted)} flow log(s)?")

    result = run_backout(
        args.run_id, args.profile, _state(args), args.from_tags, args.region,
        args.dry_run, None if args.yes else confirm,
    )
    _emit(args, result, backout_text(result))
    return FAILED if result.refused or result.unsearched else 0


def _runs(args: argparse.Namespace) -> int:
    runs = list_runs(_state(args))
    if args.output == "json":
        print(json.dumps([r.model_dump() for r in runs], indent=2))
        return 0
    if not runs:
        print("No runs recorded.")
    for r in runs:
        if r.error:
            print(f"{r.run_id}  UNREADABLE: {r.error}")
            continue
        notes = "".join([
            f"  {r.unknown_outcomes} create(s) with a lost answer (backout finds them by tag)" if r.unknown_outcomes else "",
            "  (last record torn by a crash)" if r.torn else "",
        ])
        print(
            f"{r.run_id}  {r.time}  account {r.account}  regions {','.join(r.regions) or '-'}  "
            f"created {r.created}  failed {r.failed}  {'finished' if r.finished else 'INCOMPLETE'}  "
            f"backed out: {r.backed_out}  ({r.source}){notes}"
        )
    return 0


def guarded(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn RemediationError and AWS errors into one message and an exit code."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except RemediationError as error:
            print(f"vpc-flow-logs: error: {error}", file=sys.stderr)
            return error.exit_code
        except (ClientError, BotoCoreError) as error:
            print(f"vpc-flow-logs: AWS error: {error}", file=sys.stderr)
            return FAILED

    return run


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state-dir", metavar="DIR",
        help="state folder; runs are recorded in DIR/runs/ (default: $VPC_FLOW_LOGS_STATE_DIR, "
        "else $XDG_STATE_HOME/prowler-vpc-flow-logs, else ~/.local/state/prowler-vpc-flow-logs)",
    )
    parser.add_argument(
        "--output", choices=("text", "json"), default="text",
        help="text for people, json for scripts (one JSON document on stdout; default: text)",
    )


def _command(subparsers, name: str, summary: str, description: str, examples: str):
    return subparsers.add_parser(
        name, help=summary, description=textwrap.fill(description, 88), epilog="examples:\n" + examples,
        formatter_class=argparse.RawDescriptionHelpFormatter,  # keeps the examples' lines
    )


FIX_EXAMPLES = """\
  vpc-flow-logs fix --region us-east-1 --log-destination-type s3 \\
      --log-destination arn:aws:s3:::my-flow-logs --dry-run
  vpc-flow-logs fix --region eu-west-1 --log-destination-type cloud-watch-logs \\
      --log-group-name /vpc/flow-logs --create-log-group --retention-in-days 365 \\
      --deliver-logs-permission-arn arn:aws:iam::123456789012:role/flow-logs-delivery --yes
  vpc-flow-logs fix --from-findings output/prowler-output-*.ocsf.json \\
      --log-destination-type s3 --log-destination arn:aws:s3:::my-flow-logs
"""
BACKOUT_EXAMPLES = """\
  vpc-flow-logs runs
  vpc-flow-logs backout vfl-20261128T101500Z-a1b2c3 --dry-run
  vpc-flow-logs backout vfl-20261128T101500Z-a1b2c3 --yes
  vpc-flow-logs backout vfl-20261128T101500Z-a1b2c3 --from-tags --region us-east-1 --yes
"""


def register(subparsers) -> None:
    """Add ``fix``, ``backout`` and ``runs`` to the ``vpc-flow-logs`` command."""
    fix = _command(
        subparsers, "fix", "create the missing VPC flow logs (recorded, undoable)",
        "Create a VPC flow log for every VPC that fails the check. The plan comes from the check's "
        "own verdicts and is shown (and confirmed) before any write; every flow log is tagged "
        f"{TAG_KEY}=RUN_ID and recorded, so `vpc-flow-logs backout RUN_ID` removes exactly those. "
        "Flags that shape the flow log are spelled as `aws ec2 create-flow-logs` spells them.",
        FIX_EXAMPLES,
    )
    fix.add_argument("--region", action="append", metavar="R", help="region to scan, or to look --vpc-id up in (repeatable; default: every enabled region)")
    fix.add_argument("--vpc-id", action="append", metavar="ID", help="fix only this VPC, even an unused one (repeatable; needs --region or a default region)")
    fix.add_argument("--from-findings", metavar="FILE", help="fix the FAIL findings of a Prowler OCSF JSON file (prowler ... -M json-ocsf); muted findings are skipped")
    fix.add_argument("--log-destination-type", choices=("cloud-watch-logs", "s3"), help="as aws ec2 create-flow-logs --log-destination-type (required; Firehose is not offered)")
    fix.add_argument("--log-group-name", metavar="NAME", help="as --log-group-name of create-flow-logs: the log group, with cloud-watch-logs")
    fix.add_argument("--deliver-logs-permission-arn", metavar="ARN", help="as --deliver-logs-permission-arn of create-flow-logs: the IAM role that vpc-flow-logs.amazonaws.com assumes to write to the log group")
    fix.add_argument("--log-destination", metavar="BUCKET_ARN", help="as --log-destination of create-flow-logs: arn:aws:s3:::BUCKET[/PREFIX], with s3")
    fix.add_argument("--traffic-type", choices=("ALL", "REJECT", "ACCEPT"), default="ALL", help="as --traffic-type of create-flow-logs (default: ALL); must satisfy the check's policy")
    fix.add_argument("--max-aggregation-interval", type=int, choices=(60, 600), help="as --max-aggregation-interval of create-flow-logs, in seconds (default: AWS's, 600)")
    fix.add_argument("--log-format", metavar="FMT", help="as --log-format of create-flow-logs, e.g. '${srcaddr} ${dstaddr} ${action}' (default: AWS's default format)")
    fix.add_argument("--create-log-group", action="store_true", help="create the log group in each region where it is missing (tagged with the run id; the backout keeps it)")
    fix.add_argument("--retention-in-days", type=int, metavar="N", help="as aws logs put-retention-policy --retention-in-days, for a created log group (default: records never expire)")
    fix.add_argument("--config-file", metavar="FILE", help="Prowler config file whose vpc_flow_logs_required_traffic_type the fix must satisfy (default: REJECT)")
    fix.add_argument("--wait", type=int, default=300, metavar="SECONDS", help="how long to wait for the new flow logs to be ACTIVE (default: 300; 0: do not wait)")
    fix.add_argument("--dry-run", action="store_true", help="show the plan; read only, change nothing")
    fix.add_argument("--yes", action="store_true", help="do not ask before creating")
    fix.add_argument("--profile", metavar="P", help="as the AWS CLI's --profile: the named profile to use (default: the default credential chain)")
    _common(fix)
    fix.set_defaults(func=guarded(_fix))

    back = _command(
        subparsers, "backout", "delete exactly the flow logs a fix run created",
        "Delete the flow logs a fix run created: those its ledger records and those that carry its "
        f"tag {TAG_KEY}=RUN_ID in the regions where it created (a create whose answer was lost is "
        "found by its tag). A flow log whose tag changed is kept, and so is every other flow log; "
        "log groups the run created are kept (they may hold records).",
        BACKOUT_EXAMPLES,
    )
    back.add_argument("run_id", metavar="RUN_ID", help="the run to undo, as `vpc-flow-logs runs` lists it (vfl-YYYYMMDDTHHMMSSZ-xxxxxx)")
    back.add_argument("--dry-run", action="store_true", help="show what would be deleted; change nothing")
    back.add_argument("--yes", action="store_true", help="do not ask before deleting")
    back.add_argument("--from-tags", action="store_true", help="the ledger is lost or corrupt: find the run's flow logs by its tag in the --region(s)")
    back.add_argument("--region", action="append", metavar="R", help="region to search with --from-tags (repeatable)")
    back.add_argument("--profile", metavar="P", help="as the AWS CLI's --profile: the named profile to use (default: the default credential chain)")
    _common(back)
    back.set_defaults(func=guarded(_backout))

    runs = _command(
        subparsers, "runs", "list recorded fix runs",
        "List the fix runs recorded in the state folder: time, account, regions, flow logs created "
        "and failed, whether the run finished and whether it was backed out.",
        "  vpc-flow-logs runs\n  vpc-flow-logs runs --output json\n",
    )
    _common(runs)
    runs.set_defaults(func=guarded(_runs))
