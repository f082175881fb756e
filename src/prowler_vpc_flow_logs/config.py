"""The check's knobs in Prowler's config file (``--config-file``, under ``aws:``).

Read once per scan and never raising: a missing key means the default (the traffic type's
CIS minimum; every other knob off); a value that is empty, ``null``, of the wrong type or not
one of the allowed values means the strictest setting, and the reason is said in every
finding (``Policy.note``). ``problems`` lists the same reasons for
``vpc-flow-logs fix --config-file``, which refuses such a file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from prowler_vpc_flow_logs import record_format
from prowler_vpc_flow_logs.knobs import (
    ALLOWED_DESTINATIONS_KEY,
    DESTINATION_ROLES_KEY,
    INTERVALS,
    MAX_INTERVAL_KEY,
    MIN_RETENTION_KEY,
    NEVER_EXPIRE,
    REQUIRE_KMS_KEY,
    REQUIRED_FIELDS_KEY,
)
from prowler_vpc_flow_logs.policy import DEFAULT_TRAFFIC_TYPE, TRAFFIC_TYPES, Policy

TRAFFIC_TYPE_KEY = "vpc_flow_logs_required_traffic_type"


def _shown(raw: Any) -> str:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return "empty"
    return repr(raw)


def _traffic(raw: Any) -> str | None:
    return (
        raw.strip().upper()
        if isinstance(raw, str) and raw.strip().upper() in TRAFFIC_TYPES
        else None
    )


def _retention(raw: Any) -> int | None:
    return raw if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 1 else None


def _kms(raw: Any) -> bool | None:
    return raw if isinstance(raw, bool) else None


def _interval(raw: Any) -> int | None:
    return raw if type(raw) is int and raw in INTERVALS else None


def _fields(raw: Any) -> tuple[str, ...] | None:
    if not isinstance(raw, list) or not raw:
        return None
    if not all(isinstance(f, str) and f.strip() in record_format.FIELDS for f in raw):
        return None
    return tuple(dict.fromkeys(f.strip() for f in raw))


ROLE_ARN = r"^arn:(aws|aws-cn|aws-us-gov):iam::\d{12}:role/[\w+=,.@/-]{1,512}$"


def _arns(pattern: str) -> Callable[[Any], tuple[str, ...] | None]:
    """A reader of a non-empty list of ARNs that each match ``pattern`` (duplicates dropped)."""
    form = re.compile(pattern)

    def read(raw: Any) -> tuple[str, ...] | None:
        if not isinstance(raw, list) or not raw:
            return None
        if not all(isinstance(a, str) and form.match(a.strip()) for a in raw):
            return None
        return tuple(dict.fromkeys(a.strip() for a in raw))

    return read


def _unknown_fields(raw: Any) -> str:
    """Which entries of an invalid fields list are wrong ("" when the list itself is)."""
    if not isinstance(raw, list) or not raw:
        return ""
    bad = [f for f in raw if not (isinstance(f, str) and f.strip() in record_format.FIELDS)]
    return f" ({', '.join(map(repr, bad))} {'is not a field' if len(bad) == 1 else 'are not fields'} AWS knows)"


@dataclass(frozen=True)
class Knob:
    """One key of the config file: how to read it, what it must be, its strictest setting."""

    key: str
    read: Callable[[Any], Any]  # the valid value, or None when invalid
    must_be: str
    strictest: Any
    strictest_said: str  # "<strictest setting> because <problem>"
    which: Callable[[Any], str] = lambda raw: ""  # names the wrong part of an invalid value


# key, reader, what it must be, strictest setting, what that setting says [, wrong part]
KNOBS = (
    Knob(TRAFFIC_TYPE_KEY, _traffic, f"one of {', '.join(TRAFFIC_TYPES)}", "ALL",
         "ALL traffic is required"),
    Knob(MIN_RETENTION_KEY, _retention, "a whole number of days, 1 or more", NEVER_EXPIRE,
         "records must never expire"),
    Knob(REQUIRE_KMS_KEY, _kms, "true or false", True, "KMS encryption is required"),
    Knob(MAX_INTERVAL_KEY, _interval, " or ".join(map(str, INTERVALS)), min(INTERVALS),
         "a MaxAggregationInterval of 60 s is required"),
    Knob(REQUIRED_FIELDS_KEY, _fields, "a list of flow log record field names (such as "
         "[srcaddr, dstaddr, srcport, dstport, protocol, action])", record_format.FIELDS,
         "every record field AWS knows is required", _unknown_fields),
    Knob(ALLOWED_DESTINATIONS_KEY, _arns(r"^arn:"),
         "a list of destination ARN patterns (such as ['arn:aws:s3:::org-log-archive*'])", (),
         "no destination is allowed"),
    Knob(DESTINATION_ROLES_KEY, _arns(ROLE_ARN),
         "a list of IAM role ARNs (such as ['arn:aws:iam::111111111111:role/prowler-scan'])", (),
         "no role reads other accounts' destinations"),
)  # fmt: skip


def _config(audit_config: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return audit_config if isinstance(audit_config, Mapping) else {}


def _problem(knob: Knob, config: Mapping[str, Any]) -> str | None:
    if knob.key not in config or knob.read(config[knob.key]) is not None:
        return None
    raw = config[knob.key]
    return f"{knob.key} is {_shown(raw)}{knob.which(raw)} in the Prowler config file; it must be {knob.must_be}"


def _value(knob: Knob, config: Mapping[str, Any], default: Any = None) -> Any:
    if knob.key not in config:
        return default
    value = knob.read(config[knob.key])
    return knob.strictest if value is None else value


def problems(audit_config: Mapping[str, Any] | None) -> list[str]:
    """What is wrong with the check's knobs in this config; empty when every knob is fine or unset."""
    config = _config(audit_config)
    return [problem for knob in KNOBS if (problem := _problem(knob, config))]


def required_traffic_type(audit_config: Mapping[str, Any] | None) -> str:
    """The traffic knob's value: the default when unset, the strictest when invalid."""
    return _value(KNOBS[0], _config(audit_config), DEFAULT_TRAFFIC_TYPE)


def strictest_note(audit_config: Mapping[str, Any] | None) -> str:
    """What every finding says when a knob is invalid ("" when all are fine)."""
    config = _config(audit_config)
    return "; ".join(
        f"{knob.strictest_said} because {problem}"
        for knob in KNOBS
        if (problem := _problem(knob, config))
    )


def policy(audit_config: Mapping[str, Any] | None, audited_account: str) -> Policy:
    """The Policy a scan judges by: every knob's value (off when unset), and the note."""
    config = _config(audit_config)
    _, retention, kms, interval, fields, destinations, roles = KNOBS
    return Policy(
        required_traffic_type=required_traffic_type(config),
        audited_account=audited_account,
        note=strictest_note(config),
        min_retention_days=_value(retention, config),
        require_kms=bool(_value(kms, config, False)),
        max_aggregation_interval=_value(interval, config),
        required_fields=_value(fields, config),
        allowed_destinations=_value(destinations, config),
        destination_roles=_value(roles, config, ()),
    )


JUDGED_UNDER = "Judged under: "  # then carried(policy) as JSON, in each finding's details


def judged_under(policy: Policy) -> str:
    """What each finding carries of its policy (in its resource details)."""
    return JUDGED_UNDER + json.dumps(carried(policy))


def read_judged_under(details: str) -> dict[str, Any] | None:
    """The knobs a finding's resource details say it was judged under (None: it does not say)."""
    _, found, said = details.partition(JUDGED_UNDER)
    try:
        knobs = json.loads(said) if found else None
    except ValueError:
        return None
    return knobs if isinstance(knobs, dict) else None


def carried(policy: Policy) -> dict[str, Any]:
    """The knobs a verdict was judged under, spelled as in the config file (what each finding
    carries, so that `fix --from-findings` judges by the same policy)."""
    values = {
        TRAFFIC_TYPE_KEY: policy.required_traffic_type,
        MIN_RETENTION_KEY: policy.min_retention_days,
        REQUIRE_KMS_KEY: policy.require_kms or None,
        MAX_INTERVAL_KEY: policy.max_aggregation_interval,
        REQUIRED_FIELDS_KEY: list(policy.required_fields) if policy.required_fields else None,
        ALLOWED_DESTINATIONS_KEY: (
            None if policy.allowed_destinations is None else list(policy.allowed_destinations)
        ),
        DESTINATION_ROLES_KEY: list(policy.destination_roles) or None,
    }
    return {key: value for key, value in values.items() if value is not None}
