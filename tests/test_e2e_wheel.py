"""What users install is what we test: the wheel pip builds from this checkout, installed as the
README says (non-editable, with its dependencies) into a venv that already holds Prowler, then
used end to end: a scan before activation, `install`, `status`, a scan, `uninstall`, `pip
uninstall`.

The venv is `PROWLER_USER_VENV` (the Makefile builds one per Prowler end: `.venv-user-5.46.0` for
`make test-main`, `.venv-user-5.32.0` for `make test-compat`), holding Prowler alone, as a user's
does. The test leaves it as it found it. The moto server runs in this process (this venv's moto).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from devtools.estate import EXPECTED_WORDS, REGION_A, REGION_B, seed_policy_estate
from devtools.moto_server import MotoServer
from devtools.prowler_cli import ANSI
from prowler_vpc_flow_logs import CHECK_ID, __version__

pytestmark = [pytest.mark.wheel, pytest.mark.xdist_group("wheel")]  # one wheel built
REPO = Path(__file__).resolve().parent.parent
USER_VENV = os.environ.get("PROWLER_USER_VENV")
BUILD_LEFTOVERS = (".git", ".venv*", "build", "*.egg-info", "__pycache__", ".*_cache", "output")
# Every file the wheel must carry, by the folders setup.py maps into the namespace.
MAPPED = {
    "src/prowler_vpc_flow_logs": "prowler_vpc_flow_logs",
    "checks/vpc_flow_logs_enabled": "prowler_vpc_flow_logs/check",
    "metadata": "prowler_vpc_flow_logs/metadata",
    "remediation": "prowler_vpc_flow_logs/remediation",
}
# Prints whether Prowler's check folder matches its RECORD, byte for byte (run in the user venv).
_BUILTIN_INTACT = f"""
import base64, hashlib, importlib.metadata as md
dist = md.distribution("prowler")
folder = "prowler/providers/aws/services/vpc/{CHECK_ID}/"
files = [f for f in dist.files if f.as_posix().startswith(folder) and f.hash and "__pycache__" not in f.as_posix()]
def sha(f):
    return base64.urlsafe_b64encode(hashlib.sha256(f.locate().read_bytes()).digest()).rstrip(b"=").decode()
on_disk = {{p.name for p in md.distribution("prowler").locate_file(folder).iterdir() if p.is_file()}}
print(bool(files) and all(sha(f) == f.hash.value for f in files) and on_disk == {{f.name for f in files}})
"""


def shipped_files() -> set[str]:
    """Where each module and JSON file of the checkout lands in the wheel."""
    found = set()
    for folder, package in MAPPED.items():
        for path in (REPO / folder).rglob("*"):
            if path.suffix in {".py", ".json"} and "__pycache__" not in path.parts:
                found.add(f"{package}/{path.relative_to(REPO / folder).as_posix()}")
    return found


class UserVenv:
    """Runs the commands of the user's venv with a state folder of its own and no AWS settings."""

    def __init__(self, root: Path, state: Path, cwd: Path) -> None:
        self.root, self.bin, self.state, self.cwd = root, root / "bin", state, cwd

    def run(self, *command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        base = {
            k: v for k, v in (env or os.environ).items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")
        }
        base["VPC_FLOW_LOGS_STATE_DIR"] = str(self.state)
        program = str(self.bin / command[0])
        return subprocess.run(
            [program, *command[1:]],
            env=base,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=900,
        )

    def pip(self, *args: str) -> subprocess.CompletedProcess:
        return self.run("python", "-m", "pip", "--disable-pip-version-check", *args)

    def freeze(self) -> list[str]:
        return sorted(self.pip("freeze", "--all").stdout.splitlines())

    def prowler_version(self) -> str:
        done = self.run(
            "python", "-c", "import importlib.metadata as m; print(m.version('prowler'))"
        )
        return done.stdout.strip()

    def builtin_intact(self) -> bool:
        return self.run("python", "-c", _BUILTIN_INTACT).stdout.strip() == "True"

    def clean(self) -> None:
        """Take out whatever an earlier, interrupted run of this test left in the venv."""
        if (self.bin / "vpc-flow-logs").exists():
            self.run("vpc-flow-logs", "uninstall", "--force")
            self.pip("uninstall", "--yes", "prowler-vpc-flow-logs")
        if not self.builtin_intact():
            self.pip(
                "install", "--force-reinstall", "--no-deps", f"prowler=={self.prowler_version()}"
            )


@pytest.fixture
def user_venv(tmp_path) -> UserVenv:
    if not USER_VENV:
        pytest.skip("PROWLER_USER_VENV names a venv holding Prowler (make test-main builds one)")
    venv = UserVenv(Path(USER_VENV).resolve(), tmp_path / "state", tmp_path)
    venv.clean()
    assert venv.builtin_intact()
    yield venv
    venv.clean()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel pip builds from this checkout (as `pip install /path/to/checkout` would)."""
    out = tmp_path_factory.mktemp("wheel")
    source = out / "checkout"  # a copy, so that setuptools' build/ never lands in (or stales) ours
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(*BUILD_LEFTOVERS))
    command = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(source)]
    built = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    (path,) = out.glob("prowler_vpc_flow_logs-*.whl")
    return path


def scan(venv: UserVenv, server: MotoServer, out: Path, name: str) -> tuple[str, dict[str, dict]]:
    """`prowler aws --checks vpc_flow_logs_enabled` of the user's venv: its output and findings."""
    done = venv.run(
        "prowler", "aws", "--checks", CHECK_ID, "-f", REGION_A, REGION_B, "--no-banner",
        "-M", "json-ocsf", "-o", str(out), "-F", name, env=server.env(),
    )  # fmt: skip
    findings = json.loads((out / f"{name}.ocsf.json").read_text())
    by_vpc = {f["resources"][0]["uid"].rsplit("/", 1)[-1]: f for f in findings}
    return ANSI.sub("", done.stdout + done.stderr), by_vpc


def test_the_wheel_carries_every_module(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    missing = shipped_files() - names
    assert not missing, f"the wheel lacks {sorted(missing)}"
    assert "prowler_vpc_flow_logs/cli/__init__.py" in names  # the subpackage once left out


def test_installed_as_the_readme_says_and_used_end_to_end(wheel, user_venv, tmp_path):
    venv = user_venv
    prowler = venv.prowler_version()
    before = venv.freeze()

    # pip install /path/to/wheel, with its dependencies: pip keeps the user's Prowler.
    done = venv.pip("install", str(wheel))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Requirement already satisfied: prowler<6,>=5.32.0 in" in done.stdout
    assert venv.prowler_version() == prowler
    added = sorted(set(venv.freeze()) - set(before))
    assert len(added) == 1, added  # nothing upgraded, nothing else added
    assert added[0].startswith(f"prowler-vpc-flow-logs @ file://{wheel}#sha256="), added
    assert set(before) <= set(venv.freeze())
    check = venv.pip("check")
    assert check.returncode == 0 and "No broken requirements found." in check.stdout, check.stdout
    where = venv.run("python", "-c", "import prowler_vpc_flow_logs as p; print(p.__file__)")
    installed = Path(where.stdout.strip()).resolve()
    assert installed.is_relative_to(venv.root) and "site-packages" in installed.parts  # not ours

    server = MotoServer().start()
    try:
        server.reset()
        estate = seed_policy_estate(server.client)

        # Installed, not yet activated: Prowler runs its built-in check, and says so by default.
        output, found = scan(venv, server, tmp_path, "before")
        assert (
            f"prowler-vpc-flow-logs {__version__} is installed, but Prowler {prowler} runs its "
            f"built-in {CHECK_ID}, not this plug-in's precise check: run `vpc-flow-logs install`"
        ) in output
        assert found[estate.vpcs["accept-only"]]["status_code"] == "PASS"  # the built-in's rule

        install = venv.run("vpc-flow-logs", "install")
        assert install.returncode == 0, install.stdout + install.stderr
        assert install.stdout.splitlines()[-1] == (
            f"installed: Prowler {prowler} now runs prowler-vpc-flow-logs {__version__}'s {CHECK_ID}"
        )
        status = venv.run("vpc-flow-logs", "status")
        assert status.returncode == 0, status.stdout + status.stderr
        assert f"{CHECK_ID}: prowler-vpc-flow-logs {__version__} (active)" in status.stdout
        assert "self-test: passed" in status.stdout

        output, found = scan(venv, server, tmp_path, "after")
        assert "is installed, but Prowler" not in output
        statuses = {vpc: f["status_code"] for vpc, f in found.items()}
        assert statuses == estate.expected("REJECT")
        for case, words in EXPECTED_WORDS.items():
            assert words in found[estate.vpcs[case]]["status_detail"], case
        assert "CIS-Controls-7.1" in found[estate.vpcs["accept-only"]]["unmapped"]["compliance"]
    finally:
        server.stop()

    uninstall = venv.run("vpc-flow-logs", "uninstall")
    assert uninstall.returncode == 0, uninstall.stdout + uninstall.stderr
    assert "match the sha256 in its RECORD" in uninstall.stdout
    assert f"rm -r {venv.state}" in uninstall.stdout  # what stays behind is said
    assert venv.run("vpc-flow-logs", "status").returncode == 1  # the built-in again
    assert venv.pip("uninstall", "--yes", "prowler-vpc-flow-logs").returncode == 0
    assert venv.freeze() == before and venv.builtin_intact()
