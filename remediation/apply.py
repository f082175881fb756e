"""Apply a plan, place by place (an account and a region): create the log group where planned,
read the destination again, create the flow logs batch by batch, then wait until ACTIVE."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from botocore.exceptions import ClientError

from prowler_vpc_flow_logs import __version__
from prowler_vpc_flow_logs.aws_errors import error_code
from prowler_vpc_flow_logs.clients import ClientFor
from prowler_vpc_flow_logs.destinations import check_destination

from .batches import BATCH_SIZE, BatchCreator, Outcome
from .ledger import CreateFailed, Ledger, LogGroupCreated, RunStarted, new_run_id, now
from .models import (
    TAG_KEY,
    Failed,
    FixResult,
    FixSettings,
    Plan,
    RoleSettings,
    log_group_place,
)
from .waiter import DEFAULT_WAIT, DELAY, attempts, wait_active

# Called after each batch: (account, region, created and failed so far in this batch).
OnBatch = Callable[[str, str, Outcome], None]


def start_run(
    plans: list[Plan],
    caller: str,
    source: str = "cli",
    base: Path | None = None,
    role: RoleSettings | None = None,
    left_out: dict[str, str] | None = None,
) -> Ledger:
    """A new run id and its ledger, on disk before the first write to AWS."""
    started = RunStarted(
        run_id=new_run_id(), time=now(), account=caller, source=source, version=__version__,
        accounts=sorted({plan.account for plan in plans}),
        regions=sorted({region for plan in plans for region in plan.regions}),
        settings=plans[0].settings, role=role, left_out=left_out or {},
    )  # fmt: skip
    return Ledger.create(started, base)


def _create_log_group(plan: Plan, region: str, ledger: Ledger, client_for: ClientFor) -> list[str]:
    """Create the planned log group in ``region`` (tagged with the run id); what was created."""
    s, name = plan.settings, plan.settings.log_group_name or ""
    logs = client_for("logs", region)
    created = []
    try:
        key = {"kmsKeyId": s.kms_key_id} if s.kms_key_id else {}
        logs.create_log_group(logGroupName=name, tags={TAG_KEY: ledger.path.stem}, **key)
    except ClientError as error:
        if error_code(error) != "ResourceAlreadyExistsException":
            raise
    else:
        ledger.append(
            LogGroupCreated(time=now(), account=plan.account, region=region, log_group_name=name)
        )
        created.append(log_group_place(plan.account, region, name))
    if s.retention_in_days:
        logs.put_retention_policy(logGroupName=name, retentionInDays=s.retention_in_days)
    return created


def destination_gone(
    settings: FixSettings, region: str, client_for: ClientFor, account: str
) -> str | None:
    """Re-read the destination just before the first create in a region: why it is gone, or None.

    The plan checked it, but a confirmation can take minutes. The check's own probe does the
    look-up; only "missing" stops the creates (a read that fails leaves the plan's answer
    standing, and CreateFlowLogs will say if it must).
    """
    destination = settings.destination(region, account)
    state = check_destination(destination, client_for, account) if destination else None
    if state is None or state.status != "missing":
        return None
    if destination.kind == "s3":
        return f"S3 bucket '{destination.name}' no longer exists (it was deleted after the plan)"
    return f"log group '{destination.name}' no longer exists in {region} (it was deleted after the plan)"


def apply_region(
    plan: Plan,
    region: str,
    ledger: Ledger,
    client_for: ClientFor,
    on_batch: OnBatch | None = None,
    wait_seconds: int = DEFAULT_WAIT,
    batch_size: int = BATCH_SIZE,
    stop: threading.Event | None = None,
) -> FixResult:
    """Everything the plan does in one region of its account; each batch is recorded before the
    next call. ``stop`` (set on Ctrl-C) ends the work between batches."""
    result = FixResult(run_id=ledger.path.stem, account=plan.account, regions=[region])
    fixes = [fix for fix in plan.fixes if fix.region == region]
    if region in plan.log_groups_to_create:
        result.log_groups_created += _create_log_group(plan, region, ledger, client_for)
    why = destination_gone(plan.settings, region, client_for, plan.account)
    if why:
        for fix in fixes:
            ledger.append(CreateFailed(
                time=now(), account=plan.account, region=region, vpc_id=fix.vpc_id,
                code="DestinationGone", message=why,
            ))  # fmt: skip
            result.failed.append(Failed(
                vpc_id=fix.vpc_id, region=region, code="DestinationGone", message=why, account=plan.account
            ))  # fmt: skip
        if on_batch:
            on_batch(plan.account, region, Outcome(failed=list(result.failed)))
        return result
    creator = BatchCreator(ledger, client_for("ec2", region), plan.settings, plan.account, region)
    for start in range(0, len(fixes), batch_size):
        if stop is not None and stop.is_set():
            break
        outcome = creator.create(fixes[start : start + batch_size])
        result.created += outcome.created
        result.failed += outcome.failed
        result.untagged += outcome.untagged
        if on_batch:
            on_batch(plan.account, region, outcome)
    ids = [created.flow_log_id for created in result.created]
    if wait_seconds > 0 and ids and not (stop is not None and stop.is_set()):
        problems = wait_active(client_for("ec2", region), ids, DELAY, attempts(wait_seconds))
        result.not_active += [f"{flow_log_id}: {why}" for flow_log_id, why in problems.items()]
    return result


def merge(into: FixResult, part: FixResult) -> None:
    """Add one place's outcome to a run's result."""
    into.created += part.created
    into.failed += part.failed
    into.not_active += part.not_active
    into.log_groups_created += part.log_groups_created
    into.untagged += part.untagged
