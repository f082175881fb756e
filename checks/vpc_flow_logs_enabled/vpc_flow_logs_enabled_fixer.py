"""Prowler ``--fixer`` for vpc_flow_logs_enabled: creates the missing flow log, recorded for ``vpc-flow-logs backout``.

Configure it in the ``aws: vpc_flow_logs_enabled:`` section of ``--fixer-config``
(see examples/fixer_config.yaml). Permissions: src/prowler_vpc_flow_logs/iam/fix-policy.json.
"""

try:
    from prowler_vpc_flow_logs.flow_logs_client import flow_logs_client
    from prowler_vpc_flow_logs.remediation.fixer import fix_finding

    UNAVAILABLE = None
except Exception as error:  # the package is missing or broken; the check's findings say why
    UNAVAILABLE = error

_said: list[str] = []


def fixer(resource_id: str, region: str) -> bool:
    """Create the flow log the VPC ``resource_id`` in ``region`` needs; True when it was created."""
    if UNAVAILABLE is not None:
        if not _said:
            _said.append("said")
            print(f"\t  prowler-vpc-flow-logs cannot run ({UNAVAILABLE}); nothing will be fixed")
        return False
    return fix_finding(flow_logs_client, resource_id, region)
