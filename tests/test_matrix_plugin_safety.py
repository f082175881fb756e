"""Matrix, plug-in safety: install, uninstall and status never leave Prowler without a working check.

Against a Prowler tree laid out in a temporary folder (its RECORD computed like pip's). The
`prowler -x` row and the byte-for-byte uninstall of the real Prowler are in test_e2e_prowler.py.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from prowler.lib.outputs import finding as finding_module

from prowler_vpc_flow_logs import activation, cli, selftest
from prowler_vpc_flow_logs.activation import (
    OUR_CHECK_DIR,
    ProwlerInstall,
    active_check,
    install_check,
    matches_record,
    uninstall_check,
)
from prowler_vpc_flow_logs.cli import plugin
from prowler_vpc_flow_logs.errors import UserError

pytestmark = pytest.mark.compat
BUILTIN = {
    "__init__.py": b"",
    "vpc_flow_logs_enabled.py": b"# Prowler's built-in check stands here\n",
    "vpc_flow_logs_enabled.metadata.json": b'{"CheckID": "vpc_flow_logs_enabled"}\n',
}


def fake_prowler(tmp_path: Path, version: str = "5.46.0") -> ProwlerInstall:
    package_dir = tmp_path / "site-packages" / "prowler"
    record = {name: activation._sha256(data) for name, data in BUILTIN.items()}
    install = ProwlerInstall(version=version, package_dir=package_dir, record=record)
    install.check_dir.mkdir(parents=True)
    for name, data in BUILTIN.items():
        (install.check_dir / name).write_bytes(data)
    return install


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_install_then_uninstall_restores_record_hashes(tmp_path):
    install = fake_prowler(tmp_path)
    assert active_check(install) == "built-in"
    message = install_check(install)
    assert "now runs prowler-vpc-flow-logs" in message
    assert active_check(install) == "ours"
    assert files(install.check_dir) == files(OUR_CHECK_DIR)
    assert matches_record(files(install.backup_dir), install.record)
    install_check(install)  # idempotent
    assert active_check(install) == "ours"
    assert "match the sha256 in its RECORD" in uninstall_check(install)
    assert files(install.check_dir) == BUILTIN
    assert active_check(install) == "built-in"


def test_prowler_older_than_the_floor_is_refused_and_changes_nothing(tmp_path):
    install = fake_prowler(tmp_path, version="5.31.1")
    with pytest.raises(UserError) as refused:
        install_check(install)
    assert refused.value.exit_code == 2
    message = str(refused.value)
    assert "Prowler 5.31.1 is older than 5.32.0, the oldest this plug-in supports" in message
    assert "no CIS Controls v8.1 framework" in message and "--force" in message
    assert "pip install 'prowler>=5.32.0,<6'" in message and "\n" not in message
    assert files(install.check_dir) == BUILTIN and not install.backup_dir.exists()
    report = install_check(install, force=True)
    assert report.splitlines()[0].startswith("WARNING: Prowler 5.31.1 is older than 5.32.0")
    assert report.splitlines()[0].endswith("; installing anyway (--force)")
    assert active_check(install) == "ours"


def test_modified_check_is_refused_without_force(tmp_path):
    install = fake_prowler(tmp_path)
    (install.check_dir / "vpc_flow_logs_enabled.py").write_bytes(b"# someone's edit\n")
    with pytest.raises(UserError, match="neither Prowler's built-in check nor ours"):
        install_check(install)
    assert active_check(install) == "modified"


def test_uninstall_without_backup_or_wheel_says_how_to_recover(tmp_path):
    install = fake_prowler(tmp_path)
    shutil.rmtree(install.check_dir)
    failed = subprocess.CompletedProcess([], 1, "", "no network")
    with mock.patch.object(subprocess, "run", return_value=failed):
        with pytest.raises(
            UserError, match="pip install --force-reinstall --no-deps prowler==5.46.0"
        ):
            uninstall_check(install)
    assert not install.check_dir.exists()


def test_custom_folder_run_cleanup_is_undone(tmp_path):
    """`prowler -x` deletes the check folder at the end; the exit hook puts back what was there."""
    install = fake_prowler(tmp_path)
    install_check(install)
    shutil.rmtree(install.check_dir)  # what Prowler's remove_custom_checks_module does
    with mock.patch.object(activation, "find_prowler", return_value=install):
        activation.restore_after_custom_folder_run(install.check_dir)
    assert active_check(install) == "ours"

    uninstall_check(install)  # user went back to the built-in; a later -x run must restore it
    shutil.rmtree(install.check_dir)
    with mock.patch.object(activation, "find_prowler", return_value=install):
        activation.restore_after_custom_folder_run(install.check_dir)
    assert active_check(install) == "built-in"


def test_hook_registers_only_inside_prowlers_tree(tmp_path):
    with mock.patch.object(activation.atexit, "register") as register:
        activation.keep_check_after_custom_folder_run(
            str(OUR_CHECK_DIR / "vpc_flow_logs_enabled.py")
        )
        register.assert_not_called()
        inside = tmp_path / activation.CHECK_FOLDER / "vpc_flow_logs_enabled.py"
        activation.keep_check_after_custom_folder_run(str(inside))
        register.assert_called_once()


def test_cli_status_exit_codes(tmp_path, capsys):
    install = fake_prowler(tmp_path)
    with mock.patch.object(plugin, "find_prowler", return_value=install):
        assert cli.main(["status"]) == 1
        assert "Prowler's built-in check" in capsys.readouterr().out
        assert cli.main(["install"]) == 0
        assert capsys.readouterr().out.splitlines() == [
            "installed: Prowler 5.46.0 now runs prowler-vpc-flow-logs 0.1.0's vpc_flow_logs_enabled"
        ]  # a tested Prowler: no self-test line
        assert cli.main(["status"]) == 0
        out = capsys.readouterr().out.splitlines()
        assert out[0].startswith("Prowler 5.46.0 (tested: 5.32.0 to 5.46.0) at ")
        assert out[1] == "self-test: passed (11 reliances probed)"
        assert out[2] == "vpc_flow_logs_enabled: prowler-vpc-flow-logs 0.1.0 (active)"
        assert cli.main(["uninstall"]) == 0


@pytest.fixture
def fresh_self_test():
    """The self-test is cached per process; a test that breaks an internal needs its own run."""
    selftest.run.cache_clear()
    yield
    selftest.run.cache_clear()


def test_newer_prowler_with_the_same_internals_installs_after_the_self_test(
    tmp_path, capsys, fresh_self_test
):
    install = fake_prowler(tmp_path, version="5.60.1")
    with mock.patch.object(plugin, "find_prowler", return_value=install):
        assert cli.main(["install"]) == 0
        out = capsys.readouterr().out.splitlines()
        assert out == [
            "Prowler 5.60.1 is newer than the tested range; self-test passed",
            "installed: Prowler 5.60.1 now runs prowler-vpc-flow-logs 0.1.0's vpc_flow_logs_enabled",
        ]
        assert active_check(install) == "ours"
        assert cli.main(["status"]) == 0
        out = capsys.readouterr().out
        assert "Prowler 5.60.1 (newer than the tested 5.32.0 to 5.46.0)" in out
        assert "self-test: passed" in out and "(active)" in out


@pytest.mark.parametrize("version", ["5.60.1", "5.46.0"])
def test_prowler_without_a_relied_on_internal_is_refused_naming_it(
    tmp_path, capsys, monkeypatch, fresh_self_test, version
):
    """Prowler moved get_check_compliance: install refuses (exit 2), whatever the version says."""
    install = fake_prowler(tmp_path, version=version)
    monkeypatch.delattr(finding_module, "get_check_compliance")
    with mock.patch.object(plugin, "find_prowler", return_value=install):
        assert cli.main(["install"]) == 2
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and "Traceback" not in err
        assert err.startswith(f"vpc-flow-logs: error: Prowler {version} fails the self-test: ")
        assert "FINDING_COMPLIANCE (prowler.lib.outputs.finding has no get_check_compliance" in err
        assert "nothing changed. Pass --force to install anyway." in err
        assert files(install.check_dir) == BUILTIN and not install.marker.exists()

        assert cli.main(["status"]) == 1
        out = capsys.readouterr().out
        assert "self-test: FAILED (11 reliances probed)" in out
        assert "FAILED: FINDING_COMPLIANCE: prowler.lib.outputs.finding has no" in out

        assert cli.main(["install", "--force"]) == 0
        out = capsys.readouterr().out.splitlines()
        assert out[0].startswith(f"WARNING: Prowler {version} fails the self-test: FINDING_")
        assert out[0].endswith("; installing anyway (--force)") and len(out) == 2
        assert active_check(install) == "ours"
        assert cli.main(["status"]) == 1  # ours is active, but the self-test still fails


def test_cli_without_prowler(capsys):
    missing = importlib.metadata.PackageNotFoundError("prowler")
    with mock.patch.object(activation.importlib.metadata, "distribution", side_effect=missing):
        assert cli.main(["status"]) == 2
    err = capsys.readouterr().err
    assert "Prowler is not installed" in err and "Traceback" not in err


@pytest.mark.parametrize("argv", [["bogus"], []])
def test_cli_bad_subcommand(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("vpc-flow-logs: error:")
    assert "--help" in err and "Traceback" not in err


def pip_rewrites_builtin(install: ProwlerInstall) -> None:
    """What `pip install --force-reinstall prowler` (or an upgrade) does to the check folder: it
    rewrites the files in its RECORD and leaves ours that are not (the --fixer adapter) behind."""
    for name, data in BUILTIN.items():
        (install.check_dir / name).write_bytes(data)
    assert set(files(install.check_dir)) - set(BUILTIN) == {"vpc_flow_logs_enabled_fixer.py"}


def status(install: ProwlerInstall, capsys) -> tuple[int, str]:
    with mock.patch.object(plugin, "find_prowler", return_value=install):
        code = cli.main(["status"])
    return code, capsys.readouterr().out


def test_install_twice_is_harmless(tmp_path):
    install = fake_prowler(tmp_path)
    install_check(install)
    backup = files(install.backup_dir)
    install_check(install)
    assert files(install.check_dir) == files(OUR_CHECK_DIR)
    assert files(install.backup_dir) == backup and matches_record(backup, install.record)


def test_uninstall_without_install_is_harmless(tmp_path):
    install = fake_prowler(tmp_path)
    with mock.patch.object(subprocess, "run", side_effect=AssertionError("no download")):
        assert "nothing to do" in uninstall_check(install)
    assert files(install.check_dir) == BUILTIN and active_check(install) == "built-in"


def test_status_detects_prowler_reinstalled_over_the_plugin(tmp_path, capsys):
    install = fake_prowler(tmp_path)
    install_check(install)
    pip_rewrites_builtin(install)
    code, out = status(install, capsys)
    assert code == 1
    assert (
        "WARNING: Prowler 5.46.0 was reinstalled after `vpc-flow-logs install`, which replaced "
        "our check: run `vpc-flow-logs install` to activate it again"
    ) in out
    assert "vpc_flow_logs_enabled: Prowler's built-in check\n" in out  # one instruction, not two
    assert out.count("run `vpc-flow-logs install") == 1 and "--force" not in out
    with mock.patch.object(plugin, "find_prowler", return_value=install):
        assert cli.main(["install"]) == 0  # plain install: the instruction works
    assert matches_record(
        files(install.backup_dir), install.record
    )  # the leftover is not backed up
    code, out = status(install, capsys)
    assert code == 0 and "WARNING" not in out


@pytest.mark.parametrize(
    "new_version, changed, words",
    [
        ("5.40.0", "upgraded from 5.32.0 to 5.40.0", "activate it again\n"),
        (
            "5.47.0",
            "upgraded from 5.32.0 to 5.47.0",
            "activate it again (it self-tests Prowler 5.47.0, newer than the tested range, first)",
        ),
        (
            "5.31.0",
            "downgraded from 5.32.0 to 5.31.0",
            "this plug-in needs Prowler 5.32.0 or newer: pip install 'prowler>=5.32.0,<6', then "
            "run `vpc-flow-logs install`",
        ),
    ],
)
def test_status_detects_prowler_upgraded_over_the_plugin(
    tmp_path, capsys, new_version, changed, words
):
    install_check(fake_prowler(tmp_path, version="5.32.0"))
    upgraded = ProwlerInstall(
        version=new_version,
        package_dir=tmp_path / "site-packages" / "prowler",
        record={n: activation._sha256(d) for n, d in BUILTIN.items()},
    )
    pip_rewrites_builtin(upgraded)
    code, out = status(upgraded, capsys)
    assert code == 1
    assert f"WARNING: Prowler was {changed} after `vpc-flow-logs install`, which replaced" in out
    assert words in out


def test_uninstall_after_a_reinstalled_prowler_removes_our_leftover(tmp_path):
    install = fake_prowler(tmp_path)
    install_check(install)
    pip_rewrites_builtin(install)
    assert active_check(install) == "built-in"
    assert "removed vpc_flow_logs_enabled_fixer.py, left behind by pip" in uninstall_check(install)
    assert files(install.check_dir) == BUILTIN


def test_status_says_nothing_after_a_deliberate_uninstall(tmp_path, capsys):
    install = fake_prowler(tmp_path)
    install_check(install)
    uninstall_check(install)
    code, out = status(install, capsys)
    assert code == 1 and "WARNING" not in out and "Prowler's built-in check" in out


# A Prowler whose AWSService module moved: the check's service cannot be imported at all.
_WITHOUT_AWSSERVICE = """
import sys

class Moved:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == "prowler.providers.aws.lib.service.service":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, Moved)
from prowler_vpc_flow_logs.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_prowler_whose_awsservice_moved_is_refused_naming_service(tmp_path):
    """Even an internal our CLI imports: install and status still run, and name the reliance."""
    env = {**os.environ, "VPC_FLOW_LOGS_STATE_DIR": str(tmp_path / "state")}

    def run(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-c", _WITHOUT_AWSSERVICE, *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)

    before = files(activation.find_prowler().check_dir)
    install = run("install")
    assert install.returncode == 2, install.stdout + install.stderr
    assert install.stderr.count("\n") == 1 and "Traceback" not in install.stderr
    assert "fails the self-test: SERVICE (ModuleNotFoundError: No module named " in install.stderr
    assert files(activation.find_prowler().check_dir) == before
    status = run("status")
    assert status.returncode == 1
    assert "FAILED: SERVICE: ModuleNotFoundError" in status.stdout
    fix = run("fix", "--region", "us-east-1", "--dry-run")
    assert fix.returncode == 2 and fix.stderr.count("\n") == 1
    assert fix.stderr.startswith("vpc-flow-logs: error: fix cannot run with this Prowler (")
    runs = run("runs")  # only a fix scans: the backout's commands do not need the service
    assert runs.returncode == 0 and runs.stdout.strip() == "No runs recorded.", runs.stderr


# -- a hand-edited copy, an older copy of ours, what uninstall leaves (issue 18, rows 8 and 9) --
def test_a_hand_edited_copy_of_our_check_is_modified_and_kept_without_force(tmp_path, capsys):
    install = fake_prowler(tmp_path)
    install_check(install)
    edited = (install.check_dir / "vpc_flow_logs_enabled.py").read_bytes() + b"# local tweak\n"
    (install.check_dir / "vpc_flow_logs_enabled.py").write_bytes(edited)
    assert active_check(install) == "modified"
    code, out = status(install, capsys)
    assert code == 1 and "WARNING" not in out and "reinstalled" not in out
    assert "vpc_flow_logs_enabled: a check changed by hand or by another tool" in out
    with mock.patch.object(plugin, "find_prowler", return_value=install):
        assert cli.main(["install"]) == 2
        assert cli.main(["uninstall"]) == 2
        err = capsys.readouterr().err
        assert err.count("changed by hand") == 2 and "--force" in err and "Traceback" not in err
        assert (install.check_dir / "vpc_flow_logs_enabled.py").read_bytes() == edited
        assert cli.main(["uninstall", "--force"]) == 0
    assert files(install.check_dir) == BUILTIN


def test_an_earlier_install_of_another_version_of_ours_is_outdated(tmp_path, capsys):
    install = fake_prowler(tmp_path)
    older = tmp_path / "older-plugin"
    shutil.copytree(OUR_CHECK_DIR, older, ignore=shutil.ignore_patterns("__pycache__"))
    (older / "vpc_flow_logs_enabled.py").write_text("# prowler_vpc_flow_logs 0.0.9\n")
    with mock.patch.object(activation, "OUR_CHECK_DIR", older):
        install_check(install)
    assert active_check(install) == "outdated"
    code, out = status(install, capsys)
    assert code == 1 and "another version of prowler-vpc-flow-logs" in out
    assert "WARNING" not in out
    install_check(install)  # a plain install updates it
    assert active_check(install) == "ours"


def test_uninstall_forgets_the_activation_and_says_what_the_state_folder_keeps(tmp_path):
    install = fake_prowler(tmp_path)
    other = fake_prowler(tmp_path / "other-venv")
    install_check(install)
    install_check(other)
    runs = activation.state_dir() / "runs"
    runs.mkdir(parents=True)
    (runs / "vfl-1.jsonl").write_text("{}\n")
    lines = uninstall_check(install).splitlines()
    assert lines[0].startswith("uninstalled: Prowler 5.46.0 runs its built-in")
    assert lines[1] == (
        f"kept: {install.backup_dir} (the verified built-in check, which a `prowler -x` run "
        "restores from while this package is installed)"
    )
    assert lines[2] == f"kept: {runs} (1 fix run(s); `vpc-flow-logs backout` needs them)"
    assert lines[3].startswith("after `pip uninstall prowler-vpc-flow-logs`, delete it: rm -r ")
    assert f"rm -r {activation.state_dir() / 'builtin'} (keep runs/" in lines[3]
    assert not install.marker.exists() and other.marker.exists()  # only this Prowler's record
    assert activation.lost_activation(install) is None
    uninstall_check(other)
    assert not (activation.state_dir() / "activation").exists()


def test_uninstall_without_runs_names_the_whole_state_folder(tmp_path):
    install = fake_prowler(tmp_path)
    install_check(install)
    last = uninstall_check(install).splitlines()[-1]
    assert last == (
        f"after `pip uninstall prowler-vpc-flow-logs`, delete it: rm -r {activation.state_dir()}"
    )


# -- a Prowler run while our check is not active (issue 18, row 2) --------------------------------
def test_a_prowler_run_is_told_when_our_check_is_not_active(tmp_path):
    install = fake_prowler(tmp_path)
    with mock.patch.object(activation, "find_prowler", return_value=install):
        warning = activation.inactive_warning()
        assert warning == (
            "prowler-vpc-flow-logs 0.1.0 is installed, but Prowler 5.46.0 runs its built-in "
            "vpc_flow_logs_enabled, not this plug-in's precise check: run `vpc-flow-logs install` "
            "to activate it (`vpc-flow-logs status` says more)"
        )
        install_check(install)
        assert activation.inactive_warning() is None
        shutil.rmtree(install.check_dir)
        assert "runs no vpc_flow_logs_enabled at all" in activation.inactive_warning()
    with mock.patch.object(activation, "find_prowler", side_effect=UserError("no Prowler")):
        assert activation.inactive_warning() is None  # never breaks Prowler's start


@pytest.mark.parametrize(
    "argv,scan",
    [
        (["/venv/bin/prowler", "aws", "--checks", "vpc_flow_logs_enabled"], True),
        (["/venv/bin/prowler"], True),
        (["/venv/bin/prowler", "--list-compliance"], True),
        (["/venv/lib/prowler/__main__.py", "aws"], True),  # python -m prowler
        (["/venv/bin/prowler", "aws", "-x", "checks/"], False),  # brings our check itself
        (["/venv/bin/prowler", "azure"], False),
        (["/venv/bin/vpc-flow-logs", "status"], False),
        (["/venv/bin/pytest"], False),
    ],
)
def test_the_warning_is_for_aws_scans_of_the_prowler_command(monkeypatch, argv, scan):
    from prowler_vpc_flow_logs import metadata

    monkeypatch.setattr(sys, "argv", argv)
    assert metadata._in_a_prowler_scan() is scan
