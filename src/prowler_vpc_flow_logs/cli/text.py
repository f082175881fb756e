"""What ``fix``, ``backout`` and ``runs`` print for people (``--output json`` prints the models)."""

from __future__ import annotations

from collections import Counter

from prowler_vpc_flow_logs.knobs import days
from prowler_vpc_flow_logs.remediation.models import (
    OUTCOME_UNKNOWN,
    BackoutResult,
    FixPlan,
    FixResult,
    Plan,
    RunSummary,
)


def fix_plan_text(fix_plan: FixPlan) -> str:
    """Every account's plan (per region), and the accounts that could not be reached."""
    parts = [plan_text(plan) for plan in fix_plan.plans]
    parts += [
        f"CANNOT REACH account {a}: {why}" for a, why in sorted(fix_plan.account_errors.items())
    ]
    parts += [f"CANNOT FIX account {a}: {why}" for a, why in sorted(fix_plan.cannot_fix.items())]
    if len(fix_plan.accounts) > 1 or fix_plan.cannot_fix:
        per_place = Counter((f.account, f.region) for f in fix_plan.fixes)
        summary = ", ".join(f"{a} {r}: {n}" for (a, r), n in sorted(per_place.items())) or "nothing"
        with_fixes = len({f.account for f in fix_plan.fixes})
        parts.append(
            f"In all: {len(fix_plan.fixes)} flow log(s) in {with_fixes} account(s) ({summary}); "
            f"{len(fix_plan.not_reached)} account(s) not reached or not read"
            + (
                f"; {len(fix_plan.cannot_fix)} account(s) cannot be fixed."
                if fix_plan.cannot_fix
                else "."
            )
        )
    return "\n".join(parts)


def plan_text(plan: Plan) -> str:
    lines = [f"Plan for account {plan.account}, regions {', '.join(plan.regions) or '-'}:"]
    if plan.fixes:
        per_region = Counter(f.region for f in plan.fixes)
        lines.append(
            f"  create a VPC flow log ({plan.settings.describe()}) for {len(plan.fixes)} VPC(s) ("
            + ", ".join(f"{region}: {n}" for region, n in sorted(per_region.items()))
            + "):"
        )
        lines += [f"    {f.region}  {f.label}: {f.reason}" for f in plan.fixes]
    elif plan.unreadable and not plan.skipped:
        lines.append(
            "  nothing could be planned: its flow logs could not be read (CANNOT READ below)"
        )
    else:
        lines.append("  nothing to fix")
    retention = plan.settings.retention_in_days
    kept = (
        f"records kept {days(retention)}"
        if retention
        else "records never expire; --retention-in-days N sets it"
    )
    if plan.settings.kms_key_id:
        kept += f", encrypted with KMS key {plan.settings.kms_key_id}"
    for region in plan.log_groups_to_create:
        lines.append(f"  create log group '{plan.settings.log_group_name}' in {region} ({kept})")
    unused = [s for s in plan.skipped if s.kind == "unused"]
    compliant = [s for s in plan.skipped if s.kind == "compliant"]
    listed = [s for s in plan.skipped if s.kind not in ("unused", "compliant") and not s.cannot_fix]
    blocked = [s for s in plan.skipped if s.cannot_fix]
    if blocked:
        lines.append(f"  CANNOT FIX {len(blocked)} VPC(s) (the others go ahead):")
        lines += [f"    {s.region}  {s.vpc_id}: {s.reason}" for s in blocked]
    if listed:
        lines.append(f"  skip {len(listed)} VPC(s):")
        lines += [f"    {s.region}  {s.vpc_id}: {s.reason}" for s in listed]
    if compliant:
        regions = len({s.region for s in compliant})
        lines.append(
            f"  skip {len(compliant)} compliant VPC(s) (PASS) in {regions} region(s) "
            "(--output json lists them)"
        )
    if unused:
        regions = len({s.region for s in unused})
        lines.append(
            f"  skip {len(unused)} unused VPC(s) in {regions} region(s) (no network interfaces; the "
            "check does not report them; name one with --vpc-id to fix it; --output json lists them)"
        )
    lines += [f"  warning: {w}" for w in plan.warnings]
    lines += [f"  CANNOT READ: {u}" for u in plan.unreadable]
    return "\n".join(lines)


def fix_text(result: FixResult) -> str:
    if result.dry_run:
        return f"Dry run: nothing was changed ({len(result.planned)} flow log(s) would be created)."
    if result.run_id is None and result.unreadable:
        return "Nothing was fixed, and some targets could not be read (see CANNOT READ above)."
    if result.run_id is None and result.account_errors:
        return "Nothing was fixed, and some accounts could not be reached (see CANNOT REACH above)."
    blocked = result.blocked
    if result.run_id is None and (blocked or result.cannot_fix):
        return "Nothing was fixed: some VPCs or accounts cannot be fixed (see CANNOT FIX above)."
    if result.run_id is None:
        return "Nothing to fix: every targeted VPC passes or is skipped. No run was recorded."
    many = len(result.accounts) > 1
    where = lambda item: f"{item.region} of {item.account}" if many else item.region  # noqa: E731
    written = sorted({i.account for i in [*result.created, *result.failed]} - {""})
    lines = [
        f"Run {result.run_id} (account {', '.join(written or result.accounts or [result.account])})"
    ]
    lines += [f"  created {c.flow_log_id} for {c.vpc_id} in {where(c)}" for c in result.created]
    lines += [f"  log group created: {g}" for g in result.log_groups_created]
    lines += [f"  FAILED {f.vpc_id} in {where(f)}: {f.code}: {f.message}" for f in result.failed]
    lines += [f"  not ACTIVE: {n}" for n in result.not_active]
    lines += [f"  UNTAGGED: {u}" for u in result.untagged]
    lines += [
        f"  CANNOT REACH account {a}: {why}" for a, why in sorted(result.account_errors.items())
    ]
    lines += [f"  CANNOT FIX account {a}: {why}" for a, why in sorted(result.cannot_fix.items())]
    lines += [f"  CANNOT FIX {s.vpc_id} in {where(s)}: {s.reason}" for s in blocked]
    lines.append(
        f"{len(result.created)} created, {len(result.failed)} failed, {len(result.skipped)} skipped"
        + (f" ({len(blocked)} of them cannot be fixed)." if blocked else ".")
    )
    if result.created or any(f.code == OUTCOME_UNKNOWN for f in result.failed):
        lines.append(f"Undo with: vpc-flow-logs backout {result.run_id}")
    else:
        lines.append(
            f"Nothing was created, so there is nothing to undo (recorded as run {result.run_id})."
        )
    return "\n".join(lines)


def backout_text(result: BackoutResult) -> str:
    verb = "would delete" if result.dry_run else "deleted"
    lines = [
        f"Backout of {result.run_id}{' (dry run: nothing was changed)' if result.dry_run else ''}"
    ]
    lines += [f"  {verb} {c.flow_log_id} ({c.vpc_id} in {c.region})" for c in result.deleted]
    lines += [f"  refused {i}: {why}" for i, why in sorted(result.refused.items())]
    lines += [f"  already gone: {i} (deleted outside this backout)" for i in result.gone]
    lines += [f"  deleted by an earlier backout of the run: {i}" for i in result.deleted_before]
    lines += [
        f"  kept {i} on {vpc}: not created by this run" for i, vpc in sorted(result.others.items())
    ]
    lines += [
        f"  kept log group {g} (created by the run; it holds the flow logs' records: "
        "--delete-log-groups deletes it)"
        for g in result.kept_log_groups
    ]
    lines += [f"  {verb} log group {g} (created by the run)" for g in result.deleted_log_groups]
    lines += [
        f"  found by the run tag (not in the ledger; a create whose answer was lost): {i}"
        for i in result.found_by_tag
    ]
    lines += [
        f"  COULD NOT SEARCH {where.split(':', 1)[1]} for flow logs tagged with the run ({why}) in "
        f"account {where.split(':', 1)[0]}; run the backout again"
        for where, why in sorted(result.unsearched.items())
    ]
    lines += [
        f"  CANNOT REACH account {account}: {why}; run the backout again once it can be reached"
        for account, why in sorted(result.account_errors.items())
    ]
    lines.append(
        f"{len(result.deleted)} {verb}, {len(result.refused)} refused, {len(result.gone)} already gone"
        + (f", {len(result.deleted_before)} deleted before." if result.deleted_before else ".")
    )
    return "\n".join(lines)


def runs_text(runs: list[RunSummary]) -> str:
    if not runs:
        return "No runs recorded."
    lines = []
    for r in runs:
        if r.error:
            lines.append(f"{r.run_id}  UNREADABLE: {r.error}")
            continue
        notes = "".join([
            f"  {r.unknown_outcomes} create(s) with a lost answer (backout finds them by tag)" if r.unknown_outcomes else "",
            f"  not fixed: {'; '.join(f'account {a}: {why}' for a, why in sorted(r.left_out.items()))}" if r.left_out else "",
            "  (last record torn by a crash)" if r.torn else "",
        ])  # fmt: skip
        kept = r.kept_log_groups if r.backed_out != "no" else 0  # by a backout, said beside it
        kept_said = f" (its {kept} log group(s) kept: backout --delete-log-groups)" if kept else ""
        lines.append(
            f"{r.run_id}  {r.time}  account{'s' if len(r.accounts) > 1 else ''} "
            f"{','.join(r.accounts) or r.account}  regions {','.join(r.regions) or '-'}  "
            f"created {r.created}  failed {r.failed}  {'finished' if r.finished else 'INCOMPLETE'}  "
            f"backed out: {r.backed_out}{kept_said}  ({r.source}){notes}"
        )
    return "\n".join(lines)
