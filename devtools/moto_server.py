"""A real moto server on 127.0.0.1 (a free port), run in this process so tests can reach its backends.

The `prowler` command runs as a subprocess and talks to it over HTTP through
``AWS_ENDPOINT_URL``; the test process can still set what moto cannot produce
through its API (a flow log that is not ACTIVE, a VPC shared from another account).
"""

from __future__ import annotations

import logging
import os
import socket
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import boto3
from moto.backends import get_backend
from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from devtools.aws_boundary import boundary

ACCOUNT_ID = DEFAULT_ACCOUNT_ID
LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


class MotoServer:
    """A started moto server and the environment that points boto3 and Prowler at it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self._server = ThreadedMotoServer(ip_address=LOOPBACK, port=self.port, verbose=False)

    def start(self) -> MotoServer:
        """Serve, answering as AWS does at the account boundary (devtools/aws_boundary.py)."""
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
        self._boundary = boundary()
        self._boundary.__enter__()
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()
        self._boundary.__exit__(None, None, None)

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=30).close()

    def env(self, **extra: str) -> dict[str, str]:
        """os.environ plus what sends every AWS call to this server (never to AWS)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PROWLER_AWS_"))}
        env.update(
            AWS_ENDPOINT_URL=self.url,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION="us-east-1",
            AWS_EC2_METADATA_DISABLED="true",
        )
        env.update(extra)
        return env

    def client(self, service: str, region: str = "us-east-1"):
        """A boto3 client of this server (dummy credentials); fits the seeders' client factory."""
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    @staticmethod
    def ec2_backend(region: str):
        """moto's EC2 backend for the default account in ``region``."""
        return get_backend("ec2")[ACCOUNT_ID][region]


@contextmanager
def moto_server() -> Iterator[MotoServer]:
    server = MotoServer().start()
    try:
        yield server
    finally:
        server.stop()
