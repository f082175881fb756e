"""The opt-in knobs judged for one flow log: how its records are kept (pure, no AWS).

Each judgment returns what the flow log misses (a problem), what could not be read (an
unknown: the flow log might count, nobody knows) or what must be said (a note). The policy
(policy.assess) adds them to the flow log's assessment; a flow log counts only when it meets
every knob that is on.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Literal, get_args

from prowler_vpc_flow_logs import record_format
from prowler_vpc_flow_logs.facts import (
    Destination,
    DestinationState,
    FlowLog,
    LifecycleRule,
    s3_folder,
)

MIN_RETENTION_KEY = "vpc_flow_logs_min_retention_days"
REQUIRE_KMS_KEY = "vpc_flow_logs_require_kms"
MAX_INTERVAL_KEY = "vpc_flow_logs_max_aggregation_interval"
REQUIRED_FIELDS_KEY = "vpc_flow_logs_required_fields"
ALLOWED_DESTINATIONS_KEY = "vpc_flow_logs_allowed_destinations"
DESTINATION_ROLES_KEY = "vpc_flow_logs_destination_roles"

NEVER_EXPIRE = "never"  # the strictest retention: records must never expire
Retention = int | Literal["never"]
Interval = Literal[60, 600]  # the MaxAggregationInterval values AWS accepts, in seconds
INTERVALS: tuple[int, ...] = get_args(Interval)
DEFAULT_INTERVAL = 600  # AWS's MaxAggregationInterval when a flow log does not say
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")


@dataclass
class Judgment:
    problems: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def days(count: int) -> str:
    """ "1 day", "30 days"."""
    return f"{count} day" if count == 1 else f"{count} days"


def required_retention(minimum: Retention) -> str:
    return "records that never expire" if minimum == NEVER_EXPIRE else str(minimum)


def too_short(days: int, minimum: Retention) -> bool:
    """Records kept ``days`` days fall short of ``minimum``."""
    return minimum == NEVER_EXPIRE or days < minimum


def interval_problem(flow_log: FlowLog, maximum: int | None) -> str | None:
    interval = flow_log.max_aggregation_interval or DEFAULT_INTERVAL
    if maximum is None or interval <= maximum:
        return None
    return f"MaxAggregationInterval is {interval} s; {MAX_INTERVAL_KEY} requires {maximum}"


def fields_problem(log_format: str | None, required: tuple[str, ...] | None) -> str | None:
    recorded = set(record_format.fields_of(log_format))
    lacking = [name for name in required or () if name not in recorded]
    if not lacking:
        return None
    which = "LogFormat" if log_format else "AWS's default LogFormat (the flow log has none)"
    return f"{which} lacks {', '.join(lacking)} ({REQUIRED_FIELDS_KEY})"


# VPC Flow Logs writes gzip files of at most 75 MB to S3 ("Flow log files", VPC User Guide:
# docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3.html); read as MiB to err strict. A gzip
# file is never below 18 bytes (RFC 1952: 10-byte header, 8-byte trailer).
LARGEST_FLOW_LOG_FILE = 75 * 1024 * 1024
SMALLEST_FLOW_LOG_FILE = 18


def can_hold_flow_log_files(rule: LifecycleRule) -> bool:
    """Some flow-log file may fall in the rule's object-size range (no bounds: every one)."""
    above = rule.size_greater_than if rule.size_greater_than is not None else -1
    below = rule.size_less_than if rule.size_less_than is not None else LARGEST_FLOW_LOG_FILE + 1
    low, high = max(above + 1, SMALLEST_FLOW_LOG_FILE), min(below - 1, LARGEST_FLOW_LOG_FILE)
    return low <= high


def destination_arn(flow_log: FlowLog) -> str:
    """The ARN a flow log writes to, as the allowed-destinations patterns match it: a log group's
    or stream's ARN, a bucket's with its folder (arn:aws:s3:::bucket/folder)."""
    if flow_log.destination is None:
        return ""
    folder = s3_folder(flow_log.s3_key_prefix)
    return flow_log.destination.arn + (f"/{folder}" if folder else "")


def allowed_problem(flow_log: FlowLog, allowed: tuple[str, ...] | None) -> str | None:
    """Why a flow log's destination is not one the config allows (shell-style ARN patterns)."""
    if allowed is None:
        return None
    arn = destination_arn(flow_log)
    if arn and any(fnmatch.fnmatchcase(arn, pattern) for pattern in allowed):
        return None
    patterns = ", ".join(allowed) or "none (the value is invalid)"
    return f"writes to {arn or 'no destination'}, which {ALLOWED_DESTINATIONS_KEY} does not allow ({patterns})"


def applies(rule: LifecycleRule, key_prefix: str) -> bool:
    """The rule expires some of the objects under ``key_prefix`` (a flow log's records)."""
    if not rule.enabled or rule.tag_filtered or not can_hold_flow_log_files(rule):
        return False
    if rule.expiration_days is None and not rule.expiration_date:
        return False
    return rule.prefix.startswith(key_prefix) or key_prefix.startswith(rule.prefix)


def shortest_rule(rules: list[LifecycleRule], key_prefix: str) -> LifecycleRule | None:
    """The rule that keeps the flow log's records the shortest: one expiring on a date first."""
    applying = [rule for rule in rules if applies(rule, key_prefix)]
    dated = [rule for rule in applying if rule.expiration_date]
    if dated:
        return min(dated, key=lambda rule: rule.expiration_date or "")
    return min(applying, key=lambda rule: rule.expiration_days or 0, default=None)


def _log_group_retention(name: str, state: DestinationState, minimum: Retention) -> str | None:
    kept = state.retention_days
    if kept is None or not too_short(kept, minimum):
        return None
    return f"log group '{name}' keeps records {days(kept)}; {MIN_RETENTION_KEY} requires {required_retention(minimum)}"


def _bucket_retention(
    bucket: str, state: DestinationState, key_prefix: str, minimum: Retention
) -> str | None:
    rule = shortest_rule(state.lifecycle or [], key_prefix)
    requires = f"{MIN_RETENTION_KEY} requires {required_retention(minimum)}"
    where = f"S3 bucket '{bucket}'"
    if rule is None:
        return None
    if rule.expiration_date:
        return f"{where} expires every record under '{key_prefix}' on {rule.expiration_date} ({rule.describe()}); {requires}"
    if too_short(rule.expiration_days or 0, minimum):
        return f"{where} keeps records under '{key_prefix}' {days(rule.expiration_days or 0)} ({rule.describe()}); {requires}"
    return None


def _bucket_kms(bucket: str, state: DestinationState) -> str | None:
    if state.encryption in KMS_ALGORITHMS:
        return None
    how = (
        f"is encrypted with {state.encryption}" if state.encryption else "has no default encryption"
    )
    return f"S3 bucket '{bucket}' {how}, not KMS; {REQUIRE_KMS_KEY} is true"


def _unread(judgment: Judgment, destination: Destination, state: DestinationState, fact: str):
    """A fact of the bucket the verdict needs but could not read: unknown, never met."""
    what = {"encryption": "default encryption", "lifecycle": "lifecycle rules"}[fact]
    why = state.unread.get(fact, "it was not read")
    judgment.unknown.append(
        f"writes to {destination.describe()}, whose {what} could not be read: {why}"
    )


def judge_destination(
    flow_log: FlowLog,
    destination: Destination,
    state: DestinationState,
    min_retention: Retention | None,
    require_kms: bool,
) -> Judgment:
    """Retention and KMS of a destination that exists (or that this account cannot see)."""
    found = Judgment()
    judged = {"record retention": min_retention is not None, "KMS encryption": require_kms}
    wanted = [what for what, on in judged.items() if on]
    if not wanted:
        return found
    if state.status in ("unverifiable", "forbidden") or destination.kind == "kinesis-data-firehose":
        found.notes.append(
            f"{flow_log.id} counts although the {' and '.join(wanted)} of its "
            f"{destination.describe()} cannot be judged by this check"
        )
        return found
    if destination.kind == "cloud-watch-logs":
        if min_retention is not None:
            found.problems += filter(
                None, [_log_group_retention(destination.name, state, min_retention)]
            )
        if require_kms and not state.kms_key_id:
            found.problems.append(
                f"log group '{destination.name}' is not encrypted with a KMS key; {REQUIRE_KMS_KEY} is true"
            )
        return found
    if min_retention is not None:
        if state.lifecycle is None:
            _unread(found, destination, state, "lifecycle")
        else:
            prefix = flow_log.s3_key_prefix or ""
            found.problems += filter(
                None, [_bucket_retention(destination.name, state, prefix, min_retention)]
            )
    if require_kms:
        if state.encryption is None:
            _unread(found, destination, state, "encryption")
        else:
            found.problems += filter(None, [_bucket_kms(destination.name, state)])
    return found
