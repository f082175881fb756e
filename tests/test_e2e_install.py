"""End to end: this venv's Prowler (5.46.0 in `make test-main`, the oldest supported in `make
test-compat`) takes the plug-in as a user's pip and `vpc-flow-logs install` would give it.

The rest of what the compat run must show runs in the other e2e modules on the same Prowler:
--list-compliance lists cis_controls_7.1_aws (test_compliance_e2e), a scan of the test estate
gives the policy's verdicts (test_e2e_prowler), and ASFF findings carry CIS-Controls-7.1 6.2 12.5
first (test_compliance_e2e, test_e2e_securityhub).
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys

import pytest

from devtools.prowler_cli import run_cli
from prowler_vpc_flow_logs import CHECK_ID, __version__, selftest
from tests.support import prowler_tree

pytestmark = pytest.mark.e2e


@pytest.mark.xdist_group("prowler_tree_alone")  # changes Prowler's tree: see conftest.py
def test_a_tested_prowler_takes_the_plugin_without_force(monkeypatch):
    monkeypatch.delenv("VPC_FLOW_LOGS_STATE_DIR")  # the state `make plugin`'s install made
    version = importlib.metadata.version("prowler")
    if os.environ.get("PROWLER_UNDER_TEST"):  # set by the Makefile: this run is on that Prowler
        assert version == os.environ["PROWLER_UNDER_TEST"]
    assert selftest.standing(version) == "tested"

    check = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.strip() == "No broken requirements found."

    with prowler_tree(alone=True):
        done = run_cli(["install"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"installed: Prowler {version} now runs prowler-vpc-flow-logs {__version__}'s {CHECK_ID}"
    ]
    status = run_cli(["status"])
    assert status.returncode == 0, status.stdout + status.stderr
    lines = status.stdout.splitlines()
    assert lines[0].startswith(f"Prowler {version} (tested: {selftest.tested_range()}) at ")
    assert lines[1] == f"self-test: passed ({len(selftest.PROBES)} reliances probed)"
    assert lines[2] == f"{CHECK_ID}: prowler-vpc-flow-logs {__version__} (active)"
