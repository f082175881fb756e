"""The one error type for users, its exit codes, and the interruption of a recorded run."""

from __future__ import annotations

FAILED = 1  # the command went ahead but something did not work (or the user said no)
BAD_INPUT = 2  # anything the user can fix by changing the command; nothing was written
INTERRUPTED = 130  # Ctrl-C or SIGTERM


class UserError(Exception):
    """A message for the user and the exit code the CLI returns (raised before any AWS write,
    unless the exit code is FAILED)."""

    def __init__(self, message: str, exit_code: int = BAD_INPUT) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) while a fix run was writing: the run id tells the user what to undo."""

    def __init__(self, run_id: str) -> None:
        super().__init__(run_id)
        self.run_id = run_id
