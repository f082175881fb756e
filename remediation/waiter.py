"""A botocore waiter until new flow logs are ACTIVE, and what to say about those that are not."""

from __future__ import annotations

import contextlib

from botocore.exceptions import BotoCoreError, ClientError, WaiterError
from botocore.waiter import WaiterModel, create_waiter_with_client

from prowler_vpc_flow_logs.aws_errors import error_message

DELAY = 5  # seconds between two looks at the new flow logs' status
DEFAULT_WAIT = 300  # seconds `fix` waits by default (--wait)


def attempts(seconds: int) -> int:
    """How many looks, DELAY apart, cover ``seconds`` (0: no wait)."""
    return -(-seconds // DELAY)


def _waiter_model(count: int, delay: int, max_attempts: int) -> WaiterModel:
    """Done when ``count`` flow logs are ACTIVE; failed as soon as one's delivery FAILED."""
    failed = {
        "state": "failure",
        "matcher": "pathAny",
        "argument": "FlowLogs[].DeliverLogsStatus",
        "expected": "FAILED",
    }
    active = {
        "state": "success",
        "matcher": "path",
        "argument": "length(FlowLogs[?FlowLogStatus=='ACTIVE'])",
        "expected": count,
    }
    waiter = {"operation": "DescribeFlowLogs", "delay": delay, "maxAttempts": max_attempts}
    return WaiterModel(
        {"version": 2, "waiters": {"FlowLogsActive": {**waiter, "acceptors": [failed, active]}}}
    )


def wait_active(
    ec2, flow_log_ids: list[str], delay: int = DELAY, max_attempts: int = 60
) -> dict[str, str]:
    """Wait (botocore waiter) until these flow logs are ACTIVE; returns id -> problem for the others."""
    if not flow_log_ids:
        return {}
    model = _waiter_model(len(flow_log_ids), delay, max_attempts)
    with contextlib.suppress(WaiterError):
        create_waiter_with_client("FlowLogsActive", model, ec2).wait(FlowLogIds=flow_log_ids)
        return {}
    try:
        listed = ec2.describe_flow_logs(FlowLogIds=flow_log_ids)["FlowLogs"]
    except (ClientError, BotoCoreError) as error:
        return {i: f"could not be read: {error_message(error)}" for i in flow_log_ids}
    found = {fl["FlowLogId"]: fl for fl in listed}
    problems: dict[str, str] = {}
    for flow_log_id in flow_log_ids:
        raw = found.get(flow_log_id)
        if raw is None:
            problems[flow_log_id] = "not found after creation"
        elif raw.get("DeliverLogsStatus") == "FAILED":
            message = raw.get("DeliverLogsErrorMessage") or "no message"
            problems[flow_log_id] = f"delivery FAILED ({message})"
        elif raw.get("FlowLogStatus") != "ACTIVE":
            problems[flow_log_id] = f"still {raw.get('FlowLogStatus')}"
    return problems
