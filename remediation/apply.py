"""Apply a plan: create each flow log (tagged with the run id), record it, then wait until ACTIVE."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from prowler_vpc_flow_logs import __version__
from prowler_vpc_flow_logs.aws_errors import error_code, error_message
from prowler_vpc_flow_logs.clients import ClientFor
from prowler_vpc_flow_logs.destinations import check_destination

from .ledger import (
    CreateFailed,
    CreateRequested,
    FlowLogCreated,
    Ledger,
    LogGroupCreated,
    RunFinished,
    RunStarted,
    new_run_id,
    now,
)
from .models import (
    OUTCOME_UNKNOWN,
    TAG_KEY,
    Created,
    Failed,
    FixResult,
    FixSettings,
    Plan,
    PlannedFix,
)
from .waiter import DEFAULT_WAIT, DELAY, attempts, wait_active

Progress = Callable[[int, int, str], None]


def start_run(plan: Plan, source: str = "cli", base: Path | None = None) -> Ledger:
    """A new run id and its ledger, on disk before the first write to AWS."""
    started = RunStarted(
        run_id=new_run_id(),
        time=now(),
        account=plan.account,
        regions=plan.regions,
        settings=plan.settings,
        source=source,
        version=__version__,
    )
    return Ledger.create(started, base)


def create_request(settings: FixSettings, run_id: str, vpc_id: str) -> dict:
    """The CreateFlowLogs parameters for one VPC, as ``aws ec2 create-flow-logs`` would send them."""
    params: dict = {
        "ResourceType": "VPC",
        "ResourceIds": [vpc_id],
        "TrafficType": settings.traffic_type,
        "LogDestinationType": settings.log_destination_type,
        "TagSpecifications": [
            {"ResourceType": "vpc-flow-log", "Tags": [{"Key": TAG_KEY, "Value": run_id}]}
        ],
        # the same token on a retried call cannot create a second flow log
        "ClientToken": hashlib.sha256(f"{run_id}/{vpc_id}".encode()).hexdigest()[:64],
    }
    if settings.log_destination_type == "cloud-watch-logs":
        params["LogGroupName"] = settings.log_group_name
        params["DeliverLogsPermissionArn"] = settings.deliver_logs_permission_arn
    else:
        params["LogDestination"] = settings.log_destination
    if settings.max_aggregation_interval is not None:
        params["MaxAggregationInterval"] = settings.max_aggregation_interval
    if settings.log_format:
        params["LogFormat"] = settings.log_format
    return params


def _create_log_groups(
    plan: Plan, ledger: Ledger, client_for: ClientFor, result: FixResult
) -> None:
    s = plan.settings
    for region in plan.log_groups_to_create:
        logs = client_for("logs", region)
        try:
            key = {"kmsKeyId": s.kms_key_id} if s.kms_key_id else {}
            logs.create_log_group(
                logGroupName=s.log_group_name, tags={TAG_KEY: ledger.path.stem}, **key
            )
        except ClientError as error:
            if error_code(error) != "ResourceAlreadyExistsException":
                raise
        else:
            ledger.append(
                LogGroupCreated(time=now(), region=region, log_group_name=s.log_group_name or "")
            )
            result.log_groups_created.append(f"{region}:{s.log_group_name}")
        if s.retention_in_days:
            logs.put_retention_policy(
                logGroupName=s.log_group_name, retentionInDays=s.retention_in_days
            )


def create_one(
    fix: PlannedFix, settings: FixSettings, ledger: Ledger, client_for: ClientFor
) -> Created | Failed:
    """One CreateFlowLogs call; its outcome is in the ledger (fsynced) when this returns.

    The request is recorded first. If the answer is lost (botocore gave up on the connection),
    the flow log may exist anyway: it carries the run tag, so it is looked up by that tag and
    recorded; the backout also searches every requested region by tag.
    """
    run_id = ledger.path.stem
    request = create_request(settings, run_id, fix.vpc_id)
    ec2 = client_for("ec2", fix.region)
    ledger.append(
        CreateRequested(
            time=now(),
            region=fix.region,
            vpc_ids=[fix.vpc_id],
            client_token=request["ClientToken"],
        )
    )
    try:
        response = ec2.create_flow_logs(**request)
    except ClientError as error:
        return _record_failure(ledger, fix, error_code(error), error_message(error))
    except BotoCoreError as error:
        response = _reconcile(ec2, run_id, fix.vpc_id)
        if response is None:
            return _record_failure(
                ledger,
                fix,
                OUTCOME_UNKNOWN,
                (
                    f"the answer to CreateFlowLogs was lost ({error}); if AWS created the flow log, "
                    f"it carries the tag {TAG_KEY}={run_id} and `vpc-flow-logs backout {run_id}` finds it"
                ),
            )
    ids = response.get("FlowLogIds") or []
    for flow_log_id in ids:
        ledger.append(
            FlowLogCreated(
                time=now(), region=fix.region, vpc_id=fix.vpc_id, flow_log_id=flow_log_id
            )
        )
    if ids and not response.get("Unsuccessful"):
        return Created(flow_log_id=ids[0], vpc_id=fix.vpc_id, region=fix.region)
    error = next(iter(response.get("Unsuccessful") or []), {}).get("Error") or {}
    return _record_failure(
        ledger,
        fix,
        str(error.get("Code", "Unsuccessful")),
        str(error.get("Message", "CreateFlowLogs reported no flow log")),
    )


def _record_failure(ledger: Ledger, fix: PlannedFix, code: str, message: str) -> Failed:
    ledger.append(
        CreateFailed(time=now(), region=fix.region, vpc_id=fix.vpc_id, code=code, message=message)
    )
    return Failed(vpc_id=fix.vpc_id, region=fix.region, code=code, message=message)


def _reconcile(ec2, run_id: str, vpc_id: str) -> dict | None:
    """After a lost answer: the run's flow logs on this VPC, shaped like CreateFlowLogs' answer
    (None when there are none, or the look-up fails too)."""
    try:
        found = ec2.describe_flow_logs(
            Filters=[
                {"Name": f"tag:{TAG_KEY}", "Values": [run_id]},
                {"Name": "resource-id", "Values": [vpc_id]},
            ]
        )["FlowLogs"]
    except (ClientError, BotoCoreError):
        return None
    ids = [fl["FlowLogId"] for fl in found]
    return {"FlowLogIds": ids, "Unsuccessful": []} if ids else None


def destination_gone(
    settings: FixSettings, region: str, client_for: ClientFor, account: str
) -> str | None:
    """Re-read the destination just before the first create in a region: why it is gone, or None.

    The plan checked it, but a confirmation can take minutes. The check's own probe does the
    look-up; only "missing" stops the creates (a read that fails leaves the plan's answer
    standing, and CreateFlowLogs will say if it must).
    """
    destination = settings.destination(region, account)
    if (
        destination is None
        or check_destination(destination, client_for, account).status != "missing"
    ):
        return None
    if destination.kind == "s3":
        return f"S3 bucket '{destination.name}' no longer exists (it was deleted after the plan)"
    return f"log group '{destination.name}' no longer exists in {region} (it was deleted after the plan)"


def apply(
    plan: Plan,
    ledger: Ledger,
    client_for: ClientFor,
    progress: Progress | None = None,
    wait_seconds: int = DEFAULT_WAIT,
    finish: bool = True,
) -> FixResult:
    """Create the planned flow logs one VPC at a time, recording each before the next call,
    then wait up to ``wait_seconds`` (0: not at all) until they are ACTIVE."""
    result = FixResult(
        run_id=ledger.path.stem,
        account=plan.account,
        regions=plan.regions,
        skipped=plan.skipped,
        warnings=list(plan.warnings),
    )
    _create_log_groups(plan, ledger, client_for, result)
    total = len(plan.fixes)
    gone: dict[str, str | None] = {}
    for index, fix in enumerate(plan.fixes, start=1):
        if fix.region not in gone:
            gone[fix.region] = destination_gone(plan.settings, fix.region, client_for, plan.account)
        why = gone[fix.region]
        outcome = (
            _record_failure(ledger, fix, "DestinationGone", why)
            if why
            else create_one(fix, plan.settings, ledger, client_for)
        )
        if isinstance(outcome, Created):
            result.created.append(outcome)
            text = f"created {outcome.flow_log_id} for {fix.label} in {fix.region}"
        else:
            result.failed.append(outcome)
            text = f"FAILED for {fix.label} in {fix.region}: {outcome.code}: {outcome.message}"
        if progress:
            progress(index, total, text)
    if finish:
        ledger.append(
            RunFinished(time=now(), created=len(result.created), failed=len(result.failed))
        )
    by_region: dict[str, list[str]] = {}
    for created in result.created:
        by_region.setdefault(created.region, []).append(created.flow_log_id)
    for region, ids in sorted(by_region.items()) if wait_seconds > 0 else ():
        problems = wait_active(client_for("ec2", region), ids, DELAY, attempts(wait_seconds))
        result.not_active.extend(f"{i}: {why}" for i, why in problems.items())
    return result
