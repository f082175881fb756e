"""Prowler ``--fixer`` for vpc_flow_logs_enabled: creates the missing flow log, recorded for ``vpc-flow-logs backout``.

Configure it in the ``aws: vpc_flow_logs_enabled:`` section of ``--fixer-config``
(see examples/fixer_config.yaml). Permissions: src/prowler_vpc_flow_logs/iam/fix-policy.json.
"""

from prowler_vpc_flow_logs.flow_logs_client import flow_logs_client
from prowler_vpc_flow_logs.remediation.fixer import fix_finding


def fixer(resource_id: str, region: str) -> bool:
    """Create the flow log the VPC ``resource_id`` in ``region`` needs; True when it was created."""
    return fix_finding(flow_logs_client, resource_id, region)
