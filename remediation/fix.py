"""The fix end to end, across accounts: scan -> plan -> validate (no writes) in every account in
parallel, then one recorded run that applies the plans place by place (account and region) in
parallel, batch by batch."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from botocore.exceptions import BotoCoreError, ClientError

from prowler_vpc_flow_logs.aws_errors import error_message
from prowler_vpc_flow_logs.clients import Clients
from prowler_vpc_flow_logs.errors import FAILED, RunInterrupted, UserError
from prowler_vpc_flow_logs.policy import Policy
from prowler_vpc_flow_logs.prowler_provider import quiet_prowler
from prowler_vpc_flow_logs.scan import Scan

from .accounts import Reach, Unreachable
from .apply import apply_region, merge, start_run
from .batches import BATCH_SIZE, Outcome
from .ledger import RunFinished, now
from .models import MAX_WORKERS, FixPlan, FixResult, FixSettings, Plan, RoleSettings
from .plan import make_plan
from .targets import Targets, check_regions
from .validate import check_prerequisites
from .waiter import DEFAULT_WAIT


class Progress(Protocol):
    """What a run reports while it works (the CLI shows it on stderr)."""

    def batch(self, account: str, region: str, outcome: Outcome) -> None: ...

    def place_done(self, account: str, region: str) -> None: ...


@dataclass
class Scope:
    """Who the fix covers and how they are reached (the CLI's account flags)."""

    profile: str | None = None
    role: RoleSettings | None = None
    organization: bool = False
    account_ids: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)  # --exclude-account
    max_workers: int = MAX_WORKERS


def _regions(targets: Targets, reach: Reach) -> list[str]:
    regions = check_regions(targets.regions)
    if not regions and targets.vpc_ids:
        default = reach.session.region_name
        if not default:
            raise UserError("--vpc-id needs --region (no default region is configured)")
        regions = [default]
    return regions


def scanner() -> type:
    """The check's own Prowler service: the one part of a fix that needs Prowler's AWSService."""
    try:
        from prowler_vpc_flow_logs.service import FlowLogs
    except Exception as error:  # a Prowler whose internals moved
        raise UserError(
            f"fix cannot run with this Prowler ({type(error).__name__}: {error}); "
            "`vpc-flow-logs status` names what failed"
        ) from error
    return FlowLogs


def _plan_account(
    reach: Reach, account: str, targets: Targets, settings: FixSettings, audit_config
):
    """Scan one account with the check's own service, plan, and validate the plan (reads only)."""
    mine, settings = targets.for_account(account), settings.for_account(account)
    if mine.source == "findings" and not mine.by_region:  # every finding passes or is muted
        scan = Scan(account=account, policy=Policy(audited_account=account))
        return make_plan(scan, mine, settings), None
    if audit_config is None and mine.policy is not None:  # judge as the scan that wrote them
        audit_config = mine.policy
    service = scanner()(reach.provider(account, _regions(mine, reach), audit_config))
    plan = make_plan(service.scan, mine, settings)
    clients = Clients(service.session)
    check_prerequisites(plan, clients, service.scan.policy)
    return plan, clients


def plan_fix(
    targets: Targets,
    settings: FixSettings,
    scope: Scope | None = None,
    audit_config: dict | None = None,
) -> tuple[FixPlan, dict[str, Clients]]:
    """Plan every account in parallel; no AWS write has happened when this returns.

    An account that cannot be reached is named in ``account_errors``, one whose plan is refused
    (its delivery role missing, say) in ``cannot_fix``, while the others are planned; refused
    everywhere (or in the one account), it is a UserError naming each account."""
    scope = scope or Scope()
    reach = Reach(scope.profile, scope.role)
    accounts = reach.choose(scope.organization, scope.account_ids, targets.accounts, scope.excluded)
    fix_plan, clients, refusals = FixPlan(role=scope.role), {}, {}

    def one(account: str) -> None:
        try:
            plan, account_clients = _plan_account(reach, account, targets, settings, audit_config)
        except Unreachable as error:
            fix_plan.account_errors[account] = str(error)
        except (ClientError, BotoCoreError) as error:
            fix_plan.account_errors[account] = (
                f"cannot read account {account}: {error_message(error)}"
            )
        except UserError as error:
            refusals[account] = error
        else:
            fix_plan.plans.append(plan)
            if account_clients is not None:
                clients[account] = account_clients

    with quiet_prowler(), ThreadPoolExecutor(max_workers=scope.max_workers) as pool:
        list(pool.map(one, accounts))
    if refusals and (len(accounts) == 1 or len(refusals) == len(accounts)):
        if len(accounts) == 1:
            raise next(iter(refusals.values()))
        raise UserError("; ".join(f"account {a}: {e}" for a, e in sorted(refusals.items())))
    # one account's own problem (its delivery role missing, say) leaves the others to go ahead
    fix_plan.cannot_fix = {account: str(error) for account, error in refusals.items()}
    fix_plan.plans.sort(key=lambda plan: plan.account)
    fix_plan.caller = reach.account
    return fix_plan, clients


def run_fix(
    fix_plan: FixPlan,
    clients: dict[str, Clients],
    state: Path | None = None,
    dry_run: bool = False,
    confirm: Callable[[FixPlan], bool] | None = None,
    progress: Progress | None = None,
    wait_seconds: int = DEFAULT_WAIT,
    batch_size: int = BATCH_SIZE,
    max_workers: int = MAX_WORKERS,
) -> FixResult:
    """Apply validated plans (unless dry run or nothing to do) as one recorded run: every place
    (account and region) in parallel, up to ``max_workers`` at once."""
    caller = fix_plan.caller or (fix_plan.accounts or ["-"])[0]
    result = FixResult(
        run_id=None, dry_run=dry_run, account=caller, accounts=fix_plan.accounts,
        regions=sorted({r for plan in fix_plan.plans for r in plan.regions}),
        planned=fix_plan.fixes, skipped=[s for plan in fix_plan.plans for s in plan.skipped],
        warnings=[w for plan in fix_plan.plans for w in plan.warnings],
        unreadable=[u for plan in fix_plan.plans for u in plan.unreadable],
        account_errors=dict(fix_plan.account_errors), cannot_fix=dict(fix_plan.cannot_fix),
    )  # fmt: skip
    if dry_run or not fix_plan.fixes:
        return result
    if confirm is not None and not confirm(fix_plan):
        raise UserError(
            "fix not confirmed; nothing was changed (pass --yes to skip the question)", FAILED
        )
    plans = [plan for plan in fix_plan.plans if plan.fixes]
    left_out = {**fix_plan.not_reached, **fix_plan.cannot_fix}
    ledger = start_run(plans, caller, "cli", state, fix_plan.role, left_out)
    result.run_id, result.planned = ledger.path.stem, []
    places = [(plan, region) for plan in plans for region in plan.work_regions]
    stop = threading.Event()
    lock = threading.Lock()

    def one(plan: Plan, region: str) -> None:
        on_batch = progress.batch if progress else None
        client_for = clients[plan.account]
        part = apply_region(
            plan, region, ledger, client_for, on_batch, wait_seconds, batch_size, stop
        )
        with lock:
            merge(result, part)
        if progress:
            progress.place_done(plan.account, region)

    pool = ThreadPoolExecutor(max_workers=max_workers)
    try:
        futures = [pool.submit(one, plan, region) for plan, region in places]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in done:
            future.result()  # an unexpected error in a place is the run's error
    except KeyboardInterrupt:
        stop.set()  # places finish the batch in flight (recorded), then stop
        pool.shutdown(wait=True, cancel_futures=True)
        raise RunInterrupted(ledger.path.stem) from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    ledger.append(RunFinished(time=now(), created=len(result.created), failed=len(result.failed)))
    return result
