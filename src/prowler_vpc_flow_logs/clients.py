"""boto3 clients per (service, region) from one session, made once and shared between threads."""

from __future__ import annotations

import threading
from collections.abc import Callable

import boto3

ClientFor = Callable[[str, str], object]  # (service, region) -> boto3 client


class Clients:
    """Call as ``clients(service, region)``; the check's service and the remediation both use it."""

    def __init__(self, session) -> None:
        self.session = session
        self._cache: dict[tuple[str, str], object] = {}
        self._lock = threading.Lock()

    def __call__(self, service: str, region: str):
        with self._lock:
            key = (service, region)
            if key not in self._cache:
                self._cache[key] = self.session.client(service, region_name=region)
            return self._cache[key]


def assumed(client_for: ClientFor, role_arn: str, region: str, session_name: str) -> Clients:
    """Clients acting through ``role_arn`` (sts:AssumeRole with the caller's credentials), with
    the caller's retry settings."""
    credentials = client_for("sts", region).assume_role(
        RoleArn=role_arn, RoleSessionName=session_name
    )["Credentials"]
    caller = getattr(client_for, "session", None)
    session = boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )
    config = caller._session.get_default_client_config() if caller is not None else None
    if config is not None:  # botocore's session API has no public getter for this (retries)
        session._session.set_default_client_config(config)
    return Clients(session)
