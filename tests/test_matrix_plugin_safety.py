"""Matrix, plug-in safety: install, uninstall and status never leave Prowler without a working check.

Against a Prowler tree laid out in a temporary folder (its RECORD computed like pip's). The
`prowler -x` row and the byte-for-byte uninstall of the real Prowler are in test_e2e_prowler.py.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
from pathlib import Path
from unittest import mock

import pytest

from prowler_vpc_flow_logs import activation, cli, prowler_integration
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


def test_unsupported_version_is_refused_and_changes_nothing(tmp_path):
    install = fake_prowler(tmp_path, version="5.10.0")
    with pytest.raises(UserError) as refused:
        install_check(install)
    assert refused.value.exit_code == 2
    assert "outside the supported range" in str(refused.value) and "--force" in str(refused.value)
    assert files(install.check_dir) == BUILTIN
    install_check(install, force=True)
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
    with mock.patch.object(activation.subprocess, "run", return_value=failed):
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
    with mock.patch.object(prowler_integration.atexit, "register") as register:
        prowler_integration.keep_check_after_custom_folder_run(
            str(OUR_CHECK_DIR / "vpc_flow_logs_enabled.py")
        )
        register.assert_not_called()
        inside = tmp_path / prowler_integration.CHECK_FOLDER / "vpc_flow_logs_enabled.py"
        prowler_integration.keep_check_after_custom_folder_run(str(inside))
        register.assert_called_once()


def test_cli_status_exit_codes(tmp_path, capsys):
    install = fake_prowler(tmp_path)
    with mock.patch.object(plugin, "find_prowler", return_value=install):
        assert cli.main(["status"]) == 1
        assert "Prowler's built-in check" in capsys.readouterr().out
        assert cli.main(["install"]) == 0
        assert cli.main(["status"]) == 0
        out = capsys.readouterr().out
        assert "Prowler 5.46.0 (supported)" in out and "(active)" in out
        assert cli.main(["uninstall"]) == 0


def test_cli_refuses_unsupported_prowler_with_exit_2(tmp_path, capsys):
    install = fake_prowler(tmp_path, version="6.0.0")
    with mock.patch.object(plugin, "find_prowler", return_value=install):
        assert cli.main(["install"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Prowler 6.0.0 is outside the supported range" in err
    assert files(install.check_dir) == BUILTIN


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
    with mock.patch.object(activation.subprocess, "run", side_effect=AssertionError("no download")):
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
    "new_version, words",
    [
        ("5.46.1", "run `vpc-flow-logs install` to activate it again"),
        (
            "5.47.0",
            f"this plug-in supports Prowler {activation.SUPPORTED_PROWLER}: install a supported Prowler",
        ),
    ],
)
def test_status_detects_prowler_upgraded_over_the_plugin(tmp_path, capsys, new_version, words):
    install_check(fake_prowler(tmp_path))
    upgraded = ProwlerInstall(
        version=new_version,
        package_dir=tmp_path / "site-packages" / "prowler",
        record={n: activation._sha256(d) for n, d in BUILTIN.items()},
    )
    pip_rewrites_builtin(upgraded)
    code, out = status(upgraded, capsys)
    assert code == 1
    assert (
        f"WARNING: Prowler was upgraded from 5.46.0 to {new_version} after `vpc-flow-logs install`"
        in out
    )
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
