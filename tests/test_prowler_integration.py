"""prowler_integration: our findings keep their CIS mappings within ASFF limits; others are untouched."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from prowler.lib.check.compliance import update_checks_metadata_with_compliance
from prowler.lib.check.compliance_models import Compliance
from prowler.lib.check.models import CheckMetadata
from prowler.lib.outputs import finding as finding_module
from prowler.lib.outputs.asff.asff import ASFF

from prowler_vpc_flow_logs import CHECK_ID
from prowler_vpc_flow_logs import prowler_integration as integration
from tests.support import CIS_FIRST

pytestmark = pytest.mark.compat
OTHER_CHECK = "iam_password_policy_minimum_length_14"


def report(check_id: str) -> SimpleNamespace:
    return SimpleNamespace(check_metadata=SimpleNamespace(CheckID=check_id))


@pytest.fixture(scope="module")
def checks_metadata() -> dict:
    bulk = CheckMetadata.get_bulk("aws")
    return update_checks_metadata_with_compliance(
        Compliance.get_bulk("aws"), {c: bulk[c] for c in (CHECK_ID, OTHER_CHECK)}
    )


def unwrapped(monkeypatch) -> None:
    """Prowler's own get_check_compliance for this test; monkeypatch puts back what was there."""
    original = integration.prowlers_get_check_compliance()
    monkeypatch.setattr(finding_module, "get_check_compliance", original)


@pytest.fixture
def patched(monkeypatch):
    unwrapped(monkeypatch)
    assert integration.keep_cis_mappings_in_findings()
    yield finding_module.get_check_compliance


def test_prioritised_moves_cis_keys_first_and_keeps_everything():
    compliance = {
        "NIST-1": ["a"],
        "CIS-1.4": ["3.9"],
        "CIS-7.0": ["4.7"],
        "PCI-4.0": ["x"],
        "CIS-Controls-7.1": ["6.2", "12.5"],
    }
    ordered = integration.prioritised(
        compliance, {"CIS-Controls-8.1": ["8.2", "13.6"], "NIST-1": ["ignored"]}
    )
    assert list(ordered) == [
        "CIS-Controls-7.1",
        "CIS-Controls-8.1",
        "CIS-7.0",
        "CIS-1.4",
        "NIST-1",
        "PCI-4.0",
    ]
    assert ordered["NIST-1"] == ["a"]  # extra never overrides Prowler's data
    # versions compare numerically: 10.0 is newer than 6.0 and 4.0.1
    assert list(integration.prioritised({"CIS-4.0.1": [], "CIS-10.0": [], "CIS-6.0": []})) == [
        "CIS-10.0",
        "CIS-6.0",
        "CIS-4.0.1",
    ]


def test_cis_controls_v8_comes_from_prowlers_own_framework():
    assert integration.prowler_cis_controls_mappings() == {"CIS-Controls-8.1": ["8.2", "13.6"]}


def test_our_findings_carry_cis_first_within_asff_limits(patched, checks_metadata):
    compliance = patched(report(CHECK_ID), "aws", checks_metadata)
    plain = patched._prowler_vpc_flow_logs_original(report(CHECK_ID), "aws", checks_metadata)
    assert set(compliance) == set(plain) | {"CIS-Controls-8.1"}  # nothing lost, v8.1 added
    assert all(compliance[key] == ids for key, ids in plain.items())
    standards, requirements = ASFF.format_compliance(compliance)
    ids = [s["StandardsId"] for s in standards]
    assert ids[:10] == CIS_FIRST
    assert (
        ids[10:] == [key for key in plain if key not in ids[:10]][:10]
    )  # the rest: Prowler's order
    assert requirements[:2] == ["CIS-Controls-7.1 6.2 12.5", "CIS-Controls-8.1 8.2 13.6"]
    assert len(standards) <= 20 and len(requirements) <= 32
    assert all(len(s) <= 64 for s in ids + requirements)
    # Without us, Prowler's first 20 never include CIS Controls v7.1 (a plug-in framework loads last).
    assert "CIS-Controls-7.1" not in [s["StandardsId"] for s in ASFF.format_compliance(plain)[0]]


def test_other_checks_get_prowlers_result_object_untouched(patched, checks_metadata):
    original = patched._prowler_vpc_flow_logs_original
    sentinel = {"X": ["1"]}
    probe = lambda *args, **kwargs: sentinel  # noqa: E731
    wrapped = integration._wrap(probe)
    assert wrapped(report(OTHER_CHECK), "aws", {}) is sentinel
    assert patched(report(OTHER_CHECK), "aws", checks_metadata) == original(
        report(OTHER_CHECK), "aws", checks_metadata
    )
    assert list(patched(report(OTHER_CHECK), "aws", checks_metadata)) == list(
        original(report(OTHER_CHECK), "aws", checks_metadata)
    )


def test_install_is_idempotent(patched):
    assert integration.keep_cis_mappings_in_findings()
    assert (
        finding_module.get_check_compliance._prowler_vpc_flow_logs_original.__name__
        == "get_check_compliance"
    )
    assert not hasattr(
        finding_module.get_check_compliance._prowler_vpc_flow_logs_original,
        "_prowler_vpc_flow_logs_original",
    )


def test_degrades_with_a_warning_when_prowler_differs(monkeypatch, caplog):
    unwrapped(monkeypatch)
    monkeypatch.delattr(finding_module, "get_check_compliance")
    with caplog.at_level(logging.WARNING):
        assert integration.keep_cis_mappings_in_findings() is False
    assert "internals differ" in caplog.text and "nothing was changed" in caplog.text
    assert not hasattr(finding_module, "get_check_compliance")


def test_warns_when_the_asff_writer_no_longer_keeps_the_first_keys(monkeypatch, caplog):
    unwrapped(monkeypatch)
    monkeypatch.setattr(ASFF, "format_compliance", staticmethod(lambda compliance: ([], [])))
    with caplog.at_level(logging.WARNING):
        assert integration.keep_cis_mappings_in_findings()
    assert "no longer keeps the first compliance keys" in caplog.text


def test_a_failing_reorder_never_loses_the_finding(monkeypatch, caplog):
    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(integration, "prioritised", boom)
    wrapped = integration._wrap(lambda *args, **kwargs: {"CIS-Controls-7.1": ["6.2", "12.5"]})
    with caplog.at_level(logging.WARNING):
        assert wrapped(report(CHECK_ID), "aws", {}) == {"CIS-Controls-7.1": ["6.2", "12.5"]}
    assert "ordering failed" in caplog.text


def test_warns_once_when_our_framework_is_not_loaded(caplog):
    wrapped = integration._wrap(lambda *args, **kwargs: {"CIS-5.0": ["3.7"]})
    with caplog.at_level(logging.WARNING):
        assert list(wrapped(report(CHECK_ID), "aws", {}))[:2] == ["CIS-Controls-8.1", "CIS-5.0"]
        wrapped(report(CHECK_ID), "aws", {})
    assert caplog.text.count("is not loaded") == 1


def test_a_tally_without_a_manual_column_is_mended_where_tables_use_it(monkeypatch):
    """Prowler 5.32.0's compliance tables raise KeyError on a MANUAL finding (ours for a VPC that
    another account owns) and end the run: the hook leaves MANUAL out of the tally, as 5.32.1 does."""
    from prowler.lib.check import compliance_config_eval as evaluation
    from prowler.lib.outputs.compliance.cis import cis

    def strict(index: int, status: str, counts: dict, seen: dict) -> None:
        seen[index] = status
        counts[status] += 1  # no "MANUAL" key

    monkeypatch.setattr(evaluation, "accumulate_group_status", strict)
    monkeypatch.setattr(cis, "accumulate_group_status", strict)
    assert integration.count_manual_findings_in_tables()
    mended = cis.accumulate_group_status
    assert mended is evaluation.accumulate_group_status and mended is not strict
    counts, seen = {"PASS": 0, "FAIL": 0}, {}
    mended(1, "MANUAL", counts, seen)
    mended(2, "FAIL", counts, seen)
    assert counts == {"PASS": 0, "FAIL": 1} and seen == {2: "FAIL"}
    assert not integration.count_manual_findings_in_tables()  # once is enough


def test_this_prowlers_tables_take_manual_findings():
    from prowler.lib.check import compliance_config_eval as evaluation
    from prowler.lib.outputs.compliance.cis import cis

    current = evaluation.accumulate_group_status
    native = getattr(current, "_prowler_vpc_flow_logs_original", current)
    integration.count_manual_findings_in_tables()
    assert integration._tally_takes_manual(cis.accumulate_group_status)
    if integration._tally_takes_manual(native):  # a Prowler that needs no mending gets none
        assert cis.accumulate_group_status is native
