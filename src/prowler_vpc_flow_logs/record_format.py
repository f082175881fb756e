"""Flow log record formats: the fields AWS knows, its default format, and parsing a ``LogFormat``."""

from __future__ import annotations

import re

# AWS's default format: the version 2 fields, in this order (used when a flow log has no LogFormat).
DEFAULT_FIELDS = (
    "version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport",
    "protocol", "packets", "bytes", "start", "end", "action", "log-status",
)  # fmt: skip

# Every field a custom format may name ("Available fields" of the VPC user guide, versions 2-10).
FIELDS = DEFAULT_FIELDS + (
    "vpc-id", "subnet-id", "instance-id", "tcp-flags", "type", "pkt-srcaddr", "pkt-dstaddr",
    "region", "az-id", "sublocation-type", "sublocation-id",
    "pkt-src-aws-service", "pkt-dst-aws-service", "flow-direction", "traffic-path",
    "ecs-cluster-arn", "ecs-cluster-name", "ecs-container-instance-arn",
    "ecs-container-instance-id", "ecs-container-id", "ecs-second-container-id",
    "ecs-service-name", "ecs-task-definition-arn", "ecs-task-arn", "ecs-task-id",
    "reject-reason", "resource-id", "encryption-status",
)  # fmt: skip

_SHAPE = re.compile(r"^\$\{[a-z0-9-]+\}( \$\{[a-z0-9-]+\})*$")
_FIELD = re.compile(r"\$\{([a-z0-9-]+)\}")


def is_well_formed(log_format: str) -> bool:
    """``${field} ${field} ...``: one or more fields separated by single spaces."""
    return bool(_SHAPE.match(log_format))


def fields_of(log_format: str | None) -> list[str]:
    """The fields a flow log records: its custom format's, or AWS's default ones."""
    return _FIELD.findall(log_format) if log_format else list(DEFAULT_FIELDS)


def unknown_fields(log_format: str) -> list[str]:
    """Fields of a custom format that AWS does not know (CreateFlowLogs would refuse them)."""
    return [field for field in fields_of(log_format) if field not in FIELDS]
