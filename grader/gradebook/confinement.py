"""Fail closed: batch grading runs student code only in a working sandbox, unless told not to.

`sandbox_mode(confined)` decides how a run may run student code: "bwrap" when the real
sandbox works here (`grader.sandbox.probe`), else `SandboxUnavailable` (one line: what is
missing and the fix) when `confined`, else "unconfined" (the caller shows
`UNCONFINED_BANNER` and the run is recorded so).  Student-side `grader check` does not use
this: it may still fall back, with its warning.
"""

from __future__ import annotations
from grader.errors import GraderError

UNCONFINED = "unconfined"
CONFINED = "bwrap"
NO_SANDBOX_HINT = "or pass --no-sandbox to run student code unconfined"
UNCONFINED_BANNER = (
    "WARNING: NO SANDBOX. Student code runs UNCONFINED (--no-sandbox): it can read and write "
    "your files and use the network. Reason: {problem}. This run is recorded as unconfined."
)


class SandboxUnavailable(GraderError, RuntimeError):
    """Student code would have to run without a working sandbox, and that was not allowed."""


def sandbox_problem() -> tuple[str, str] | None:
    """None when the sandbox works here; else (what is wrong, how to fix it)."""
    from grader.sandbox import isolation, probe

    problem = isolation.bwrap_problem()
    if problem is None:
        return None
    return problem, probe.fix_for(problem)


def start_sandbox_check() -> None:
    """Begin the check `sandbox_problem` makes, in the background (it boots a real
    worker, about a second); a later `sandbox_mode` waits for its answer."""
    from grader.sandbox import probe

    probe.start()


def sandbox_mode(confined: bool = True) -> str:
    """"bwrap" or "unconfined" (see the module docstring); SandboxUnavailable when the
    sandbox does not work and `confined`."""
    found = sandbox_problem()
    if found is None:
        return CONFINED
    problem, fix = found
    if confined:
        raise SandboxUnavailable(f"no working sandbox for student code: {problem}; fix: {fix}; {NO_SANDBOX_HINT}")
    return UNCONFINED


def pool_isolation(mode: str) -> str:
    """The ExecutorPool isolation of a sandbox mode."""
    return "bwrap" if mode == CONFINED else "none"
