"""The CIS Controls v7.1 framework files: valid for Prowler's own models, consistent, discoverable."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from prowler.lib.check.compliance import update_checks_metadata_with_compliance
from prowler.lib.check.compliance_models import (
    Compliance,
    Compliance_Requirement,
    ComplianceFramework,
    Generic_Compliance_Requirement_Attribute,
    get_bulk_compliance_frameworks_universal,
    load_compliance_framework,
    load_compliance_framework_universal,
)
from prowler.lib.check.models import CheckMetadata

from prowler_vpc_flow_logs import CHECK_ID
from prowler_vpc_flow_logs.prowler_integration import prowlers_get_check_compliance

pytestmark = pytest.mark.compat
METADATA = Path(__file__).resolve().parent.parent / "metadata"
NAME = "cis_controls_7.1_aws"
LEGACY = METADATA / f"{NAME}.json"
UNIVERSAL = METADATA / "universal" / f"{NAME}.json"
EXPECTED = {
    "6.2": (
        "Activate audit logging",
        "6. Maintenance, Monitoring and Analysis of Audit Logs",
        ["IG1", "IG2", "IG3"],
    ),
    "12.5": (
        "Configure Monitoring Systems to Record Network Packets",
        "12. Boundary Defense",
        ["IG2", "IG3"],
    ),
}


def test_legacy_file_is_valid_for_prowler_and_maps_our_check():
    framework = Compliance.parse_file(LEGACY)  # raises on any schema error
    assert load_compliance_framework(str(LEGACY), fatal=False) is not None
    assert (framework.Framework, framework.Version, framework.Provider) == (
        "CIS-Controls",
        "7.1",
        "AWS",
    )
    assert [r.Id for r in framework.Requirements] == list(EXPECTED)
    for requirement in framework.Requirements:
        title, section, groups = EXPECTED[requirement.Id]
        assert isinstance(requirement, Compliance_Requirement)
        assert requirement.Name == title and requirement.Checks == [CHECK_ID]
        (attribute,) = requirement.Attributes
        assert isinstance(attribute, Generic_Compliance_Requirement_Attribute)
        assert attribute.Section == section and attribute.SubGroup == ", ".join(groups)


def test_universal_twin_is_valid_and_says_the_same():
    data = json.loads(UNIVERSAL.read_text())
    framework = ComplianceFramework(**data)  # raises with Prowler's own attribute validation
    assert load_compliance_framework_universal(str(UNIVERSAL)) is not None
    assert framework.outputs.table_config.group_by == "Section"
    legacy = Compliance.parse_file(LEGACY)
    assert (framework.framework, framework.version, framework.name, framework.provider) == (
        legacy.Framework,
        legacy.Version,
        legacy.Name,
        legacy.Provider,
    )
    for ours, theirs in zip(framework.requirements, legacy.Requirements, strict=True):
        assert (ours.id, ours.name, ours.description) == (
            theirs.Id,
            theirs.Name,
            theirs.Description,
        )
        assert ours.checks == {"aws": theirs.Checks}
        assert ours.attributes["Section"] == theirs.Attributes[0].Section
        assert ours.attributes["ImplementationGroups"] == EXPECTED[ours.id][2]


@pytest.mark.parametrize("path", [LEGACY, UNIVERSAL])
def test_a_broken_file_would_fail_here(path, tmp_path):
    """The validation above is real: a typo in an attribute or a missing field is rejected."""
    data = json.loads(path.read_text())
    if "Requirements" in data:
        del data["Requirements"][0]["Checks"]
        broken = tmp_path / "legacy.json"
        broken.write_text(json.dumps(data))
        assert load_compliance_framework(str(broken), fatal=False) is None
    else:
        data["requirements"][0]["attributes"]["Sectoin"] = "typo"
        with pytest.raises(ValueError):
            ComplianceFramework(**data)


def test_installed_plugin_registers_both_forms_and_fills_finding_compliance():
    """After `pip install .`: Prowler's loaders find the framework and our check's findings carry it."""
    bulk = Compliance.get_bulk("aws")
    assert NAME in bulk, "run `pip install .` (the entry point comes from the installed package)"
    universal = get_bulk_compliance_frameworks_universal("aws")
    assert universal[NAME].outputs.table_config.group_by == "Section"
    # Prowler's own CIS Controls v8.1 (universal) maps the check to 8.2 and 13.6 already.
    v8 = universal["cis_controls_8.1"]
    assert [r.id for r in v8.requirements if CHECK_ID in r.checks.get("aws", [])] == ["8.2", "13.6"]

    checks = update_checks_metadata_with_compliance(
        bulk, {CHECK_ID: CheckMetadata.get_bulk("aws")[CHECK_ID]}
    )
    report = SimpleNamespace(check_metadata=SimpleNamespace(CheckID=CHECK_ID))
    compliance = prowlers_get_check_compliance()(report, "aws", checks)
    assert compliance["CIS-Controls-7.1"] == ["6.2", "12.5"]
    assert any(
        key.startswith("CIS-") and key[4].isdigit() for key in compliance
    )  # CIS AWS Foundations
    assert len(compliance) > 20  # why ASFF needs prowler_integration.keep_cis_mappings_in_findings
