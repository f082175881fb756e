"""The check's knobs in Prowler's config file (``--config-file``, under ``aws:``).

Read once per scan and never raising: a missing key means the default; a value that is
empty, ``null``, of the wrong type or not one of the allowed values means the strictest
setting, and the reason is said in every finding (``Policy.note``). ``problems`` lists the
same reasons for ``vpc-flow-logs fix --config-file``, which refuses such a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

TRAFFIC_TYPE_KEY = "vpc_flow_logs_required_traffic_type"
TRAFFIC_TYPES = ("ALL", "ACCEPT", "REJECT")  # what the knob accepts
DEFAULT_TRAFFIC_TYPE = "REJECT"  # the CIS AWS Foundations / Security Hub EC2.6 minimum
STRICTEST_TRAFFIC_TYPE = "ALL"


def _shown(raw: Any) -> str:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return "empty"
    return repr(raw)


def _traffic_problem(config: Mapping[str, Any]) -> str | None:
    if TRAFFIC_TYPE_KEY not in config:
        return None
    raw = config[TRAFFIC_TYPE_KEY]
    if isinstance(raw, str) and raw.strip().upper() in TRAFFIC_TYPES:
        return None
    return (
        f"{TRAFFIC_TYPE_KEY} is {_shown(raw)} in the Prowler config file; "
        f"it must be one of {', '.join(TRAFFIC_TYPES)}"
    )


def problems(audit_config: Mapping[str, Any] | None) -> list[str]:
    """What is wrong with the check's knobs in this config; empty when every knob is fine or unset."""
    config = audit_config if isinstance(audit_config, Mapping) else {}
    return [problem for problem in (_traffic_problem(config),) if problem]


def required_traffic_type(audit_config: Mapping[str, Any] | None) -> str:
    """The knob's value: the default when unset, the strictest when invalid."""
    config = audit_config if isinstance(audit_config, Mapping) else {}
    if TRAFFIC_TYPE_KEY not in config:
        return DEFAULT_TRAFFIC_TYPE
    if _traffic_problem(config):
        return STRICTEST_TRAFFIC_TYPE
    return str(config[TRAFFIC_TYPE_KEY]).strip().upper()


def strictest_note(audit_config: Mapping[str, Any] | None) -> str:
    """What every finding says when a knob is invalid ("" when all are fine)."""
    found = problems(audit_config)
    if not found:
        return ""
    return f"{STRICTEST_TRAFFIC_TYPE} traffic is required because " + "; ".join(found)
