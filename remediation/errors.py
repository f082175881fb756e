"""The one exception the remediation code raises for bad input or a refused run."""

from __future__ import annotations

BAD_INPUT = 2  # the exit code for anything the user can fix by changing the command
FAILED = 1  # the run went ahead but something did not work (or the user said no)


class RemediationError(Exception):
    """A message for the user and the exit code the CLI returns; raised before any AWS write."""

    def __init__(self, message: str, exit_code: int = BAD_INPUT) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) while a fix run was writing: the run id tells the user what to undo."""

    def __init__(self, run_id: str) -> None:
        super().__init__(run_id)
        self.run_id = run_id
