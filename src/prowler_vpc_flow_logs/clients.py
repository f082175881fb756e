"""boto3 clients per (service, region) from one session, made once and shared between threads."""

from __future__ import annotations

import threading
from collections.abc import Callable

import boto3
from botocore.config import Config

ClientFor = Callable[[str, str], object]  # (service, region) -> boto3 client
# The most ids a flow-log call takes (CreateFlowLogs' VPCs, Describe/DeleteFlowLogs' flow logs),
# and the largest page of DescribeVpcs, DescribeFlowLogs and DescribeNetworkInterfaces.
MAX_IDS = 1000


class Clients:
    """Call as ``clients(service, region)``; the check's service and the remediation both use it.
    ``config`` (botocore's) is given to every client."""

    def __init__(self, session, config: Config | None = None) -> None:
        self.session, self.config = session, config
        self._cache: dict[tuple[str, str], object] = {}
        self._lock = threading.Lock()

    def __call__(self, service: str, region: str):
        with self._lock:
            key = (service, region)
            if key not in self._cache:
                self._cache[key] = self.session.client(
                    service, region_name=region, config=self.config
                )
            return self._cache[key]


def assumed(client_for: ClientFor, role_arn: str, region: str, session_name: str) -> Clients:
    """Clients acting through ``role_arn`` (sts:AssumeRole with the caller's credentials), with
    the caller's retry settings."""
    sts = client_for("sts", region)
    credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name)["Credentials"]
    session = boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )
    return Clients(session, Config(retries=sts.meta.config.retries))
