"""Prowler check: every VPC has usable flow logs that capture the required traffic.

``vpc-flow-logs install`` copies this file into Prowler's tree (Prowler loads this check id only
from there); all it does comes from the ``prowler_vpc_flow_logs`` package. Without that package it
still answers: a FAIL per audited region and a CRITICAL log line, never "There are no findings".
"""

import importlib.metadata

from prowler.lib.check.models import Check, Check_Report_AWS
from prowler.lib.logger import logger
from prowler.providers.common.provider import Provider

try:
    from prowler_vpc_flow_logs.activation import keep_check_after_custom_folder_run
    from prowler_vpc_flow_logs.flow_logs_client import flow_logs_client
    from prowler_vpc_flow_logs.prowler_integration import hook_into_prowler, reports

    # Keep our CIS mappings within Security Hub's 20 standards (Prowler loads plug-in frameworks
    # last), and put this folder back if a `prowler -x` run deletes it.
    hook_into_prowler()
    keep_check_after_custom_folder_run(__file__)
    UNAVAILABLE = None
except Exception as error:  # the package is missing or broken: say so in findings
    UNAVAILABLE = error


class vpc_flow_logs_enabled(Check):
    def execute(self) -> list[Check_Report_AWS]:
        if UNAVAILABLE is not None:
            return unavailable_findings(self, UNAVAILABLE)
        return reports(self, flow_logs_client)


def unavailable_findings(check: Check, error: Exception) -> list[Check_Report_AWS]:
    """One FAIL per audited region when the plug-in's package cannot run (built with Prowler alone)."""
    if isinstance(error, ModuleNotFoundError) and error.name == "prowler_vpc_flow_logs":
        why = "its package prowler-vpc-flow-logs is not installed in this Python environment"
    else:
        why = f"its package prowler-vpc-flow-logs failed to load ({error.__class__.__name__}: {error})"
    version = importlib.metadata.version("prowler")
    message = (
        f"Prowler runs vpc_flow_logs_enabled of prowler-vpc-flow-logs, but {why}; no VPC was "
        "evaluated. Reinstall the plug-in from its checkout or wheel (pip install "
        "/path/to/prowler-vpc-flow-logs), or restore "
        f"Prowler's built-in check: pip install --force-reinstall --no-deps prowler=={version}"
    )
    logger.critical(message)
    identity = Provider.get_global_provider().identity
    regions = sorted(getattr(identity, "audited_regions", None) or [])
    findings = []
    for region in regions or [getattr(identity, "profile_region", None) or "us-east-1"]:
        report = Check_Report_AWS(metadata=check.metadata(), resource={})
        report.resource_id = "unknown"
        report.resource_arn = (
            f"arn:{identity.partition}:ec2:{region}:{identity.account}:vpc/unknown"
        )
        report.region = region
        report.status = "FAIL"
        scope = f"The VPCs in {region}" if regions else "The VPCs in every audited region"
        report.status_extended = f"{scope} could not be audited: {message}"
        findings.append(report)
    return findings
