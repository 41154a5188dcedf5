"""The per-submission child: set up limits and file descriptors, then run exercise.py.

Runs inside the sandbox, in a process forked for one submission (or for the rest of one,
after a call crashed or timed out) by the template (`template`), never by the worker.  It never returns: it reads its job from fd 4,
reports over the result pipe (fd 3) and exits with os._exit.  The child for the next
submission is forked ahead of time (the worker's spare), while the worker waits for its
job.  It is not warmed up: running torch's common paths in every child cost about 13 ms
of CPU per submission, which a busy machine has no idle core to hide.

Messages on the result pipe, in order: {"ev": "load", "status", "message"}, then one
{"ev": "call", "index", "status", "message", "forbidden", "duration", "value"} (+ value
buffers) per call from `start`, then {"ev": "end"} (written together with the last one).
The worker times every step; nothing the child says is trusted beyond being this
student's answer.
"""

from __future__ import annotations

import builtins
import ctypes
import io
import math
import os
import resource
import signal
import sys
from typing import Any

from . import framing, harness
from .processes import PR_SET_DUMPABLE, PR_SET_PDEATHSIG, prctl

RESULT_FD = 3
JOB_FD = 4
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
_exit = os._exit


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def add_seccomp_filter(program: bytes) -> None:
    """Add a classic-BPF seccomp filter (8-byte instructions) to this process and the
    processes it forks; OSError when the kernel refuses (the child then never runs the job)."""
    libc = ctypes.CDLL(None, use_errno=True)
    code = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.cast(code, ctypes.c_void_p))
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or \
            libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"cannot add the child's seccomp filter: {os.strerror(error)}")


def _limit(which: int, value: int) -> None:
    _, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value))


class _CappedText(io.TextIOWrapper):
    """The child's sys.stdout and sys.stderr. Once `room` characters have been written
    (`cap_output`), more text is dropped here, without a system call: the worker keeps
    only the first `output_bytes` of each pipe, and a `print` loop would otherwise cost it
    a read per line. A second line only: `os.write(1, ...)` still reaches the pipe, where
    the worker's `Capture` is the cap."""

    room: int | None = None  # None until the job's limits are known

    def write(self, text: str) -> int:
        if self.room is not None and type(text) is str:
            if self.room <= 0:
                return len(text)
            self.room -= len(text)
        return super().write(text)


def _text_stream(fd: int, **options: bool) -> _CappedText:
    raw = io.BufferedWriter(io.FileIO(fd, "w", closefd=False))
    return _CappedText(raw, encoding="utf-8", errors="backslashreplace", **options)


def cap_output(characters: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, _CappedText):
            stream.room = characters


def _redirect(out_w: int, err_w: int, result_w: int, job_r: int) -> None:
    """fds 0-4 become /dev/null, stdout, stderr, results, job; every other fd is closed."""
    null = os.open(os.devnull, os.O_RDWR)
    sources = [os.dup(fd) for fd in (null, out_w, err_w, result_w, job_r)]
    for target, fd in enumerate(sources):
        os.dup2(fd, target)
    os.closerange(JOB_FD + 1, 1 << 16)
    sys.stdin = open(0, "r", closefd=False)
    sys.stdout = _text_stream(1, line_buffering=True)
    sys.stderr = _text_stream(2, write_through=True)


def prepare(cwd: str, pipes: tuple[int, int, int, int], uid: int | None, parent: int) -> None:
    """Detach, redirect fds, drop privileges to `uid` (the submission's own; None: keep
    ours).  Dies with `parent`, the template."""
    os.setsid()
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        _exit(0)  # the template died before we were told to die with it
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an over-size write fails with EFBIG instead of killing
    _redirect(*pipes)
    os.chdir(cwd)
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    prctl(PR_SET_DUMPABLE, 1)  # its own /proc entries, so that the worker may measure its memory (smaps_rollup)


def restrict(config: dict[str, Any], limits: dict[str, Any], cwd: str, cpu_left: float) -> None:
    """Apply the submission's rlimits, a clean environment and the import blocker."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    _limit(resource.RLIMIT_CORE, 0)
    _limit(resource.RLIMIT_FSIZE, int(limits["file_size"]))
    _limit(resource.RLIMIT_CPU, max(1, math.ceil(usage.ru_utime + usage.ru_stime + cpu_left)))
    _limit(resource.RLIMIT_AS, int(limits["address_space"]))
    _limit(resource.RLIMIT_NPROC, int(limits["processes"]))
    _limit(resource.RLIMIT_NOFILE, 1024)
    cap_output(int(limits["output_bytes"]))
    os.environ.clear()
    os.environ.update({"HOME": cwd, "TMPDIR": config.get("tmpdir") or cwd, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    sys.argv = [harness.FILENAME]
    builtins.exit = builtins.quit = sys.exit  # what `site` would have provided
    sys.meta_path.insert(0, harness.ImportBlocker(tuple(config["blocked"])))
    if config.get("child_seccomp"):
        add_seccomp_filter(bytes.fromhex(config["child_seccomp"]))  # no sockets (see `seccomp`)


_END = framing.pack({"ev": "end"})


def _send(header: dict[str, Any], buffers: list[bytes] = (), last: bool = False) -> None:
    """Write one frame; the last one goes together with "end", so the worker sees both at once."""
    framing.write_all(RESULT_FD, framing.pack(header, buffers) + (_END if last else b""))


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass


def run(job: dict[str, Any], buffers: list[bytes], start: int) -> None:
    """Import exercise.py and run the calls from `start`, reporting each; then exit."""
    calls = job["calls"]
    for call in calls:
        call["forbidden"] = job["forbidden"][call["forbidden"]]
    forbidden = tuple({name for call in calls[start:] for name in call["forbidden"]})
    guard = harness.ForbiddenGuard(forbidden)
    guard.install()
    with harness.op_watch_key(forbidden):
        loaded = harness.load(job["source"])
        _flush()
        nothing_to_run = loaded.module is None or start == len(calls)
        _send({"ev": "load", "status": loaded.status, "message": loaded.message}, last=nothing_to_run)
        if loaded.module is not None:
            max_bytes = int(job["limits"]["result_bytes"])
            for index in range(start, len(calls)):
                call = calls[index]
                try:
                    outcome = harness.run_call(loaded.module, call, call["args"], buffers, guard, max_bytes)
                except BaseException as error:  # decoding arguments or building a model failed
                    status = "memory" if isinstance(error, MemoryError) else "error"
                    outcome = harness.Outcome(status, harness.describe_exception(error))
                _flush()
                _send(
                    {
                        "ev": "call",
                        "index": index,
                        "status": outcome.status,
                        "message": outcome.message,
                        "forbidden": list(outcome.forbidden_calls),
                        "duration": outcome.duration,
                        "value": outcome.header,
                    },
                    outcome.buffers,
                    last=index == len(calls) - 1,
                )
    _exit(0)


def main(config: dict[str, Any], cwd: str, pipes: tuple[int, int, int, int], uid: int | None, parent: int) -> None:
    """Entry point right after fork: prepare, wait for the job on fd 4 ({"start", "cpu_left"},
    then the job frame as the trusted side sent it), run it.  Never returns."""
    try:
        prepare(cwd, pipes, uid, parent)
        reader = framing.FrameReader(JOB_FD, 1 << 40)
        control = reader.next()
        frame = reader.next()
        if control is None or frame is None:
            _exit(0)
        job, buffers = frame
        os.close(JOB_FD)
        restrict(config, job["limits"], cwd, float(control[0]["cpu_left"]))
        run(job, buffers, int(control[0]["start"]))
    except BaseException as error:
        try:
            os.write(2, f"sandbox child failed: {harness.describe_exception(error)}\n".encode())
        except BaseException:
            pass
    _exit(70)
