"""Plan a fix: the VPCs that fail the check's policy and the flow log each gets (no writes)."""

from __future__ import annotations

import json

from prowler_vpc_flow_logs.config import carried
from prowler_vpc_flow_logs.errors import UserError
from prowler_vpc_flow_logs.facts import FlowLog, Vpc
from prowler_vpc_flow_logs.policy import Verdict
from prowler_vpc_flow_logs.scan import Scan
from prowler_vpc_flow_logs.verdicts import verdict_for, verdicts

from .models import FixSettings, Plan, PlannedFix, Skip
from .targets import Targets
from .validate import check_traffic, settings_for

UNUSED_SAID = (
    "unused (no network interfaces); the check does not report it. Name it with --vpc-id to fix it"
)
MUTED_SAID = "muted by Prowler's mutelist in the findings file (an accepted risk): not fixed"


def decide(region: str, vpc: Vpc, verdict: Verdict) -> PlannedFix | Skip:
    """A failing VPC is fixed; a passing or unreadable one is skipped, and the reason said."""
    said = verdict.status_extended
    if verdict.status == "PASS":
        kind, reason = "compliant", f"compliant: {said}"
    elif verdict.status == "MANUAL":
        kind, reason = "not-ours", f"not ours to fix: {said}"
    elif verdict.unreadable:
        kind, reason = "unknown", f"not fixed, its flow logs are unknown: {said}"
    else:
        return PlannedFix(region=region, vpc_id=vpc.id, vpc_name=vpc.name, reason=said)
    return Skip(region=region, vpc_id=vpc.id, kind=kind, reason=reason)


def conflict(fix: PlannedFix, flow_logs: list[FlowLog], settings: FixSettings, account: str):
    """A Skip when the VPC already has a flow log where the new one would write: AWS refuses a
    second one (FlowLogAlreadyExists), so the plan names it instead of sending a doomed create."""
    for flow_log in flow_logs:
        if flow_log.resource_id == fix.vpc_id and settings.writes_like(
            flow_log, fix.region, account
        ):
            target = flow_log.destination.describe() if flow_log.destination else "it"
            return Skip(
                region=fix.region, vpc_id=fix.vpc_id, kind="conflict",
                reason=(
                    f"{flow_log.id} already writes to {target} ({fix.reason}); AWS takes no second "
                    "flow log of this VPC to the same destination: delete or repair "
                    f"{flow_log.id}, or choose another destination"
                ),
            )  # fmt: skip
    return None


def _wanted(scan: Scan, targets: Targets) -> tuple[list[tuple[str, Vpc]], list[Skip]]:
    """(region, VPC) for explicit targets. A VPC id given with --vpc-id that is not found is a
    UserError; a finding's VPC that is gone (deleted since the scan) is a Skip, named."""
    if targets.by_region:
        pairs = [(r, v) for r, ids in targets.by_region.items() for v in ids]
    else:
        pairs = [(None, v) for v in targets.vpc_ids]
    found: list[tuple[str, Vpc]] = []
    gone: list[Skip] = []
    missing: list[str] = []
    for region, vpc_id in pairs:
        regions = [region] if region else sorted(scan.regions)
        read = [scan.regions[r] for r in regions if r in scan.regions]
        vpc = next((data.vpcs[vpc_id] for data in read if vpc_id in data.vpcs), None)
        if vpc is not None:
            found.append((vpc.region, vpc))
            continue
        error = next((data.vpcs_error for data in read if data.vpcs_error), None)
        if error is not None:
            raise UserError(f"cannot look up {vpc_id}: {error.describe()}")
        if region and targets.source == "findings":
            gone.append(Skip(
                region=region, vpc_id=vpc_id, kind="gone",
                reason=f"not found in {region}: deleted since the scan that wrote the findings?",
            ))  # fmt: skip
        else:
            missing.append(f"{vpc_id} (looked in {', '.join(regions)})")
    if missing:
        raise UserError(
            "VPC not found: " + "; ".join(missing) + ". A VPC id exists only in its own region: "
            "pass the region it lives in with --region"
        )
    return found, gone


def _refuse_findings_that_pass(
    decisions: list[PlannedFix | Skip], carried: dict, now: dict
) -> None:
    """A FAIL finding that passes under this fix's policy is never skipped quietly when the
    findings say they were judged under another (--config-file contradicts the scan): refuse.
    Judged under the same policy, it was repaired since the scan, and the plan says so."""
    passing = [d for d in decisions if isinstance(d, Skip) and d.kind == "compliant"]
    if not passing or carried == now:
        return
    shown = ", ".join(f"{d.vpc_id} in {d.region}" for d in passing[:5])
    more = f" and {len(passing) - 5} more" if len(passing) > 5 else ""
    raise UserError(
        f"{len(passing)} VPC(s) FAIL in the findings but pass under this fix's policy ({shown}"
        f"{more}): the scan judged under {json.dumps(carried)}, the --config-file gives "
        f"{json.dumps(now)}; pass the config file the scan used (or none: the fix then judges "
        "as the findings say); nothing was changed"
    )


def make_plan(scan: Scan, targets: Targets, settings: FixSettings) -> Plan:
    """The plan for these targets, from what the check's scan read and its policy."""
    check_traffic(settings, scan.policy.required_traffic_type)
    settings = settings_for(settings, scan.policy)
    if targets.account and targets.account != scan.account:
        raise UserError(
            f"the findings are about account {targets.account}, but the credentials are for account "
            f"{scan.account}: pass --role-name to fix it through a role in that account"
        )
    plan = Plan(account=scan.account, settings=settings, regions=sorted(scan.regions))
    if targets.explicit:
        wanted, decisions = _wanted(scan, targets)
        decisions += [decide(r, vpc, verdict_for(scan, r, vpc)) for r, vpc in wanted]
    else:
        decisions = []
        for region, vpc, verdict in verdicts(scan):
            if vpc is None:
                plan.unreadable.append(verdict.status_extended)
                continue
            decisions.append(decide(region, vpc, verdict))
        decisions += [
            Skip(region=region, vpc_id=vpc.id, kind="unused", reason=UNUSED_SAID)
            for region, data in sorted(scan.regions.items())
            for _, vpc in sorted(data.vpcs.items())
            if not scan.in_scope(region, vpc)
        ]
    if targets.source == "findings" and targets.policy is not None:
        _refuse_findings_that_pass(decisions, targets.policy, carried(scan.policy))
    for region, vpc_ids in sorted(targets.muted.items()):
        decisions += [
            Skip(region=region, vpc_id=vpc_id, kind="muted", reason=MUTED_SAID)
            for vpc_id in vpc_ids
        ]
    for decision in decisions:
        if isinstance(decision, PlannedFix):
            flow_logs = scan.regions[decision.region].flow_logs.get(decision.vpc_id, [])
            decision = conflict(decision, flow_logs, settings, plan.account) or decision
        decision.account = plan.account
        (plan.fixes if isinstance(decision, PlannedFix) else plan.skipped).append(decision)
        if isinstance(decision, Skip) and decision.kind == "unknown":
            plan.unreadable.append(decision.reason)
    return plan
