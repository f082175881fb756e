"""Prowler's ``--fixer`` for vpc_flow_logs_enabled: one recorded run per Prowler process.

Settings come from the ``vpc_flow_logs_enabled:`` section of Prowler's fixer
config (``--fixer-config``), with the names of ``vpc-flow-logs fix``'s flags
(``log-destination-type`` or ``log_destination_type``, ...), plus ``state-dir``.
Each call plans one VPC with the check's own verdict, validates, applies and
records it in the run's ledger, so ``vpc-flow-logs backout RUN_ID`` undoes it.
"""

from __future__ import annotations

import atexit
from pathlib import Path

from prowler_vpc_flow_logs import CHECK_ID
from prowler_vpc_flow_logs.clients import Clients
from prowler_vpc_flow_logs.findings import verdict_for

from .apply import apply, start_run
from .errors import RemediationError
from .ledger import Ledger, now
from .models import FixSettings, Plan, PlannedFix, RunFinished
from .plan import decide
from .validate import check_prerequisites, check_traffic, settings_from

SETTINGS = set(FixSettings.model_fields) | {"state_dir"}


class FixerRun:
    """The state one Prowler process shares across its fixer calls."""

    def __init__(self) -> None:
        self.ledger: Ledger | None = None
        self.checked_regions: set[str] = set()
        self.created = 0
        self.failed = 0


RUN = FixerRun()


def read_config(fixer_config: dict | None) -> tuple[FixSettings, Path | None]:
    """Settings and state folder from Prowler's fixer config, checked like the CLI's flags."""
    section = (fixer_config or {}).get(CHECK_ID)
    if not isinstance(section, dict):
        raise RemediationError(
            f"the fixer config has no '{CHECK_ID}:' section under 'aws:' (see examples/fixer_config.yaml); "
            "pass it with --fixer-config"
        )
    values = {str(k).replace("-", "_"): v for k, v in section.items()}
    unknown = sorted(set(values) - SETTINGS)
    if unknown:
        raise RemediationError(f"unknown setting(s) in '{CHECK_ID}:': {', '.join(unknown)}")
    state = values.pop("state_dir", None)
    return settings_from(values), Path(state) if state else None


def _finish() -> None:
    if RUN.ledger is not None:
        try:
            RUN.ledger.append(RunFinished(time=now(), created=RUN.created, failed=RUN.failed))
        except OSError:
            pass  # the run is still in its ledger; only the "finished" mark is missing
        print(f"\nvpc_flow_logs_enabled fixer: run {RUN.ledger.path.stem}; undo with: "
              f"vpc-flow-logs backout {RUN.ledger.path.stem}")


def fix_finding(service, resource_id: str, region: str, run: FixerRun | None = None) -> bool:
    """Fix one FAIL finding through the remediation code; True when its flow log was created."""
    run = run or RUN
    try:
        settings, state = read_config(getattr(service, "fixer_config", None))
        data = service.regions.get(region)
        vpc = data.vpcs.get(resource_id) if data else None
        if vpc is None:
            raise RemediationError(f"{resource_id} is not a VPC this scan read in {region}")
        decision = decide(region, vpc, verdict_for(service, region, vpc))
        if not isinstance(decision, PlannedFix):
            raise RemediationError(f"{resource_id} is not fixed: {decision.reason}")
        plan = Plan(
            account=service.audited_account, required_traffic_type=service.policy.required_traffic_type,
            settings=settings, regions=[region], fixes=[decision],
        )
        check_traffic(settings, plan.required_traffic_type)
        clients = Clients(service.session)
        if region not in run.checked_regions:
            check_prerequisites(plan, clients)
            run.checked_regions.add(region)
        for warning in plan.warnings:
            print(f"\t  warning: {warning}")
        if run.ledger is None:
            run.ledger = start_run(plan, "prowler-fixer", state)
            if run is RUN:
                atexit.register(_finish)
        result = apply(plan, run.ledger, clients, finish=False)
    except RemediationError as error:
        print(f"\t  {error}")
        return False
    run.created += len(result.created)
    run.failed += len(result.failed)
    for created in result.created:
        print(f"\t  created {created.flow_log_id} (run {run.ledger.path.stem})")
    for failed in result.failed:
        print(f"\t  {failed.code}: {failed.message}")
    for problem in result.not_active:
        print(f"\t  not ACTIVE: {problem}")
    return bool(result.created) and not result.not_active
