"""The service's module-level client, built once from Prowler's global provider (Prowler's convention)."""

from prowler.providers.common.provider import Provider

from prowler_vpc_flow_logs.service import FlowLogs

flow_logs_client = FlowLogs(Provider.get_global_provider())
