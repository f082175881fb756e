"""The precision policy: one pure function from plain data to a verdict.

A VPC passes when its usable VPC-level flow logs together capture the required
traffic. A flow log is usable when it is ACTIVE, its delivery has not FAILED and
its destination exists (or is in another account, where it cannot be checked, which
is said). Subnet- and ENI-level flow logs are mentioned but never make a VPC pass.
A read error never becomes a PASS and never reads as "disabled": when the verdict
hangs on a read that failed (the VPC's flow logs, or whether a destination exists),
the VPC is reported as not audited (FAIL, ``unreadable``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from prowler_vpc_flow_logs.models import (
    Destination,
    DestinationState,
    FlowLog,
    Policy,
    ReadError,
    Verdict,
    Vpc,
)

_COVERS = {"ALL": {"ACCEPT", "REJECT"}, "ACCEPT": {"ACCEPT"}, "REJECT": {"REJECT"}}

ALLOWED_TRAFFIC_TYPES = tuple(_COVERS)


def covered_traffic(traffic_types: Iterable[str | None]) -> set[str]:
    """The traffic actions captured by flow logs of these traffic types, together."""
    covered: set[str] = set()
    for traffic_type in traffic_types:
        covered |= _COVERS.get(traffic_type or "", set())
    return covered


def meets(required: str, traffic_types: Iterable[str | None]) -> bool:
    """True when flow logs of these traffic types together capture ``required``."""
    return _COVERS[required] <= covered_traffic(traffic_types)


def _problems(
    flow_log: FlowLog, destinations: Mapping[Destination, DestinationState]
) -> tuple[list[str], list[str], str | None]:
    """Why a VPC-level flow log does not count (problems), what the finding should note, and,
    when its only flaw is that its destination could not be looked up, why (else None)."""
    problems: list[str] = []
    notes: list[str] = []
    if flow_log.status != "ACTIVE":
        problems.append(f"is not ACTIVE (FlowLogStatus {flow_log.status})")
    if flow_log.deliver_status == "FAILED":
        error = flow_log.deliver_error or "no error message"
        problems.append(f"delivery FAILED ({error})")
    destination = flow_log.destination
    if destination is None:
        problems.append("has no destination that this check can read")
        return problems, notes, None
    state = destinations.get(destination)
    unknown = None
    if state is None:
        unknown = f"writes to {destination.describe()}, which was not looked up"
    elif state.status == "missing":
        problems.append(f"writes to {destination.describe()}, which does not exist")
    elif state.status == "error":
        unknown = f"writes to {destination.describe()}, which could not be looked up: {state.detail}"
    elif state.status == "unverifiable":
        notes.append(
            f"{flow_log.id} writes to {destination.describe()}, which cannot be checked "
            f"from this account ({state.detail})"
        )
    if unknown:
        problems.append(unknown)
    return problems, notes, unknown if problems == [unknown] else None


def _describe_log(flow_log: FlowLog) -> str:
    target = flow_log.destination.describe() if flow_log.destination else "an unknown destination"
    return f"{flow_log.id} ({flow_log.traffic_type} to {target})"


def evaluate(
    vpc: Vpc,
    flow_logs: Iterable[FlowLog],
    destinations: Mapping[Destination, DestinationState],
    policy: Policy,
    read_errors: Iterable[ReadError] = (),
) -> Verdict:
    """Decide PASS, FAIL or MANUAL for one VPC and say why.

    ``flow_logs`` are every flow log attached to the VPC or to its subnets and
    network interfaces; ``read_errors`` are failed reads that leave the VPC's
    flow logs unknown (for example DescribeFlowLogs denied in its region).
    """
    logs = sorted(flow_logs, key=lambda fl: fl.id)
    considered = [fl.id for fl in logs]
    required = policy.required_traffic_type
    where = f"{vpc.label} in {vpc.region}"

    if vpc.owner_id and vpc.owner_id != policy.audited_account:
        return Verdict(
            status="MANUAL",
            status_extended=(
                f"{where} is owned by account {vpc.owner_id} and shared with this account "
                f"(AWS RAM); only its owner can read or create its flow logs: audit account "
                f"{vpc.owner_id} for this VPC."
            ),
            considered_flow_log_ids=considered,
        )

    errors = list(read_errors)
    if errors:
        return Verdict(
            status="FAIL",
            status_extended=(
                f"{where} could not be audited: "
                + "; ".join(error.describe() for error in errors)
                + ". No verdict on its flow logs was reached."
            ),
            considered_flow_log_ids=considered,
            unreadable=True,
        )

    vpc_logs = [fl for fl in logs if fl.is_vpc_level]
    other_logs = [fl for fl in logs if not fl.is_vpc_level]
    usable: list[FlowLog] = []
    reasons: list[str] = []
    notes: list[str] = []
    unknown: list[tuple[FlowLog, str]] = []  # counted only if their destination exists
    for flow_log in vpc_logs:
        problems, log_notes, why_unknown = _problems(flow_log, destinations)
        if why_unknown:
            unknown.append((flow_log, why_unknown))
        if problems:
            reasons.append(f"{flow_log.id} " + " and ".join(problems))
        else:
            usable.append(flow_log)
            notes.extend(log_notes)

    if other_logs:
        attached = ", ".join(f"{fl.id} on {fl.resource_id}" for fl in other_logs)
        notes.append(f"subnet- or ENI-level flow logs ({attached}) do not count for the VPC")

    covered = covered_traffic(fl.traffic_type for fl in usable)
    passed = _COVERS[required] <= covered
    if passed:
        contributing = [
            fl for fl in usable if _COVERS.get(fl.traffic_type or "", set()) & _COVERS[required]
        ]
        text = (
            f"{where} has VPC flow logs capturing {required} traffic as required: "
            + ", ".join(_describe_log(fl) for fl in contributing)
            + " ACTIVE and delivering."
        )
        if reasons:
            notes.append("not counted: " + "; ".join(reasons))
        if notes:
            text += " Note: " + "; ".join(notes) + "."
        return Verdict(
            status="PASS",
            status_extended=text,
            considered_flow_log_ids=considered,
            usable_flow_log_ids=[fl.id for fl in usable],
        )

    if unknown and meets(required, [fl.traffic_type for fl in usable + [u for u, _ in unknown]]):
        return Verdict(
            status="FAIL",
            status_extended=(
                f"{where} could not be audited: "
                + "; ".join(f"{fl.id} {why}" for fl, why in unknown)
                + ". No verdict on its flow logs was reached."
            ),
            considered_flow_log_ids=considered,
            usable_flow_log_ids=[fl.id for fl in usable],
            unreadable=True,
        )

    missing = sorted(_COVERS[required] - covered)
    for flow_log in usable + [fl for fl, _ in unknown]:
        if not meets(required, [flow_log.traffic_type]):
            reasons.append(f"{flow_log.id} records only {flow_log.traffic_type} traffic")
    if not vpc_logs:
        head = f"{where} has no VPC-level flow log"
    else:
        head = f"{where} has no usable VPC-level flow log"
    text = (
        f"{head} capturing the required {required} traffic"
        + (f" (missing: {' and '.join(missing)})" if required == "ALL" and covered else "")
        + "."
    )
    if reasons:
        text += " " + "; ".join(reasons) + "."
    if notes:
        text += " Note: " + "; ".join(notes) + "."
    return Verdict(
        status="FAIL",
        status_extended=text,
        considered_flow_log_ids=considered,
        usable_flow_log_ids=[fl.id for fl in usable],
    )


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
