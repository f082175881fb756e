"""Build Prowler's real AwsProvider in this process, as the remediation CLI does (for in-process tests)."""

from __future__ import annotations

from prowler_vpc_flow_logs.remediation.aws import build_provider


def aws_provider(
    regions: set[str],
    scan_unused_services: bool = False,
    audit_config: dict | None = None,
    resource_arn: list[str] | None = None,
):
    """An AwsProvider as Prowler's CLI builds it, with the audit metadata the CLI adds."""
    return build_provider(
        regions,
        audit_config=audit_config,
        scan_unused_services=scan_unused_services,
        resource_arn=resource_arn,
    )
