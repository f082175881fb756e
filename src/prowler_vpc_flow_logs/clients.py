"""boto3 clients per (service, region) from one session, made once and shared between threads."""

from __future__ import annotations

import threading
from collections.abc import Callable

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
