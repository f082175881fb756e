"""Checks that run before any write: the settings themselves, then what they name in AWS."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from urllib.parse import unquote

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from prowler_vpc_flow_logs import record_format
from prowler_vpc_flow_logs.policy import meets

from .aws import error_code, error_message
from .errors import RemediationError
from .models import FixSettings, Plan

ROLE_ARN = re.compile(r"^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role/[\w+=,.@/-]{1,512}$")
BUCKET_ARN = re.compile(r"^arn:(aws|aws-cn|aws-us-gov):s3:::([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(/[^\s]*)?$")
LOG_GROUP = re.compile(r"^[\w#./-]{1,512}$")
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)
FLOW_LOGS_SERVICE = "vpc-flow-logs.amazonaws.com"
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "403", "Forbidden"}

ClientFor = Callable[[str, str], object]


def settings_from(values: dict) -> FixSettings:
    """FixSettings from flag-like values (``None`` means not given), checked for conflicts and form."""
    given = {k: v for k, v in values.items() if v is not None and v is not False}
    kind = given.get("log_destination_type")
    if kind is None:
        raise RemediationError("--log-destination-type is required (cloud-watch-logs or s3)")
    try:
        settings = FixSettings(**given)
    except ValidationError as error:
        first = error.errors()[0]
        field = "--" + "-".join(str(p) for p in first["loc"]).replace("_", "-")
        raise RemediationError(f"{field}: {first['msg']}") from error
    check_settings(settings)
    return settings


def _conflict(message: str) -> RemediationError:
    return RemediationError(f"conflicting flags: {message}")


def check_settings(s: FixSettings) -> None:
    """Flag combinations and the form of names and ARNs (no AWS call)."""
    if s.log_destination_type == "cloud-watch-logs":
        if s.log_destination:
            raise _conflict("--log-destination is for --log-destination-type s3; use --log-group-name with cloud-watch-logs")
        if not s.log_group_name or not s.deliver_logs_permission_arn:
            raise RemediationError(
                "--log-destination-type cloud-watch-logs needs --log-group-name and --deliver-logs-permission-arn"
            )
        if not LOG_GROUP.match(s.log_group_name):
            raise RemediationError(f"--log-group-name '{s.log_group_name}' is not a valid log group name")
        if not ROLE_ARN.match(s.deliver_logs_permission_arn):
            raise RemediationError(
                f"--deliver-logs-permission-arn '{s.deliver_logs_permission_arn}' is not an IAM role ARN "
                "(arn:aws:iam::ACCOUNT:role/NAME)"
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
            raise RemediationError("--log-destination-type s3 needs --log-destination arn:aws:s3:::BUCKET")
        if not BUCKET_ARN.match(s.log_destination):
            raise RemediationError(
                f"--log-destination '{s.log_destination}' is not an S3 bucket ARN (arn:aws:s3:::BUCKET[/PREFIX])"
            )
    if s.retention_in_days is not None:
        if not s.create_log_group:
            raise _conflict("--retention-in-days applies only with --create-log-group")
        if s.retention_in_days not in RETENTION_DAYS:
            raise RemediationError(
                f"--retention-in-days {s.retention_in_days} is not one CloudWatch Logs accepts "
                f"({', '.join(map(str, RETENTION_DAYS))})"
            )
    if s.log_format is not None:
        if not record_format.is_well_formed(s.log_format):
            raise RemediationError(
                f"--log-format '{s.log_format}' is not a flow log format (fields like '${{version}} ${{srcaddr}}' separated by spaces)"
            )
        unknown = record_format.unknown_fields(s.log_format)
        if unknown:
            raise RemediationError(
                f"--log-format names field(s) AWS does not know: {', '.join(unknown)} (known: "
                f"{', '.join(record_format.FIELDS)})"
            )


def check_traffic(settings: FixSettings, required: str) -> None:
    """The flow log we would create must make a failing VPC pass (the check's own rule)."""
    if not meets(required, [settings.traffic_type]):
        raise RemediationError(
            f"--traffic-type {settings.traffic_type} would not make a VPC pass: the policy requires "
            f"{required} traffic (use ALL{' or REJECT' if required == 'REJECT' else ''})"
        )


def bucket_name(arn: str) -> str:
    match = BUCKET_ARN.match(arn)
    if not match:
        raise RemediationError(f"'{arn}' is not an S3 bucket ARN")
    return match.group(2)


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

    Adds the regions whose log group must be created to ``plan.log_groups_to_create``.
    """
    s = plan.settings
    regions = sorted({fix.region for fix in plan.fixes})
    if not regions:
        return
    if s.log_destination_type == "s3":
        bucket = bucket_name(s.log_destination or "")
        try:
            client_for("s3", regions[0]).head_bucket(Bucket=bucket)
        except ClientError as error:
            code = error_code(error)
            if code in {"404", "NoSuchBucket", "NotFound"}:
                raise RemediationError(f"S3 bucket '{bucket}' does not exist") from error
            if code not in _DENIED and code not in {"301", "PermanentRedirect"}:
                plan.warnings.append(f"could not verify S3 bucket '{bucket}': {error_message(error)}")
        except BotoCoreError as error:
            plan.warnings.append(f"could not verify S3 bucket '{bucket}': {error}")
        return

    role_arn = s.deliver_logs_permission_arn or ""
    role_account = ROLE_ARN.match(role_arn).group(2)  # type: ignore[union-attr]
    if role_account != plan.account:
        raise RemediationError(
            f"role {role_arn} is in account {role_account}; flow logs in account {plan.account} "
            "need a delivery role of that account"
        )
    role_name = role_arn.split(":role/", 1)[1].rsplit("/", 1)[-1]
    try:
        role = client_for("iam", regions[0]).get_role(RoleName=role_name)["Role"]
    except ClientError as error:
        code = error_code(error)
        if code == "NoSuchEntity":
            raise RemediationError(f"delivery role {role_arn} does not exist") from error
        if code not in _DENIED:
            raise RemediationError(f"cannot read delivery role {role_arn}: {error_message(error)}") from error
        plan.warnings.append(f"could not read role {role_arn} (iam:GetRole denied); its trust policy was not verified")
    else:
        if not _trusts_flow_logs(role.get("AssumeRolePolicyDocument") or {}):
            raise RemediationError(
                f"delivery role {role_arn} does not trust {FLOW_LOGS_SERVICE} (its trust policy must "
                f"allow sts:AssumeRole to the service principal {FLOW_LOGS_SERVICE})"
            )

    missing: list[str] = []
    for region in regions:
        logs = client_for("logs", region)
        try:
            pages = logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=s.log_group_name)
            exists = any(g["logGroupName"] == s.log_group_name for page in pages for g in page["logGroups"])
        except (ClientError, BotoCoreError) as error:
            plan.warnings.append(f"could not check log group '{s.log_group_name}' in {region}: {error_message(error)}")
            continue
        if not exists:
            missing.append(region)
    if missing and not s.create_log_group:
        raise RemediationError(
            f"log group '{s.log_group_name}' does not exist in {', '.join(missing)}; create it or pass "
            "--create-log-group (with --retention-in-days N)"
        )
    plan.log_groups_to_create = missing
