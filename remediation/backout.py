"""Back out a run: delete only the flow logs it created that still carry its run-id tag, in
every account of the run (each reached as the fix reached it), accounts in parallel."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from prowler_vpc_flow_logs.aws_errors import error_message
from prowler_vpc_flow_logs.clients import ClientFor
from prowler_vpc_flow_logs.errors import FAILED, UserError

from .accounts import Unreachable
from .batches import flow_logs_on, run_tag
from .ledger import (
    BackedOut,
    FlowLogCreated,
    Ledger,
    RunStarted,
    account_of,
    check_run_id,
    created_log_groups,
    ledger_path,
    now,
    search_places,
)
from .models import TAG_KEY, BackoutResult, Created, place

BATCH = 1000  # flow log ids per DescribeFlowLogs / DeleteFlowLogs call
GONE = "already gone"  # a log group of the run that no longer exists
AccountClients = Callable[[str], ClientFor]  # account -> its clients (raises Unreachable)


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
    started: RunStarted | None = None
    found: dict[str, Created] = field(default_factory=dict)  # flow log id -> where it was made
    log_groups: list[str] = field(default_factory=list)  # log groups the run created
    places: list[str] = field(default_factory=list)  # "ACCOUNT:REGION" to search by tag
    deleted_before: set[str] = field(default_factory=set)  # by an earlier backout of the run


def candidates(
    run_id: str, base: Path | None, from_tags: bool, regions: list[str], accounts: list[str]
) -> Candidates:
    """The ledger's flow logs, and the places to search by the run tag: every place the run asked
    to create in (a create whose answer was lost is recorded only by its request and its tag).
    With ``from_tags`` the ledger may be lost or corrupt, and ``regions`` of ``accounts`` are searched."""
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
    places = set(search_places(events)) if events else set()
    if events:
        found.started = started = events[0]
        accounts = accounts or started.all_accounts()
        for event in events:
            if isinstance(event, FlowLogCreated):
                account = account_of(event, started)
                found.found[event.flow_log_id] = Created(
                    flow_log_id=event.flow_log_id, vpc_id=event.vpc_id, region=event.region, account=account
                )  # fmt: skip
            elif isinstance(event, BackedOut):
                found.deleted_before |= set(event.deleted) | set(event.deleted_log_groups)
        found.log_groups = created_log_groups(events)
    places |= {place(account, region) for account in accounts for region in regions}
    found.places = sorted(places)
    return found


def _others(client, created: list[Created]) -> dict[str, str]:
    """Flow logs on the run's VPCs that the run did not create (kept, and said): id -> VPC id."""
    ours = {c.flow_log_id for c in created}
    vpc_ids = sorted({c.vpc_id for c in created if c.vpc_id})
    return {
        id_: fl.get("ResourceId", "")
        for id_, fl in flow_logs_on(client, vpc_ids).items()
        if id_ not in ours
    }


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


class _Account:
    """One account's part of a backout: what may be deleted there, and then deleting it."""

    def __init__(
        self,
        run_id: str,
        account: str,
        client_for: ClientFor,
        result: BackoutResult,
        lock,
        deleted_before: set[str],
    ) -> None:
        self.run_id, self.account, self.client_for = run_id, account, client_for
        self.result, self.lock = result, lock
        self.deletable: dict[str, list[Created]] = {}
        self.deleted_before = deleted_before  # by an earlier backout of the run

    def search(self, regions: list[str], found: Candidates, fatal: bool) -> None:
        """Add the run-tagged flow logs of these regions; a failed search is said, or (``fatal``,
        with --from-tags, where the tags are the record) an error."""
        for region in regions:
            where = place(self.account, region)
            try:
                tagged = _tagged(self.client_for("ec2", region), self.run_id)
            except (ClientError, BotoCoreError) as error:
                if fatal:
                    raise UserError(
                        f"cannot search flow logs by tag in {region}: {error_message(error)}",
                        FAILED,
                    ) from error
                with self.lock:
                    self.result.unsearched[where] = error_message(error)
                continue
            with self.lock:
                self.result.searched.append(where)
                for fl in tagged:
                    if fl["FlowLogId"] not in found.found:
                        found.found[fl["FlowLogId"]] = Created(
                            flow_log_id=fl["FlowLogId"], vpc_id=fl.get("ResourceId", ""), region=region,
                            account=self.account,
                        )  # fmt: skip
                        self.result.found_by_tag.append(fl["FlowLogId"])

    def judge(self, items: list[Created]) -> None:
        """Which of the run's flow logs here may be deleted (still tagged, still on the recorded VPC)."""
        by_region: dict[str, list[Created]] = {}
        for created in items:
            by_region.setdefault(created.region, []).append(created)
        for region, mine in sorted(by_region.items()):
            client = self.client_for("ec2", region)
            try:
                current = _describe(client, [c.flow_log_id for c in mine])
                others = _others(client, mine)
            except (ClientError, BotoCoreError) as error:
                raise UserError(
                    f"cannot read flow logs in {region} of {self.account}: {error_message(error)}",
                    FAILED,
                ) from error
            with self.lock:
                self.result.others.update(others)
                for created in mine:
                    self._judge_one(region, created, current.get(created.flow_log_id))

    def _judge_one(self, region: str, created: Created, raw: dict | None) -> None:
        if raw is None:
            earlier = created.flow_log_id in self.deleted_before
            (self.result.deleted_before if earlier else self.result.gone).append(
                created.flow_log_id
            )
            return
        seen = run_tag(raw)
        if seen != self.run_id:
            self.result.refused[created.flow_log_id] = (
                f"its tag {TAG_KEY} is {'missing' if seen is None else repr(seen)}, not {self.run_id}: "
                "it is kept, as this run cannot prove it created it"
            )
        elif raw.get("ResourceId") != created.vpc_id and created.vpc_id:
            self.result.refused[created.flow_log_id] = (
                f"it is attached to {raw.get('ResourceId')}, not to {created.vpc_id} as recorded: kept"
            )
        else:
            self.deletable.setdefault(region, []).append(created)

    def delete(self) -> None:
        for region, items in sorted(self.deletable.items()):
            refused = _delete(self.client_for("ec2", region), [c.flow_log_id for c in items])
            with self.lock:
                self.result.refused.update(refused)
                self.result.deleted.extend(c for c in items if c.flow_log_id not in refused)

    def log_groups(self, groups: list[str], delete: bool) -> None:
        """The log groups the run created here ("ACCOUNT:REGION:NAME"): deleted on request when
        they still carry the run tag (their records go with them), else kept and said."""
        for group in groups:
            if not delete:
                with self.lock:
                    self.result.kept_log_groups.append(group)
                continue
            why = self._delete_log_group(*group.split(":", 2)[1:])
            with self.lock:
                if why is None:
                    self.result.deleted_log_groups.append(group)
                elif why == GONE:
                    self.result.gone.append(group)
                else:
                    self.result.refused[group] = why

    def _delete_log_group(self, region: str, name: str) -> str | None:
        """Delete the log group if it still carries the run tag; None when deleted, else why not."""
        logs = self.client_for("logs", region)
        try:
            listed = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
            arns = [g["arn"].removesuffix(":*") for g in listed if g["logGroupName"] == name]
            if not arns:
                return GONE
            tags = logs.list_tags_for_resource(resourceArn=arns[0]).get("tags") or {}
            if tags.get(TAG_KEY) != self.run_id:
                return f"its tag {TAG_KEY} is not {self.run_id}: kept"
            logs.delete_log_group(logGroupName=name)
        except (ClientError, BotoCoreError) as error:
            return f"could not be deleted: {error_message(error)}"
        return None


def backout(
    run_id: str,
    clients_of: AccountClients,
    base: Path | None = None,
    from_tags: bool = False,
    regions: list[str] | None = None,
    dry_run: bool = False,
    confirm: Callable[[BackoutResult], bool] | None = None,
    accounts: list[str] | None = None,
    max_workers: int = 8,
    delete_log_groups: bool = False,
) -> BackoutResult:
    """Delete the run's flow logs that still carry its tag; the rest are refused with a reason.
    An account that cannot be reached is named in ``account_errors``; the others are backed out."""
    found = candidates(run_id, base, from_tags, list(regions or []), list(accounts or []))
    result = BackoutResult(run_id=run_id, dry_run=dry_run)
    lock = threading.Lock()
    places: dict[str, list[str]] = {}
    for where in found.places:
        account, region = where.split(":", 1)
        places.setdefault(account, []).append(region)
    for created in found.found.values():
        places.setdefault(created.account, [])
    parts: dict[str, _Account] = {}

    def gather(account: str) -> None:
        try:
            part = _Account(
                run_id, account, clients_of(account), result, lock, found.deleted_before
            )
        except Unreachable as error:
            with lock:
                result.account_errors[account] = str(error)
            return
        part.search(places[account], found, fatal=from_tags)
        with lock:
            mine = [c for c in found.found.values() if c.account == account]
        part.judge(mine)
        parts[account] = part

    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        list(pool.map(gather, sorted(places)))
    deletable = [c for part in parts.values() for items in part.deletable.values() for c in items]
    groups = {
        account: [
            g
            for g in found.log_groups
            if g.split(":")[0] == account and g not in found.deleted_before
        ]
        for account in parts
    }
    if dry_run:
        result.deleted = deletable
        key = "deleted_log_groups" if delete_log_groups else "kept_log_groups"
        setattr(result, key, [g for account in sorted(groups) for g in groups[account]])
        return result
    if deletable and confirm and not confirm(_preview(result, deletable)):
        raise UserError(
            "backout not confirmed; nothing was deleted (pass --yes to skip the question)", FAILED
        )
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        list(pool.map(lambda part: part.delete(), parts.values()))
    for account, part in sorted(parts.items()):  # after the flow logs that write to them
        part.log_groups(groups[account], delete_log_groups)
    if found.ledger is not None:
        found.ledger.append(BackedOut(
            time=now(), deleted=[c.flow_log_id for c in result.deleted], refused=result.refused,
            gone=result.gone, from_tags=from_tags, searched=sorted(result.searched),
            unsearched=result.unsearched, account_errors=result.account_errors,
            deleted_log_groups=result.deleted_log_groups,
        ))  # fmt: skip
    return result


def _preview(result: BackoutResult, deletable: list[Created]) -> BackoutResult:
    preview = result.model_copy(deep=True)
    preview.dry_run = True
    preview.deleted = deletable
    return preview
