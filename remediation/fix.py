"""The fix end to end: targets -> scan -> plan -> validate (no writes), then apply and record."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from prowler_vpc_flow_logs.clients import Clients
from prowler_vpc_flow_logs.errors import FAILED, RunInterrupted, UserError
from prowler_vpc_flow_logs.policy import Policy
from prowler_vpc_flow_logs.prowler_integration import build_provider, retrying_session

from .apply import Progress, apply, start_run
from .models import FixResult, FixSettings, Plan
from .plan import make_plan
from .targets import Targets, check_regions
from .validate import check_prerequisites
from .waiter import DEFAULT_WAIT


def scan(targets: Targets, profile: str | None = None, audit_config: dict | None = None):
    """The check's own service, collected for the target regions (Prowler's AwsProvider)."""
    from prowler_vpc_flow_logs.service import FlowLogs

    regions = check_regions(targets.regions)
    if not regions and targets.vpc_ids:
        default = retrying_session(profile).region_name
        if not default:
            raise UserError("--vpc-id needs --region (no default region is configured)")
        regions = [default]
    return FlowLogs(build_provider(regions, profile, audit_config))


class _NothingToScan:
    """The plan's view when no finding needs a look (all pass, or are muted): scan no region."""

    def __init__(self, account: str | None) -> None:
        self.audited_account = account or "-"
        self.policy = Policy(audited_account=self.audited_account)
        self.regions: dict = {}


def plan_fix(
    targets: Targets,
    settings: FixSettings,
    profile: str | None = None,
    audit_config: dict | None = None,
) -> tuple[Plan, Clients | None]:
    """Scan, plan and validate; no AWS write has happened when this returns."""
    if targets.source == "findings" and not targets.by_region:
        return make_plan(_NothingToScan(targets.account), targets, settings), None
    service = scan(targets, profile, audit_config)
    plan = make_plan(service, targets, settings)
    clients = Clients(service.session)
    check_prerequisites(plan, clients, service.policy)
    return plan, clients


def run_fix(
    plan: Plan,
    clients: Clients | None,
    state: Path | None = None,
    dry_run: bool = False,
    confirm: Callable[[Plan], bool] | None = None,
    progress: Progress | None = None,
    wait_seconds: int = DEFAULT_WAIT,
) -> FixResult:
    """Apply a validated plan (unless dry run or nothing to do), recording a run."""
    if dry_run or not plan.fixes or clients is None:
        return FixResult(
            run_id=None, dry_run=dry_run, account=plan.account, regions=plan.regions,
            planned=plan.fixes, skipped=plan.skipped, warnings=plan.warnings, unreadable=plan.unreadable,
        )  # fmt: skip
    if confirm is not None and not confirm(plan):
        raise UserError(
            "fix not confirmed; nothing was changed (pass --yes to skip the question)", FAILED
        )
    ledger = start_run(plan, "cli", state)
    try:
        result = apply(plan, ledger, clients, progress=progress, wait_seconds=wait_seconds)
    except KeyboardInterrupt:
        raise RunInterrupted(ledger.path.stem) from None
    result.unreadable = plan.unreadable
    return result
