"""AWS access for remediation: regions, Prowler's AwsProvider outside Prowler's CLI, clients, a flow-log waiter."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import boto3
from botocore.exceptions import BotoCoreError, ClientError, WaiterError
from botocore.waiter import WaiterModel, create_waiter_with_client

from .errors import RemediationError

PARTITIONS = ("aws", "aws-cn", "aws-us-gov")


def known_regions() -> set[str]:
    """Every EC2 region botocore knows, in every partition (no AWS call)."""
    session = boto3.session.Session()
    return {r for p in PARTITIONS for r in session.get_available_regions("ec2", partition_name=p)}


def check_regions(regions: Iterable[str]) -> list[str]:
    """The regions, sorted, or a RemediationError naming the unknown ones."""
    regions = sorted(set(regions))
    unknown = [r for r in regions if r not in known_regions()]
    if unknown:
        raise RemediationError(
            f"unknown region(s): {', '.join(unknown)} (examples of valid names: us-east-1, eu-west-1)"
        )
    return regions


def error_code(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", "ClientError"))
    return error.__class__.__name__


def error_message(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Message", "")) or str(error)
    return str(error)


def build_provider(
    regions: Iterable[str],
    profile: str | None = None,
    audit_config: dict | None = None,
    scan_unused_services: bool = False,
    resource_arn: list[str] | None = None,
):
    """Prowler's AwsProvider for these regions, built as Prowler's CLI builds it (quietly)."""
    from prowler.exceptions.exceptions import ProwlerException
    from prowler.providers.aws.aws_provider import AwsProvider
    from prowler.providers.common.models import Audit_Metadata

    session_for(profile)  # an unknown profile is one line, as for the backout
    root = logging.getLogger()  # Prowler logs to the root logger
    level = root.level
    root.setLevel(logging.CRITICAL)
    try:
        provider = AwsProvider(
            profile=profile,
            regions=set(regions),
            config_content=audit_config or {},
            scan_unused_services=scan_unused_services,
            resource_arn=resource_arn or [],
        )
    except (ClientError, BotoCoreError) as error:
        raise RemediationError(f"cannot use the AWS credentials: {error_message(error)}") from error
    except ProwlerException as error:
        original = getattr(error, "original_exception", None)
        raise RemediationError(f"cannot use the AWS credentials: {original or error}") from error
    except SystemExit as error:  # Prowler exits on credential problems
        raise RemediationError("cannot use the AWS credentials (see the message above)") from error
    finally:
        root.setLevel(level)
    provider.audit_metadata = Audit_Metadata(
        services_scanned=0, expected_checks=[], completed_checks=0, audit_progress=0
    )
    return provider


def session_for(profile: str | None = None) -> boto3.session.Session:
    """A session whose clients retry as Prowler's do (standard mode, Prowler's attempts)."""
    from prowler.providers.aws.config import get_default_session_config

    try:
        session = boto3.session.Session(profile_name=profile)
    except BotoCoreError as error:
        raise RemediationError(f"cannot use profile '{profile}': {error}") from error
    session._session.set_default_client_config(get_default_session_config())
    return session


def _waiter_model(count: int, delay: int, max_attempts: int) -> WaiterModel:
    return WaiterModel(
        {
            "version": 2,
            "waiters": {
                "FlowLogsActive": {
                    "operation": "DescribeFlowLogs",
                    "delay": delay,
                    "maxAttempts": max_attempts,
                    "acceptors": [
                        {
                            "state": "failure",
                            "matcher": "pathAny",
                            "argument": "FlowLogs[].DeliverLogsStatus",
                            "expected": "FAILED",
                        },
                        {
                            "state": "success",
                            "matcher": "path",
                            "argument": "length(FlowLogs[?FlowLogStatus=='ACTIVE'])",
                            "expected": count,
                        },
                    ],
                }
            },
        }
    )


def wait_active(
    ec2, flow_log_ids: list[str], delay: int = 5, max_attempts: int = 60
) -> dict[str, str]:
    """Wait (botocore waiter) until these flow logs are ACTIVE; returns id -> problem for the others."""
    if not flow_log_ids:
        return {}
    waiter = create_waiter_with_client(
        "FlowLogsActive", _waiter_model(len(flow_log_ids), delay, max_attempts), ec2
    )
    try:
        waiter.wait(FlowLogIds=flow_log_ids)
        return {}
    except WaiterError:
        pass
    problems: dict[str, str] = {}
    try:
        found = {
            fl["FlowLogId"]: fl
            for fl in ec2.describe_flow_logs(FlowLogIds=flow_log_ids)["FlowLogs"]
        }
    except (ClientError, BotoCoreError) as error:
        return {i: f"could not be read: {error_message(error)}" for i in flow_log_ids}
    for flow_log_id in flow_log_ids:
        raw = found.get(flow_log_id)
        if raw is None:
            problems[flow_log_id] = "not found after creation"
        elif raw.get("DeliverLogsStatus") == "FAILED":
            problems[flow_log_id] = (
                f"delivery FAILED ({raw.get('DeliverLogsErrorMessage') or 'no message'})"
            )
        elif raw.get("FlowLogStatus") != "ACTIVE":
            problems[flow_log_id] = f"still {raw.get('FlowLogStatus')}"
    return problems
