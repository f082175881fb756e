"""Plan a fix: the VPCs that fail the check's policy and the flow log each gets (no writes)."""

from __future__ import annotations

from prowler_vpc_flow_logs.errors import UserError
from prowler_vpc_flow_logs.facts import Vpc
from prowler_vpc_flow_logs.policy import Verdict
from prowler_vpc_flow_logs.verdicts import verdict_for, verdicts

from .models import FixSettings, Plan, PlannedFix, Skip
from .targets import Targets
from .validate import check_traffic, settings_for

COMPLIANT = "compliant:"
UNKNOWN = "not fixed, its flow logs are unknown"
UNUSED = "unused (no network interfaces)"
MUTED = "muted by Prowler's mutelist in the findings file (an accepted risk): not fixed"


def decide(region: str, vpc: Vpc, verdict: Verdict) -> PlannedFix | Skip:
    """A failing VPC is fixed; a passing or unreadable one is skipped, and the reason said."""
    if verdict.status == "PASS":
        return Skip(region=region, vpc_id=vpc.id, reason=f"{COMPLIANT} {verdict.status_extended}")
    if verdict.status == "MANUAL":
        return Skip(
            region=region, vpc_id=vpc.id, reason=f"not ours to fix: {verdict.status_extended}"
        )
    if verdict.unreadable:
        return Skip(region=region, vpc_id=vpc.id, reason=f"{UNKNOWN}: {verdict.status_extended}")
    return PlannedFix(
        region=region, vpc_id=vpc.id, vpc_name=vpc.name, reason=verdict.status_extended
    )


def _wanted(service, targets: Targets) -> list[tuple[str, Vpc]]:
    """(region, VPC) for explicit targets; a VPC not found in its region is a UserError."""
    if targets.by_region:
        pairs = [(r, v) for r, ids in targets.by_region.items() for v in ids]
    else:
        pairs = [(None, v) for v in targets.vpc_ids]
    found: list[tuple[str, Vpc]] = []
    missing: list[str] = []
    for region, vpc_id in pairs:
        regions = [region] if region else sorted(service.regions)
        hit = next(
            (
                (r, service.regions[r].vpcs[vpc_id])
                for r in regions
                if r in service.regions and vpc_id in service.regions[r].vpcs
            ),
            None,
        )
        if hit is None:
            unreadable = [
                r for r in regions if r in service.regions and service.regions[r].vpcs_error
            ]
            if unreadable:
                error = service.regions[unreadable[0]].vpcs_error
                raise UserError(f"cannot look up {vpc_id}: {error.describe()}")
            missing.append(f"{vpc_id} (looked in {', '.join(regions)})")
        else:
            found.append(hit)
    if missing:
        raise UserError(
            "VPC not found: " + "; ".join(missing) + ". A VPC id exists only in its own region: "
            "pass the region it lives in with --region"
        )
    return found


def _refuse_findings_that_pass(decisions: list[PlannedFix | Skip]) -> None:
    """A FAIL finding this run's policy judges compliant is never skipped quietly: the scan that
    wrote it most likely judged under another Prowler config file (its knobs), so refuse."""
    passing = [d for d in decisions if isinstance(d, Skip) and d.reason.startswith(COMPLIANT)]
    if not passing:
        return
    shown = ", ".join(f"{d.vpc_id} in {d.region}" for d in passing[:5])
    more = f" and {len(passing) - 5} more" if len(passing) > 5 else ""
    raise UserError(
        f"{len(passing)} VPC(s) FAIL in the findings but pass under this fix's policy ({shown}"
        f"{more}): the scan most likely used another Prowler config file; pass the same file "
        "with --config-file so the fix judges by the same knobs (or, if they were repaired since, "
        "scan again and pass the new findings); nothing was changed"
    )


def make_plan(service, targets: Targets, settings: FixSettings) -> Plan:
    """The plan for these targets, from the check's service (already collected) and policy."""
    check_traffic(settings, service.policy.required_traffic_type)
    settings = settings_for(settings, service.policy)
    if targets.account and targets.account != service.audited_account:
        raise UserError(
            f"the findings are about account {targets.account}, but the credentials are for account "
            f"{service.audited_account}: pass --role-name to fix it through a role in that account"
        )
    plan = Plan(
        account=service.audited_account,
        required_traffic_type=service.policy.required_traffic_type,
        settings=settings,
        regions=sorted(service.regions),
    )
    if targets.explicit:
        decisions = [
            decide(r, vpc, verdict_for(service, r, vpc)) for r, vpc in _wanted(service, targets)
        ]
    else:
        decisions = []
        for region, vpc, verdict in verdicts(service):
            if vpc is None:
                plan.unreadable.append(verdict.status_extended)
                continue
            decisions.append(decide(region, vpc, verdict))
        for region in sorted(service.regions):
            for vpc_id in sorted(service.regions[region].vpcs):
                if not service.in_scope(region, service.regions[region].vpcs[vpc_id]):
                    decisions.append(
                        Skip(
                            region=region,
                            vpc_id=vpc_id,
                            reason=f"{UNUSED}; the check does not report it. Name it with --vpc-id to fix it",
                        )
                    )
    if targets.source == "findings" and targets.findings:
        _refuse_findings_that_pass(decisions)
    for region, vpc_ids in sorted(targets.muted.items()):
        decisions += [Skip(region=region, vpc_id=vpc_id, reason=MUTED) for vpc_id in vpc_ids]
    for decision in decisions:
        decision.account = plan.account
        (plan.fixes if isinstance(decision, PlannedFix) else plan.skipped).append(decision)
        if isinstance(decision, Skip) and decision.reason.startswith(UNKNOWN):
            plan.unreadable.append(decision.reason)
    return plan
