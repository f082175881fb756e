"""Keep our findings' CIS mappings inside Security Hub's 20 AssociatedStandards.

Prowler fills a finding's ``compliance`` field (framework key -> requirement ids)
with ``prowler.lib.outputs.finding.get_check_compliance``, in framework load order:
built-in frameworks first, plug-in frameworks last. Its ASFF writer
(``ASFF.format_compliance``) then keeps only the first 20 keys, so for
``vpc_flow_logs_enabled`` (about 40 frameworks) our CIS Controls v7.1 mapping is
always cut. ``keep_cis_mappings_in_findings`` wraps ``get_check_compliance`` and,
for findings of our check only, moves the CIS keys to the front: CIS Controls v7.1
(ours), CIS Controls v8.1 (taken from Prowler's own universal framework file, which
otherwise never reaches a finding) and every CIS AWS Foundations Benchmark version,
newest first (10 keys with Prowler 5.46). Every other key keeps Prowler's order; findings of other checks get Prowler's
result object untouched. Prowler's writers still do all formatting and limits.

On a Prowler whose internals differ, nothing is patched and a warning is logged.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any

from prowler.lib.logger import logger

from prowler_vpc_flow_logs import CHECK_ID

OUR_STANDARD = "CIS-Controls-7.1"
CIS_CONTROLS_PREFIX = "CIS-Controls-"
ASFF_MAX_STANDARDS = 20
_CIS_AWS = re.compile(r"^CIS-(\d+(?:\.\d+)*)$")
_ORIGINAL = "_prowler_vpc_flow_logs_original"
_WARNING = "prowler-vpc-flow-logs: {what}; CIS Controls may be missing from Security Hub (ASFF) findings of vpc_flow_logs_enabled"

Compliance = dict[str, list[str]]


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text))


@functools.lru_cache(maxsize=64)
def _front_order(keys: tuple[str, ...]) -> tuple[str, ...]:
    """The key order ``prioritised`` gives; every finding of a check has the same keys."""
    controls = sorted((key for key in keys if key.startswith(CIS_CONTROLS_PREFIX)), key=_version)
    benchmarks = sorted((key for key in keys if _CIS_AWS.match(key)), key=lambda key: _version(key[4:]), reverse=True)
    front = controls + benchmarks
    return tuple(front) + tuple(key for key in keys if key not in front)


def prioritised(compliance: Mapping[str, list[str]], extra: Mapping[str, list[str]] | None = None) -> Compliance:
    """``compliance`` plus ``extra`` (new keys only), with CIS Controls (oldest version first)
    and the CIS AWS Foundations Benchmark versions (newest first) in front; all other keys
    keep their order."""
    merged: Compliance = {key: list(ids) for key, ids in compliance.items()}
    for key, ids in (extra or {}).items():
        merged.setdefault(key, list(ids))
    return {key: merged[key] for key in _front_order(tuple(merged))}


@functools.lru_cache(maxsize=1)
def prowler_cis_controls_mappings() -> Compliance:
    """``{"CIS-Controls-8.1": ["8.2", "13.6"]}``: the requirements of Prowler's universal
    ``cis_controls_*.json`` files that list our check for AWS ({} when there are none)."""
    found: Compliance = {}
    try:
        root = resources.files("prowler.compliance")
        for entry in sorted(root.iterdir(), key=lambda e: e.name):
            if not (entry.name.startswith("cis_controls_") and entry.name.endswith(".json")):
                continue
            data = json.loads(entry.read_text(encoding="utf-8"))
            ids = [
                str(req["id"])
                for req in data.get("requirements", [])
                if CHECK_ID in (req.get("checks") or {}).get("aws", [])
            ]
            if ids and data.get("framework") and data.get("version"):
                found[f"{data['framework']}-{data['version']}"] = ids
    except Exception as error:  # a missing or reshaped file only costs the v8 entry
        logger.warning(_WARNING.format(what=f"could not read Prowler's CIS Controls files ({error!r})"))
    return found


def _asff_keeps_front_keys() -> bool:
    """Probe Prowler's ASFF writer: does it still keep the FIRST keys of a finding's compliance?"""
    try:
        from prowler.lib.outputs.asff.asff import ASFF

        sample = {OUR_STANDARD: ["6.2", "12.5"]} | {f"Probe-{n}": [str(n)] for n in range(30)}
        standards, requirements = ASFF.format_compliance(sample)
        return standards[0] == {"StandardsId": OUR_STANDARD} and requirements[0] == f"{OUR_STANDARD} 6.2 12.5"
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
                logger.warning(_WARNING.format(what=f"the {OUR_STANDARD} framework is not loaded (is the plug-in installed with pip?)"))
            return prioritised(compliance, prowler_cis_controls_mappings())
        except Exception as error:  # never lose a finding over ordering
            logger.warning(_WARNING.format(what=f"ordering failed ({error!r})"))
            return compliance

    setattr(get_check_compliance, _ORIGINAL, original)
    return get_check_compliance


def keep_cis_mappings_in_findings() -> bool:
    """Wrap Prowler's ``get_check_compliance`` (idempotent). False, with a logged warning,
    when this Prowler does not build findings the way 5.46 does."""
    try:
        from prowler.lib.outputs import finding as finding_module

        current = finding_module.get_check_compliance
        if getattr(current, _ORIGINAL, None) is not None:
            return True
        if not callable(current):
            raise TypeError("get_check_compliance is not callable")
        if not _asff_keeps_front_keys():
            logger.warning(_WARNING.format(what="Prowler's ASFF writer no longer keeps the first compliance keys"))
        finding_module.get_check_compliance = _wrap(current)
        return True
    except Exception as error:
        logger.warning(_WARNING.format(what=f"Prowler's internals differ ({error!r}); nothing was changed"))
        return False


def restore_prowler() -> None:
    """Undo ``keep_cis_mappings_in_findings`` (for tests)."""
    from prowler.lib.outputs import finding as finding_module

    original = getattr(finding_module.get_check_compliance, _ORIGINAL, None)
    if original is not None:
        finding_module.get_check_compliance = original
