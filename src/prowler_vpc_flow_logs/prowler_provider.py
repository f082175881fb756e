"""The PROVIDER, CONFIG_FILE and ARN reliances of prowler_integration.py: Prowler's AwsProvider and
session config outside its CLI, its config-file reader and its ARN model (imported when used)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from prowler_vpc_flow_logs.aws_errors import error_message
from prowler_vpc_flow_logs.errors import UserError

_QUIET = threading.Lock()
_quiet: list[int] = []  # the root logger's level before the outermost quiet_prowler()


@contextmanager
def quiet_prowler(level: int = logging.CRITICAL) -> Iterator[None]:
    """Keep the root logger, where Prowler logs raw ``ClientError[…]`` lines, at ``level`` or above
    inside. Entered by a command, never by its worker threads; the outermost restores the level."""
    root = logging.getLogger()
    with _QUIET:
        _quiet.append(root.level)
        root.setLevel(max(level, root.level))
    try:
        yield
    finally:
        with _QUIET:
            before = _quiet.pop()
            if not _quiet:
                root.setLevel(before)


def retrying_session(profile: str | None = None):
    """A boto3 session whose clients retry as Prowler's do (standard mode, Prowler's attempts)."""
    import boto3
    import botocore.session
    from prowler.providers.aws.config import get_default_session_config

    try:  # boto3's Session has no public setter for the client config; botocore's has
        core = botocore.session.Session(profile=profile)
        core.set_default_client_config(get_default_session_config())
        return boto3.session.Session(botocore_session=core)
    except BotoCoreError as error:
        raise UserError(f"cannot use profile '{profile}': {error}") from error


def build_provider(
    regions: Iterable[str],
    profile: str | None = None,
    audit_config: dict | None = None,
    scan_unused_services: bool = False,
    resource_arn: list[str] | None = None,
    role_arn: str | None = None,
    external_id: str | None = None,
    role_session_name: str | None = None,
):
    """Prowler's AwsProvider for these regions, built as Prowler's CLI builds it. With
    ``role_arn`` Prowler assumes the role (as ``prowler aws -R``) and refreshes its credentials."""
    from prowler.exceptions.exceptions import ProwlerException
    from prowler.providers.aws.aws_provider import AwsProvider
    from prowler.providers.common.models import Audit_Metadata

    retrying_session(profile)  # an unknown profile is one line, as for the backout
    who = f"cannot assume role {role_arn}" if role_arn else "cannot use the AWS credentials"
    try:
        provider = AwsProvider(
            profile=profile,
            regions=set(regions),
            config_content=audit_config or {},
            scan_unused_services=scan_unused_services,
            resource_arn=resource_arn or [],
            role_arn=role_arn,
            external_id=external_id,
            role_session_name=role_session_name,
        )
    except (ClientError, BotoCoreError) as error:
        raise UserError(f"{who}: {error_message(error)}") from error
    except ProwlerException as error:
        original = getattr(error, "original_exception", None)
        raise UserError(f"{who}: {original or error}") from error
    except SystemExit as error:  # Prowler exits on credential problems
        raise UserError(f"{who} (see the message above)") from error
    provider.audit_metadata = Audit_Metadata(
        services_scanned=0, expected_checks=[], completed_checks=0, audit_progress=0
    )
    return provider


def load_config_file(path: str) -> dict:
    """The ``aws`` section of a Prowler config file, as Prowler reads it; UserError when the file
    is missing or not YAML (Prowler would log that and use an empty config)."""
    import yaml
    from prowler.config.config import load_and_validate_config_file

    if not Path(path).is_file():
        raise UserError(f"--config-file {path} does not exist")
    try:
        yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        first = str(error).splitlines()[0]
        raise UserError(f"--config-file {path} is not a YAML file: {first}") from error
    return load_and_validate_config_file("aws", path)


def parse_arn(arn: str):
    """Prowler's ARN model for ``arn`` (partition, service, region, account_id, resource_type),
    or None when it is not an ARN. Its ``resource`` is cut at the first "/" or ":", which
    mangles a log group named "/vpc/flows" or an S3 prefix: destinations.py reads names itself."""
    from prowler.providers.aws.lib.arn.models import ARN

    try:
        return ARN(arn)
    except Exception:
        return None
