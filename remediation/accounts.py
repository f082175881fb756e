"""The accounts a fix or backout works in, and how each is reached: with the caller's own
credentials, or through a role that Prowler's AwsProvider assumes (as ``prowler aws -R``)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

import botocore.loaders
import botocore.session
from botocore.exceptions import BotoCoreError, ClientError

from prowler_vpc_flow_logs.aws_errors import error_message
from prowler_vpc_flow_logs.errors import FAILED, UserError
from prowler_vpc_flow_logs.prowler_provider import build_provider, retrying_session

from .models import RoleSettings

ACCOUNT_ID = re.compile(r"^\d{12}$")
ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")


def share_service_models() -> None:
    """Parse each AWS service's model once per process, not once per account (about 1.5 s of CPU
    each): one loader per data path serves every session; the models are read only."""
    # Process-wide, because Prowler's AwsProvider makes the sessions: botocore has no public hook
    # for their loader (tests/test_botocore_reliances.py fails if this stops sharing it).
    if not hasattr(botocore.session.create_loader, "cache_info"):
        botocore.session.create_loader = functools.lru_cache(maxsize=None)(
            botocore.loaders.create_loader
        )


class Unreachable(Exception):
    """An account that could not be reached (its role not assumed, its credentials refused)."""


def check_role_settings(
    role_name: str | None, external_id: str | None, session_name: str
) -> RoleSettings | None:
    """``--role-name``, ``--external-id`` and ``--role-session-name``, checked for form."""
    if role_name is None:
        if external_id is not None:
            raise UserError("conflicting flags: --external-id applies only with --role-name")
        return None
    if not ROLE_NAME.match(role_name):
        raise UserError(
            f"--role-name '{role_name}' is not an IAM role name (1-64 of letters, digits, +=,.@_-)"
        )
    if not SESSION_NAME.match(session_name):
        raise UserError(
            f"--role-session-name '{session_name}' must be 2-64 of letters, digits, +=,.@_-"
        )
    return RoleSettings(
        role_name=role_name, external_id=external_id, role_session_name=session_name
    )


def check_account_ids(account_ids: Iterable[str]) -> list[str]:
    bad = [a for a in account_ids if not ACCOUNT_ID.match(a)]
    if bad:
        raise UserError(f"not an AWS account id: {', '.join(bad)} (expected 12 digits)")
    return sorted(set(account_ids))


class Reach:
    """The caller's identity, and a Prowler provider per account (the caller's own, or one that
    assumed the role there)."""

    def __init__(self, profile: str | None, role: RoleSettings | None) -> None:
        share_service_models()
        self.profile, self.role = profile, role
        self.session = retrying_session(profile)
        try:
            identity = self.session.client("sts").get_caller_identity()
        except (ClientError, BotoCoreError) as error:
            raise UserError(
                f"cannot use the AWS credentials: {error_message(error)}", FAILED
            ) from error
        self.account = identity["Account"]
        self.partition = identity["Arn"].split(":")[1]

    def organization_accounts(self) -> list[str]:
        """Every ACTIVE account of the caller's organization (organizations:ListAccounts)."""
        try:
            pages = self.session.client("organizations").get_paginator("list_accounts").paginate()
            return sorted(
                a["Id"] for page in pages for a in page["Accounts"] if a.get("Status") == "ACTIVE"
            )
        except (ClientError, BotoCoreError) as error:
            raise UserError(
                f"cannot list the organization's accounts: {error_message(error)}; the caller needs "
                "organizations:ListAccounts in the management (or a delegated administrator) account",
                FAILED,
            ) from error

    def choose(
        self,
        organization: bool,
        account_ids: list[str],
        findings_accounts: list[str],
        excluded: list[str] | None = None,
    ) -> list[str]:
        """The accounts to work in: the organization's, the named ones and the findings' (the
        caller's own when none is named), less the excluded. Others than the caller's need a role."""
        accounts = set(account_ids) | set(findings_accounts)
        if organization:
            accounts |= set(self.organization_accounts())
        accounts = (accounts or {self.account}) - set(excluded or [])
        if not accounts:
            raise UserError("--exclude-account leaves no account to work in")
        others = sorted(accounts - {self.account})
        if others and self.role is None:
            raise UserError(
                f"the findings are about account {others[0]}, but the credentials are for account "
                f"{self.account}: pass --role-name to fix it through a role in that account"
                if not account_ids and not organization
                else f"account(s) {', '.join(others)} are not the caller's ({self.account}): pass "
                "--role-name NAME to reach them through arn:aws:iam::ACCOUNT:role/NAME"
            )
        return sorted(accounts)

    def provider(self, account: str, regions: Iterable[str], audit_config: dict | None = None):
        """Prowler's AwsProvider acting in ``account``; Unreachable when it cannot be built."""
        role = None if account == self.account or self.role is None else self.role
        try:
            return build_provider(
                regions, self.profile, audit_config,
                role_arn=role.arn(account, self.partition) if role else None,
                external_id=role.external_id if role else None,
                role_session_name=role.role_session_name if role else None,
            )  # fmt: skip
        except UserError as error:
            raise Unreachable(str(error)) from error
