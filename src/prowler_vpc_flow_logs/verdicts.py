"""The policy's verdict for every VPC a scan read (plain data in, no Prowler types): for the
check and the fix."""

from __future__ import annotations

from collections.abc import Iterator

from prowler_vpc_flow_logs.facts import Vpc, internal_error
from prowler_vpc_flow_logs.policy import (
    NO_VERDICT,
    RegionNotes,
    Verdict,
    evaluate,
    region_unreadable,
)
from prowler_vpc_flow_logs.scan import Scan


def verdict_for(scan: Scan, region: str, vpc: Vpc) -> Verdict:
    """The policy's verdict for one VPC the scan read in ``region``."""
    data = scan.regions[region]
    notes = RegionNotes(
        subnets_error=data.subnets_error,
        in_use_error=None if scan.scan_unused_services else data.in_use_error,
    )
    errors = [data.flow_logs_error] if data.flow_logs_error else []
    flow_logs = data.flow_logs.get(vpc.id, [])
    return evaluate(vpc, flow_logs, scan.destinations, scan.policy, errors, notes)


def verdicts(scan: Scan) -> Iterator[tuple[str, Vpc | None, Verdict]]:
    """(region, VPC or None for an unreadable region, verdict), regions and VPCs in order."""
    for region, data in sorted(scan.regions.items()):
        if data.vpcs_error is not None:
            yield region, None, region_unreadable(region, data.vpcs_error)
            continue
        for _, vpc in sorted(data.vpcs.items()):
            if not scan.in_scope(region, vpc):
                continue
            try:
                verdict = verdict_for(scan, region, vpc)
            except Exception as error:  # a defect costs the VPC its verdict, not its finding
                verdict = Verdict(
                    status="FAIL",
                    status_extended=f"{vpc.label} in {region} could not be audited: "
                    f"{internal_error(region, error).describe()}. {NO_VERDICT}",
                    unreadable=True,
                )
            yield region, vpc, verdict
