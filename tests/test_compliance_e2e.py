"""End to end: the real `prowler` CLI lists CIS Controls v7.1 and runs compliance scans with our check.

One scan covers three frameworks at once (ours, Prowler's universal CIS Controls v8.1
and CIS AWS Foundations 5.0) and writes CSV, ASFF and OCSF, so one Prowler start-up
checks every output. All other checks of those frameworks are excluded except one
cheap IAM check, whose findings show that other checks' outputs stay as Prowler makes them.
"""

from __future__ import annotations

import csv
import json
import re
from importlib import resources
from pathlib import Path
from types import SimpleNamespace

import pytest

from devtools.estate import EXPECTED_WORDS, REGION_A, REGION_B, seed_policy_estate
from devtools.moto_server import MotoServer
from devtools.prowler_cli import run_prowler
from prowler_vpc_flow_logs import CHECK_ID
from tests.support import CIS_FIRST, prowler_tree

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("compliance_e2e")]  # one scan
OTHER_CHECK = "iam_password_policy_minimum_length_14"  # in CIS 5.0, cheap on moto
FRAMEWORKS = ["cis_controls_7.1_aws", "cis_controls_8.1", "cis_5.0_aws"]


def framework_checks() -> set[str]:
    root = resources.files("prowler.compliance")
    legacy = json.loads((root / "aws" / "cis_5.0_aws.json").read_text())
    universal = json.loads((root / "cis_controls_8.1.json").read_text())
    return {c for r in legacy["Requirements"] for c in r["Checks"]} | {
        c for r in universal["requirements"] for c in r["checks"].get("aws", [])
    }


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def statuses(rows: list[dict[str, str]], requirement: str) -> dict[str, str]:
    """VPC id -> STATUS of our check's rows for one requirement."""
    return {
        r["RESOURCEID"].rsplit("/", 1)[-1]: r["STATUS"]
        for r in rows
        if r["REQUIREMENTS_ID"] == requirement and r["CHECKID"] == CHECK_ID
    }


@pytest.fixture(scope="module")
def scan(tmp_path_factory):
    """Seed the policy estate on a moto server and run one compliance scan of three frameworks."""
    out = tmp_path_factory.mktemp("compliance")
    server = MotoServer().start()
    try:
        server.reset()

        estate = seed_policy_estate(server.client)
        excluded = out / "excluded.json"
        excluded.write_text(
            json.dumps({"aws": sorted(framework_checks() - {CHECK_ID, OTHER_CHECK})})
        )
        args = [
            "--compliance",
            *FRAMEWORKS,
            "--excluded-checks-file",
            str(excluded),
            "-f",
            REGION_A,
            REGION_B,
        ]
        formats = ("csv", "json-asff", "json-ocsf")
        with prowler_tree():  # a module fixture: before the test's own hold
            output = run_prowler(args, server.env(), out, "scan", formats).output
    finally:
        server.stop()
    return SimpleNamespace(out=out, output=output, estate=estate)


def test_list_compliance_shows_cis_controls_v7():
    listing = run_prowler(["--list-compliance"]).output
    assert "- cis_controls_7.1_aws" in listing.splitlines(), listing[-2000:]
    assert "- cis_controls_8.1" in listing.splitlines()


def test_compliance_tables_and_csvs_carry_our_verdicts(scan):
    expected = scan.estate.expected("REJECT")
    out, text = scan.out, scan.output
    for name in FRAMEWORKS:
        assert f"Framework {name.upper()} Results" in text, text[-4000:]
    assert (
        "6. Maintenance, Monitoring and Analysis of Audit Logs" in text
        and "12. Boundary Defense" in text
    )

    v7 = read_csv(out / "compliance" / "scan_cis_controls_7.1_aws.csv")
    assert statuses(v7, "6.2") == expected and statuses(v7, "12.5") == expected
    assert {
        r["REQUIREMENTS_ATTRIBUTES_IMPLEMENTATIONGROUPS"]
        for r in v7
        if r["REQUIREMENTS_ID"] == "12.5"
    } == {"IG2 | IG3"}

    v8 = read_csv(out / "compliance" / "scan_cis_controls_8.1.csv")
    assert statuses(v8, "8.2") == expected and statuses(v8, "13.6") == expected

    cis = read_csv(out / "compliance" / "scan_cis_5.0_aws.csv")
    assert statuses(cis, "3.7") == expected
    reasons = {
        r["RESOURCEID"].rsplit("/", 1)[-1]: r["STATUSEXTENDED"]
        for r in cis
        if r["REQUIREMENTS_ID"] == "3.7"
    }
    for case, words in EXPECTED_WORDS.items():
        assert words in reasons[scan.estate.vpcs[case]], case


def test_asff_and_ocsf_carry_the_cis_mappings(scan):
    from prowler.lib.outputs.asff.asff import ASFF

    asff = json.loads((scan.out / "scan.asff.json").read_text())
    ocsf = json.loads((scan.out / "scan.ocsf.json").read_text())
    ours = [f for f in asff if f["GeneratorId"] == f"prowler-{CHECK_ID}"]
    sent = {
        vpc: s for vpc, s in scan.estate.expected("REJECT").items() if s != "MANUAL"
    }  # ASFF has no MANUAL
    assert {
        f["Resources"][0]["Id"].rsplit("/", 1)[-1]: f["Compliance"]["Status"][:4] for f in ours
    } == sent
    for finding in ours:
        standards = [s["StandardsId"] for s in finding["Compliance"]["AssociatedStandards"]]
        related = finding["Compliance"]["RelatedRequirements"]
        assert standards[:3] == ["CIS-Controls-7.1", "CIS-Controls-8.1", "CIS-7.0"]
        assert [s for s in standards if re.fullmatch(r"CIS-[\d.]+", s)] == CIS_FIRST[2:]
        assert related[:2] == ["CIS-Controls-7.1 6.2 12.5", "CIS-Controls-8.1 8.2 13.6"]
        assert "CIS-5.0 3.7" in related  # the CIS AWS Foundations version we scanned, too
        assert (
            len(standards) <= 20
            and len(related) <= 32
            and all(len(s) <= 64 for s in standards + related)
        )
        assert finding["Resources"][0]["Type"] == "AwsEc2Vpc"

    by_uid = {f["finding_info"]["uid"]: f for f in ocsf}
    assert {f["metadata"]["event_code"] for f in ocsf} == {CHECK_ID, OTHER_CHECK}
    for finding in ocsf:
        compliance = finding["unmapped"]["compliance"]
        if finding["metadata"]["event_code"] == CHECK_ID:
            assert compliance["CIS-Controls-7.1"] == ["6.2", "12.5"]
            assert compliance["CIS-Controls-8.1"] == ["8.2", "13.6"]
            assert compliance["CIS-5.0"] == ["3.7"]
    # ASFF is Prowler's own first-20 of each finding's compliance, for every check.
    for finding in asff:
        uid = finding["Id"]
        match = [
            f
            for f in by_uid.values()
            if f["resources"][0]["uid"] == finding["Resources"][0]["Id"]
            and f["metadata"]["event_code"] == finding["GeneratorId"].removeprefix("prowler-")
        ]
        standards, related = ASFF.format_compliance(match[0]["unmapped"]["compliance"])
        assert finding["Compliance"]["AssociatedStandards"] == standards, uid
        assert finding["Compliance"]["RelatedRequirements"] == related, uid


def test_other_checks_keep_prowlers_compliance(scan):
    """The IAM finding's compliance is exactly what unpatched Prowler computes, in Prowler's order."""
    from prowler.lib.check.compliance import update_checks_metadata_with_compliance
    from prowler.lib.check.compliance_models import Compliance
    from prowler.lib.check.models import CheckMetadata

    from prowler_vpc_flow_logs.prowler_integration import prowlers_get_check_compliance

    metadata = update_checks_metadata_with_compliance(
        Compliance.get_bulk("aws"), {OTHER_CHECK: CheckMetadata.get_bulk("aws")[OTHER_CHECK]}
    )
    report = SimpleNamespace(check_metadata=SimpleNamespace(CheckID=OTHER_CHECK))
    expected = prowlers_get_check_compliance()(report, "aws", metadata)
    ocsf = json.loads((scan.out / "scan.ocsf.json").read_text())
    (other,) = [f for f in ocsf if f["metadata"]["event_code"] == OTHER_CHECK]
    assert list(other["unmapped"]["compliance"].items()) == list(expected.items())
    assert len(expected) > 0
