"""Everything the plug-in relies on inside Prowler, each reliance named. Each but the safety nets
MANUAL_IN_TABLES and CUSTOM_FOLDER_CLEANUP has a probe of its name in selftest.py, which ``install``
and ``status`` run instead of a version gate. Prowler is imported inside the functions, so
``status`` runs (and says so) where Prowler is missing or broken.

- CHECK_FOLDER: Prowler loads our check id only from its own tree, so ``install`` copies it there.
- CHECK_REPORTS: a finding is a ``Check_Report_AWS(metadata, resource)`` the check fills in.
- SERVICE: ``FlowLogs`` is an ``AWSService("ec2", provider)`` (session, audit config, unknown ARNs,
  ``is_resource_filtered``, ``__threading_call__``) built on ``Provider.get_global_provider()``.
- METADATA: Prowler's ``CheckMetadata`` accepts our metadata JSON (else every scan breaks).
- FINDING_COMPLIANCE: findings look ``get_check_compliance`` up on ``prowler.lib.outputs.finding``
  at call time; ``keep_cis_mappings_in_findings`` wraps it.
- ASFF_FIRST_20: the ASFF writer keeps the first 20 compliance keys (``asff_keeps_front_keys``).
- MANUAL_IN_TABLES: Prowler 5.32.0's compliance tables crash on a MANUAL finding (fixed in 5.32.1).
- CUSTOM_FOLDER_CLEANUP: ``prowler -x`` deletes the check folder; activation.py puts it back.
- PROVIDER: ``AwsProvider(...)`` and Prowler's botocore session config (prowler_provider.py); an
  AwsProvider becomes Prowler's global provider, so the remediation builds one only outside a scan.
- CONFIG_FILE: ``load_and_validate_config_file("aws", path)`` reads ``--config-file``.
- ARN: Prowler's ``ARN`` model parses the ARNs the plug-in reads (``parse_arn``).
- FIXER: ``prowler --fixer`` calls ``<check>_fixer.fixer(resource_id=, region=)``.
- COMPLIANCE_ENTRY_POINTS: the ``prowler.compliance`` and ``.universal`` entry points (pyproject).
"""

from __future__ import annotations

import fnmatch
import functools
import json
import re
import sys
from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any

from prowler_vpc_flow_logs import CHECK_ID


def hook_into_prowler() -> None:
    """What the check module switches on in Prowler (FINDING_COMPLIANCE, MANUAL_IN_TABLES)."""
    keep_cis_mappings_in_findings()
    count_manual_findings_in_tables()


def _warn(what: str) -> None:
    from prowler.lib.logger import logger

    logger.warning(
        f"prowler-vpc-flow-logs: {what}; CIS Controls may be missing from Security Hub (ASFF) "
        "findings of vpc_flow_logs_enabled"
    )


# -- CHECK_REPORTS ---------------------------------------------------------------------------
def reports(check, service) -> list:
    """One Prowler report per verdict of the service's scan (a VPC, or a region not read)."""
    from prowler.lib.check.models import Check_Report_AWS

    from prowler_vpc_flow_logs.config import judged_under
    from prowler_vpc_flow_logs.verdicts import verdicts

    found = []
    metadata = check.metadata()  # serialised once, not once per VPC
    policy = f" {judged_under(service.scan.policy)}"  # `fix --from-findings` reads it back
    for region, vpc, verdict in verdicts(service.scan):
        report = Check_Report_AWS(metadata=metadata, resource=vpc or {})
        if vpc is None:  # a region whose VPCs could not be listed
            report.resource_id = "unknown"
            report.resource_arn = service.get_unknown_arn(resource_type="vpc", region=region)
            report.region = region
        report.status = verdict.status
        report.status_extended = verdict.status_extended
        considered = ", ".join(verdict.considered_flow_log_ids) or "none"
        report.resource_details = f"Flow logs considered: {considered}.{policy}"
        found.append(report)
    return found


# -- FINDING_COMPLIANCE and ASFF_FIRST_20 ----------------------------------------------------
OUR_STANDARD = "CIS-Controls-7.1"
_CIS_AWS = re.compile(r"^CIS-(\d+(?:\.\d+)*)$")
_ORIGINAL = "_prowler_vpc_flow_logs_original"

Compliance = dict[str, list[str]]


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text))


@functools.lru_cache(maxsize=64)
def _front_order(keys: tuple[str, ...]) -> tuple[str, ...]:
    """The key order ``prioritised`` gives; every finding of a check has the same keys."""
    controls = sorted((k for k in keys if k.startswith("CIS-Controls-")), key=_version)
    benchmarks = sorted((k for k in keys if _CIS_AWS.match(k)), key=_version, reverse=True)
    front = controls + benchmarks
    return tuple(front) + tuple(key for key in keys if key not in front)


def prioritised(
    compliance: Mapping[str, list[str]], extra: Mapping[str, list[str]] | None = None
) -> Compliance:
    """``compliance`` plus ``extra`` (new keys only), with CIS Controls (oldest version first)
    and the CIS AWS Foundations Benchmark versions (newest first) in front; all other keys
    keep their order. Security Hub keeps 20 standards, and Prowler loads ours last."""
    merged: Compliance = {key: list(ids) for key, ids in compliance.items()}
    for key, ids in (extra or {}).items():
        merged.setdefault(key, list(ids))
    return {key: merged[key] for key in _front_order(tuple(merged))}


@functools.lru_cache(maxsize=1)
def prowler_cis_controls_mappings() -> Compliance:
    """``{"CIS-Controls-8.1": ["8.2", "13.6"]}``: the requirements of Prowler's universal
    ``cis_controls_*.json`` files that list our check for AWS ({} when there are none). Prowler
    keeps these out of a finding's ``compliance``; we add them."""
    found: Compliance = {}
    try:
        root = resources.files("prowler.compliance")
        for name in sorted(fnmatch.filter([e.name for e in root.iterdir()], "cis_controls_*.json")):
            data = json.loads(root.joinpath(name).read_text(encoding="utf-8"))
            ids = [
                str(req["id"])
                for req in data.get("requirements", [])
                if CHECK_ID in (req.get("checks") or {}).get("aws", [])
            ]
            if ids and data.get("framework") and data.get("version"):
                found[f"{data['framework']}-{data['version']}"] = ids
    except Exception as error:  # a missing or reshaped file only costs the v8 entry
        _warn(f"could not read Prowler's CIS Controls files ({error!r})")
    return found


def asff_keeps_front_keys() -> bool:
    """Probe Prowler's ASFF writer: does it still keep the FIRST keys of a finding's compliance?"""
    try:
        from prowler.lib.outputs.asff.asff import ASFF

        sample = {OUR_STANDARD: ["6.2", "12.5"]} | {f"Probe-{n}": [str(n)] for n in range(30)}
        standards, requirements = ASFF.format_compliance(sample)
        first = (standards[0], requirements[0])
        return first == ({"StandardsId": OUR_STANDARD}, f"{OUR_STANDARD} 6.2 12.5")
    except Exception:
        return False


def _wrap(original: Callable[..., Any]) -> Callable[..., Any]:
    warned: list[str] = []

    @functools.wraps(original)
    def get_check_compliance(*args: Any, **kwargs: Any) -> Any:
        compliance = original(*args, **kwargs)
        try:
            report = args[0] if args else kwargs.get("finding")
            if report.check_metadata.CheckID != CHECK_ID or not isinstance(compliance, dict):
                return compliance
            if OUR_STANDARD not in compliance and not warned:
                warned.append(OUR_STANDARD)
                _warn(
                    f"the {OUR_STANDARD} framework is not loaded (is the plug-in installed with pip?)"
                )
            return prioritised(compliance, prowler_cis_controls_mappings())
        except Exception as error:  # never lose a finding over ordering
            _warn(f"ordering failed ({error!r})")
            return compliance

    setattr(get_check_compliance, _ORIGINAL, original)
    return get_check_compliance


def keep_cis_mappings_in_findings() -> bool:
    """Wrap Prowler's ``get_check_compliance`` (idempotent); findings of other checks get
    Prowler's result object untouched. False, with a logged warning, when this Prowler does not
    build findings that way (nothing is changed then)."""
    try:
        from prowler.lib.outputs import finding as finding_module

        current = finding_module.get_check_compliance
        if getattr(current, _ORIGINAL, None) is not None:
            return True
        if not callable(current):
            raise TypeError("get_check_compliance is not callable")
        if not asff_keeps_front_keys():
            _warn("Prowler's ASFF writer no longer keeps the first compliance keys")
        finding_module.get_check_compliance = _wrap(current)
        return True
    except Exception as error:
        _warn(f"Prowler's internals differ ({error!r}); nothing was changed")
        return False


def prowlers_get_check_compliance() -> Callable[..., Any] | None:
    """Prowler's own ``get_check_compliance`` where findings look it up, without our wrapper."""
    from prowler.lib.outputs import finding as finding_module

    current = getattr(finding_module, "get_check_compliance", None)
    return getattr(current, _ORIGINAL, current)


# -- MANUAL_IN_TABLES ------------------------------------------------------------------------
TALLY = "accumulate_group_status"  # in prowler.lib.check.compliance_config_eval


def _tally_takes_manual(tally: Callable[..., Any]) -> bool:
    try:
        tally(0, "MANUAL", {"PASS": 0, "FAIL": 0}, {})
        return True
    except KeyError:
        return False


def count_manual_findings_in_tables() -> bool:
    """Let Prowler's compliance tables take our MANUAL findings: where the tally rejects MANUAL
    (KeyError in Prowler 5.32.0, which ends the run), rebind it in each Prowler module that
    imported it to one that leaves MANUAL out, as later Prowler does. True when it changed."""
    try:
        from prowler.lib.check import compliance_config_eval

        tally = getattr(compliance_config_eval, TALLY)
        if getattr(tally, _ORIGINAL, None) is not None or _tally_takes_manual(tally):
            return False

        @functools.wraps(tally)
        def accumulate_group_status(index: int, status: str, *args: Any, **kwargs: Any) -> None:
            if status != "MANUAL":
                tally(index, status, *args, **kwargs)

        setattr(accumulate_group_status, _ORIGINAL, tally)
        for name, module in list(sys.modules.items()):
            if name.startswith("prowler.") and vars(module).get(TALLY) is tally:
                setattr(module, TALLY, accumulate_group_status)
        return True
    except Exception as error:  # a Prowler without this tally: nothing to do
        from prowler.lib.logger import logger

        logger.debug(f"prowler-vpc-flow-logs: compliance tally left as is ({error!r})")
        return False
