"""Run the real `prowler` command of this virtual environment and read its OCSF JSON output."""

from __future__ import annotations

import json
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
    output: str
    findings: list[dict]

    def by_resource(self) -> dict[str, dict]:
        """VPC id (the finding's resource uid tail) -> OCSF finding."""
        return {f["resources"][0]["uid"].rsplit("/", 1)[-1]: f for f in self.findings}

    def statuses(self) -> dict[str, str]:
        return {vpc: f["status_code"] for vpc, f in self.by_resource().items()}


def run_prowler(args: list[str], env: dict[str, str], out_dir: Path, name: str) -> ProwlerRun:
    """`prowler aws ARGS` writing OCSF JSON to OUT_DIR/NAME.ocsf.json; returns its findings."""
    command = [
        str(PROWLER),
        "aws",
        *args,
        "--no-banner",
        "-M",
        "json-ocsf",
        "-o",
        str(out_dir),
        "-F",
        name,
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    report = out_dir / f"{name}.ocsf.json"
    findings = json.loads(report.read_text()) if report.exists() else []
    return ProwlerRun(done.returncode, done.stdout + done.stderr, findings)
