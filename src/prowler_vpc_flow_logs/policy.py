"""The precision policy: one pure function from plain data to a complete verdict.

A VPC passes when its usable VPC-level flow logs together capture the required traffic. A
flow log is usable when it is ACTIVE, its delivery has not FAILED and its destination exists
(or is in another account, where it cannot be checked, which is said). Subnet- and ENI-level
flow logs are mentioned but never make a VPC pass. A read error never becomes a PASS and
never reads as "disabled": when the verdict hangs on a read that failed (the VPC's flow logs,
or whether a destination exists), the VPC is reported as not audited (FAIL, ``unreadable``).

Opt-in knobs (config.py) add requirements a flow log must also meet to count: how long its
records are kept, KMS encryption, its aggregation interval and its record fields (knobs.py).
A knob fact that could not be read counts like a destination that could not be looked up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

from pydantic import BaseModel, Field

from prowler_vpc_flow_logs import knobs
from prowler_vpc_flow_logs.facts import (
    Destination,
    DestinationState,
    FlowLog,
    ReadError,
    Vpc,
    s3_folder,
)
from prowler_vpc_flow_logs.knobs import NEVER_EXPIRE, Interval, Retention

TrafficType = Literal["ALL", "ACCEPT", "REJECT"]
TRAFFIC_TYPES: tuple[str, ...] = get_args(TrafficType)
DEFAULT_TRAFFIC_TYPE: TrafficType = "REJECT"  # the CIS AWS Foundations / Security Hub EC2.6 minimum
Status = Literal["PASS", "FAIL", "MANUAL"]

NO_VERDICT = "No verdict on its flow logs was reached."  # ends every "could not be audited"
_COVERS = {"ALL": {"ACCEPT", "REJECT"}, "ACCEPT": {"ACCEPT"}, "REJECT": {"REJECT"}}


class Policy(BaseModel):
    """What compliant means for this scan."""

    required_traffic_type: TrafficType = DEFAULT_TRAFFIC_TYPE
    audited_account: str
    note: str = ""  # said in every finding, e.g. why a configured value was not used
    # the opt-in knobs; None (False) = off
    min_retention_days: Retention | None = None  # NEVER_EXPIRE: records must never expire
    require_kms: bool = False
    max_aggregation_interval: Interval | None = None
    required_fields: tuple[str, ...] | None = None
    allowed_destinations: tuple[str, ...] | None = None  # ARN patterns; () when invalid: none
    destination_roles: tuple[str, ...] = ()  # roles that read other accounts' destinations

    def s3_reads(self) -> frozenset[str]:
        """What the destination probe must also read of an S3 bucket for the knobs that are on."""
        needed = {"lifecycle": self.min_retention_days is not None, "encryption": self.require_kms}
        return frozenset(fact for fact, on in needed.items() if on)

    def knobs_met(self) -> str:
        """What a passing VPC's counted flow logs meet besides traffic ("" when the knobs are off)."""
        met = []
        if self.min_retention_days == NEVER_EXPIRE:
            met.append("records that never expire")
        elif self.min_retention_days is not None:
            met.append(f"records kept at least {knobs.days(self.min_retention_days)}")
        if self.require_kms:
            met.append("KMS encryption")
        if self.max_aggregation_interval is not None:
            met.append(f"a MaxAggregationInterval of at most {self.max_aggregation_interval} s")
        if self.required_fields:
            met.append(f"the record fields {', '.join(self.required_fields)}")
        if self.allowed_destinations is not None:
            met.append(f"a destination among {', '.join(self.allowed_destinations)}")
        return " (required as well: " + ", ".join(met) + ")" if met else ""


class RegionNotes(BaseModel):
    """Reads of the VPC's region that failed without deciding its verdict, but must be said."""

    subnets_error: ReadError | None = None  # subnet-level flow logs could not be placed
    in_use_error: ReadError | None = None  # "in use" unknown, so the VPC is reported anyway


class Verdict(BaseModel):
    """The policy's answer for one VPC (or for a region that could not be read)."""

    status: Status
    status_extended: str
    considered_flow_log_ids: list[str] = Field(default_factory=list)
    unreadable: bool = False  # a read failed: the VPC's flow logs are unknown


def covered_traffic(traffic_types: Iterable[str | None]) -> set[str]:
    """The traffic actions captured by flow logs of these traffic types, together."""
    covered: set[str] = set()
    for traffic_type in traffic_types:
        covered |= _COVERS.get(traffic_type or "", set())
    return covered


def meets(required: str, traffic_types: Iterable[str | None]) -> bool:
    """True when flow logs of these traffic types together capture ``required``."""
    return _COVERS[required] <= covered_traffic(traffic_types)


@dataclass
class Assessment:
    """How one VPC-level flow log stands: why it does not count, and what must be said anyway."""

    flow_log: FlowLog
    problems: list[str] = field(default_factory=list)
    # what could not be read about it (its destination, or a fact a knob needs); each is also
    # one of the problems
    unknown: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return not self.problems

    @property
    def undecided(self) -> bool:
        """Its only flaws are failed look-ups: it might count, nobody knows."""
        return bool(self.unknown) and self.problems == self.unknown


def assess(
    flow_log: FlowLog,
    destinations: Mapping[Destination, DestinationState],
    policy: Policy | None = None,
) -> Assessment:
    """Judge one VPC-level flow log by its state, its delivery, its destination and the knobs."""
    found = Assessment(flow_log)
    if flow_log.status != "ACTIVE":
        found.problems.append(f"is not ACTIVE (FlowLogStatus {flow_log.status})")
    if flow_log.deliver_status == "FAILED":
        found.problems.append(f"delivery FAILED ({flow_log.deliver_error or 'no error message'})")
    destination = flow_log.destination
    if destination is None:
        found.problems.append("has no destination that this check can read")
        _judge_record(found, policy)
        return found
    state = destinations.get(destination)
    where = f"writes to {destination.describe()}"
    if state is not None and state.read_through:
        found.notes.append(
            f"{flow_log.id}'s {destination.describe()} was read through {state.read_through}"
        )
    if state is not None and state.role_problem:
        found.notes.append(
            f"{destination.describe()} was not read through a role: {state.role_problem}"
        )
    if state is None:
        found.unknown.append(f"{where}, which was not looked up")
    elif state.status == "error":
        found.unknown.append(f"{where}, which could not be looked up: {state.detail}")
    elif state.status == "missing":
        found.problems.append(f"{where}, which does not exist")
    elif state.status == "unverifiable":
        found.notes.append(
            f"{flow_log.id} {where}, which cannot be checked from this account ({state.detail})"
        )
    elif state.status == "forbidden" and flow_log.deliver_status != "FAILED":
        if flow_log.deliver_status:  # AWS sets FAILED when delivery to the bucket fails
            found.notes.append(
                f"{flow_log.id} {where}, which this account may not read (403); delivery is "
                f"healthy (DeliverLogsStatus {flow_log.deliver_status})"
            )
        else:
            found.unknown.append(
                f"{where}, which this account may not read (403), and AWS reports no delivery status"
            )
    judged = ("exists", "unverifiable", "forbidden")
    if policy is not None and state is not None and state.status in judged:
        judged = knobs.judge_destination(
            flow_log, destination, state, policy.min_retention_days, policy.require_kms
        )
        found.problems += judged.problems
        found.unknown += judged.unknown
        found.notes += judged.notes
    _judge_record(found, policy)
    found.problems += found.unknown
    return found


def _judge_record(found: Assessment, policy: Policy | None) -> None:
    """The knobs on the flow log itself: its aggregation interval and its record fields."""
    if policy is None:
        return
    flow_log = found.flow_log
    found.problems += filter(None, [
        knobs.interval_problem(flow_log, policy.max_aggregation_interval),
        knobs.fields_problem(flow_log.log_format, policy.required_fields),
        knobs.allowed_problem(flow_log, policy.allowed_destinations),
    ])  # fmt: skip


def _describe_log(flow_log: FlowLog) -> str:
    target = flow_log.destination.describe() if flow_log.destination else "an unknown destination"
    folder = s3_folder(flow_log.s3_key_prefix)
    if folder:
        target += f", folder '{folder}/'"
    return f"{flow_log.id} ({flow_log.traffic_type} to {target})"


def _finish(
    text: str, notes: list[str], policy: Policy, region: RegionNotes, status: str, unreadable: bool
) -> str:
    """The verdict's text with every note: the flow logs', then the policy's and the region's."""
    if notes:
        text += " Note: " + "; ".join(notes) + "."
    if policy.note:
        text += f" ({policy.note}.)"
    if region.subnets_error is not None and status == "FAIL" and not unreadable:
        text += (
            " (Subnet-level flow logs in this region could not be matched to their VPCs, which "
            f"does not change this verdict: {region.subnets_error.describe()}.)"
        )
    if region.in_use_error is not None:
        text += f" (Reported although it may be unused: {region.in_use_error.describe()}.)"
    return text


def evaluate(
    vpc: Vpc,
    flow_logs: Iterable[FlowLog],
    destinations: Mapping[Destination, DestinationState],
    policy: Policy,
    read_errors: Iterable[ReadError] = (),
    region: RegionNotes | None = None,
) -> Verdict:
    """Decide PASS, FAIL or MANUAL for one VPC and say why, completely.

    ``flow_logs`` are every flow log attached to the VPC or to its subnets and network
    interfaces; ``read_errors`` are failed reads that leave the VPC's flow logs unknown (for
    example DescribeFlowLogs denied in its region); ``region`` holds what else must be said.
    """
    region = region or RegionNotes()
    logs = sorted(flow_logs, key=lambda fl: fl.id)
    considered = [fl.id for fl in logs]
    required = policy.required_traffic_type
    where = f"{vpc.label} in {vpc.region}"

    def verdict(status: str, text: str, notes: list[str], unreadable: bool = False) -> Verdict:
        full = _finish(text, notes, policy, region, status, unreadable)
        return Verdict(
            status=status,
            status_extended=full,
            considered_flow_log_ids=considered,
            unreadable=unreadable,
        )

    if vpc.owner_id and vpc.owner_id != policy.audited_account:
        owner = vpc.owner_id
        text = (
            f"{where} is owned by account {owner} and shared with this account (AWS RAM); only its "
            f"owner can read or create its flow logs: audit account {owner} for this VPC."
        )
        return verdict("MANUAL", text, [])
    errors = [error.describe() for error in read_errors]
    if errors:
        text = f"{where} could not be audited: {'; '.join(errors)}. {NO_VERDICT}"
        return verdict("FAIL", text, [], unreadable=True)

    assessed = [assess(fl, destinations, policy) for fl in logs if fl.is_vpc_level]
    usable = [a.flow_log for a in assessed if a.usable]
    undecided = [a for a in assessed if a.undecided]
    broken = [f"{a.flow_log.id} " + " and ".join(a.problems) for a in assessed if not a.usable]
    notes = [note for a in assessed if a.usable for note in a.notes]
    others = [fl for fl in logs if not fl.is_vpc_level]
    if others:
        attached = ", ".join(f"{fl.id} on {fl.resource_id}" for fl in others)
        notes.append(f"subnet- or ENI-level flow logs ({attached}) do not count for the VPC")

    if meets(required, [fl.traffic_type for fl in usable]):
        contributing = [
            fl for fl in usable if covered_traffic([fl.traffic_type]) & _COVERS[required]
        ]
        text = (
            f"{where} has VPC flow logs capturing {required} traffic as required: "
            + ", ".join(_describe_log(fl) for fl in contributing)
            + f" ACTIVE and delivering{policy.knobs_met()}."
        )
        return verdict(
            "PASS", text, notes + (["not counted: " + "; ".join(broken)] if broken else [])
        )

    if undecided and meets(
        required, [fl.traffic_type for fl in usable + [a.flow_log for a in undecided]]
    ):
        unknown = "; ".join(f"{a.flow_log.id} " + " and ".join(a.unknown) for a in undecided)
        text = f"{where} could not be audited: {unknown}. {NO_VERDICT}"
        return verdict("FAIL", text, [], unreadable=True)

    narrow = [
        f"{fl.id} records only {fl.traffic_type} traffic"
        for fl in usable + [a.flow_log for a in undecided]
        if not meets(required, [fl.traffic_type])
    ]
    covered = covered_traffic(fl.traffic_type for fl in usable)
    missing = " and ".join(sorted(_COVERS[required] - covered))
    head = f"{where} has no {'usable ' if assessed else ''}VPC-level flow log capturing the required {required} traffic"
    text = head + (f" (missing: {missing})" if required == "ALL" and covered else "") + "."
    if broken or narrow:
        text += " " + "; ".join(broken + narrow) + "."
    return verdict("FAIL", text, notes)


def region_unreadable(region: str, error: ReadError) -> Verdict:
    """The verdict for a region whose VPCs could not even be listed."""
    return Verdict(
        status="FAIL",
        status_extended=(
            f"The VPCs in {region} could not be audited: {error.describe()}. "
            "No VPC in this region was evaluated."
        ),
        unreadable=True,
    )
