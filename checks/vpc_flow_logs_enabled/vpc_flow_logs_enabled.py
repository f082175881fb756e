"""Prowler check: every VPC has usable flow logs that capture the required traffic.

This file also runs from Prowler's own tree (after ``vpc-flow-logs install`` or
``prowler -x checks/``); everything it needs comes from the installed
``prowler_vpc_flow_logs`` package.
"""

from prowler.lib.check.models import Check, Check_Report_AWS

from prowler_vpc_flow_logs.activation import keep_check_after_custom_folder_run
from prowler_vpc_flow_logs.asff import keep_cis_mappings_in_findings
from prowler_vpc_flow_logs.findings import verdicts
from prowler_vpc_flow_logs.flow_logs_client import flow_logs_client

keep_check_after_custom_folder_run(__file__)
keep_cis_mappings_in_findings()


class vpc_flow_logs_enabled(Check):
    def execute(self) -> list[Check_Report_AWS]:
        findings = []
        metadata = self.metadata()  # serialised once, not once per VPC
        for region, vpc, verdict in verdicts(flow_logs_client):
            resource = vpc or {
                "id": "unknown",
                "arn": flow_logs_client.get_unknown_arn(resource_type="vpc", region=region),
                "region": region,
            }
            report = Check_Report_AWS(metadata=metadata, resource=resource)
            if vpc is None:
                report.resource_id = resource["id"]
                report.resource_arn = resource["arn"]
                report.region = region
            report.status = verdict.status
            report.status_extended = verdict.status_extended
            report.resource_details = "Flow logs considered: " + (
                ", ".join(verdict.considered_flow_log_ids) or "none"
            )
            findings.append(report)
        return findings
