"""ExecutorPool: warm sandbox workers, and the trusted side of their protocol.

Each worker is a long-lived process (see `worker`) that has imported torch once; a
submission takes an idle worker, sends it the source and the encoded calls, and collects
its events until "done".  A worker that dies or stops answering is killed and replaced;
its submission is reported "crashed" (or "timeout"), and the pool goes on.

Worker processes are started from one dedicated thread: bwrap's --die-with-parent (like
PR_SET_PDEATHSIG) fires when the *thread* that started it exits, and `run` may be called
from short-lived threads.
"""

from __future__ import annotations

import concurrent.futures
import functools
import os
import queue
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from . import framing, isolation as isolation_mod
from .api import Call, Limits, SandboxError, SubmissionResult
from .results import Events, assemble, failed_submission
from .session import CALL_FRAME_BYTES
from .source import check_source

START_TIMEOUT = 180.0
DEFERRED_BYTES = 4 << 20
"""Call frames are kept unchecked while the worker runs (and checked once it is free) up
to this many bytes received; past it they are checked as they come: a parsed header of a
value with many parts takes about 13 times its size on the wire."""
ANSWER_TIMEOUT = 30.0
BACKSTOP = 30.0


class _NotAccepted(Exception):
    """The worker was gone before it accepted the job: nothing of the submission ran."""


class _Spawner:
    """Runs process-starting functions on one long-lived thread."""

    def __init__(self) -> None:
        self._requests: queue.Queue[tuple[Callable[[], Any], concurrent.futures.Future] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="grader-sandbox-spawner", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            request = self._requests.get()
            if request is None:
                return
            function, future = request
            try:
                future.set_result(function())
            except BaseException as error:
                future.set_exception(error)
            del request, function, future  # hold nothing (a pool must stay collectable)

    def call(self, function: Callable[[], Any]) -> Any:
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._requests.put((function, future))
        return future.result()

    def close(self) -> None:
        self._requests.put(None)


class _WorkerProcess:
    """One worker process and the trusted end of its pipes."""

    def __init__(self, isolation: str, limits: Limits) -> None:
        self.isolation = isolation
        self.scratch = None if isolation == "bwrap" else tempfile.mkdtemp(prefix="grader-sandbox-")
        config = isolation_mod.worker_config(isolation, self.scratch)
        env = dict(isolation_mod.BASE_ENV)
        if self.scratch:
            env.update(HOME=self.scratch, TMPDIR=self.scratch)
        self.log = tempfile.TemporaryFile()
        with isolation_mod.seccomp_fd() as seccomp_fd:
            if isolation != "bwrap":
                seccomp_fd = None
            self.proc = subprocess.Popen(
                isolation_mod.worker_argv(isolation, max(4 * limits.file_size, 64 << 20), seccomp_fd),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.log,
                cwd=self.scratch or "/",
                env=env,
                close_fds=True,
                pass_fds=() if seccomp_fd is None else (seccomp_fd,),
                start_new_session=True,
                bufsize=0,
            )
        framing.widen_pipe(self.proc.stdin.fileno())
        framing.widen_pipe(self.proc.stdout.fileno())
        self.decoder = framing.FrameDecoder(limits.result_bytes + 2 * limits.output_bytes + (1 << 20),
                                            max_tokens=limits.frame_tokens)
        self.pending: list[framing.Frame] = []
        self.ready = False
        self.last_words = ""  # the end of its log, kept when it is killed
        try:
            framing.write_all(self.proc.stdin.fileno(), isolation_mod.boot_blob(config))
        except OSError:
            pass  # it died at once; wait_ready reports why
        os.set_blocking(self.proc.stdin.fileno(), False)

    # ------------------------------------------------------------ pipes

    def alive(self) -> bool:
        return self.proc.poll() is None

    def next_event(self, deadline: float) -> framing.Frame | None:
        """The next frame; None when the worker's stdout ended.  TimeoutError after deadline."""
        fd = self.proc.stdout.fileno()
        while not self.pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            data = os.read(fd, 1 << 20)
            if not data:
                return None
            self.pending.extend(self.decoder.feed(data))
        return self.pending.pop(0)

    def log_tail(self) -> str:
        try:
            self.log.seek(0, os.SEEK_END)
            size = self.log.tell()
            self.log.seek(max(0, size - 2000))
            return self.log.read().decode("utf-8", "replace").strip()
        except (OSError, ValueError):
            return ""

    def wait_ready(self) -> None:
        if self.ready:
            return
        try:
            frame = self.next_event(time.monotonic() + START_TIMEOUT)
        except (TimeoutError, framing.FrameError):
            frame = None
        if frame is None or frame[0].get("ev") != "ready":
            self.kill()  # waits for it, so its last words are in the log
            raise SandboxError(f"the sandbox worker ({self.isolation}) did not start: {self.last_words or 'no output'}")
        self.ready = True

    # ------------------------------------------------------------ one job

    def run(self, job: dict[str, Any], buffers: list[bytes], limits: Limits) -> Events:
        """Send one job and collect its events.  _NotAccepted when the worker was gone
        before it took the job."""
        if not self.alive():
            raise _NotAccepted
        self.wait_ready()
        try:
            framing.write_frame(self.proc.stdin.fileno(), job, buffers, time.monotonic() + ANSWER_TIMEOUT)
            accepted = self.next_event(time.monotonic() + ANSWER_TIMEOUT)
        except (OSError, TimeoutError, framing.FrameError):
            raise _NotAccepted from None
        if accepted is None or accepted[0].get("ev") != "accepted":
            raise _NotAccepted
        events = Events()
        deadline = time.monotonic() + limits.wall_per_submission + BACKSTOP
        count = len(job["calls"])
        # what a well-behaved worker can send: the values, the output, and bounded messages
        budget = (self.decoder.consumed + limits.results_total_bytes + 2 * limits.output_bytes
                  + (count + 32) * CALL_FRAME_BYTES)
        kept_from = self.decoder.consumed
        while True:
            try:
                frame = self.next_event(deadline)
            except TimeoutError:
                events.lost = ("timeout", "the sandbox stopped answering")
                return events
            except OSError:  # its pipes were closed under us: the pool is closing
                events.lost = ("crashed", "the sandbox worker was stopped")
                return events
            except framing.FrameError:
                frame = ({"ev": "malformed"}, [])
            if frame is None:
                events.lost = ("crashed", "the sandbox worker died")
                return events
            header, frame_buffers = frame
            if self.decoder.consumed > budget:
                events.lost = ("crashed", "the sandbox worker sent more data than the limits allow")
                return events
            event = header.get("ev")
            index = header.get("index")
            if event == "load" and events.load is None:
                events.load = (header.get("status"), header.get("message") if type(header.get("message")) is str else "")
            elif event == "call" and type(index) is int and 0 <= index < count and index not in events.frames \
                    and index not in events.calls:
                events.frames[index] = (header, frame_buffers)  # checked once the worker is free...
                if self.decoder.consumed - kept_from > DEFERRED_BYTES:  # ...unless they hold much memory
                    events.check(limits)
                    kept_from = self.decoder.consumed
            elif event == "done":
                events.done = (header, frame_buffers)
                return events
            else:
                events.lost = ("crashed", "the sandbox worker sent malformed data")
                return events

    def kill(self) -> None:
        """Kill the worker and everything in its sandbox; release its resources."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        if not self.log.closed:
            self.last_words = self.log_tail()
        for stream in (self.proc.stdin, self.proc.stdout, self.log):
            try:
                stream.close()
            except OSError:
                pass
        if self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)


def _descendants(roots: list[int]) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                parent = int(handle.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
    found, todo = [], list(roots)
    while todo:
        for pid in children.get(todo.pop(), []):
            found.append(pid)
            todo.append(pid)
    return found


def _shutdown(live: set[_WorkerProcess], lock: threading.Lock, spawner: _Spawner) -> None:
    with lock:
        workers = list(live)
        live.clear()
    for worker in workers:
        worker.kill()
    spawner.close()


def _check_calls(calls: Sequence[Call]) -> None:
    seen: set[str] = set()
    for call in calls:
        if not isinstance(call, Call):
            raise TypeError(f"calls must be Call objects, not {type(call).__name__}")
        if call.id in seen:
            raise ValueError(f"duplicate call id {call.id!r}")
        seen.add(call.id)


def make_job(text: str, calls: Sequence[Call], limits: Limits) -> tuple[dict[str, Any], list[bytes]]:
    """The job frame for a worker: source, calls with encoded arguments, limits.  Each
    distinct list of forbidden names is sent once (most calls of a function share one);
    a call's "forbidden" is its index in the job's "forbidden"."""
    from . import codec

    try:
        headers, buffers = codec.encode_many([(tuple(call.args), dict(call.kwargs)) for call in calls])
    except codec.CodecError as error:
        raise ValueError(f"call arguments must be plain data: {error}") from None
    lists: dict[tuple[str, ...], int] = {}
    described = [
        {"id": call.id, "function": call.function, "forbidden": lists.setdefault(tuple(call.forbidden), len(lists)),
         "args": header}
        for call, header in zip(calls, headers)
    ]
    return {"op": "run", "source": text, "calls": described, "forbidden": [list(names) for names in lists],
            "limits": limits.to_json()}, buffers


class ExecutorPool:
    """Warm sandbox workers that run submissions; thread-safe, a context manager.

    `isolation`: "auto" (bwrap when it works here, else rlimits with one warning per
    process), "bwrap" (SandboxError if it does not work) or "none" (rlimits only).
    `run` raises SandboxError only for failures of the sandbox itself.
    """

    def __init__(self, workers: int = 2, limits: Limits = Limits(), isolation: str = "auto") -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.limits = limits
        self.isolation = isolation_mod.choose(isolation)
        self._spawner = _Spawner()
        self._idle: queue.Queue[_WorkerProcess | None] = queue.Queue()
        self._live: set[_WorkerProcess] = set()
        self._lock = threading.Lock()
        self._closed = False
        # a pool dropped without close() still takes its workers down
        self._finalizer = weakref.finalize(self, _shutdown, self._live, self._lock, self._spawner)
        for _ in range(workers):
            self._idle.put(self._start())

    def _start(self) -> _WorkerProcess:
        worker = self._spawner.call(functools.partial(_WorkerProcess, self.isolation, self.limits))
        with self._lock:
            self._live.add(worker)
        return worker

    def _acquire(self) -> _WorkerProcess:
        if self._closed:
            raise RuntimeError("the ExecutorPool is closed")
        worker = self._idle.get()
        if worker is None:
            self._idle.put(None)  # wake the next waiter too
            raise RuntimeError("the ExecutorPool is closed")
        return worker

    def _retire(self, worker: _WorkerProcess) -> None:
        """Kill a worker and put a fresh one in its place."""
        worker.kill()
        with self._lock:
            self._live.discard(worker)
            if self._closed:
                return
        self._idle.put(self._start())

    def run(self, source: bytes | str, calls: Sequence[Call]) -> SubmissionResult:
        """Run exercise.py `source` and `calls` in a sandbox; blocks until done."""
        started = time.perf_counter()
        calls = tuple(calls)
        _check_calls(calls)
        checked = check_source(source, self.limits.source_bytes)
        if checked.text is None:
            return failed_submission(calls, checked.status, checked.message, self.isolation, time.perf_counter() - started)
        job, buffers = make_job(checked.text, calls, self.limits)
        for attempt in range(2):
            worker = self._acquire()
            try:
                events = worker.run(job, buffers, self.limits)
            except _NotAccepted:
                self._retire(worker)
                if attempt:
                    raise SandboxError(f"sandbox workers keep dying before taking a job: {worker.last_words}") from None
                continue
            except BaseException:
                self._retire(worker)
                raise
            if events.lost is not None:
                self._retire(worker)
            else:
                self._idle.put(worker)
            return assemble(calls, events, self.limits, self.isolation, time.perf_counter() - started)
        raise AssertionError("unreachable")

    def processes(self) -> list[int]:
        """Pids of the workers and of every process below them (host view), for monitoring."""
        with self._lock:
            roots = [worker.proc.pid for worker in self._live if worker.proc.poll() is None]
        return roots + _descendants(roots)

    def close(self) -> None:
        """Kill every worker.  Runs in progress end as "crashed"."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._finalizer()
        self._idle.put(None)

    def __enter__(self) -> ExecutorPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
