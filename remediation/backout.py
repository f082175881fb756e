"""Back out a run: delete only the flow logs it created that still carry its run-id tag."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from prowler_vpc_flow_logs.aws_errors import error_message
from prowler_vpc_flow_logs.clients import ClientFor
from prowler_vpc_flow_logs.errors import FAILED, UserError

from .ledger import (
    BackedOut,
    FlowLogCreated,
    Ledger,
    LogGroupCreated,
    check_run_id,
    ledger_path,
    now,
    search_regions,
)
from .models import TAG_KEY, BackoutResult, Created

BATCH = 1000
FILTER_VALUES = 200  # values per DescribeFlowLogs filter


def _tagged(client, run_id: str) -> list[dict]:
    pages = client.get_paginator("describe_flow_logs").paginate(
        Filters=[{"Name": f"tag:{TAG_KEY}", "Values": [run_id]}]
    )
    return [fl for page in pages for fl in page["FlowLogs"]]


def _describe(client, ids: list[str]) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for start in range(0, len(ids), BATCH):
        pages = client.get_paginator("describe_flow_logs").paginate(
            FlowLogIds=ids[start : start + BATCH]
        )
        found.update({fl["FlowLogId"]: fl for page in pages for fl in page["FlowLogs"]})
    return found


@dataclass
class Candidates:
    """What a backout may delete: the ledger's flow logs plus every flow log carrying the run tag."""

    ledger: Ledger | None
    found: dict[str, Created] = field(default_factory=dict)  # flow log id -> where it was made
    log_groups: list[str] = field(default_factory=list)  # "region:name" the run created
    searched: list[str] = field(default_factory=list)  # regions searched by tag
    unsearched: dict[str, str] = field(default_factory=dict)  # region -> why not
    found_by_tag: list[str] = field(default_factory=list)  # tagged, but not in the ledger


def candidates(
    run_id: str, client_for: ClientFor, base: Path | None, from_tags: bool, regions: list[str]
) -> Candidates:
    """The ledger's flow logs, then a search by the run tag in every region the run asked to
    create in (a create whose answer was lost is recorded only by its request and its tag).
    With ``from_tags`` the ledger may be lost or corrupt, and ``regions`` are searched too."""
    check_run_id(run_id)
    events = []
    if from_tags:
        if not regions:
            raise UserError("--from-tags needs the regions to search: --region R [--region R ...]")
        ledger = None
        if ledger_path(run_id, base).is_file():
            try:
                ledger = Ledger.open(run_id, base)
                events = ledger.events()  # readable: the backout is recorded in it
            except UserError:
                ledger, events = None, []  # a corrupt ledger: the tags are the record
    else:
        ledger = Ledger.open(run_id, base)
        events = ledger.events()
    found = Candidates(ledger)
    for event in events:
        if isinstance(event, FlowLogCreated):
            found.found[event.flow_log_id] = Created(
                flow_log_id=event.flow_log_id, vpc_id=event.vpc_id, region=event.region
            )
        elif isinstance(event, LogGroupCreated):
            found.log_groups.append(f"{event.region}:{event.log_group_name}")
    search = sorted(set(regions) | set(search_regions(events) if events else []))
    for region in search:
        try:
            tagged = _tagged(client_for("ec2", region), run_id)
        except (ClientError, BotoCoreError) as error:
            if from_tags:
                raise UserError(
                    f"cannot search flow logs by tag in {region}: {error_message(error)}", FAILED
                ) from error
            found.unsearched[region] = error_message(error)
            continue
        found.searched.append(region)
        for fl in tagged:
            if fl["FlowLogId"] not in found.found:
                found.found[fl["FlowLogId"]] = Created(
                    flow_log_id=fl["FlowLogId"], vpc_id=fl.get("ResourceId", ""), region=region
                )
                found.found_by_tag.append(fl["FlowLogId"])
    return found


def _others(client, created: list[Created]) -> dict[str, str]:
    """Flow logs on the run's VPCs that the run did not create (kept, and said): id -> VPC id."""
    ours = {c.flow_log_id for c in created}
    vpc_ids = sorted({c.vpc_id for c in created if c.vpc_id})
    others: dict[str, str] = {}
    for start in range(0, len(vpc_ids), FILTER_VALUES):
        pages = client.get_paginator("describe_flow_logs").paginate(
            Filters=[{"Name": "resource-id", "Values": vpc_ids[start : start + FILTER_VALUES]}]
        )
        for fl in (fl for page in pages for fl in page["FlowLogs"]):
            if fl["FlowLogId"] not in ours:
                others[fl["FlowLogId"]] = fl.get("ResourceId", "")
    return others


def _delete(client, ids: list[str]) -> dict[str, str]:
    """Delete; id -> why for the ones AWS refused."""
    refused: dict[str, str] = {}
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        try:
            response = client.delete_flow_logs(FlowLogIds=batch)
        except ClientError as error:
            if len(batch) == 1:
                refused[batch[0]] = f"DeleteFlowLogs failed: {error_message(error)}"
            else:  # one bad id fails the whole call on some endpoints: retry one by one
                for one in batch:
                    refused.update(_delete(client, [one]))
            continue
        for item in response.get("Unsuccessful") or []:
            err = item.get("Error") or {}
            refused[item.get("ResourceId", "?")] = (
                f"DeleteFlowLogs refused: {err.get('Code')}: {err.get('Message')}"
            )
    return refused


def backout(
    run_id: str,
    client_for: ClientFor,
    base: Path | None = None,
    from_tags: bool = False,
    regions: list[str] | None = None,
    dry_run: bool = False,
    confirm: Callable[[BackoutResult], bool] | None = None,
) -> BackoutResult:
    """Delete the run's flow logs that still carry its tag; the rest are refused with a reason."""
    found = candidates(run_id, client_for, base, from_tags, list(regions or []))
    ledger = found.ledger
    result = BackoutResult(
        run_id=run_id,
        dry_run=dry_run,
        kept_log_groups=found.log_groups,
        searched=found.searched,
        unsearched=found.unsearched,
        found_by_tag=found.found_by_tag,
    )
    by_region: dict[str, list[Created]] = {}
    for created in found.found.values():
        by_region.setdefault(created.region, []).append(created)
    deletable: dict[str, list[Created]] = {}
    for region, items in sorted(by_region.items()):
        client = client_for("ec2", region)
        try:
            current = _describe(client, [c.flow_log_id for c in items])
            result.others.update(_others(client, items))
        except (ClientError, BotoCoreError) as error:
            raise UserError(
                f"cannot read flow logs in {region}: {error_message(error)}", FAILED
            ) from error
        for created in items:
            raw = current.get(created.flow_log_id)
            if raw is None:
                result.gone.append(created.flow_log_id)
                continue
            tags = {t["Key"]: t["Value"] for t in raw.get("Tags") or []}
            if tags.get(TAG_KEY) != run_id:
                seen = tags.get(TAG_KEY)
                result.refused[created.flow_log_id] = (
                    f"its tag {TAG_KEY} is {'missing' if seen is None else repr(seen)}, not {run_id}: "
                    "it is kept, as this run cannot prove it created it"
                )
            elif raw.get("ResourceId") != created.vpc_id and created.vpc_id:
                result.refused[created.flow_log_id] = (
                    f"it is attached to {raw.get('ResourceId')}, not to {created.vpc_id} as recorded: kept"
                )
            else:
                deletable.setdefault(region, []).append(created)
    if dry_run:
        result.deleted = [c for items in deletable.values() for c in items]
        return result
    if deletable and confirm and not confirm(_preview(result, deletable)):
        raise UserError(
            "backout not confirmed; nothing was deleted (pass --yes to skip the question)", FAILED
        )
    for region, items in sorted(deletable.items()):
        refused = _delete(client_for("ec2", region), [c.flow_log_id for c in items])
        result.refused.update(refused)
        result.deleted.extend(c for c in items if c.flow_log_id not in refused)
    if ledger is not None:
        ledger.append(
            BackedOut(
                time=now(),
                deleted=[c.flow_log_id for c in result.deleted],
                refused=result.refused,
                gone=result.gone,
                from_tags=from_tags,
                searched=result.searched,
                unsearched=result.unsearched,
            )
        )
    return result


def _preview(result: BackoutResult, deletable: dict[str, list[Created]]) -> BackoutResult:
    preview = result.model_copy(deep=True)
    preview.dry_run = True
    preview.deleted = [c for items in deletable.values() for c in items]
    return preview
