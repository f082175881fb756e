"""``vpc-flow-logs fix``, ``backout`` and ``runs``: added to the main CLI by ``register``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from .errors import FAILED, RemediationError
from .ledger import list_runs
from .models import BackoutResult, FixResult, Plan
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
    for region in plan.log_groups_to_create:
        lines.append(f"  create log group '{plan.settings.log_group_name}' in {region}")
    if plan.skipped:
        lines.append(f"  skip {len(plan.skipped)} VPC(s):")
        lines += [f"    {s.region}  {s.vpc_id}: {_short(s.reason)}" for s in plan.skipped]
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
    lines.append(f"Undo with: vpc-flow-logs backout {result.run_id}")
    return "\n".join(lines)


def backout_text(result: BackoutResult) -> str:
    verb = "would delete" if result.dry_run else "deleted"
    lines = [f"Backout of {result.run_id}{' (dry run: nothing was changed)' if result.dry_run else ''}"]
    lines += [f"  {verb} {c.flow_log_id} ({c.vpc_id} in {c.region})" for c in result.deleted]
    lines += [f"  refused {i}: {why}" for i, why in sorted(result.refused.items())]
    lines += [f"  already gone: {i} (deleted outside this backout)" for i in result.gone]
    lines += [f"  kept {i} on {vpc}: not created by this run" for i, vpc in sorted(result.others.items())]
    lines += [f"  kept log group {g} (created by the run; it may hold flow log records)" for g in result.kept_log_groups]
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

    from prowler_vpc_flow_logs.service import config_problem

    if not Path(path).is_file():
        raise RemediationError(f"--config-file {path} does not exist")
    try:
        yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise RemediationError(f"--config-file {path} is not a YAML file: {str(error).splitlines()[0]}") from error
    audit_config = load_and_validate_config_file("aws", path)
    problem = config_problem(audit_config)
    if problem:
        raise RemediationError(f"{problem} ({path}); correct it, then run the fix again")
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
    return FAILED if result.refused else 0


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
        print(
            f"{r.run_id}  {r.time}  account {r.account}  regions {','.join(r.regions) or '-'}  "
            f"created {r.created}  failed {r.failed}  {'finished' if r.finished else 'INCOMPLETE'}  "
            f"backed out: {r.backed_out}  ({r.source})"
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
    parser.add_argument("--state-dir", metavar="DIR", help="where runs are recorded (default: the XDG state folder)")
    parser.add_argument("--output", choices=("text", "json"), default="text")


def register(subparsers) -> None:
    """Add ``fix``, ``backout`` and ``runs`` to the ``vpc-flow-logs`` command."""
    fix = subparsers.add_parser("fix", help="create the missing VPC flow logs (recorded, undoable)")
    fix.add_argument("--region", action="append", metavar="R", help="region to scan or look VPC ids up in (repeatable)")
    fix.add_argument("--vpc-id", action="append", metavar="ID", help="fix only this VPC (repeatable)")
    fix.add_argument("--from-findings", metavar="FILE", help="fix the FAIL findings of a Prowler OCSF JSON file")
    fix.add_argument("--log-destination-type", choices=("cloud-watch-logs", "s3"))
    fix.add_argument("--log-group-name", metavar="NAME")
    fix.add_argument("--deliver-logs-permission-arn", metavar="ARN")
    fix.add_argument("--log-destination", metavar="BUCKET_ARN")
    fix.add_argument("--traffic-type", choices=("ALL", "REJECT", "ACCEPT"), default="ALL")
    fix.add_argument("--max-aggregation-interval", type=int, choices=(60, 600))
    fix.add_argument("--log-format", metavar="FMT")
    fix.add_argument("--create-log-group", action="store_true", help="create the log group where it is missing")
    fix.add_argument("--retention-in-days", type=int, metavar="N", help="retention of a created log group")
    fix.add_argument("--config-file", metavar="FILE", help="Prowler config file (for vpc_flow_logs_required_traffic_type)")
    fix.add_argument("--wait", type=int, default=300, metavar="SECONDS", help="how long to wait for the new flow logs to be ACTIVE (default 300; 0: do not wait)")
    fix.add_argument("--dry-run", action="store_true", help="show the plan; change nothing")
    fix.add_argument("--yes", action="store_true", help="do not ask before creating")
    fix.add_argument("--profile", metavar="P")
    _common(fix)
    fix.set_defaults(func=guarded(_fix))

    back = subparsers.add_parser("backout", help="delete exactly the flow logs a fix run created")
    back.add_argument("run_id", metavar="RUN_ID")
    back.add_argument("--dry-run", action="store_true")
    back.add_argument("--yes", action="store_true", help="do not ask before deleting")
    back.add_argument("--from-tags", action="store_true", help="find the run's flow logs by tag (ledger lost)")
    back.add_argument("--region", action="append", metavar="R", help="region to search with --from-tags")
    back.add_argument("--profile", metavar="P")
    _common(back)
    back.set_defaults(func=guarded(_backout))

    runs = subparsers.add_parser("runs", help="list recorded fix runs")
    _common(runs)
    runs.set_defaults(func=guarded(_runs))
