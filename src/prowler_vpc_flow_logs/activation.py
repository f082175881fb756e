"""Put our check in place of Prowler's built-in ``vpc_flow_logs_enabled`` (Prowler loads it only
from CHECK_FOLDER) and take it out again; both verify the built-in against Prowler's RECORD. After
editing checks/, install again (``make plugin``). An exit hook undoes a ``prowler -x`` clean-up.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import hashlib
import importlib.metadata
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from prowler_vpc_flow_logs import CHECK_FOLDER, CHECK_ID, OUR_CHECK_DIR, __version__, selftest
from prowler_vpc_flow_logs.errors import FAILED, UserError
from prowler_vpc_flow_logs.state import state_dir


@dataclass(frozen=True)
class ProwlerInstall:
    """Where Prowler lives and what its RECORD says about the built-in check."""

    version: str
    package_dir: Path  # .../site-packages/prowler
    record: dict[str, str]  # file name in the check folder -> "sha256=<urlsafe b64>"

    @property
    def check_dir(self) -> Path:
        return self.package_dir / CHECK_FOLDER.removeprefix("prowler/")

    @property
    def key(self) -> str:
        digest = hashlib.sha256(str(self.package_dir).encode()).hexdigest()[:12]
        return f"prowler-{self.version}-{digest}"

    @property
    def backup_dir(self) -> Path:
        return state_dir() / "builtin" / self.key

    @property
    def marker(self) -> Path:
        return state_dir() / "activation" / f"{self.key}.json"


def find_prowler() -> ProwlerInstall:
    """Locate Prowler in this Python environment from its dist-info, without importing it."""
    try:
        dist = importlib.metadata.distribution("prowler")
    except importlib.metadata.PackageNotFoundError:
        raise UserError(
            f"Prowler is not installed in this Python environment ({sys.executable}). "
            f"Install it first: pip install '{selftest.REQUIREMENT}'"
        ) from None
    record: dict[str, str] = {}
    for path in dist.files or []:
        posix = path.as_posix()
        if posix.startswith(CHECK_FOLDER + "/") and path.hash and "__pycache__" not in posix:
            record[posix.rsplit("/", 1)[1]] = f"{path.hash.mode}={path.hash.value}"
    package_dir = Path(dist.locate_file("prowler")).resolve()
    if not record:
        raise UserError(
            f"Prowler {dist.version} at {package_dir} has no RECORD entries for {CHECK_ID}; "
            "reinstall it with pip so that the built-in check can be verified"
        )
    return ProwlerInstall(version=dist.version, package_dir=package_dir, record=record)


def _sha256(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _present_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*")) if p.is_file()}


def _our_files() -> dict[str, bytes]:
    files = _present_files(OUR_CHECK_DIR).items()
    return {name: data for name, data in files if name.endswith((".py", ".json"))}


def matches_record(files: dict[str, bytes], record: dict[str, str]) -> bool:
    return {name: _sha256(data) for name, data in files.items()} == record


def _builtin_part(install: ProwlerInstall, present: dict[str, bytes]) -> dict[str, bytes] | None:
    """The built-in files among ``present`` when they match RECORD and the others are files of
    ours that pip left behind (``pip install --force-reinstall prowler``); else None."""
    builtin = {name: data for name, data in present.items() if name in install.record}
    ours = _our_files()
    leftovers = [
        name in ours and b"prowler_vpc_flow_logs" in data
        for name, data in present.items()
        if name not in builtin
    ]
    return builtin if matches_record(builtin, install.record) and all(leftovers) else None


def active_check(install: ProwlerInstall) -> str:
    """Which check Prowler will run: "ours", "outdated" (an earlier ``install`` of another version
    of ours), "built-in", "missing" or "modified" (changed by hand or by another tool)."""
    present = _present_files(install.check_dir)
    if f"{CHECK_ID}.py" not in present:
        return "missing"
    if present == _our_files():
        return "ours"
    if _builtin_part(install, present) is not None:
        return "built-in"
    written = _read_marker(install.marker).get("files")
    if written and matches_record(present, written):
        return "outdated"
    return "modified"


def _write_files(folder: Path, files: dict[str, bytes]) -> None:
    """Exactly ``files`` in ``folder``, each written with an atomic replace."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, folder / name)
    for extra in folder.iterdir():
        if extra.is_file() and extra.name not in files:
            extra.unlink()
    shutil.rmtree(folder / "__pycache__", ignore_errors=True)


def inactive_warning() -> str | None:
    """What a Prowler run says when this package is installed but its check is not the one
    Prowler will run (None when it is, or when Prowler cannot be located)."""
    try:
        install = find_prowler()
        state = active_check(install)
    except Exception:  # never break Prowler's start-up over a warning
        return None
    if state == "ours":
        return None
    runs = {
        "built-in": f"its built-in {CHECK_ID}, not this plug-in's precise check",
        "outdated": f"another version of this plug-in's {CHECK_ID}",
        "missing": f"no {CHECK_ID} at all",
        "modified": f"a {CHECK_ID} that was changed by hand",
    }[state]
    return (
        f"prowler-vpc-flow-logs {__version__} is installed, but Prowler {install.version} runs "
        f"{runs}: run `vpc-flow-logs install` to activate it (`vpc-flow-logs status` says more)"
    )


def _save_marker(install: ProwlerInstall) -> None:
    """Record the activation, with the sha256 of the files ``install`` wrote (so that a later
    edit by hand is told apart from an older version of ours)."""
    written = {name: _sha256(data) for name, data in _our_files().items()}
    marker = {"prowler_dir": str(install.package_dir), "prowler_version": install.version}
    marker |= {"installed": True, "plugin_version": __version__, "files": written}
    install.marker.parent.mkdir(parents=True, exist_ok=True)
    install.marker.write_text(json.dumps(marker, indent=2))


def _read_marker(path: Path) -> dict:
    try:
        marker = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return marker if isinstance(marker, dict) else {}


def _markers_of(install: ProwlerInstall) -> list[tuple[Path, dict]]:
    """(path, record) of every Prowler version that lived in this folder, oldest first."""
    paths = sorted((state_dir() / "activation").glob("*.json"), key=lambda p: p.stat().st_mtime)
    found = [(path, _read_marker(path)) for path in paths]
    return [(path, m) for path, m in found if m.get("prowler_dir") == str(install.package_dir)]


def lost_activation(install: ProwlerInstall) -> str | None:
    """Why our check is not active although it was installed (pip reinstalled or upgraded Prowler,
    which puts the built-in back)."""
    if active_check(install) not in ("built-in", "missing"):
        return None
    earlier = [m for _, m in _markers_of(install) if m.get("installed")]
    if not earlier:
        return None
    last = earlier[-1].get("prowler_version")
    if last == install.version:
        what = f"Prowler {install.version} was reinstalled after `vpc-flow-logs install`"
    else:
        try:
            moved = "downgraded" if Version(install.version) < Version(str(last)) else "upgraded"
        except InvalidVersion:
            moved = "upgraded"
        what = f"Prowler was {moved} from {last} to {install.version} after `vpc-flow-logs install`"
    standing = selftest.standing(install.version)
    if standing == "older":
        return (
            f"{what}, which replaced our check; this plug-in needs Prowler {selftest.TESTED[0]} "
            f"or newer: pip install '{selftest.REQUIREMENT}', then run `vpc-flow-logs install`"
        )
    again = f"{what}, which replaced our check: run `vpc-flow-logs install` to activate it again"
    if standing == "newer":
        again += f" (it self-tests Prowler {install.version}, newer than the tested range, first)"
    return again


def _backup(install: ProwlerInstall) -> dict[str, bytes]:
    """The verified backup of the built-in check. Without one, pip restores it from Prowler's
    wheel, which only pip should fetch (its index, proxy and hash settings)."""
    files = _present_files(install.backup_dir)
    if not (files and matches_record(files, install.record)):
        raise UserError(
            f"no verified backup of the built-in check in {install.backup_dir}; restore it with: "
            f"pip install --force-reinstall --no-deps prowler=={install.version}",
            FAILED,
        )
    return files


def admit(version: str, force: bool = False) -> list[str]:
    """Whether Prowler ``version`` may run our check, by the self-test, not by its version number.
    Returns the lines to print; raises UserError (exit 2) naming each failed reliance."""
    if selftest.standing(version) == "older":
        why = (
            f"Prowler {version} is older than {selftest.TESTED[0]}, the oldest this plug-in "
            f"supports ({selftest.WHY_FLOOR})"
        )
        how = f"Install a supported Prowler (pip install '{selftest.REQUIREMENT}'), or pass --force to install anyway."
    elif not (result := selftest.run()).passed:
        why = f"Prowler {version} fails the self-test: {result.failed_text()}"
        how = "Pass --force to install anyway."
    elif selftest.standing(version) == "newer":
        return [f"Prowler {version} is newer than the tested range; self-test passed"]
    else:
        return []
    if not force:
        raise UserError(f"{why}; nothing changed. {how}")
    return [f"WARNING: {why}; installing anyway (--force)"]


def _unless_modified(install: ProwlerInstall, force: bool, replacement: str) -> str:
    """The active check's state; a check changed by hand is replaced only with ``force``."""
    state = active_check(install)
    if state == "modified" and not force:
        raise UserError(
            f"{install.check_dir} holds neither Prowler's built-in check nor ours (it was changed "
            f"by hand or by another tool); nothing changed. Pass --force to replace it {replacement}."
        )
    return state


def install_check(install: ProwlerInstall, force: bool = False) -> str:
    """Make Prowler run our check. Returns the report: a line, after the self-test's note if any."""
    notes = admit(install.version, force)
    if _unless_modified(install, force, "with ours") == "built-in":
        builtin = _builtin_part(install, _present_files(install.check_dir))
        if builtin is None:  # changed since active_check read it
            raise UserError(
                f"refusing to back up files that do not match Prowler's RECORD in {install.check_dir}",
                FAILED,
            )
        _write_files(install.backup_dir, builtin)
    _write_files(install.check_dir, _our_files())
    _save_marker(install)
    note = "" if install.backup_dir.is_dir() else " (no backup of the built-in check exists)"
    done = f"installed: Prowler {install.version} now runs prowler-vpc-flow-logs {__version__}'s {CHECK_ID}{note}"
    return "\n".join([*notes, done])


def uninstall_check(install: ProwlerInstall, force: bool = False) -> str:
    """Put Prowler's built-in check back and forget this Prowler's activation."""
    if _unless_modified(install, force, "with Prowler's built-in check") == "built-in":
        present = _present_files(install.check_dir)
        builtin = _builtin_part(install, present) or present
        if builtin != present:  # files of ours that pip left beside the built-in
            _write_files(install.check_dir, builtin)
            left = ", ".join(sorted(set(present) - set(builtin)))
            done = f"uninstalled: Prowler {install.version} runs its built-in {CHECK_ID}; removed {left}, left behind by pip"
        else:
            done = f"nothing to do: Prowler {install.version} already runs its built-in {CHECK_ID}"
    else:
        files = _backup(install)
        _write_files(install.check_dir, files)
        if not matches_record(_present_files(install.check_dir), install.record):
            raise UserError(
                f"{install.check_dir} does not match Prowler's RECORD after restoring it", FAILED
            )
        done = (
            f"uninstalled: Prowler {install.version} runs its built-in {CHECK_ID} again "
            f"({len(files)} files match the sha256 in its RECORD)"
        )
    return "\n".join([done, *_forget(install)])


def _forget(install: ProwlerInstall) -> list[str]:
    """What the state folder still holds, once this Prowler's activation records are gone."""
    for path, _ in _markers_of(install):
        with contextlib.suppress(OSError):
            path.unlink()
    with contextlib.suppress(OSError):
        (state_dir() / "activation").rmdir()  # only when empty
    kept, runs = [], list((state_dir() / "runs").glob("*.jsonl"))
    rm = f"rm -r {state_dir()}"
    if install.backup_dir.is_dir():
        why = "the verified built-in check, which a `prowler -x` run restores from while this package is installed"
        kept.append(f"kept: {install.backup_dir} ({why})")
    if runs:
        why = f"{len(runs)} fix run(s); `vpc-flow-logs backout` needs them"
        kept.append(f"kept: {runs[0].parent} ({why})")
        rm = f"rm -r {state_dir() / 'builtin'} (keep runs/ until its runs are backed out)"
    if kept:
        kept.append(f"after `pip uninstall prowler-vpc-flow-logs`, delete it: {rm}")
    return kept


def keep_check_after_custom_folder_run(check_file: str) -> None:
    """When the check runs from Prowler's tree, put the folder back if ``-x`` cleanup removes it
    (the CUSTOM_FOLDER_CLEANUP reliance)."""
    check_dir = Path(check_file).resolve().parent
    if check_dir.as_posix().endswith(CHECK_FOLDER):
        atexit.register(restore_after_custom_folder_run, check_dir)


def restore_after_custom_folder_run(check_dir: Path) -> None:
    """At exit of a ``prowler -x`` run: if Prowler removed the check folder, put back what was there."""
    if (check_dir / f"{CHECK_ID}.py").exists():
        return
    try:
        install = find_prowler()
        if _read_marker(install.marker).get("installed") or not install.backup_dir.is_dir():
            _write_files(install.check_dir, _our_files())
            _save_marker(install)
            what = "prowler-vpc-flow-logs's check"
        else:
            _write_files(install.check_dir, _backup(install))
            what = "the built-in check"
        said = f"Prowler removed {CHECK_ID} after the -x run; restored {what}."
    except Exception as error:  # an exit hook must never hide Prowler's own exit status
        said = f"could not restore {CHECK_ID} ({error}); run `vpc-flow-logs install`"
    print(f"prowler-vpc-flow-logs: {said}", file=sys.stderr)
