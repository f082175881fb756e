"""The run ledger: one JSON Lines file per run, each event flushed and fsynced before the next
AWS call. Its events are the ledger's format; ``runs`` summarises a run from them."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from prowler_vpc_flow_logs.errors import UserError
from prowler_vpc_flow_logs.state import state_dir

from .models import OUTCOME_UNKNOWN, FixSettings, RoleSettings, RunSummary, log_group_place, place


# -- ledger events (one JSON object per line) -----------------------------------------
class RunStarted(BaseModel):
    event: Literal["run-started"] = "run-started"
    run_id: str
    time: str
    account: str  # the caller's account
    regions: list[str]
    settings: FixSettings
    source: Literal["cli", "prowler-fixer"] = "cli"
    version: str = ""
    accounts: list[str] = Field(default_factory=list)  # every account the run may write in
    role: RoleSettings | None = None  # how the backout reaches the accounts other than the caller's
    left_out: dict[str, str] = Field(
        default_factory=dict
    )  # account -> why the run could not fix it

    def all_accounts(self) -> list[str]:
        return sorted(set(self.accounts) | {self.account})


class PlaceEvent(BaseModel):
    """An event in one account and region."""

    event: str
    time: str
    account: str
    region: str


class LogGroupCreated(PlaceEvent):
    event: Literal["log-group-created"] = "log-group-created"
    log_group_name: str


class CreateRequested(PlaceEvent):
    """Written before each CreateFlowLogs call: if its answer is lost (crash, Ctrl-C, timeout),
    the flow logs it made still carry the run tag, and the backout searches these places for it."""

    event: Literal["create-requested"] = "create-requested"
    vpc_ids: list[str]
    client_token: str


class FlowLogCreated(PlaceEvent):
    event: Literal["flow-log-created"] = "flow-log-created"
    vpc_id: str
    flow_log_id: str
    adopted: bool = False  # made by a call AWS refused or whose answer was lost; tagged after


class CreateFailed(PlaceEvent):
    event: Literal["create-failed"] = "create-failed"
    vpc_id: str
    code: str
    message: str


class RunFinished(BaseModel):
    event: Literal["run-finished"] = "run-finished"
    time: str
    created: int
    failed: int


class BackedOut(BaseModel):
    event: Literal["backed-out"] = "backed-out"
    time: str
    deleted: list[str]
    refused: dict[str, str] = Field(default_factory=dict)  # flow log id -> why
    gone: list[str] = Field(default_factory=list)
    from_tags: bool = False
    searched: list[str] = Field(default_factory=list)  # "ACCOUNT:REGION" searched by the run tag
    unsearched: dict[str, str] = Field(default_factory=dict)  # place -> why the search failed
    account_errors: dict[str, str] = Field(default_factory=dict)  # account -> why not reached
    deleted_log_groups: list[str] = Field(default_factory=list)  # "ACCOUNT:REGION:NAME"


LedgerEvent = (
    RunStarted | LogGroupCreated | CreateRequested | FlowLogCreated | CreateFailed | RunFinished
    | BackedOut
)  # fmt: skip
RUN_ID = re.compile(r"^vfl-\d{8}T\d{6}Z-[0-9a-f]{6}$")
_EVENT = TypeAdapter(LedgerEvent)


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_run_id() -> str:
    """``vfl-<UTC time>-<6 hex>``: sortable by time, unique per run."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"vfl-{stamp}-{secrets.token_hex(3)}"


def check_run_id(run_id: str) -> str:
    if not RUN_ID.match(run_id):
        raise UserError(
            f"'{run_id}' is not a run id (expected vfl-YYYYMMDDTHHMMSSZ-xxxxxx, as `vpc-flow-logs runs` lists them)"
        )
    return run_id


def runs_dir(base: Path | None = None) -> Path:
    return (base or state_dir()) / "runs"


def check_writable(base: Path | None = None) -> Path:
    """The runs folder, created if needed and proven writable: checked before any AWS write."""
    folder = runs_dir(base)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.NamedTemporaryFile(dir=folder, prefix=".writable-").close()  # deleted on close
    except OSError as error:
        raise UserError(
            f"cannot record runs in {folder} ({error.strerror or error}); nothing was changed in AWS. "
            "Point --state-dir (or VPC_FLOW_LOGS_STATE_DIR, or state-dir in the fixer config) at a "
            "folder you can write"
        ) from error
    return folder


# How to back out a run whose ledger is lost or corrupt (said wherever that happens).
FROM_TAGS = (
    "`vpc-flow-logs backout RUN_ID --from-tags --region R [--region R ...]`, adding "
    "--organization or --account-id ID (and --role-name NAME) for a run across accounts"
)


def ledger_path(run_id: str, base: Path | None = None) -> Path:
    return runs_dir(base) / f"{check_run_id(run_id)}.jsonl"


class Ledger:
    """An append-only ledger; every ``append`` is on disk (flushed and fsynced) when it returns."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.torn = False  # set by events()

    @classmethod
    def create(cls, started: RunStarted, base: Path | None = None) -> Ledger:
        path = ledger_path(started.run_id, base)
        path.parent.mkdir(parents=True, exist_ok=True)
        open(path, "x", encoding="utf-8").close()  # never reuse a run id
        with contextlib.suppress(OSError):  # the new file's name on disk too
            fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        ledger = cls(path)
        ledger.append(started)
        return ledger

    @classmethod
    def open(cls, run_id: str, base: Path | None = None) -> Ledger:
        path = ledger_path(run_id, base)
        if not path.is_file():
            raise UserError(
                f"no run {run_id} in {path.parent} (see `vpc-flow-logs runs`; if the ledger "
                f"was lost: {FROM_TAGS})"
            )
        return cls(path)

    def append(self, event: LedgerEvent) -> None:
        """One ``os.write`` per event, so only the last line of a crashed run can be torn."""
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        try:
            os.write(fd, (event.model_dump_json() + "\n").encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)

    def events(self) -> list[LedgerEvent]:
        """Every event, validated; a corrupt ledger is a UserError naming the line. A last line
        without its newline was torn by a crash mid-write: it is skipped and ``torn`` is set."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise UserError(f"cannot read ledger {self.path}: {error}") from error
        lines = text.splitlines()
        self.torn = bool(text) and not text.endswith("\n")
        corrupt = f"ledger {self.path} is corrupt"
        events: list[LedgerEvent] = []
        for number, line in enumerate(lines[:-1] if self.torn else lines, start=1):
            try:
                events.append(_EVENT.validate_python(json.loads(line)))
            except (ValueError, ValidationError) as error:
                raise UserError(
                    f"{corrupt} at line {number} ({str(error).splitlines()[0]}); nothing was "
                    "deleted. Back out by tag instead: " + FROM_TAGS
                ) from error
        if not events or not isinstance(events[0], RunStarted):
            raise UserError(
                f"{corrupt} (it does not start with the run's header); nothing was deleted. "
                "Back out by tag instead: " + FROM_TAGS
            )
        if events[0].run_id != self.path.stem:
            raise UserError(f"{corrupt} (it records run {events[0].run_id}); nothing was deleted")
        return events


def search_places(events: list[LedgerEvent]) -> list[str]:
    """ "ACCOUNT:REGION" places where the run may have created flow logs: every place it asked
    to create in."""
    kinds = CreateRequested | FlowLogCreated
    return sorted({place(e.account, e.region) for e in events if isinstance(e, kinds)})


def backed_out(events: list[LedgerEvent]) -> str:
    """ "yes" only when the last backout removed every recorded flow log, refused none, reached
    every account and searched every place the run created in for its tag; "partly" after any
    other backout."""
    outs = [e for e in events if isinstance(e, BackedOut)]
    if not outs:
        return "no"
    created = {e.flow_log_id for e in events if isinstance(e, FlowLogCreated)}
    removed = {i for e in outs for i in (*e.deleted, *e.gone)}
    last = outs[-1]
    complete = not (last.unsearched or last.refused or last.account_errors)
    searched_all = set(search_places(events)) <= set(last.searched)
    return "yes" if created <= removed and complete and searched_all else "partly"


def summarize(ledger: Ledger) -> RunSummary:
    """One run's line for ``vpc-flow-logs runs`` (a corrupt ledger is listed with its error)."""
    try:
        events = ledger.events()
    except UserError as error:
        return RunSummary(
            run_id=ledger.path.stem, time="?", account="?", regions=[], source="?", created=0,
            failed=0, finished=False, backed_out="no", error=str(error),
        )  # fmt: skip
    started: RunStarted = events[0]  # type: ignore[assignment]
    created = [e for e in events if isinstance(e, FlowLogCreated)]
    failures = [e for e in events if isinstance(e, CreateFailed)]
    deleted = {g for e in events if isinstance(e, BackedOut) for g in e.deleted_log_groups}
    return RunSummary(
        run_id=started.run_id,
        time=started.time,
        account=started.account,
        accounts=sorted(set(started.all_accounts()) | {e.account for e in created}),
        regions=sorted(set(started.regions) | {e.region for e in created}),
        source=started.source,
        created=len(created),
        failed=len(failures),
        finished=any(isinstance(e, RunFinished) for e in events),
        backed_out=backed_out(events),
        unknown_outcomes=sum(f.code == OUTCOME_UNKNOWN for f in failures) + _unanswered(events),
        left_out=started.left_out,
        kept_log_groups=len(set(created_log_groups(events)) - deleted),  # a backout keeps them
        torn=ledger.torn,
    )


def created_log_groups(events: list[LedgerEvent]) -> list[str]:
    """The log groups the run created, as "ACCOUNT:REGION:NAME"."""
    return [
        log_group_place(e.account, e.region, e.log_group_name)
        for e in events
        if isinstance(e, LogGroupCreated)
    ]


def _unanswered(events: list[LedgerEvent]) -> int:
    """VPCs of create requests with no recorded outcome (the process died while they were sent):
    AWS may have made their flow logs, which carry the run tag."""
    requests = [e for e in events if isinstance(e, CreateRequested)]
    asked = {(e.account, e.region, vpc_id) for e in requests for vpc_id in e.vpc_ids}
    outcomes = FlowLogCreated | CreateFailed
    answered = {(e.account, e.region, e.vpc_id) for e in events if isinstance(e, outcomes)}
    return len(asked - answered)


def list_runs(base: Path | None = None) -> list[RunSummary]:
    folder = runs_dir(base)
    if not folder.is_dir():
        return []
    return [summarize(Ledger(p)) for p in sorted(folder.glob("vfl-*.jsonl"))]
