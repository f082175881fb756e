"""The fix and backout procedures end to end (targets -> plan -> validate -> apply), used by the CLI and the fixer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from prowler_vpc_flow_logs.clients import Clients

from .apply import Progress, apply, start_run
from .aws import build_provider, check_regions, session_for
from .errors import FAILED, RemediationError, RunInterrupted
from .models import BackoutResult, FixResult, FixSettings, Plan
from .plan import make_plan
from .targets import Targets
from .undo import backout
from .validate import check_prerequisites


def scan(targets: Targets, profile: str | None = None, audit_config: dict | None = None):
    """The check's own service, collected for the target regions (Prowler's AwsProvider)."""
    from prowler_vpc_flow_logs.service import FlowLogs

    regions = check_regions(targets.regions)
    if not regions and targets.vpc_ids:
        default = session_for(profile).region_name
        if not default:
            raise RemediationError("--vpc-id needs --region (no default region is configured)")
        regions = [default]
    return FlowLogs(build_provider(regions, profile, audit_config))


class _NoScan:
    """The plan's view of a scan that was not needed (no failing finding to look at)."""

    def __init__(self, account: str | None) -> None:
        from prowler_vpc_flow_logs.models import Policy

        self.audited_account = account or "-"
        self.policy = Policy(audited_account=self.audited_account)
        self.regions: dict = {}


def plan_fix(
    targets: Targets, settings: FixSettings, profile: str | None = None, audit_config: dict | None = None
) -> tuple[Plan, Clients | None]:
    """Scan, plan and validate; no AWS write has happened when this returns."""
    if targets.source == "findings" and not targets.by_region:
        # every finding of the check passes or is muted: nothing to scan (never every region)
        return make_plan(_NoScan(targets.account), targets, settings), None
    service = scan(targets, profile, audit_config)
    plan = make_plan(service, targets, settings)
    clients = Clients(service.session)
    check_prerequisites(plan, clients)
    return plan, clients


def run_fix(
    plan: Plan,
    clients: Clients,
    state: Path | None = None,
    dry_run: bool = False,
    confirm: Callable[[Plan], bool] | None = None,
    progress: Progress | None = None,
    wait: tuple[int, int] | None = (5, 60),
) -> FixResult:
    """Apply a validated plan (unless dry run or nothing to do), recording a run."""
    if dry_run or not plan.fixes:
        return FixResult(
            run_id=None, dry_run=dry_run, account=plan.account, regions=plan.regions,
            planned=plan.fixes, skipped=plan.skipped, warnings=plan.warnings, unreadable=plan.unreadable,
        )
    if confirm is not None and not confirm(plan):
        raise RemediationError("fix not confirmed; nothing was changed (pass --yes to skip the question)", FAILED)
    ledger = start_run(plan, "cli", state)
    try:
        result = apply(plan, ledger, clients, progress=progress, wait=wait)
    except KeyboardInterrupt:
        raise RunInterrupted(ledger.path.stem) from None
    result.unreadable = plan.unreadable
    return result


def run_backout(
    run_id: str,
    profile: str | None = None,
    state: Path | None = None,
    from_tags: bool = False,
    regions: list[str] | None = None,
    dry_run: bool = False,
    confirm: Callable[[BackoutResult], bool] | None = None,
) -> BackoutResult:
    regions = check_regions(regions or [])
    clients = Clients(session_for(profile))
    return backout(run_id, clients, state, from_tags=from_tags, regions=regions, dry_run=dry_run, confirm=confirm)
