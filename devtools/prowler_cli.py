"""Run the real `prowler` command of this virtual environment and read its OCSF JSON output."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent
PROWLER = BIN / "prowler"
VPC_FLOW_LOGS = BIN / "vpc-flow-logs"


@dataclass
class ProwlerRun:
    returncode: int
    output: str  # stdout then stderr, without colour codes
    findings: list[dict]  # the OCSF JSON file's findings ([] when none was written)

    def by_resource(self) -> dict[str, dict]:
        """VPC id (the finding's resource uid tail) -> OCSF finding."""
        return {f["resources"][0]["uid"].rsplit("/", 1)[-1]: f for f in self.findings}

    def statuses(self) -> dict[str, str]:
        return {vpc: f["status_code"] for vpc, f in self.by_resource().items()}


ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Runs Prowler's entry point in a Python where the plug-in's package is absent, as after
# `pip uninstall prowler-vpc-flow-logs`: its modules cannot be imported and its entry points
# (the compliance framework) are gone; Prowler's tree still holds our check's copy.
_WITHOUT_PACKAGE = """
import importlib.metadata as metadata
import sys

class Uninstalled:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.split(".")[0] == "prowler_vpc_flow_logs":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, Uninstalled)
every = metadata.entry_points
metadata.entry_points = lambda **kw: metadata.EntryPoints(
    ep for ep in every(**kw) if not ep.value.startswith("prowler_vpc_flow_logs"))
from prowler.__main__ import prowler
sys.argv = ["prowler", *sys.argv[1:]]
sys.exit(prowler())
"""


def run_prowler(
    args: list[str],
    env: dict[str, str] | None = None,
    out_dir: Path | None = None,
    name: str = "prowler",
    formats: tuple[str, ...] = ("json-ocsf",),
    without_package: bool = False,
) -> ProwlerRun:
    """The one way tests and demos run the real `prowler aws ARGS`.

    With ``out_dir``, Prowler writes ``formats`` (empty: Prowler's defaults) to OUT_DIR/NAME.*
    and the OCSF findings are read back. ``without_package``: as if prowler-vpc-flow-logs had been pip-uninstalled (see above).
    """
    start = [sys.executable, "-c", _WITHOUT_PACKAGE] if without_package else [str(PROWLER)]
    command = [*start, "aws", *args, "--no-banner"]
    if out_dir is not None:
        command += [*(["-M", *formats] if formats else []), "-o", str(out_dir), "-F", name]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    report = Path(out_dir or ".") / f"{name}.ocsf.json"
    findings = json.loads(report.read_text()) if out_dir is not None and report.exists() else []
    return ProwlerRun(done.returncode, ANSI.sub("", done.stdout + done.stderr), findings)


def run_cli(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`vpc-flow-logs ARGS` of this virtual environment, as a user runs it."""
    return subprocess.run(
        [str(VPC_FLOW_LOGS), *args], env=env, capture_output=True, text=True, timeout=600
    )
