"""One submission inside the worker: the forked children that run it, and their watch.

Runs inside the sandbox, in the worker process.  A `Submission` runs `Session`s: each is one
`Child` (see `child.main`, forked by the template) running the calls from some index on,
watched for per-call CPU and wall time, the submission's wall and CPU budgets, output
volume, and the number and memory of its processes.  CPU time and memory are summed over
every process of the submission (`processes`).  A call that overruns, crashes or garbles
its answer is blamed and reported, every process of the submission is killed, and the
next session resumes with the next call, in a fresh child with the submission's uid.

What a child reports is checked before it is forwarded: frames are capped in bytes and in
JSON tokens before they are parsed, events must come in order with known statuses,
messages are clipped.  A value is looked at without being built (`codec.check_counted`:
the codec's node kinds and keys, caps on bytes, parts and depth, per value and for the
whole submission), and the frame written again for it must keep within the caps the
trusted side applies to it (bytes, JSON tokens) and the submission's total bytes; else the
call is "bad-output".  So what reaches the trusted side is a value tree of bounded size,
never bulk JSON it would pay to parse (about 1 s of its CPU, GIL held, per 5 MB of empty
lists).  The value is forwarded as sent, not rebuilt: the trusted side decodes it with
the same caps (`results.checked_call`), and that check is the boundary.
"""

from __future__ import annotations

import os
import select
import signal
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import codec, framing, processes

if TYPE_CHECKING:
    from .worker import Worker

POLL = 0.02
BATCH = 0.001
FLOOD_PAUSE = 0.0005
MEMORY_POLL = 0.25
SLACK = 1 << 20
CALL_STATUSES = frozenset(("ok", "error", "not-implemented", "missing-function", "memory", "forbidden", "bad-output"))
LOAD_STATUSES = frozenset(("ok", "syntax-error", "import-error"))
MESSAGE_CHARS = 4000
FORBIDDEN_NAMES = 50
NAME_CHARS = 200
CALL_FRAME_BYTES = 4 * (MESSAGE_CHARS + FORBIDDEN_NAMES * (NAME_CHARS + 4)) + 4096
"""The most a forwarded call frame holds besides its value and buffers: its message and
forbidden names (clipped to these many characters, 4 bytes each at most in UTF-8, with
their quotes and commas) and its other fields.  The trusted side allows this much per call."""


def _clip(text: Any, limit: int = MESSAGE_CHARS) -> str:
    return text[:limit] if type(text) is str else ""


def _seconds(value: Any) -> float:
    return float(value) if type(value) in (int, float) and 0 <= value < 1e9 else 0.0


def _describe_exit(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return f"the process was killed by {name}"
    if os.WIFEXITED(status):
        return f"the process exited with code {os.WEXITSTATUS(status)}"
    return "the process stopped"

@dataclass
class Capture:
    """The first `cap` bytes written to one output pipe; the rest is read and dropped.

    Once full it reads a whole pipe's worth (`framing.PIPE_BYTES`) at a time into one
    reused buffer.  The watcher lets a pipe fill (`FLOOD_PAUSE`) after each read, full or
    not: a flood, or a cap's worth written a byte at a time, then costs the worker a
    wake-up per pause, not one per `print` or `os.write`."""

    cap: int
    data: bytearray = field(default_factory=bytearray)
    dropped: int = 0
    _scratch: bytearray = field(default_factory=bytearray, repr=False)

    @property
    def full(self) -> bool:
        return len(self.data) >= self.cap

    def read(self, fd: int) -> bool:
        """Read what is available; False at end of stream."""
        if self.full:
            return self._drop(fd)
        try:
            chunk = os.read(fd, 1 << 16)
        except BlockingIOError:
            return True
        if not chunk:
            return False
        room = max(0, self.cap - len(self.data))
        self.data += chunk[:room]
        self.dropped += len(chunk) - min(room, len(chunk))
        return True

    def _drop(self, fd: int) -> bool:
        if not self._scratch:
            self._scratch = bytearray(framing.PIPE_BYTES)
        try:
            count = os.readv(fd, [self._scratch])
        except BlockingIOError:
            return True
        self.dropped += count
        return count > 0


class Child:
    """A child forked by the template for `uid` (see `child.main`), and the worker's ends
    of its pipes."""

    def __init__(self, worker: Worker, uid: int | None) -> None:
        result_r, result_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        job_r, job_w = os.pipe()
        for fd in (result_r, out_r, err_r, job_r):
            framing.widen_pipe(fd)
        try:
            pid = worker.template.spawn(uid, worker.cwd, (out_w, err_w, result_w, job_r))
        except BaseException:
            for fd in (result_r, result_w, out_r, out_w, err_r, err_w, job_r, job_w):
                os.close(fd)
            raise
        for fd in (result_w, out_w, err_w, job_r):
            os.close(fd)
        for fd in (result_r, out_r, err_r):
            os.set_blocking(fd, False)
        self.worker = worker
        self.uid = uid
        self.pid = pid
        self.result_fd, self.out_fd, self.err_fd, self.job_fd = result_r, out_r, err_r, job_w
        self.pidfd = os.pidfd_open(pid)
        self.stat_fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
        self.reaped = False

    def start(self, raw_job: bytes, start: int, cpu_left: float) -> bool:
        """Hand the child its job (the job frame as the trusted side sent it); False if it is gone."""
        try:
            framing.write_all(self.job_fd, framing.pack({"start": start, "cpu_left": cpu_left}) + raw_job)
        except OSError:
            return False
        finally:
            os.close(self.job_fd)
            self.job_fd = -1
        return True

    def stat(self) -> processes.Stat | None:
        try:
            return processes.parse_stat(self.pid, os.pread(self.stat_fd, 4096, 0))
        except (OSError, IndexError, ValueError):
            return None

    def cpu(self) -> float:
        """CPU seconds used so far by the child itself (all its threads)."""
        stat = self.stat()
        return 0.0 if stat is None else stat.own_cpu

    def kill(self) -> int:
        """SIGKILL the child and have the template wait for it (the worker counts its CPU
        time, its reaped children's included): its wait status."""
        if self.reaped:
            return 0
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.reaped = True
        status, cpu = self.worker.reap(self.pid)
        self.worker.reaped_cpu += cpu
        return status

    def close(self) -> None:
        for fd in (self.result_fd, self.out_fd, self.err_fd, self.pidfd, self.stat_fd, self.job_fd):
            if fd >= 0:
                os.close(fd)


@dataclass
class SessionEnd:
    """How one child session ended."""

    load: str = "ok"
    load_message: str = ""
    next_index: int = 0
    out_of_time: str = ""  # non-empty: the submission's budget is spent, with the reason


class Submission:
    """One job: sessions of forked children until every call has an outcome."""

    def __init__(self, worker: Worker, job: dict[str, Any], raw_job: bytes, spare: Child) -> None:
        self.worker = worker
        self.raw_job = raw_job
        self.spare: Child | None = spare
        self.limits = job["limits"]
        self.calls = job["calls"]
        self.started = time.monotonic()
        self.deadline = self.started + float(self.limits["wall_per_submission"])
        self.cpu_left = float(self.limits["cpu_per_submission"])
        self.out = Capture(int(self.limits["output_bytes"]))
        self.err = Capture(int(self.limits["output_bytes"]))
        self.max_frame = int(self.limits["result_bytes"]) + SLACK
        self.max_tokens = int(self.limits["frame_tokens"])
        self.value_bytes = 0
        self.value_nodes = 0
        self.uid = spare.uid

    def child(self, start: int) -> Child:
        """The spare child for the first session, a new one (same uid) for later sessions."""
        candidate, self.spare = self.spare, None
        if candidate is not None:
            if candidate.start(self.raw_job, start, self.cpu_left):
                return candidate
            candidate.kill()
            candidate.close()
        fresh = self.worker.spawn(self.uid)
        fresh.start(self.raw_job, start, self.cpu_left)
        return fresh

    def run(self) -> None:
        status, message = "ok", ""
        index, first = 0, True
        last: Session | None = None
        while first or index < len(self.calls):
            if time.monotonic() >= self.deadline or self.cpu_left <= 0:
                status, message = "timeout", "the submission ran out of time"
                break
            last = Session(self, self.child(index), index, first)
            end = last.run()
            if first:
                first = False
                if end.load != "ok":
                    status, message = end.load, end.load_message
                    break
            elif end.load != "ok":
                self.fail_rest(end.next_index, end.load, end.load_message)
                break
            index = end.next_index
            if end.out_of_time:
                status, message = "timeout", end.out_of_time
                break
        if last is not None and last.finished:
            last.drain(0.0)  # it flushed its output before saying "end"
        self.worker.send(
            {"ev": "done", "status": status, "message": message, "dropped": [self.out.dropped, self.err.dropped]},
            [bytes(self.out.data), bytes(self.err.data)],
        )
        self.worker.flush()
        if last is not None and last.finished:
            last.stop()

    def forward(self, header: dict[str, Any], buffers: list[bytes]) -> None:
        """Pass a call's result on as the child sent it, an "ok" one only when its value
        passes `value_problem`; else "bad-output"."""
        if header["status"] != "ok":
            self.worker.send_packed(framing.pack(header, buffers))
            return
        problem, frame = self.value_problem(header, buffers)
        if problem:
            frame = framing.pack(dict(header, status="bad-output", message=_clip(problem), value=None))
        self.worker.send_packed(frame)

    def value_problem(self, header: dict[str, Any], buffers: list[bytes]) -> tuple[str, bytes]:
        """("", the frame to forward) for a value within every cap, else (why not, b"").
        The value is checked, not built (`codec.check_counted`, finite numbers only: JSON
        has no others); the frame written again for it must stay within the byte and token
        caps of the trusted side's reader (a number can grow, "1e15" to
        "1000000000000000.0", and an escaped "," is one once written again)."""
        per_value = int(self.limits["result_nodes"])
        max_bytes = int(self.limits["result_bytes"])
        cap = min(per_value, max(int(self.limits["results_total_nodes"]) - self.value_nodes, 0))
        try:
            nodes = codec.check_counted(header["value"], buffers, max_bytes=max_bytes, max_nodes=cap)
        except codec.CodecError as error:
            return codec.total_parts_message(error, cap, per_value, int(self.limits["results_total_nodes"])), b""
        except MemoryError:
            return "the value is too large to check", b""
        frame = framing.pack(header, buffers)
        if len(frame) > self.max_frame:
            return f"the value is larger than {max_bytes} bytes", b""
        if framing.header_tokens(frame) > self.max_tokens:
            return f"the value has more than {per_value} parts", b""
        self.value_bytes += len(frame)
        if self.value_bytes > int(self.limits["results_total_bytes"]):
            return f"the submission's values exceed {self.limits['results_total_bytes']} bytes in total", b""
        self.value_nodes += nodes
        return "", frame

    def fail_rest(self, start: int, load: str, message: str) -> None:
        """exercise.py failed when imported again after a call was stopped."""
        status = {"timeout": "timeout", "crashed": "crashed"}.get(load, "error")
        text = f"exercise.py failed when imported again after an earlier call was stopped: {message}"
        for index in range(start, len(self.calls)):
            self.report(index, status, text)

    def skip_same_function(self, index: int, status: str) -> int:
        """After call `index` hit a time or memory limit, give the calls of the same
        function that follow it the same status without running them (an endless loop
        costs one CPU limit, not one per test).  Returns the next call to run."""
        function = self.calls[index]["function"]
        following = index + 1
        while following < len(self.calls) and self.calls[following]["function"] == function:
            self.report(following, status, f"not run: an earlier call of {function} hit the {status} limit")
            following += 1
        return following

    def report(self, index: int, status: str, message: str, duration: float = 0.0) -> None:
        self.worker.send({"ev": "call", "index": index, "status": status, "message": message, "forbidden": [],
                          "duration": duration, "value": None})


class Session:
    """One child running calls from `start` on, watched until it ends or is stopped."""

    def __init__(self, submission: Submission, process: Child, start: int, first: bool) -> None:
        self.sub = submission
        self.child = process
        self.first = first
        self.end = SessionEnd(next_index=start)
        self.phase: int | None = None  # None: importing; i < len(calls): running call i; len(calls): finishing
        self.phase_started = time.monotonic()
        self.finished = False
        self.stop_reason: tuple[str, str] | None = None  # (status, message) for the current phase
        self.decoder = framing.FrameDecoder(submission.max_frame, max_tokens=submission.max_tokens)
        self.reaped_at_start = submission.worker.reaped_cpu
        self.scanned_cpu = 0.0  # at the last scan: the other processes', and the child's reaped children's
        self.cpu_now: float | None = None  # the submission's CPU time, read once per batch of results
        self.phase_cpu = self.cpu_at_start = self.tree_cpu()  # what a child used before its job is not the student's

    def tree_cpu(self) -> float:
        """CPU seconds used by every process of this session: the child's own (read now),
        the rest as of the last scan, and what the worker waited for since the start."""
        return self.child.cpu() + self.scanned_cpu + (self.sub.worker.reaped_cpu - self.reaped_at_start)

    def run(self) -> SessionEnd:
        """Watch the child; unless it finished normally, kill it and blame the running phase."""
        try:
            self.watch()
        finally:
            if not self.finished:
                status = self.stop()
        if not self.finished:
            self.blame(status)
        return self.end

    def watch(self) -> None:
        limits = self.sub.limits
        cpu_per_test = float(limits["cpu_per_test"])
        wall_per_test = float(limits["wall_per_test"])
        child = self.child
        readers = {child.result_fd, child.out_fd, child.err_fd, child.pidfd}
        next_check = next_memory_check = time.monotonic() + POLL
        while True:
            now = time.monotonic()
            timeout = max(0.0, min(next_check, self.sub.deadline, self.phase_started + wall_per_test) - now)
            ready, _, _ = select.select(list(readers), [], [], timeout)
            for fd in ready:
                if fd == child.out_fd or fd == child.err_fd:
                    if not (self.sub.out if fd == child.out_fd else self.sub.err).read(fd):
                        readers.discard(fd)
                elif fd == child.result_fd:
                    if not self.read_results():
                        readers.discard(fd)
            self.sub.worker.flush()
            if self.finished or self.stop_reason:
                return
            if child.pidfd not in ready:
                if child.result_fd in ready:
                    time.sleep(BATCH)  # let the child's next results pile up: fewer wake-ups on both sides
                elif child.out_fd in ready or child.err_fd in ready:
                    time.sleep(FLOOD_PAUSE)  # let the output pile up: a read per pause, not one per write
            if child.pidfd in ready:
                self.read_results()  # what it wrote before dying
                if not self.finished and not self.stop_reason:
                    self.stop_reason = ("crashed", "")
                return
            now = time.monotonic()
            if now >= self.sub.deadline:
                self.stop_reason = ("timeout", "the submission ran out of time")
                self.end.out_of_time = "the submission exceeded its time limit"
                return
            if now - self.phase_started >= wall_per_test:
                self.stop_reason = ("timeout", f"exceeded the time limit of {wall_per_test:g} s (wall clock)")
                return
            if now >= next_check:
                next_check = now + POLL
                if now >= next_memory_check:
                    next_memory_check = now + MEMORY_POLL
                    if self.check_processes(limits):
                        return
                cpu = self.tree_cpu()
                if cpu - self.phase_cpu > cpu_per_test:
                    self.stop_reason = ("timeout", f"exceeded the CPU time limit of {cpu_per_test:g} s")
                    return
                if cpu - self.cpu_at_start > self.sub.cpu_left:
                    self.stop_reason = ("timeout", "the submission used up its CPU time")
                    self.end.out_of_time = "the submission used up its CPU time"
                    return

    def check_processes(self, limits: dict[str, Any]) -> bool:
        """Scan every process of the submission: wait for the orphans that ended, note the
        CPU time of the others, and stop a submission that forked up to its process limit
        or whose processes together hold more memory than one may address, or whose
        memory cannot be measured (sets stop_reason)."""
        worker = self.sub.worker
        child_pid = self.child.pid
        live, rest = [], 0.0
        for stat in worker.scan():
            if stat.state == "Z" and stat.ppid == worker.pid:  # an orphan that ended
                try:
                    if worker.wait(stat.pid, os.WNOHANG)[0]:
                        continue  # its CPU time is in worker.reaped_cpu now
                except ChildProcessError:
                    continue
            live.append(stat.pid)
            rest += stat.children_cpu if stat.pid == child_pid else stat.cpu
        self.scanned_cpu = rest
        if len(live) >= int(limits["processes"]):
            self.stop_reason = ("crashed", f"started too many processes (the limit is {limits['processes']})")
        elif len(live) > 1:
            cap = int(limits["address_space"])
            used = processes.total(processes.resident, live)
            if used is None or used > cap:  # an upper bound: check with the proportional measure
                with processes.as_fs_uid(self.sub.uid):
                    used = processes.total(processes.proportional, live)
            if used is None:
                self.stop_reason = ("memory", "the memory of its processes could not be measured")
            elif used > cap:
                self.stop_reason = ("memory", "its processes together used more memory than allowed")
        return self.stop_reason is not None

    def read_results(self) -> bool:
        """Read and handle what the child sent; False at end of stream."""
        while True:
            try:
                data = os.read(self.child.result_fd, 1 << 20)
            except BlockingIOError:
                return True
            if not data:
                return False
            try:
                frames = self.decoder.feed(data)
            except framing.FrameError as error:
                self.stop_reason = ("bad-output", f"the process sent malformed results ({error})")
                return True
            self.cpu_now = None
            for header, buffers in frames:
                self.handle(header, buffers)
                if self.finished or self.stop_reason:
                    return True

    def next_phase(self) -> None:
        if self.cpu_now is None:
            self.cpu_now = self.tree_cpu()
        self.phase = self.end.next_index
        self.phase_started = time.monotonic()
        self.phase_cpu = self.cpu_now

    def handle(self, header: dict[str, Any], buffers: list[bytes]) -> None:
        event = header.get("ev")
        count = len(self.sub.calls)
        if self.phase is None:
            status = header.get("status")
            if event != "load" or status not in LOAD_STATUSES:
                self.stop_reason = ("crashed", "the process sent malformed results")
                return
            self.end.load, self.end.load_message = status, _clip(header.get("message"))
            if self.first:
                self.sub.worker.send({"ev": "load", "status": status, "message": self.end.load_message})
            if status != "ok":
                self.finished = True
                return
            self.next_phase()
            return
        if self.phase < count:
            if framing.TOO_COMPLEX in header:  # a value with far too many parts: refused unread
                header = {"ev": "call", "index": self.phase, "status": "bad-output",
                          "message": f"the value has more than {self.sub.limits['result_nodes']} parts"}
                event = "call"
            status = header.get("status")
            if event != "call" or header.get("index") != self.phase or status not in CALL_STATUSES:
                self.stop_reason = ("bad-output", "the process sent malformed results")
                return
            forbidden = header.get("forbidden")
            if type(forbidden) is not list or not all(type(name) is str for name in forbidden):
                forbidden = []
            self.sub.forward(
                {
                    "ev": "call",
                    "index": self.phase,
                    "status": status,
                    "message": _clip(header.get("message")),
                    "forbidden": [_clip(name, NAME_CHARS) for name in forbidden[:FORBIDDEN_NAMES]],
                    "duration": _seconds(header.get("duration")),
                    "value": header.get("value") if status == "ok" else None,
                },
                buffers if status == "ok" else [],
            )
            self.end.next_index += 1
            self.next_phase()
            return
        if event == "end":
            self.finished = True
        else:
            self.stop_reason = ("bad-output", "the process sent results after its last call")

    # ------------------------------------------------------------ ending

    def stop(self) -> int:
        """Kill every process of the submission, collect the child's exit status, count the
        CPU time of every process of the session, and read the output pipes to their end."""
        status = self.child.kill()
        self.sub.worker.kill_everything()
        self.sub.cpu_left -= self.sub.worker.reaped_cpu - self.reaped_at_start - self.cpu_at_start
        self.drain(0.5)
        self.child.close()
        return status

    def drain(self, patience: float) -> None:
        """Read the output pipes until they end (every writer is dead) or `patience` runs
        out; with no patience, read what is there now (at most 50 ms)."""
        deadline = time.monotonic() + max(patience, 0.05)
        open_fds = [self.child.out_fd, self.child.err_fd]
        while open_fds:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            ready, _, _ = select.select(open_fds, [], [], remaining if patience else 0)
            if not ready:
                return
            for fd in ready:
                if not (self.sub.out if fd == self.child.out_fd else self.sub.err).read(fd):
                    open_fds.remove(fd)

    def blame(self, exit_status: int) -> None:
        """Give the phase that was running when the child stopped its outcome."""
        status, message = self.stop_reason or ("crashed", "")
        if status == "crashed":
            message = message or _describe_exit(exit_status)
            killed = os.WIFSIGNALED(exit_status) and os.WTERMSIG(exit_status) in (signal.SIGKILL, signal.SIGXCPU)
            if killed and self.sub.cpu_left <= 0.05:
                status, message = "timeout", "the submission used up its CPU time"
                self.end.out_of_time = message
        if self.phase == len(self.sub.calls):
            self.end.out_of_time = ""  # every call has its outcome: finishing late costs nothing
            return
        if self.phase is None:
            self.end.load = "timeout" if status == "timeout" else "crashed"
            self.end.load_message = f"while importing exercise.py: {message}"
            if self.first:
                self.sub.worker.send({"ev": "load", "status": self.end.load, "message": self.end.load_message})
            return
        self.sub.report(self.phase, status, message, time.monotonic() - self.phase_started)
        self.end.next_index = self.phase + 1
        if status in ("timeout", "memory"):
            self.end.next_index = self.sub.skip_same_function(self.phase, status)
