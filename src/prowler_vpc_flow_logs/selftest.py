"""The self-test: one probe per reliance named in prowler_integration.py, against this interpreter's
Prowler (imported inside the probes); a probe raises ``ProbeFailed`` saying how it no longer holds."""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import inspect
import io
import logging
import sys
import tempfile
import types
from collections.abc import Callable
from pathlib import Path
from typing import Literal
from unittest import mock

from packaging.version import InvalidVersion, Version
from pydantic import BaseModel

from prowler_vpc_flow_logs import CHECK_FOLDER, CHECK_ID, OUR_CHECK_DIR, prowler_provider
from prowler_vpc_flow_logs import prowler_integration as integration

# The oldest supported and the newest tested Prowler: their one place (the Makefile reads this line;
# the constraints files pin them and pyproject.toml says REQUIREMENT: tests/test_selftest.py).
TESTED = (Version("5.32.0"), Version("5.46.0"))
REQUIREMENT = f"prowler>={TESTED[0]},<6"
WHY_FLOOR = (
    "older Prowler has no CIS Controls v8.1 framework, and lists only one package's "
    "entry-point frameworks per provider"
)
FRAMEWORK = "cis_controls_7.1_aws"


class ProbeFailed(Exception):
    """A reliance on Prowler's internals that no longer holds; the message says how."""


class _Reached(Exception):
    """Raised by a stand-in: the probe reached the Prowler internal it replaced."""


class Failure(BaseModel):
    reliance: str  # a name from prowler_integration.py's list, e.g. "FIXER"
    reason: str


class SelfTest(BaseModel):
    probed: list[str]
    failures: list[Failure]

    @property
    def passed(self) -> bool:
        return not self.failures

    def failed_text(self) -> str:
        return "; ".join(f"{f.reliance} ({f.reason})" for f in self.failures)


def standing(version: str) -> Literal["older", "tested", "newer"]:
    """Where a Prowler version stands against the tested range."""
    try:
        parsed = Version(version)
    except InvalidVersion:
        return "newer"  # not a release we know: only the self-test can tell
    if parsed < TESTED[0]:
        return "older"
    return "tested" if parsed <= TESTED[1] else "newer"


def tested_range() -> str:
    return f"{TESTED[0]} to {TESTED[1]}"


def _check_folder() -> None:
    import prowler
    from prowler.lib.check.utils import recover_checks_from_provider

    folder = (Path(prowler.__file__).parent / CHECK_FOLDER.removeprefix("prowler/")).resolve()
    found = {name: Path(p).resolve() for name, p in recover_checks_from_provider("aws", "vpc")}
    if not any(path.parent == folder.parent for path in found.values()):
        raise ProbeFailed(f"Prowler no longer finds its vpc checks in {folder.parent}")
    if (folder / f"{CHECK_ID}.py").is_file() and found.get(CHECK_ID) != folder:
        raise ProbeFailed(f"Prowler does not load {CHECK_ID} from {folder}")


def _our_metadata() -> str:
    return (OUR_CHECK_DIR / f"{CHECK_ID}.metadata.json").read_text(encoding="utf-8")


def _metadata() -> None:
    from prowler.lib.check.models import CheckMetadata

    try:
        CheckMetadata.parse_raw(_our_metadata())
    except Exception as error:
        raise ProbeFailed(f"Prowler's CheckMetadata rejects our metadata: {error}") from error


def _check_reports() -> None:
    from prowler.lib.check.models import Check_Report_AWS

    report = Check_Report_AWS(metadata=_our_metadata(), resource={})
    for field in ("resource_id", "resource_arn", "region", "status", "status_extended"):
        setattr(report, field, "probe")
    if report.check_metadata.CheckID != CHECK_ID:
        raise ProbeFailed("Check_Report_AWS(metadata, resource) does not keep our CheckID")


def _service() -> None:
    from prowler.lib.scan_filters.scan_filters import is_resource_filtered
    from prowler.providers.aws.lib.service.service import AWSService
    from prowler.providers.common.provider import Provider

    def takes(function: Callable, names: list[str]) -> bool:
        return list(inspect.signature(function).parameters)[1 : len(names) + 1] == names

    if not takes(AWSService.__init__, ["service", "provider"]):
        raise ProbeFailed("AWSService(service, provider) has another signature")
    if not takes(AWSService.__threading_call__, ["call", "iterator"]):
        raise ProbeFailed("AWSService.__threading_call__(call, iterator) is gone")
    for owner, name in ((AWSService, "get_unknown_arn"), (Provider, "get_global_provider")):
        if not callable(getattr(owner, name, None)):
            raise ProbeFailed(f"{owner.__name__}.{name} is gone")
    arn = "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-probe"
    if is_resource_filtered(arn, [arn]) is not True or is_resource_filtered(arn, ["x"]):
        raise ProbeFailed("is_resource_filtered(arn, audit_resources) answers otherwise")


def _finding_compliance() -> None:
    """A finding without ``compliance`` gets it from the module's ``get_check_compliance``."""
    from prowler.lib.outputs import finding

    original = integration.prowlers_get_check_compliance()
    if not callable(original) or next(iter(inspect.signature(original).parameters)) != "finding":
        raise ProbeFailed("prowler.lib.outputs.finding has no get_check_compliance(finding, ...)")
    report = mock.MagicMock(resource_tags=[])
    del report.compliance
    with mock.patch.object(finding, "get_check_compliance", side_effect=_Reached):
        with contextlib.suppress(_Reached):
            finding.Finding.generate_output(mock.MagicMock(type="aws"), report, None)
            raise ProbeFailed(
                "Finding.generate_output no longer looks up get_check_compliance in its module"
            )


def _asff_first_20() -> None:
    if not integration.asff_keeps_front_keys():
        raise ProbeFailed("ASFF.format_compliance no longer keeps a finding's first keys")


def _our_entry_point(group: str):
    for entry_point in importlib.metadata.entry_points(group=group):
        if entry_point.value.startswith("prowler_vpc_flow_logs"):
            return entry_point
    raise ProbeFailed(f"our {group} entry point is not registered (pip install the plug-in)")


def _compliance_entry_points() -> None:
    from prowler.config.config import get_available_compliance_frameworks
    from prowler.lib.check.compliance_models import Compliance, load_compliance_framework_universal

    _our_entry_point("prowler.compliance")
    if FRAMEWORK not in Compliance.get_bulk("aws"):
        raise ProbeFailed(f"Compliance.get_bulk('aws') does not load {FRAMEWORK}")
    if FRAMEWORK not in get_available_compliance_frameworks("aws"):
        raise ProbeFailed(f"prowler aws --list-compliance would not list {FRAMEWORK}")
    folder = Path(_our_entry_point("prowler.compliance.universal").load().__path__[0])
    universal = load_compliance_framework_universal(str(folder / f"{FRAMEWORK}.json"))
    if universal is None or not universal.supports_provider("aws"):
        raise ProbeFailed(f"Prowler's universal loader rejects our {FRAMEWORK}.json")


def _fixer() -> None:
    from prowler.lib.check.check import run_fixer

    module = f"prowler.providers.aws.services.vpc.{CHECK_ID}.{CHECK_ID}_fixer"
    calls: list[tuple[str, str]] = []
    stand_in = types.ModuleType(module)
    stand_in.fixer = lambda resource_id, region: calls.append((resource_id, region)) or True
    metadata = types.SimpleNamespace(CheckID=CHECK_ID, Provider="aws", ServiceName="vpc")
    finding = types.SimpleNamespace(
        check_metadata=metadata, status="FAIL", resource_id="vpc-probe", region="probe-1"
    )
    saved = sys.modules.get(module)
    sys.modules[module] = stand_in  # run_fixer imports the fixer module by this name
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            fixed = run_fixer([finding])
    finally:
        if saved is None:
            sys.modules.pop(module, None)
        else:
            sys.modules[module] = saved
    if calls != [("vpc-probe", "probe-1")] or fixed != 1:
        raise ProbeFailed("run_fixer does not call fixer(resource_id=, region=) per FAIL finding")


def _provider() -> None:
    """``build_provider`` runs with AwsProvider's __init__ stood in for (no AWS call) by one that
    takes what it takes (else TypeError: an argument it does not take)."""
    from botocore.config import Config
    from prowler.providers.aws.aws_provider import AwsProvider
    from prowler.providers.aws.config import get_default_session_config

    accepts = inspect.signature(AwsProvider.__init__)

    def stand_in(*args, **kwargs) -> None:
        accepts.bind(*args, **kwargs)

    with mock.patch.object(AwsProvider, "__init__", stand_in):
        prowler_provider.build_provider(["us-east-1"])
    if not isinstance(get_default_session_config(), Config):
        raise ProbeFailed("get_default_session_config() does not return a botocore Config")


def _config_file() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.yaml"
        path.write_text("aws:\n  vpc_flow_logs_required_traffic_type: ALL\n")
        loaded = prowler_provider.load_config_file(str(path))
    if loaded.get("vpc_flow_logs_required_traffic_type") != "ALL":
        raise ProbeFailed("load_and_validate_config_file drops our key from the aws section")


def _arn() -> None:
    arn = prowler_provider.parse_arn("arn:aws:logs:us-east-1:123456789012:log-group:probe")
    got = arn and (arn.partition, arn.region, arn.account_id, arn.resource_type)
    if got != ("aws", "us-east-1", "123456789012", "log-group"):
        raise ProbeFailed(f"Prowler's ARN model parses a log group ARN as {got}")


# Reliance name (prowler_integration.py) -> its probe.
PROBES: dict[str, Callable[[], None]] = {
    "CHECK_FOLDER": _check_folder,
    "METADATA": _metadata,
    "CHECK_REPORTS": _check_reports,
    "SERVICE": _service,
    "COMPLIANCE_ENTRY_POINTS": _compliance_entry_points,
    "FINDING_COMPLIANCE": _finding_compliance,
    "ASFF_FIRST_20": _asff_first_20,
    "FIXER": _fixer,
    "PROVIDER": _provider,
    "CONFIG_FILE": _config_file,
    "ARN": _arn,
}


@functools.lru_cache(maxsize=1)
def run() -> SelfTest:
    """Every probe against this interpreter's Prowler (cached: it does not change in a process;
    tests that break an internal call ``run.cache_clear()``), with Prowler's log lines hidden."""
    failures = []
    with prowler_provider.quiet_prowler(logging.CRITICAL + 1):
        for reliance, probe in PROBES.items():
            try:
                probe()
            except (Exception, SystemExit) as error:  # Prowler exits on some internal errors
                named = "" if isinstance(error, ProbeFailed) else f"{type(error).__name__}: "
                failures.append(Failure(reliance=reliance, reason=f"{named}{error}"))
    return SelfTest(probed=list(PROBES), failures=failures)
