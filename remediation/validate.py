"""Checks that run before any write: the settings themselves, then what they name in AWS."""

from __future__ import annotations

import json
import re
from urllib.parse import unquote

from botocore.exceptions import ClientError
from pydantic import ValidationError

from prowler_vpc_flow_logs import knobs, record_format
from prowler_vpc_flow_logs.aws_errors import (
    DENIED_CODES,
    NOT_FOUND_CODES,
    error_code,
    error_message,
)
from prowler_vpc_flow_logs.clients import ClientFor
from prowler_vpc_flow_logs.config import ROLE_ARN
from prowler_vpc_flow_logs.destinations import check_destination, s3_key_prefix
from prowler_vpc_flow_logs.errors import UserError
from prowler_vpc_flow_logs.facts import Destination, DestinationState, FlowLog
from prowler_vpc_flow_logs.policy import Policy, assess, meets
from prowler_vpc_flow_logs.prowler_provider import parse_arn

from .models import ACCOUNT_PLACEHOLDER, FixSettings, Plan

BUCKET_ARN = re.compile(
    r"^arn:(aws|aws-cn|aws-us-gov):s3:::([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(/[^\s]*)?$"
)
LOG_GROUP = re.compile(r"^[\w#./-]{1,512}$")
KMS_KEY_ARN = re.compile(r"^arn:(aws|aws-cn|aws-us-gov):kms:[a-z0-9-]+:\d{12}:key/[\w-]+$")
# The values aws logs put-retention-policy --retention-in-days accepts.
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)  # fmt: skip
FLOW_LOGS_SERVICE = "vpc-flow-logs.amazonaws.com"


def flag(field: str) -> str:
    """The CLI flag of a FixSettings field, as the AWS CLI spells it: --log-group-name."""
    return "--" + field.replace("_", "-")


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
        field = flag("-".join(str(p) for p in first["loc"]))
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
        role = s.deliver_logs_permission_arn.replace(ACCOUNT_PLACEHOLDER, "0" * 12)
        if not re.match(ROLE_ARN, role):
            raise UserError(
                f"--deliver-logs-permission-arn '{s.deliver_logs_permission_arn}' is not an IAM role ARN "
                "(arn:aws:iam::ACCOUNT:role/NAME, or arn:aws:iam::{account}:role/NAME for each account's own)"
            )
    else:
        cloud_watch_only = ("log_group_name", "deliver_logs_permission_arn", "create_log_group")
        given = [f for f in (*cloud_watch_only, "retention_in_days", "kms_key_id") if getattr(s, f)]
        extra = [flag(f) for f in given]
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
    if s.kms_key_id is not None:
        if not s.create_log_group:
            raise _conflict("--kms-key-id applies only with --create-log-group")
        if not KMS_KEY_ARN.match(s.kms_key_id):
            raise UserError(
                f"--kms-key-id '{s.kms_key_id}' is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)"
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


def settings_for(settings: FixSettings, policy: Policy) -> FixSettings:
    """The settings with what the config's knobs require filled in where a flag was not given;
    a UserError (nothing written) where a given flag would create a flow log that fails them."""
    update: dict = {}
    refuse = "would not satisfy the Prowler config file"
    interval = settings.max_aggregation_interval
    if policy.max_aggregation_interval is not None:
        if interval is None:
            update["max_aggregation_interval"] = policy.max_aggregation_interval
        elif interval > policy.max_aggregation_interval:
            raise UserError(
                f"--max-aggregation-interval {interval} {refuse}: {knobs.MAX_INTERVAL_KEY} is "
                f"{policy.max_aggregation_interval}"
            )
    if policy.required_fields and settings.log_format is not None:
        lacking = knobs.fields_problem(settings.log_format, policy.required_fields)
        if lacking:
            raise UserError(f"--log-format {refuse}: {lacking}")
    elif policy.required_fields:
        missing = [f for f in policy.required_fields if f not in record_format.DEFAULT_FIELDS]
        if missing:  # AWS's default format, plus the fields it lacks
            fields = record_format.DEFAULT_FIELDS + tuple(missing)
            update["log_format"] = " ".join(f"${{{name}}}" for name in fields)
    minimum, days = policy.min_retention_days, settings.retention_in_days
    if minimum is not None and settings.create_log_group:
        if days is None and minimum != knobs.NEVER_EXPIRE:  # the next value CloudWatch accepts
            update["retention_in_days"] = next((d for d in RETENTION_DAYS if d >= minimum), None)
        elif days is not None and knobs.too_short(days, minimum):
            raise UserError(
                f"--retention-in-days {days} {refuse}: {knobs.MIN_RETENTION_KEY} requires "
                f"{knobs.required_retention(minimum)}"
            )
    if policy.require_kms and settings.create_log_group and not settings.kms_key_id:
        raise UserError(
            f"--create-log-group without --kms-key-id {refuse}: {knobs.REQUIRE_KMS_KEY} is true; "
            "pass --kms-key-id KEY_ARN for the log groups it creates"
        )
    return settings.model_copy(update=update)


def _new_flow_log(plan: Plan, region: str) -> FlowLog:
    """The flow log the plan's settings would create in ``region`` (to judge it beforehand)."""
    s = plan.settings
    raw = {"LogDestinationType": s.log_destination_type, "LogDestination": s.log_destination}
    return FlowLog(
        id="the new flow log", resource_id="-", resource_type="VPC", traffic_type=s.traffic_type,
        destination=s.destination(region, plan.account), log_format=s.log_format,
        max_aggregation_interval=s.max_aggregation_interval,
        s3_key_prefix=s3_key_prefix(raw, region, plan.account),
    )  # fmt: skip


def _refuse_destinations_not_allowed(plan: Plan, policy: Policy | None, regions: list[str]) -> None:
    """A destination outside vpc_flow_logs_allowed_destinations is refused before any read."""
    allowed = policy.allowed_destinations if policy else None
    for region in regions:
        problem = knobs.allowed_problem(_new_flow_log(plan, region), allowed)
        if problem:
            raise UserError(
                f"the new flow logs would not satisfy the Prowler config file: each {problem}; "
                "choose an allowed destination"
            )


def _refuse_knob_misses(
    plan: Plan,
    policy: Policy | None,
    destination: Destination,
    state: DestinationState,
    regions: list[str],
) -> None:
    """Refuse a destination on which a flow log created with the plan's settings (in these
    regions) would not count under the knobs, judged by the check's own policy; reads that
    failed become warnings."""
    if policy is None or state.status != "exists":
        return
    problems: list[str] = []
    for region in regions:
        new = _new_flow_log(plan, region)
        found = assess(new, {destination: state}, policy)
        for unknown in found.unknown:
            warning = f"a new flow log {unknown}; it may not count under the Prowler config file"
            plan.warnings += [] if warning in plan.warnings else [warning]
        problems += [p for p in found.problems if p not in found.unknown and p not in problems]
    if problems:
        raise UserError(
            f"{destination.describe()} would not satisfy the Prowler config file: "
            f"{'; '.join(problems)}; choose another destination, or change it first"
        )


def _listed(value) -> list:
    """A policy element that may be one value or a list of them, as a list."""
    return [value] if isinstance(value, (str, dict)) else list(value or [])


def _trusts_flow_logs(document: dict | str) -> bool:
    if isinstance(document, str):  # URL-encoded JSON when botocore did not decode it
        document = json.loads(unquote(document))
    return any(
        statement.get("Effect") == "Allow"
        and any(a in ("sts:AssumeRole", "sts:*", "*") for a in _listed(statement.get("Action")))
        and FLOW_LOGS_SERVICE in _listed((statement.get("Principal") or {}).get("Service"))
        for statement in _listed(document.get("Statement"))
    )


def check_prerequisites(plan: Plan, client_for: ClientFor, policy: Policy | None = None) -> None:
    """Read what the settings name; raise on anything missing, note what could not be read.

    The destination is read with the check's own probe, so a look-up that fails (denied,
    throttled, S3's 403) is a warning here, as it is "could not be looked up" in a finding;
    CreateFlowLogs checks the destination itself. Adds the regions whose log group must be
    created to ``plan.log_groups_to_create``. With ``policy`` (the scan's, with its knobs), an
    existing destination on which the new flow logs would not count is refused.
    """
    s = plan.settings
    regions = sorted({fix.region for fix in plan.fixes})
    if not regions:
        return
    _refuse_destinations_not_allowed(plan, policy, regions)
    if s.log_destination_type == "s3":
        bucket = s.destination(regions[0], plan.account)
        reads = policy.s3_reads() if policy else frozenset()
        roles = policy.destination_roles if policy else ()
        state = check_destination(bucket, client_for, plan.account, reads, roles)
        if state.status == "missing":
            raise UserError(f"S3 bucket '{bucket.name}' does not exist")
        if state.status == "error":
            plan.warnings.append(f"could not verify S3 bucket '{bucket.name}': {state.detail}")
        if state.status == "forbidden":  # a log archive: the check judges it by the delivery
            plan.warnings.append(
                f"S3 bucket '{bucket.name}' is another account's and answers this account's "
                "reads with 403 (a log archive?): CreateFlowLogs says, per VPC, if its policy does "
                "not let delivery.logs.amazonaws.com write, and the check judges its flow logs by "
                "their delivery"
            )
        _refuse_knob_misses(plan, policy, bucket, state, regions)
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
        else:
            _refuse_knob_misses(plan, policy, group, state, [region])
    if missing and not s.create_log_group:
        raise UserError(
            f"log group '{s.log_group_name}' does not exist in {', '.join(missing)}; create it or pass "
            "--create-log-group (with --retention-in-days N)"
        )
    _refuse_key_of_another_region(s.kms_key_id, missing)
    plan.log_groups_to_create = missing


def _refuse_key_of_another_region(kms_key_id: str | None, regions: list[str]) -> None:
    """CloudWatch Logs encrypts a log group only with a KMS key of the log group's own region
    (KMS keys are regional): one --kms-key-id serves one region."""
    key_region = kms_key_id.split(":")[3] if kms_key_id else None
    elsewhere = [region for region in regions if key_region and region != key_region]
    if elsewhere:
        raise UserError(
            f"--kms-key-id {kms_key_id} is a key of {key_region}, but log group(s) would be created "
            f"in {', '.join(elsewhere)}: a log group can use only a KMS key of its own region; fix "
            "each region in a run of its own (--region) with a key of that region"
        )


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
