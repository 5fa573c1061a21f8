"""The exit codes of every command, the REPL and the runtime's scripts: one table (torch-free).

README "Exit codes" documents them: 0 done, 1 a check did not hold, 2 invalid input
(nothing ran), 3 a runtime error, 130 interrupted.
"""
from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    # An expectation failed (run, test, repl); the two plans differ (diff, as diff(1));
    # fmt --check would change a file; models list/verify/prefetch/add found a problem.
    FAILED = 1
    # The recipe or the command line is invalid: nothing ran.
    INVALID = 2
    # A runtime error: a step failed (the failing line is shown), or `plan --explain` says the run would.
    RUNTIME = 3
    # Ctrl-C (128 + SIGINT).
    INTERRUPTED = 130

    def __str__(self) -> str:  # "2", not "ExitCode.INVALID", on every Python this package supports
        return str(self.value)


# The names the commands and the REPL have always used.
EXIT_OK = ExitCode.OK
EXIT_EXPECT = ExitCode.FAILED
EXIT_INVALID = ExitCode.INVALID
EXIT_RUNTIME = ExitCode.RUNTIME
EXIT_INTERRUPTED = ExitCode.INTERRUPTED
