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
from prowler_vpc_flow_logs.clients import MAX_IDS, ClientFor
from prowler_vpc_flow_logs.errors import FAILED, UserError

from .accounts import Unreachable
from .batches import describe_flow_logs, flow_logs_on, run_tag
from .ledger import (
    BackedOut,
    FlowLogCreated,
    Ledger,
    check_run_id,
    created_log_groups,
    ledger_path,
    now,
    search_places,
)
from .models import MAX_WORKERS, TAG_KEY, BackoutResult, Created, place

GONE = "already gone"  # a log group of the run that no longer exists
AccountClients = Callable[[str], ClientFor]  # account -> its clients (raises Unreachable)


@dataclass
class Candidates:
    """What a backout may delete: the ledger's flow logs plus every flow log carrying the run tag."""

    ledger: Ledger | None
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
    if from_tags and not regions:
        raise UserError("--from-tags needs the regions to search: --region R [--region R ...]")
    ledger, events = None, []
    if not from_tags or ledger_path(run_id, base).is_file():
        try:  # with --from-tags: a readable ledger records the backout; a corrupt one is left
            ledger = Ledger.open(run_id, base)
            events = ledger.events()
        except UserError:
            if not from_tags:
                raise
            ledger, events = None, []  # the tags are the record
    found = Candidates(ledger)
    places = set(search_places(events)) if events else set()
    if events:
        accounts = accounts or events[0].all_accounts()
        for event in events:
            if isinstance(event, FlowLogCreated):
                found.found[event.flow_log_id] = Created.model_validate(event, from_attributes=True)
            elif isinstance(event, BackedOut):
                found.deleted_before |= set(event.deleted) | set(event.deleted_log_groups)
        found.log_groups = created_log_groups(events)
    found.places = sorted(places | {place(a, r) for a in accounts for r in regions})
    return found


def _delete(client, ids: list[str]) -> dict[str, str]:
    """Delete; id -> why for the ones AWS refused."""
    refused: dict[str, str] = {}
    for start in range(0, len(ids), MAX_IDS):
        batch = ids[start : start + MAX_IDS]
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
            why = f"DeleteFlowLogs refused: {err.get('Code')}: {err.get('Message')}"
            refused[item.get("ResourceId", "?")] = why
    return refused


class _Account:
    """One account's part of a backout: what may be deleted there, and then deleting it."""

    def __init__(
        self, run_id: str, account: str, client_for: ClientFor, result: BackoutResult, lock
    ) -> None:
        self.run_id, self.account, self.client_for = run_id, account, client_for
        self.result, self.lock = result, lock
        self.deletable: dict[str, list[Created]] = {}

    def search(self, regions: list[str], found: Candidates, fatal: bool) -> None:
        """Add the run-tagged flow logs of these regions; a failed search is said, or (``fatal``,
        with --from-tags, where the tags are the record) an error."""
        tag = {"Name": f"tag:{TAG_KEY}", "Values": [self.run_id]}
        for region in regions:
            try:
                tagged = describe_flow_logs(self.client_for("ec2", region), Filters=[tag])
            except (ClientError, BotoCoreError) as error:
                if fatal:
                    raise UserError(
                        f"cannot search flow logs by tag in {region}: {error_message(error)}",
                        FAILED,
                    ) from error
                with self.lock:
                    self.result.unsearched[place(self.account, region)] = error_message(error)
                continue
            with self.lock:
                self.result.searched.append(place(self.account, region))
                for id_, fl in tagged.items():
                    if id_ not in found.found:
                        found.found[id_] = Created(
                            flow_log_id=id_, vpc_id=fl.get("ResourceId", ""), region=region,
                            account=self.account,
                        )  # fmt: skip
                        self.result.found_by_tag.append(id_)

    def judge(self, items: list[Created], deleted_before: set[str]) -> None:
        """Which of the run's flow logs here may be deleted (still tagged, still on the recorded
        VPC); the others on its VPCs are kept and said."""
        for region in sorted({c.region for c in items}):
            mine = [c for c in items if c.region == region]
            client = self.client_for("ec2", region)
            ids = [c.flow_log_id for c in mine]
            try:
                current: dict[str, dict] = {}
                for start in range(0, len(ids), MAX_IDS):
                    current |= describe_flow_logs(client, FlowLogIds=ids[start : start + MAX_IDS])
                on_vpcs = flow_logs_on(client, sorted({c.vpc_id for c in mine if c.vpc_id}))
            except (ClientError, BotoCoreError) as error:
                raise UserError(
                    f"cannot read flow logs in {region} of {self.account}: {error_message(error)}",
                    FAILED,
                ) from error
            ours = set(ids)
            others = {i: fl.get("ResourceId", "") for i, fl in on_vpcs.items() if i not in ours}
            with self.lock:
                self.result.others.update(others)
                for created in mine:
                    raw = current.get(created.flow_log_id)
                    if raw is None:
                        earlier = created.flow_log_id in deleted_before
                        gone = self.result.deleted_before if earlier else self.result.gone
                        gone.append(created.flow_log_id)
                    else:
                        self._judge_one(region, created, raw)

    def _judge_one(self, region: str, created: Created, raw: dict) -> None:
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
            why = self._delete_log_group(*group.split(":", 2)[1:]) if delete else None
            with self.lock:
                if not delete:
                    self.result.kept_log_groups.append(group)
                elif why is None:
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
    max_workers: int = MAX_WORKERS,
    delete_log_groups: bool = False,
) -> BackoutResult:
    """Delete the run's flow logs that still carry its tag; the rest are refused with a reason.
    An account that cannot be reached is named in ``account_errors``; the others are backed out."""
    found = candidates(run_id, base, from_tags, list(regions or []), list(accounts or []))
    result = BackoutResult(run_id=run_id, dry_run=dry_run)
    lock = threading.Lock()
    places: dict[str, list[str]] = {c.account: [] for c in found.found.values()}
    for where in found.places:
        account, region = where.split(":", 1)
        places.setdefault(account, []).append(region)
    parts: dict[str, _Account] = {}

    def gather(account: str) -> None:
        try:
            part = _Account(run_id, account, clients_of(account), result, lock)
        except Unreachable as error:
            with lock:
                result.account_errors[account] = str(error)
            return
        part.search(places[account], found, fatal=from_tags)
        with lock:
            mine = [c for c in found.found.values() if c.account == account]
        part.judge(mine, found.deleted_before)
        parts[account] = part

    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        list(pool.map(gather, sorted(places)))
    deletable = [c for part in parts.values() for items in part.deletable.values() for c in items]
    groups = {
        a: [g for g in found.log_groups if g.split(":")[0] == a and g not in found.deleted_before]
        for a in parts
    }
    if dry_run:
        result.deleted = deletable
        key = "deleted_log_groups" if delete_log_groups else "kept_log_groups"
        setattr(result, key, [g for account in sorted(groups) for g in groups[account]])
        return result
    preview = result.model_copy(update={"dry_run": True, "deleted": deletable}, deep=True)
    if deletable and confirm and not confirm(preview):
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
