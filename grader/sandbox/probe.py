"""Does the bubblewrap sandbox work here?  Answered by the real thing, once per process.

Trusted side.  `probe()` checks that bwrap exists and accepts the sandbox's arguments, then
starts a real sandbox worker (which imports torch and numpy while it warms up), runs one
tiny submission through it (forked child, torch and numpy imported by "student" code,
a value sent back), and stops it.  A sandbox that passes lets `ExecutorPool` grade; one
that fails says what is wrong and how to fix it.  The result is cached per process: the
probe costs one worker cold start.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from dataclasses import dataclass

INSTALL_FIX = "install bubblewrap (apt-get install bubblewrap; dnf install bubblewrap)"
NAMESPACE_FIX = (
    "allow bwrap to create namespaces (sysctl kernel.unprivileged_userns_clone=1 and "
    "kernel.apparmor_restrict_unprivileged_userns=0; in a container, run it with --privileged "
    "or a seccomp profile that allows unshare and mount)"
)
MISSING = "bwrap (bubblewrap) is not installed"
WORKER_FIX = "run `grader doctor`; check that torch and numpy import in this Python"

PROBE_SOURCE = """
import numpy
import torch

def probe(n):
    return int(torch.tensor([n]).numpy().sum()) + int(numpy.int64(1))
"""


@dataclass(frozen=True)
class ProbeResult:
    """`problem` is "" when the sandbox works; else what is wrong and `fix` how to fix it.
    `seconds`: wall time until the probe worker was ready (its cold start), or None."""

    problem: str
    fix: str
    seconds: float | None

    @property
    def ok(self) -> bool:
        return not self.problem


_lock = threading.Lock()
_cache: ProbeResult | None = None


def probe() -> ProbeResult:
    """Whether sandboxed grading (isolation "bwrap") works in this process; cached."""
    global _cache
    with _lock:
        if _cache is None:
            _cache = _probe()
        return _cache


def start() -> None:
    """Begin `probe` in a background thread: its worker's cold start (about a second)
    overlaps the caller's own work, and a later `probe()` waits for it instead of probing
    again.  The thread starts and kills the probe's worker itself."""
    with _lock:
        if _cache is not None:
            return
    threading.Thread(target=probe, name="grader-sandbox-probe", daemon=True).start()


def fix_for(problem: str) -> str:
    """How to fix a problem `probe` reported."""
    if problem.startswith(MISSING):
        return INSTALL_FIX
    if problem.startswith("bwrap "):
        return NAMESPACE_FIX
    return WORKER_FIX


def _bwrap_runs() -> ProbeResult | None:
    """Quick check: bwrap with the sandbox's own arguments runs the interpreter."""
    from . import isolation

    if shutil.which("bwrap") is None:
        return ProbeResult(MISSING, INSTALL_FIX, None)
    try:
        with isolation.seccomp_fd() as fd:
            command = isolation.bwrap_command(1 << 20, fd) + [isolation.sandbox_path(isolation.python_executable()), "-I", "-S", "-c", "pass"]
            done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=60,
                                  pass_fds=() if fd is None else (fd,))
    except (OSError, subprocess.TimeoutExpired) as error:
        return ProbeResult(f"bwrap could not be run ({error})", NAMESPACE_FIX, None)
    if done.returncode != 0:
        detail = " ".join(done.stderr.decode("utf-8", "replace").split())[-400:]
        return ProbeResult(f"bwrap failed: {detail or f'exit status {done.returncode}'}", NAMESPACE_FIX, None)
    return None


def _probe() -> ProbeResult:
    failed = _bwrap_runs()
    if failed is not None:
        return failed
    from .api import Call, Limits, SandboxError
    from .pool import _WorkerProcess, make_job
    from .results import assemble

    limits = Limits(cpu_per_test=5.0, cpu_per_submission=10.0, wall_per_submission=20.0)
    started = time.perf_counter()
    worker = _WorkerProcess("bwrap", limits)
    try:
        try:
            worker.wait_ready()
        except SandboxError as error:
            return ProbeResult(f"a sandbox worker does not start under bwrap ({_one_line(str(error))})", WORKER_FIX, None)
        seconds = time.perf_counter() - started
        calls = [Call("probe", "probe", (41,))]
        job, buffers = make_job(PROBE_SOURCE, calls, limits)
        try:
            events = worker.run(job, buffers, limits)
        except Exception as error:  # _NotAccepted and pipe errors: the worker broke
            return ProbeResult(f"the sandbox worker did not take a job ({type(error).__name__} "
                               f"{_one_line(worker.log_tail())})", WORKER_FIX, seconds)
        result = assemble(calls, events, limits, "bwrap", 0.0)
    finally:
        worker.kill()
    call = result.calls["probe"]
    if result.status != "ok" or call.status != "ok" or call.value != 42:
        detail = _one_line(call.message or result.message or result.stderr)
        return ProbeResult(f"a submission does not run in the sandbox ({result.status}/{call.status}: {detail})",
                           WORKER_FIX, seconds)
    return ProbeResult("", "", seconds)


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else "..." + text[-limit:]
