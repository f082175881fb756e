"""Count every botocore API call (each page is a call) and time service construction.

Two uses:

* in-process, as a context manager (tests)::

      with CallCounter() as calls:
          FlowLogs(provider)
      calls.by_operation()

* around Prowler's CLI, in a subprocess (the benchmark)::

      python -m devtools.callprobe --out run.json --latency-ms 100 -- aws --checks ...

  It patches ``botocore.client.BaseClient._make_api_call``, optionally sleeps the same
  latency before every call, times the construction of every Prowler ``AWSService``
  subclass (that is where a check's service collects its data), then runs Prowler's
  entry point and writes a JSON report when Prowler exits, whatever the exit code.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.client import BaseClient

# Request parameters that only a second or later page carries.
CONTINUATION_KEYS = frozenset(
    {"NextToken", "nextToken", "Marker", "ContinuationToken", "StartingToken", "ExclusiveStartKey"}
)

CallKey = tuple[str, str, str, str]  # (phase, region, service, operation)


class CallCounter:
    """Patch botocore's client call path; count calls by phase, region, service and operation.

    ``phase`` is "collection" while an AWSService subclass is being constructed
    (see :meth:`time_services`), else "startup" before the first one and "after" later.
    """

    def __init__(self, latency_s: float = 0.0) -> None:
        self.latency_s = latency_s
        self.calls: Counter[CallKey] = Counter()
        self.continuations: Counter[CallKey] = Counter()
        self.services: list[dict[str, Any]] = []  # one per constructed AWSService subclass
        self.first_collection_call: float | None = None
        self.last_collection_call: float | None = None
        self._lock = threading.Lock()
        self._building = 0  # service constructions in progress
        self._seen_service = False
        self._original: Callable[..., Any] | None = None

    # -- botocore ------------------------------------------------------------
    def __enter__(self) -> CallCounter:
        self.install()
        return self

    def __exit__(self, *exc: object) -> None:
        self.uninstall()

    def install(self) -> None:
        original = BaseClient._make_api_call
        counter = self

        def _make_api_call(client: BaseClient, operation_name: str, api_params: dict) -> Any:
            counter.record(client, operation_name, api_params)
            if counter.latency_s:
                time.sleep(counter.latency_s)
            try:
                return original(client, operation_name, api_params)
            finally:
                counter.done()

        self._original = original
        BaseClient._make_api_call = _make_api_call  # type: ignore[method-assign]

    def uninstall(self) -> None:
        if self._original is not None:
            BaseClient._make_api_call = self._original  # type: ignore[method-assign]
            self._original = None

    def _phase(self) -> str:
        if self._building:
            return "collection"
        return "after" if self._seen_service else "startup"

    def record(self, client: BaseClient, operation: str, params: dict) -> None:
        key = (
            self._phase(),
            client.meta.region_name or "",
            client.meta.service_model.service_name,
            operation,
        )
        with self._lock:
            self.calls[key] += 1
            if CONTINUATION_KEYS & params.keys():
                self.continuations[key] += 1
            if key[0] == "collection" and self.first_collection_call is None:
                self.first_collection_call = time.perf_counter()

    def done(self) -> None:
        if self._building:
            with self._lock:
                self.last_collection_call = time.perf_counter()

    # -- Prowler services --------------------------------------------------------
    def time_services(self) -> None:
        """Time the construction of every AWSService subclass defined from now on."""
        from prowler.providers.aws.lib.service.service import AWSService

        counter = self

        def wrap(init: Callable[..., None], name: str) -> Callable[..., None]:
            def timed_init(service: Any, *args: Any, **kwargs: Any) -> None:
                if getattr(service, "_callprobe_timing", False):  # a subclass already times it
                    init(service, *args, **kwargs)
                    return
                service._callprobe_timing = True
                with counter._lock:
                    counter._building += 1
                    counter._seen_service = True
                start = time.perf_counter()
                try:
                    init(service, *args, **kwargs)
                finally:
                    end = time.perf_counter()
                    with counter._lock:
                        counter._building -= 1
                        counter.services.append(
                            {"class": name, "start": start, "end": end, "seconds": end - start}
                        )

            return timed_init

        def init_subclass(cls: type, **kwargs: Any) -> None:
            if "__init__" in cls.__dict__:
                cls.__init__ = wrap(
                    cls.__dict__["__init__"], f"{cls.__module__}.{cls.__qualname__}"
                )

        AWSService.__init_subclass__ = classmethod(init_subclass)  # type: ignore[method-assign,assignment]

    # -- results -------------------------------------------------------------------
    def by_operation(self, phase: str | None = None) -> Counter[tuple[str, str, str]]:
        """(region, service, operation) -> calls, for one phase or all."""
        result: Counter[tuple[str, str, str]] = Counter()
        for (ph, region, service, op), n in self.calls.items():
            if phase is None or ph == phase:
                result[(region, service, op)] += n
        return result

    def report(self) -> dict[str, Any]:
        rows = [
            {
                "phase": ph,
                "region": region,
                "service": service,
                "operation": op,
                "calls": n,
                "continuations": self.continuations[(ph, region, service, op)],
            }
            for (ph, region, service, op), n in sorted(self.calls.items())
        ]
        collection = None
        if self.services:
            start = min(s["start"] for s in self.services)
            end = max(s["end"] for s in self.services)
            collection = end - start
        calls_window = None
        if self.first_collection_call is not None and self.last_collection_call is not None:
            calls_window = self.last_collection_call - self.first_collection_call
        return {
            "latency_ms": round(self.latency_s * 1000, 3),
            "calls": rows,
            "services": [
                {"class": s["class"], "seconds": round(s["seconds"], 4)} for s in self.services
            ],
            "collection_s": collection,
            "first_to_last_call_s": calls_window,
        }


def _run(program: str, args: list[str]) -> int | str | None:
    """Run ``prowler ARGS`` or ``vpc-flow-logs ARGS`` in this process; its exit code."""
    if program == "vpc-flow-logs":
        from prowler_vpc_flow_logs.cli import main as vpc_flow_logs

        return vpc_flow_logs(args)
    from prowler.__main__ import prowler

    sys.argv = ["prowler", *args]
    result = prowler()
    return result if isinstance(result, int) else 0


def main(argv: list[str] | None = None) -> int:
    """Run ``prowler ARGS`` (or ``vpc-flow-logs ARGS``) in this process under a CallCounter and
    write its report."""
    parser = argparse.ArgumentParser(prog="python -m devtools.callprobe", description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="JSON report to write")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="sleep before every call")
    parser.add_argument("--program", choices=("prowler", "vpc-flow-logs"), default="prowler")
    parser.add_argument(
        "prowler_args", nargs=argparse.REMAINDER, help="-- then Prowler's arguments"
    )
    args = parser.parse_args(argv)
    prowler_args = args.prowler_args[1:] if args.prowler_args[:1] == ["--"] else args.prowler_args

    counter = CallCounter(latency_s=args.latency_ms / 1000)
    counter.time_services()
    counter.install()
    started = time.perf_counter()
    code: int | str | None = 0
    try:
        code = _run(args.program, prowler_args)
    except SystemExit as exit_:
        code = exit_.code
    finally:
        report = counter.report()
        report.update(
            argv=prowler_args,
            exit_code=code,
            in_process_s=time.perf_counter() - started,
            maxrss_kb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        )
        args.out.write_text(json.dumps(report, indent=1))
    return code if isinstance(code, int) else 1


if __name__ == "__main__":
    sys.exit(main())
