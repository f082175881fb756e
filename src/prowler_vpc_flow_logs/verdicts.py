"""The policy's verdict for every VPC a scan read (no Prowler types): for the check and the fix."""

from __future__ import annotations

from collections.abc import Iterator

from prowler_vpc_flow_logs.facts import Vpc, internal_error
from prowler_vpc_flow_logs.policy import RegionNotes, Verdict, evaluate, region_unreadable
from prowler_vpc_flow_logs.service import FlowLogs


def verdict_for(service: FlowLogs, region: str, vpc: Vpc) -> Verdict:
    """The policy's verdict for one VPC the service read in ``region``."""
    data = service.regions[region]
    errors = [data.flow_logs_error] if data.flow_logs_error else []
    notes = RegionNotes(
        subnets_error=data.subnets_error,
        in_use_error=None if service.scan_unused_services else data.in_use_error,
    )
    flow_logs = data.flow_logs.get(vpc.id, [])
    return evaluate(vpc, flow_logs, service.destinations, service.policy, errors, notes)


def verdicts(service: FlowLogs) -> Iterator[tuple[str, Vpc | None, Verdict]]:
    """(region, VPC or None for an unreadable region, verdict), regions and VPCs in order."""
    for region in sorted(service.regions):
        data = service.regions[region]
        if data.vpcs_error is not None:
            yield region, None, region_unreadable(region, data.vpcs_error)
            continue
        for vpc_id in sorted(data.vpcs):
            vpc = data.vpcs[vpc_id]
            if service.in_scope(region, vpc):
                yield region, vpc, _guarded_verdict(service, region, vpc)


def _guarded_verdict(service: FlowLogs, region: str, vpc: Vpc) -> Verdict:
    """``verdict_for``, but a defect gives a FAIL that says so instead of losing the finding."""
    try:
        return verdict_for(service, region, vpc)
    except Exception as error:
        return Verdict(
            status="FAIL",
            status_extended=(
                f"{vpc.label} in {region} could not be audited: "
                f"{internal_error(region, error).describe()}. No verdict on its flow logs was reached."
            ),
            unreadable=True,
        )
