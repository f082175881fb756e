"""Break each promise of the fault matrix on purpose and check that the matrix notices.

For each mutant: change one line of the plug-in's source in this checkout (the venv's editable
install imports it from here), run the matrix tests named for it, expect them to fail, restore
the file.
Usage: python -m devtools.mutants [NAME ...]   (exit 1 if any mutant survives)
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str  # module path inside the package, e.g. "remediation/apply.py"
    old: str
    new: str
    tests: tuple[str, ...]


MUTANTS = (
    Mutant(
        "describe-flow-logs-denied-reads-as-no-flow-logs",
        "service.py",
        'data.flow_logs_error = read_error("ec2:DescribeFlowLogs", region, error)',
        "data.flow_logs_error = None",
        ("tests/test_matrix_denied_reads.py",),
    ),
    Mutant(
        "failed-probe-counts-as-usable",
        "destinations.py",
        'status="error", detail=f"{action} failed ({code}); {advice(action, code)}"',
        'status="unverifiable", detail=f"{action} failed ({code})"',
        ("tests/test_matrix_denied_reads.py",),
    ),
    Mutant(
        "head-bucket-403-means-exists",
        "destinations.py",
        'return DestinationState(status="error", detail=S3_FORBIDDEN)',
        'return DestinationState(status="exists")',
        ("tests/test_matrix_denied_reads.py",),
    ),
    Mutant(
        "throttling-advice-dropped",
        "aws_errors.py",
        "    if throttled(code):",
        "    if False:",
        ("tests/test_matrix_throttling.py",),
    ),
    Mutant(
        "backout-session-without-prowlers-retries",
        "prowler_provider.py",
        "core.set_default_client_config(get_default_session_config())",
        "pass",
        (
            "tests/test_matrix_throttling.py::test_retries_are_configured_once_for_the_check_the_fix_and_the_backout",
        ),
    ),
    Mutant(
        "created-flow-log-not-recorded",
        "remediation/batches.py",
        "            self.ledger.append(FlowLogCreated(",
        "            (FlowLogCreated(",
        ("tests/test_matrix_fix_faults.py",),
    ),
    Mutant(
        "destination-not-read-again-before-apply",
        "remediation/apply.py",
        "    why = destination_gone(plan.settings, region, client_for, plan.account)",
        "    why = None",
        ("tests/test_matrix_fix_faults.py",),
    ),
    Mutant(
        "lost-answer-not-looked-up-by-tag",
        "remediation/batches.py",
        "        outcome, rest, _ = self._appeared(fixes, before)",
        "        outcome, rest, _ = Outcome(), fixes, None",
        ("tests/test_matrix_fix_faults.py",),
    ),
    Mutant(
        "backout-trusts-the-ledger-alone",
        "remediation/backout.py",
        "    places = set(search_places(events)) if events else set()",
        "    places = set()",
        ("tests/test_matrix_fix_faults.py",),
    ),
    Mutant(
        "backout-ignores-the-run-tag",
        "remediation/backout.py",
        "if tags.get(TAG_KEY) != self.run_id:",
        "if False:",
        ("tests/test_matrix_backout_safety.py",),
    ),
    Mutant(
        "backout-hides-other-flow-logs",
        "remediation/backout.py",
        "self.result.others.update(others)",
        "pass",
        ("tests/test_matrix_backout_safety.py",),
    ),
    Mutant(
        "fix-accepts-an-invalid-config-value",
        "cli/fix.py",
        "    if problems:\n        raise",
        "    if False:\n        raise",
        ("tests/test_matrix_bad_input.py",),
    ),
    Mutant(
        "an-empty-knob-counts-as-unset",
        "config.py",
        "    if knob.key not in config or knob.read(config[knob.key]) is not None:",
        "    if knob.key not in config or config[knob.key] is None or knob.read(config[knob.key]) is not None:",
        ("tests/test_matrix_bad_input.py",),
    ),
    Mutant(
        "a-denied-bucket-read-means-nothing-to-fear",
        "destinations.py",
        'state.unread[fact] = f"{action} failed ({code}); {advice(action, code)}"',
        'setattr(state, fact, "aws:kms" if fact == "encryption" else [])',
        ("tests/test_matrix_denied_reads.py",),
    ),
    Mutant(
        "the-fix-ignores-the-knobs",
        "remediation/plan.py",
        "    settings = settings_for(settings, scan.policy)\n",
        "",
        ("tests/test_remediation_knobs.py",),
    ),
    Mutant(
        "status-misses-a-reinstalled-prowler",
        "activation.py",
        '    earlier = [m for _, m in _markers_of(install) if m.get("installed")]',
        "    earlier = []",
        ("tests/test_matrix_plugin_safety.py",),
    ),
    Mutant(
        "install-ignores-a-failed-self-test",
        "activation.py",
        "    elif not (result := selftest.run()).passed:\n",
        "    elif (result := selftest.run()) and False:\n",
        ("tests/test_matrix_plugin_safety.py",),
    ),
    Mutant(
        "a-probe-that-cannot-fail",
        "selftest.py",
        '                failures.append(Failure(reliance=reliance, reason=f"{named}{error}"))',
        "                pass",
        ("tests/test_selftest.py",),
    ),
    Mutant(
        "manual-findings-still-crash-prowler-5.32.0-tables",
        "prowler_integration.py",
        "                setattr(module, TALLY, accumulate_group_status)",
        "                pass",
        ("tests/test_prowler_integration.py",),
    ),
    Mutant(
        "uninstall-restores-when-nothing-to-do",
        "activation.py",
        """    if _unless_modified(install, force, "with Prowler's built-in check") == "built-in":""",
        """    if _unless_modified(install, force, "with Prowler's built-in check") == "nothing":""",
        ("tests/test_matrix_plugin_safety.py",),
    ),
)


def _drop_bytecode(source: Path) -> None:
    for cached in (source.parent / "__pycache__").glob(f"{source.stem}.*.pyc"):
        cached.unlink()


def killed(mutant: Mutant) -> bool:
    """True when one of the mutant's tests fails on an assertion (the mutant is caught)."""
    module = "prowler_vpc_flow_logs." + mutant.path.removesuffix(".py").replace("/", ".")
    source = Path(importlib.util.find_spec(module).origin)
    original = source.read_text()
    if original.count(mutant.old) != 1:
        raise SystemExit(f"{mutant.name}: the line to mutate is not found once in {source}")
    try:
        source.write_text(original.replace(mutant.old, mutant.new))
        _drop_bytecode(source)
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *mutant.tests],
            capture_output=True,
            text=True,
        )
    finally:
        source.write_text(original)
        _drop_bytecode(source)
    # exit 1 with "failed": a test's assertion caught it (not an import or collection error)
    return done.returncode == 1 and " failed" in done.stdout.strip().splitlines()[-1]


def main(names: list[str]) -> int:
    chosen = [m for m in MUTANTS if not names or m.name in names]
    survivors = []
    for mutant in chosen:
        caught = killed(mutant)
        print(
            f"{'caught  ' if caught else 'SURVIVED'}  {mutant.name}  ({', '.join(mutant.tests)})",
            flush=True,
        )
        if not caught:
            survivors.append(mutant.name)
    print(f"{len(chosen) - len(survivors)} of {len(chosen)} mutants caught")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
