"""The self-test that replaces the version gate: it passes on this Prowler, and each probe fails,
naming its reliance, when that one internal of Prowler is taken away. Also: the declared range."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from prowler.config import config as prowler_config
from prowler.lib.check import check as prowler_check
from prowler.lib.check import compliance_models, models
from prowler.lib.check import utils as check_utils
from prowler.lib.outputs import finding as finding_module
from prowler.lib.outputs.asff.asff import ASFF
from prowler.providers.aws import aws_provider
from prowler.providers.aws.lib.arn import models as arn_models
from prowler.providers.aws.lib.service import service as aws_service

from prowler_vpc_flow_logs import CHECK_ID, prowler_integration, selftest

pytestmark = pytest.mark.compat
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def fresh_self_test():
    """run() is cached per process; a test that breaks an internal needs its own run."""
    selftest.run.cache_clear()
    yield selftest.run
    selftest.run.cache_clear()


def test_declared_range_admits_every_5x_from_the_floor_and_nothing_below():
    dependencies = re.search(
        r"^dependencies = \[(.*)\]$", (REPO / "pyproject.toml").read_text(), re.M
    )
    (prowler,) = [Requirement(r) for r in re.findall(r'"(prowler[^"]*)"', dependencies[1])]
    assert prowler == Requirement(selftest.REQUIREMENT)
    for version in ("5.32.0", "5.46.0", "5.47.0", "5.60.1", "5.99.0"):
        assert prowler.specifier.contains(version), version
    for version in ("5.31.1", "5.31.0", "5.21.0", "4.6.0", "6.0.0"):
        assert not prowler.specifier.contains(version), version
    assert min(selftest.TESTED) == selftest.TESTED[0] and f">={selftest.TESTED[0]}" in str(
        prowler.specifier
    )


def test_ci_runs_the_tested_ends():
    """The tested range is what CI installs: the newest in constraints.txt, the oldest in its own."""
    newest = re.search(r"^prowler==(.+)$", (REPO / "constraints.txt").read_text(), re.M)
    oldest_file = (
        REPO / f"constraints-prowler-{selftest.TESTED[0].major}.{selftest.TESTED[0].minor}.txt"
    )
    oldest = re.search(r"^prowler==(.+)$", oldest_file.read_text(), re.M)
    assert (oldest[1], newest[1]) == tuple(str(v) for v in selftest.TESTED)
    names = ("OLDEST", "PROWLER_VERSION")  # what the Makefile installs, as make reads it
    printed = subprocess.run(
        ["make", "-s", "--no-print-directory", "--eval", "print-%: ; @echo $($*)"]
        + [f"print-{name}" for name in names],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    pinned = dict(zip(names, printed, strict=True))
    assert pinned == {"OLDEST": str(selftest.TESTED[0]), "PROWLER_VERSION": str(selftest.TESTED[1])}


@pytest.mark.parametrize(
    "version, expected",
    [
        ("5.31.1", "older"),
        ("5.32.0rc1", "older"),
        ("5.32.0", "tested"),
        ("5.40.0", "tested"),
        ("5.46.0", "tested"),
        ("5.46.1", "newer"),
        ("5.60.1", "newer"),
    ],
)
def test_standing(version, expected):
    assert selftest.standing(version) == expected


def test_self_test_passes_on_this_prowler_and_probes_every_named_reliance(fresh_self_test):
    result = fresh_self_test()
    assert result.passed, result.failed_text()
    assert result.probed == list(selftest.PROBES) and len(result.probed) == 11
    for reliance in result.probed:  # each probe is a reliance named in prowler_integration.py
        assert f"\n- {reliance}: " in prowler_integration.__doc__, reliance


def _hide_our_entry_points(monkeypatch):
    every = importlib.metadata.entry_points
    monkeypatch.setattr(
        importlib.metadata,
        "entry_points",
        lambda **kw: importlib.metadata.EntryPoints(
            ep for ep in every(**kw) if not ep.value.startswith("prowler_vpc_flow_logs")
        ),
    )


def _reversed_asff(monkeypatch):
    original = ASFF.format_compliance
    keep_last = staticmethod(lambda c: original(dict(reversed(list(c.items())))))
    monkeypatch.setattr(ASFF, "format_compliance", keep_last)


def _fixer_by_arn(monkeypatch):
    def run_fixer(findings: list) -> int:  # a Prowler whose fixer gets only the ARN
        return 0

    monkeypatch.setattr(prowler_check, "run_fixer", run_fixer)


def _provider_without_config_content(monkeypatch):
    def __init__(self, profile=None, regions=None, scan_unused_services=False, resource_arn=None):
        pass

    monkeypatch.setattr(aws_provider.AwsProvider, "__init__", __init__)


def _stricter_metadata(monkeypatch):
    def parse_raw(*args, **kwargs):
        raise ValueError("CheckTitle must not start with 'Ensure'")

    monkeypatch.setattr(models.CheckMetadata, "parse_raw", parse_raw)


BREAK = {
    "CHECK_FOLDER": lambda mp: mp.setattr(
        check_utils, "recover_checks_from_provider", lambda *a: []
    ),
    "METADATA": _stricter_metadata,
    "CHECK_REPORTS": lambda mp: mp.delattr(models, "Check_Report_AWS"),
    "SERVICE": lambda mp: mp.delattr(aws_service.AWSService, "__threading_call__"),
    "COMPLIANCE_ENTRY_POINTS": _hide_our_entry_points,
    "FINDING_COMPLIANCE": lambda mp: mp.delattr(finding_module, "get_check_compliance"),
    "ASFF_FIRST_20": _reversed_asff,
    "FIXER": _fixer_by_arn,
    "PROVIDER": _provider_without_config_content,
    "CONFIG_FILE": lambda mp: mp.setattr(
        prowler_config, "load_and_validate_config_file", lambda provider, path: {}
    ),
    "ARN": lambda mp: mp.setattr(arn_models, "ARN", None),
}
# Check_Report_AWS parses the metadata too, so stricter validators fail both.
ALSO_FAILS = {"METADATA": {"CHECK_REPORTS"}}


@pytest.mark.parametrize("reliance", sorted(BREAK))
def test_each_probe_fails_naming_its_reliance_when_that_internal_is_gone(
    reliance, monkeypatch, fresh_self_test
):
    assert set(BREAK) == set(selftest.PROBES)
    BREAK[reliance](monkeypatch)
    result = fresh_self_test()
    assert not result.passed
    assert {f.reliance for f in result.failures} == {reliance} | ALSO_FAILS.get(reliance, set())
    assert all(f.reason for f in result.failures)
    assert f"{reliance} (" in result.failed_text()


def test_compliance_probe_names_a_framework_prowler_does_not_load(monkeypatch, fresh_self_test):
    monkeypatch.setattr(compliance_models.Compliance, "get_bulk", staticmethod(lambda p: {}))
    (failure,) = fresh_self_test().failures
    assert failure.reliance == "COMPLIANCE_ENTRY_POINTS"
    assert "Compliance.get_bulk('aws') does not load cis_controls_7.1_aws" in failure.reason


def test_the_fixer_probe_leaves_prowlers_modules_as_they_were(fresh_self_test):
    name = f"prowler.providers.aws.services.vpc.{CHECK_ID}.{CHECK_ID}_fixer"
    before = sys.modules.get(name)
    assert fresh_self_test().passed
    assert sys.modules.get(name) is before
