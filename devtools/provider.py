"""Build Prowler's real AwsProvider in this process (for in-process tests and the remediation CLI's tests)."""

from __future__ import annotations

from prowler.providers.aws.aws_provider import AwsProvider
from prowler.providers.common.models import Audit_Metadata


def aws_provider(
    regions: set[str],
    scan_unused_services: bool = False,
    audit_config: dict | None = None,
    resource_arn: list[str] | None = None,
) -> AwsProvider:
    """An AwsProvider as Prowler's CLI builds it, with the audit metadata the CLI adds."""
    provider = AwsProvider(
        regions=set(regions),
        scan_unused_services=scan_unused_services,
        config_content=audit_config or {},
        resource_arn=resource_arn or [],
    )
    provider.audit_metadata = Audit_Metadata(
        services_scanned=0, expected_checks=[], completed_checks=0, audit_progress=0
    )
    return provider
