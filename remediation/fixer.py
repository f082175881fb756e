"""Prowler's ``--fixer`` for vpc_flow_logs_enabled: one recorded run per Prowler process.

Settings come from the ``vpc_flow_logs_enabled:`` section of Prowler's fixer
config (``--fixer-config``), with the names of ``vpc-flow-logs fix``'s flags
(``log-destination-type`` or ``log_destination_type``, ...), plus ``state-dir``.
Each call plans one VPC with the check's own verdict, validates, applies and
records it in the run's ledger, so ``vpc-flow-logs backout RUN_ID`` undoes it.
"""

from __future__ import annotations

import atexit
import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from prowler_vpc_flow_logs import CHECK_ID
from prowler_vpc_flow_logs.clients import Clients
from prowler_vpc_flow_logs.errors import UserError

from .apply import apply_region, start_run
from .ledger import Ledger, RunFinished, check_writable, now
from .models import FixSettings
from .plan import make_plan
from .targets import Targets
from .validate import check_prerequisites, check_traffic, settings_for, settings_from

SETTINGS = set(FixSettings.model_fields) | {"state_dir"}


@dataclass
class FixerRun:
    """The state one Prowler process shares across its fixer calls."""

    ledger: Ledger | None = None
    settings: FixSettings | None = None
    state: Path | None = None
    fatal: str | None = None  # why no finding can be fixed in this process (said once)
    region_errors: dict[str, str] = field(default_factory=dict)  # region -> why not (said once)
    checked_regions: set[str] = field(default_factory=set)
    created: int = 0
    failed: int = 0


RUN = FixerRun()


def read_config(fixer_config: dict | None) -> tuple[FixSettings, Path | None]:
    """Settings and state folder from Prowler's fixer config, checked like the CLI's flags."""
    section = (fixer_config or {}).get(CHECK_ID)
    if not isinstance(section, dict):
        raise UserError(
            f"the fixer config has no '{CHECK_ID}:' section under 'aws:' (see examples/fixer_config.yaml); "
            "pass it with --fixer-config"
        )
    values = {str(k).replace("-", "_"): v for k, v in section.items()}
    unknown = sorted(set(values) - SETTINGS)
    if unknown:
        raise UserError(f"unknown setting(s) in '{CHECK_ID}:': {', '.join(unknown)}")
    state = values.pop("state_dir", None)
    return settings_from(values), Path(state) if state else None


def _finish() -> None:
    if RUN.ledger is None:
        return
    run_id = RUN.ledger.path.stem
    with contextlib.suppress(OSError):  # the run stays in its ledger, only not marked finished
        RUN.ledger.append(RunFinished(time=now(), created=RUN.created, failed=RUN.failed))
    print(f"\nvpc_flow_logs_enabled fixer: run {run_id}; undo with: vpc-flow-logs backout {run_id}")


def _prepare(service, run: FixerRun) -> None:
    """Once per process: the settings, the policy they must meet and a writable state folder."""
    if run.settings is not None or run.fatal is not None:
        return
    try:
        settings, state = read_config(getattr(service, "fixer_config", None))
        settings = settings.for_account(service.audited_account)  # {account}: this account's role
        check_traffic(settings, service.scan.policy.required_traffic_type)
        settings = settings_for(settings, service.scan.policy)  # the knobs' defaults, said once
        check_writable(state)
        run.settings, run.state = settings, state
    except UserError as error:
        run.fatal = str(error)
        print(f"\t  {CHECK_ID} fixer: {error}. No flow log will be created in this Prowler run.")


def fix_finding(service, resource_id: str, region: str, run: FixerRun | None = None) -> bool:
    """Fix one FAIL finding through the remediation code; True when its flow log was created."""
    run = run or RUN
    _prepare(service, run)
    if run.fatal is not None or run.settings is None:
        return False  # said once, by _prepare
    if region in run.region_errors:
        return False  # said once, when the region was first checked
    try:
        targets = Targets(by_region={region: [resource_id]}, source="findings")
        plan = make_plan(service.scan, targets, run.settings)
        if not plan.fixes:
            raise UserError(f"{resource_id} is not fixed: {plan.skipped[0].reason}")
        clients = Clients(service.session)
        if region not in run.checked_regions:
            try:
                check_prerequisites(plan, clients, service.scan.policy)
            except UserError as error:
                run.region_errors[region] = str(error)
                print(f"\t  {CHECK_ID} fixer: {error}. Nothing will be created in {region}.")
                return False
            run.checked_regions.add(region)
        for warning in plan.warnings:
            print(f"\t  warning: {warning}")
        if run.ledger is None:
            run.ledger = start_run([plan], plan.account, "prowler-fixer", run.state)
            if run is RUN:
                atexit.register(_finish)
        result = apply_region(plan, region, run.ledger, clients)
    except UserError as error:
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
