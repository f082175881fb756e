"""Checks that run before any write: the settings themselves, then what they name in AWS."""

from __future__ import annotations

import json
import re
from urllib.parse import unquote

from botocore.exceptions import ClientError
from pydantic import ValidationError

from prowler_vpc_flow_logs import record_format
from prowler_vpc_flow_logs.aws_errors import (
    DENIED_CODES,
    NOT_FOUND_CODES,
    error_code,
    error_message,
)
from prowler_vpc_flow_logs.clients import ClientFor
from prowler_vpc_flow_logs.destinations import check_destination
from prowler_vpc_flow_logs.errors import UserError
from prowler_vpc_flow_logs.policy import meets
from prowler_vpc_flow_logs.prowler_integration import parse_arn

from .models import FixSettings, Plan

ROLE_ARN = re.compile(
    r"^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}|\{account\}):role/[\w+=,.@/-]{1,512}$"
)
BUCKET_ARN = re.compile(
    r"^arn:(aws|aws-cn|aws-us-gov):s3:::([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(/[^\s]*)?$"
)
LOG_GROUP = re.compile(r"^[\w#./-]{1,512}$")
RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
FLOW_LOGS_SERVICE = "vpc-flow-logs.amazonaws.com"


def settings_from(values: dict) -> FixSettings:
    """FixSettings from flag-like values (``None`` means not given), checked for conflicts and form."""
    given = {k: v for k, v in values.items() if v is not None and v is not False}
    kind = given.get("log_destination_type")
    if kind is None:
        raise UserError("--log-destination-type is required (cloud-watch-logs or s3)")
    try:
        settings = FixSettings(**given)
    except ValidationError as error:
        first = error.errors()[0]
        field = "--" + "-".join(str(p) for p in first["loc"]).replace("_", "-")
        raise UserError(f"{field}: {first['msg']}") from error
    check_settings(settings)
    return settings


def _conflict(message: str) -> UserError:
    return UserError(f"conflicting flags: {message}")


def check_settings(s: FixSettings) -> None:
    """Flag combinations and the form of names and ARNs (no AWS call)."""
    if s.log_destination_type == "cloud-watch-logs":
        if s.log_destination:
            raise _conflict(
                "--log-destination is for --log-destination-type s3; use --log-group-name with cloud-watch-logs"
            )
        if not s.log_group_name or not s.deliver_logs_permission_arn:
            raise UserError(
                "--log-destination-type cloud-watch-logs needs --log-group-name and --deliver-logs-permission-arn"
            )
        if not LOG_GROUP.match(s.log_group_name):
            raise UserError(f"--log-group-name '{s.log_group_name}' is not a valid log group name")
        if not ROLE_ARN.match(s.deliver_logs_permission_arn):
            raise UserError(
                f"--deliver-logs-permission-arn '{s.deliver_logs_permission_arn}' is not an IAM role ARN "
                "(arn:aws:iam::ACCOUNT:role/NAME, or arn:aws:iam::{account}:role/NAME for each account's own)"
            )
    else:
        extra = [
            flag
            for flag, value in (
                ("--log-group-name", s.log_group_name),
                ("--deliver-logs-permission-arn", s.deliver_logs_permission_arn),
                ("--create-log-group", s.create_log_group),
                ("--retention-in-days", s.retention_in_days),
            )
            if value
        ]
        if extra:
            raise _conflict(f"{', '.join(extra)} cannot be used with --log-destination-type s3")
        if not s.log_destination:
            raise UserError("--log-destination-type s3 needs --log-destination arn:aws:s3:::BUCKET")
        if not BUCKET_ARN.match(s.log_destination):
            raise UserError(
                f"--log-destination '{s.log_destination}' is not an S3 bucket ARN (arn:aws:s3:::BUCKET[/PREFIX])"
            )
    if s.retention_in_days is not None:
        if not s.create_log_group:
            raise _conflict("--retention-in-days applies only with --create-log-group")
        if s.retention_in_days not in RETENTION_DAYS:
            raise UserError(
                f"--retention-in-days {s.retention_in_days} is not one CloudWatch Logs accepts "
                f"({', '.join(map(str, RETENTION_DAYS))})"
            )
    if s.log_format is not None:
        if not record_format.is_well_formed(s.log_format):
            raise UserError(
                f"--log-format '{s.log_format}' is not a flow log format (fields like '${{version}} ${{srcaddr}}' separated by spaces)"
            )
        unknown = record_format.unknown_fields(s.log_format)
        if unknown:
            raise UserError(
                f"--log-format names field(s) AWS does not know: {', '.join(unknown)} (known: "
                f"{', '.join(record_format.FIELDS)})"
            )


def check_traffic(settings: FixSettings, required: str) -> None:
    """The flow log we would create must make a failing VPC pass (the check's own rule)."""
    if not meets(required, [settings.traffic_type]):
        raise UserError(
            f"--traffic-type {settings.traffic_type} would not make a VPC pass: the policy requires "
            f"{required} traffic (use ALL{' or REJECT' if required == 'REJECT' else ''})"
        )


def _trusts_flow_logs(document: dict | str) -> bool:
    if isinstance(document, str):  # URL-encoded JSON when botocore did not decode it
        document = json.loads(unquote(document))
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if not any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions):
            continue
        services = (statement.get("Principal") or {}).get("Service", [])
        services = [services] if isinstance(services, str) else services
        if FLOW_LOGS_SERVICE in services:
            return True
    return False


def check_prerequisites(plan: Plan, client_for: ClientFor) -> None:
    """Read what the settings name; raise on anything missing, note what could not be read.

    The destination is read with the check's own probe, so a look-up that fails (denied,
    throttled, S3's 403) is a warning here, as it is "could not be looked up" in a finding;
    CreateFlowLogs checks the destination itself. Adds the regions whose log group must be
    created to ``plan.log_groups_to_create``.
    """
    s = plan.settings
    regions = sorted({fix.region for fix in plan.fixes})
    if not regions:
        return
    if s.log_destination_type == "s3":
        bucket = s.destination(regions[0], plan.account)
        state = check_destination(bucket, client_for, plan.account)
        if state.status == "missing":
            raise UserError(f"S3 bucket '{bucket.name}' does not exist")
        if state.status == "error":
            plan.warnings.append(f"could not verify S3 bucket '{bucket.name}': {state.detail}")
        return
    _check_delivery_role(plan, client_for, regions[0])
    missing: list[str] = []
    for region in regions:
        group = s.destination(region, plan.account)
        state = check_destination(group, client_for, plan.account)
        if state.status == "missing":
            missing.append(region)
        elif state.status == "error":
            plan.warnings.append(
                f"could not check log group '{group.name}' in {region}: {state.detail}"
            )
    if missing and not s.create_log_group:
        raise UserError(
            f"log group '{s.log_group_name}' does not exist in {', '.join(missing)}; create it or pass "
            "--create-log-group (with --retention-in-days N)"
        )
    plan.log_groups_to_create = missing


def _check_delivery_role(plan: Plan, client_for: ClientFor, region: str) -> None:
    """The delivery role is in the flow logs' account, exists and trusts the flow logs service."""
    role_arn = plan.settings.deliver_logs_permission_arn or ""
    role = parse_arn(role_arn)
    if role is None or role.account_id != plan.account:
        account = role.account_id if role else "?"
        raise UserError(
            f"role {role_arn} is in account {account}; flow logs in account {plan.account} "
            "need a delivery role of that account"
        )
    role_name = role_arn.rsplit("/", 1)[-1]
    try:
        found = client_for("iam", region).get_role(RoleName=role_name)["Role"]
    except ClientError as error:
        code = error_code(error)
        if code in NOT_FOUND_CODES:
            raise UserError(f"delivery role {role_arn} does not exist") from error
        if code not in DENIED_CODES:
            raise UserError(
                f"cannot read delivery role {role_arn}: {error_message(error)}"
            ) from error
        plan.warnings.append(
            f"could not read role {role_arn} (iam:GetRole denied); its trust policy was not verified"
        )
        return
    if not _trusts_flow_logs(found.get("AssumeRolePolicyDocument") or {}):
        raise UserError(
            f"delivery role {role_arn} does not trust {FLOW_LOGS_SERVICE} (its trust policy must "
            f"allow sts:AssumeRole to the service principal {FLOW_LOGS_SERVICE})"
        )
