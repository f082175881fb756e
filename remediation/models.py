"""Plain data of a remediation run: settings, plan and results (ledger events: ledger.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from prowler_vpc_flow_logs.destinations import bucket_folder, parse_destination
from prowler_vpc_flow_logs.facts import FixableKind, FlowLog, s3_folder
from prowler_vpc_flow_logs.knobs import DEFAULT_INTERVAL, Interval
from prowler_vpc_flow_logs.policy import TrafficType

TAG_KEY = "prowler-vpc-flow-logs:run-id"
OUTCOME_UNKNOWN = "OutcomeUnknown"  # CreateFailed.code when a create's answer was lost
ACCOUNT_PLACEHOLDER = "{account}"  # in --deliver-logs-permission-arn: each account's own role
SESSION_NAME = "prowler-vpc-flow-logs"  # --role-session-name's default
MAX_WORKERS = 8  # accounts (and places) worked on at once


def place(account: str, region: str) -> str:
    """Where a run works: "ACCOUNT:REGION" (the key of searches and progress)."""
    return f"{account}:{region}"


def log_group_place(account: str, region: str, name: str) -> str:
    """A log group a run created: "ACCOUNT:REGION:NAME" (results, ledger and backout)."""
    return f"{place(account, region)}:{name}"


class RoleSettings(BaseModel):
    """How to reach the accounts other than the caller's (Prowler's -R, --external-id,
    --role-session-name): arn:PARTITION:iam::ACCOUNT:role/ROLE_NAME."""

    model_config = ConfigDict(frozen=True)

    role_name: str
    external_id: str | None = None
    role_session_name: str = SESSION_NAME

    def arn(self, account: str, partition: str = "aws") -> str:
        return f"arn:{partition}:iam::{account}:role/{self.role_name}"


class FixSettings(BaseModel):
    """What flow log to create; names follow ``aws ec2 create-flow-logs`` (with underscores)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    log_destination_type: FixableKind
    log_group_name: str | None = None
    deliver_logs_permission_arn: str | None = None
    log_destination: str | None = None  # S3 bucket ARN, optionally with a /prefix
    traffic_type: TrafficType = "ALL"
    max_aggregation_interval: Interval | None = None
    log_format: str | None = None
    create_log_group: bool = False
    retention_in_days: int | None = None
    kms_key_id: str | None = None  # for created log groups, as aws logs create-log-group

    def destination(self, region: str, account: str):
        """The Destination a flow log created with these settings writes to, in ``region``."""
        raw = {
            "LogDestinationType": self.log_destination_type,
            "LogGroupName": self.log_group_name,
            "LogDestination": self.log_destination,
        }
        return parse_destination(raw, region, account)

    def writes_like(self, flow_log: FlowLog, region: str, account: str) -> bool:
        """``flow_log`` writes where a flow log created with these settings would (same log group,
        or same bucket and folder): AWS takes no second such flow log on one resource."""
        if flow_log.destination is None or flow_log.destination != self.destination(
            region, account
        ):
            return False
        if self.log_destination_type != "s3":
            return True
        return s3_folder(flow_log.s3_key_prefix) == bucket_folder(self.log_destination or "")

    def for_account(self, account: str) -> FixSettings:
        """These settings in ``account``: its own delivery role where the ARN says {account}."""
        arn = self.deliver_logs_permission_arn
        if not arn or ACCOUNT_PLACEHOLDER not in arn:
            return self
        return self.model_copy(
            update={"deliver_logs_permission_arn": arn.replace(ACCOUNT_PLACEHOLDER, account)}
        )

    def describe(self) -> str:
        if self.log_destination_type == "s3":
            target = f"S3 {self.log_destination}"
        else:
            target = f"CloudWatch Logs log group '{self.log_group_name}' (role {self.deliver_logs_permission_arn})"
        interval = self.max_aggregation_interval or DEFAULT_INTERVAL
        log_format = self.log_format or "AWS's default format"
        return (
            f"{self.traffic_type} traffic to {target}, aggregated over at most {interval} s, "
            f"records in {log_format}"
        )


# Why the plan leaves a target alone. The last two need the user: they are named as CANNOT FIX
# and the exit code says something was left (issue 19).
SkipKind = Literal["compliant", "not-ours", "unknown", "unused", "muted", "conflict", "gone"]
CANNOT_FIX: tuple[SkipKind, ...] = ("conflict", "gone")


class Skip(BaseModel):
    """A target the plan leaves alone, and why."""

    account: str = ""
    region: str
    vpc_id: str
    reason: str
    kind: SkipKind

    @property
    def cannot_fix(self) -> bool:
        return self.kind in CANNOT_FIX


class PlannedFix(BaseModel):
    """One VPC that fails the policy and the flow log it gets."""

    account: str = ""
    region: str
    vpc_id: str
    vpc_name: str = ""
    reason: str  # the check's verdict text

    @property
    def label(self) -> str:
        return f"{self.vpc_id} ({self.vpc_name})" if self.vpc_name else self.vpc_id


class Plan(BaseModel):
    """Everything a fix will do in one account, decided before any write."""

    account: str
    settings: FixSettings
    regions: list[str]
    fixes: list[PlannedFix] = Field(default_factory=list)
    skipped: list[Skip] = Field(default_factory=list)
    log_groups_to_create: list[str] = Field(default_factory=list)  # regions
    warnings: list[str] = Field(default_factory=list)
    unreadable: list[str] = Field(default_factory=list)  # regions or VPCs the scan could not read

    @property
    def work_regions(self) -> list[str]:
        """Where a run writes: the regions of its fixes and of the log groups it creates."""
        return sorted({fix.region for fix in self.fixes} | set(self.log_groups_to_create))


class FixPlan(BaseModel):
    """A fix across accounts: one plan per account that could be read, and why the others could not."""

    caller: str = ""  # the account of the credentials the fix runs with
    plans: list[Plan] = Field(default_factory=list)
    account_errors: dict[str, str] = Field(default_factory=dict)  # account -> why it is not planned
    cannot_fix: dict[str, str] = Field(default_factory=dict)  # account -> what it lacks (skipped)
    role: RoleSettings | None = None

    @property
    def not_reached(self) -> dict[str, str]:
        """Accounts not reached, or whose reads failed so that nothing could be planned there."""
        unread = {
            plan.account: "its flow logs could not be read: " + "; ".join(plan.unreadable)
            for plan in self.plans
            if plan.unreadable and not plan.fixes and not plan.skipped
        }
        return {**unread, **self.account_errors}

    @property
    def fixes(self) -> list[PlannedFix]:
        return [fix for plan in self.plans for fix in plan.fixes]

    @property
    def accounts(self) -> list[str]:
        return sorted({plan.account for plan in self.plans} | set(self.account_errors))


# -- results ---------------------------------------------------------------------------
class Created(BaseModel):
    flow_log_id: str
    vpc_id: str
    region: str
    account: str = ""


class Failed(BaseModel):
    vpc_id: str
    region: str
    code: str
    message: str
    account: str = ""


class FixResult(BaseModel):
    """What ``fix`` prints with ``--output json``."""

    run_id: str | None
    dry_run: bool = False
    account: str  # the caller's account, or the one account fixed
    accounts: list[str] = Field(default_factory=list)
    regions: list[str]
    created: list[Created] = Field(default_factory=list)
    skipped: list[Skip] = Field(default_factory=list)
    failed: list[Failed] = Field(default_factory=list)
    planned: list[PlannedFix] = Field(default_factory=list)
    not_active: list[str] = Field(default_factory=list)
    untagged: list[str] = Field(default_factory=list)  # made by a refused call; not tagged
    log_groups_created: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    unreadable: list[str] = Field(default_factory=list)
    account_errors: dict[str, str] = Field(default_factory=dict)  # account -> why it was not fixed
    cannot_fix: dict[str, str] = Field(default_factory=dict)  # account -> what it lacks (skipped)

    @property
    def blocked(self) -> list[Skip]:
        """The targets left for the user (named CANNOT FIX; the exit code says so)."""
        return [skip for skip in self.skipped if skip.cannot_fix]

    @property
    def left_for_the_user(self) -> bool:
        """Something failed, is unknown or cannot be fixed: ``fix`` exits 1."""
        found = (self.failed, self.not_active, self.untagged, self.unreadable, self.blocked)
        return any(found) or bool(self.account_errors or self.cannot_fix)


class BackoutResult(BaseModel):
    """What ``backout`` did (or would do, with ``--dry-run``)."""

    run_id: str
    dry_run: bool = False
    deleted: list[Created] = Field(default_factory=list)
    refused: dict[str, str] = Field(default_factory=dict)
    gone: list[str] = Field(default_factory=list)
    deleted_before: list[str] = Field(default_factory=list)  # by an earlier backout of the run
    kept_log_groups: list[str] = Field(default_factory=list)  # "ACCOUNT:REGION:NAME"
    deleted_log_groups: list[str] = Field(default_factory=list)  # --delete-log-groups
    others: dict[str, str] = Field(default_factory=dict)  # flow log id -> VPC: not the run's, kept
    searched: list[str] = Field(default_factory=list)  # "ACCOUNT:REGION" searched for the run's tag
    unsearched: dict[str, str] = Field(default_factory=dict)  # "ACCOUNT:REGION" -> why not
    found_by_tag: list[str] = Field(default_factory=list)  # run-tagged flow logs the ledger lacked
    account_errors: dict[str, str] = Field(default_factory=dict)  # account -> why not reached


class RunSummary(BaseModel):
    """One line of ``vpc-flow-logs runs``."""

    run_id: str
    time: str
    account: str
    accounts: list[str] = Field(default_factory=list)
    regions: list[str]
    source: str
    created: int
    failed: int
    finished: bool
    backed_out: Literal["no", "yes", "partly"]
    unknown_outcomes: int = 0  # creates whose answer was lost or never came (flow logs tagged)
    left_out: dict[str, str] = Field(default_factory=dict)  # account -> why it was not fixed
    kept_log_groups: int = 0  # log groups the run created that no backout deleted
    torn: bool = False  # the last record was cut short by a crash; the records before it stand
    error: str = ""
