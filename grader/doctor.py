"""`grader doctor`: is this machine ready to grade?  One check per line, as data.

Checks: Python, torch (and numpy), bwrap (version, namespaces, seccomp), cgroup v2
delegation (memory + pids), chromium (the browser tests), and a sandbox worker's cold start
(the real probe of `grader.sandbox.probe`).  Each is ok or missing with the fix.  `ready`
is True when grading can run confined: torch imports and the sandbox probe passed.  cgroup
delegation and chromium are reported but not required.
"""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report: `detail` says what was found, `fix` how to fix it
    when not ok; `required` checks decide whether grading can run confined."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True


@dataclass(frozen=True)
class Diagnosis:
    checks: list[Check]

    @property
    def ready(self) -> bool:
        """Grading can run confined here."""
        return all(check.ok for check in self.checks if check.required)


def _python() -> Check:
    where = sys.executable + (f" (virtual environment {sys.prefix})" if sys.prefix != sys.base_prefix else "")
    ok = sys.version_info >= (3, 10)
    return Check("python", ok, f"{platform.python_version()} {where}", "" if ok else "use Python 3.10 or newer")


def _torch() -> Check:
    try:
        import numpy
        import torch
    except ImportError as error:
        return Check("torch", False, f"cannot import: {error}", "pip install torch numpy")
    return Check("torch", True, f"torch {torch.__version__}, numpy {numpy.__version__}")


def _command_version(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (done.stdout or done.stderr).strip().splitlines()[0] if (done.stdout or done.stderr).strip() else ""


def _bwrap() -> Check:
    from grader.sandbox import isolation, probe, seccomp

    if shutil.which("bwrap") is None:
        return Check("bwrap", False, probe.MISSING, probe.INSTALL_FIX)
    version = _command_version(["bwrap", "--version"]) or "bwrap (unknown version)"
    failed = probe._bwrap_runs()
    if failed is not None:
        return Check("bwrap", False, f"{version}; namespaces: {failed.problem}", failed.fix)
    if isolation.privileged():
        namespaces = "pid, net, ipc, uts, cgroup (root: per-submission uids)"
    else:
        namespaces = "user, pid, net, ipc, uts, cgroup"
    filtered = "filter loaded" if seccomp.program() is not None else f"no filter for {platform.machine()}"
    return Check("bwrap", True, f"{version}; namespaces: {namespaces}; seccomp: {filtered}")


def _cgroup() -> Check:
    from grader.sandbox.mechanism import CGROUP_FIX, cgroup_v2_problem, limits_mechanism

    mechanism, why = limits_mechanism()
    problem = cgroup_v2_problem()
    if problem is None:
        return Check("cgroup", True, f"a cgroup v2 could be delegated; limits: {mechanism} ({why})", required=False)
    return Check("cgroup", False, f"no delegation: {problem}; limits are summed over each submission's "
                                  "processes from /proc instead", CGROUP_FIX, required=False)


def _chromium() -> Check:
    path = next((shutil.which(name) for name in CHROMIUM_NAMES if shutil.which(name)), None)
    if path is None:
        return Check("chromium", False, "not installed (only the browser tests need it)",
                     "apt-get install chromium", required=False)
    version = _command_version([path, "--version"]) or path
    return Check("chromium", True, f"{version} ({path}; browser tests)", required=False)


def _worker() -> Check:
    from grader.sandbox import probe

    result = probe.probe()
    if result.ok:
        return Check("worker", True, f"a sandboxed worker started (torch, numpy) and graded a call; "
                                     f"cold start {result.seconds:.2f} s")
    return Check("worker", False, result.problem, result.fix)


def diagnose() -> Diagnosis:
    """Run every check (the worker check starts a sandboxed worker: a few seconds)."""
    return Diagnosis([_python(), _torch(), _bwrap(), _cgroup(), _chromium(), _worker()])
