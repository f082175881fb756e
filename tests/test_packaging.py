"""What the wheel declares: every third-party module the shipped code imports comes from a
distribution in pyproject's ``dependencies`` (issue 21, row 6). The wheel's contents and its
installation are tested in test_e2e_wheel.py."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from pathlib import Path

from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parent.parent
SHIPPED = [REPO / "src", REPO / "remediation", REPO / "checks", REPO / "metadata"]


def imported_top_level_modules() -> set[str]:
    found: set[str] = set()
    for folder in SHIPPED:
        for path in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    found |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.split(".")[0])
    return found


def declared() -> set[str]:
    text = (REPO / "pyproject.toml").read_text()
    listed = re.search(r"^dependencies = \[(.*)\]$", text, re.M)[1]
    return {Requirement(r).name.lower().replace("_", "-") for r in re.findall(r'"([^"]+)"', listed)}


def test_every_third_party_import_is_declared():
    ours = {"prowler_vpc_flow_logs", "__future__"}
    third_party = {
        m
        for m in imported_top_level_modules()
        if m not in sys.stdlib_module_names and m not in ours
    }
    assert {"prowler", "boto3", "botocore", "pydantic", "yaml", "alive_progress"} <= third_party
    providers = importlib.metadata.packages_distributions()
    for module in sorted(third_party):
        distributions = {d.lower().replace("_", "-") for d in providers.get(module, [])}
        assert distributions & declared(), f"{module} (from {distributions}) is not declared"
