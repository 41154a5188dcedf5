"""The sandbox worker: a long-lived process that imports torch once and runs submissions.

Runs inside the sandbox (under bwrap: alone in its own pid, network, ipc and uts namespaces
with only the interpreter mounted).  It talks to the trusted process over its original
stdin/stdout with `framing` frames:

    trusted -> worker   {"op": "run", "source", "calls": [{"id", "function", "forbidden", "args"}], "limits"} + buffers
    worker -> trusted   {"ev": "ready"} once; then per job {"ev": "accepted"}, {"ev": "load", "status", "message"},
                        {"ev": "call", "index", "status", "message", "forbidden", "duration", "value"} + buffers
                        per call, and last {"ev": "done", "status", "message"} + [stdout bytes, stderr bytes]

Each submission runs in forked children (`session`, `child`); the worker forks the first
one ahead of time, while idle.  After each submission nothing of it is left: no process,
no file, no IPC object (else the worker exits and the pool starts a fresh one).
"""

from __future__ import annotations

import ctypes
import gc
import os
import shutil
import signal
import sys
import time
from typing import Any

from . import framing, harness
from .session import Child, Submission

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


def _prctl(option: int, value: int) -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


class Worker:
    """The worker's state and its loop over jobs."""

    def __init__(self, config: dict[str, Any], control_in: int, control_out: int) -> None:
        self.config = config
        self.control_in = control_in
        self.control_out = control_out
        self.own_namespace = config["isolation"] == "bwrap"
        self.pid = os.getpid()
        self.cwd = os.path.join(config["scratch"], "work")
        self.outbox: list[bytes] = []
        self.outbox_size = 0

    # ---------------------------------------------------------------- processes

    def sandbox_processes(self) -> list[int]:
        """Every process of the submissions (everything but the worker and the namespace's init)."""
        if self.own_namespace:
            return [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, self.pid)]
        parents: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as handle:
                    fields = handle.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            parents.setdefault(int(fields[1]), []).append(int(entry))
        found, todo = [], [self.pid]
        while todo:
            for pid in parents.get(todo.pop(), []):
                found.append(pid)
                todo.append(pid)
        return found

    def _reap(self) -> None:
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return

    def kill_everything(self) -> None:
        """SIGKILL every process of the submissions and wait until they are gone; a worker
        that cannot get there exits (the pool then starts a fresh one)."""
        deadline = time.monotonic() + 5
        while True:
            if self.own_namespace:
                try:
                    os.kill(-1, signal.SIGKILL)  # everything in this pid namespace but init and us
                except ProcessLookupError:
                    pass
            else:
                for pid in self.sandbox_processes():
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            self._reap()
            if not self.sandbox_processes():
                return
            if time.monotonic() > deadline:
                os.write(2, b"sandbox worker: processes survived SIGKILL; exiting\n")
                os._exit(3)
            time.sleep(0.002)

    def memory_in_use(self) -> int:
        """Proportional resident memory of all the submission's processes, in bytes."""
        total = 0
        for pid in self.sandbox_processes():
            try:
                with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
                    for line in handle:
                        if line.startswith(b"Pss:"):
                            total += int(line.split()[1]) * 1024
                            break
            except (OSError, ValueError):
                continue
        return total

    # ---------------------------------------------------------------- files

    def prepare_cwd(self) -> None:
        """A fresh, empty working directory for the next submission."""
        shutil.rmtree(self.cwd, ignore_errors=True)
        os.mkdir(self.cwd, 0o700)
        uid = self.config.get("child_uid")
        if uid is not None:
            os.chown(self.cwd, uid, uid)

    def check_ipc(self) -> None:
        """Exit (the pool starts a fresh worker, in a fresh IPC namespace) when a submission
        left System V IPC objects behind: they outlive processes, and the worker cannot
        remove another uid's objects."""
        for kind in ("shm", "sem", "msg"):
            try:
                with open(f"/proc/sysvipc/{kind}") as handle:
                    leftovers = handle.read().strip().splitlines()[1:]
            except OSError:
                continue
            if leftovers:
                os.write(2, f"sandbox worker: a submission left System V {kind} objects; exiting\n".encode())
                os._exit(5)

    def wipe_files(self) -> None:
        """Remove every file a submission could have written; exit when that fails."""
        places = [self.cwd]
        if self.config.get("tmpdir"):
            tmp = self.config["tmpdir"]
            places += [os.path.join(tmp, entry) for entry in os.listdir(tmp)]
        for place in places:
            if os.path.isdir(place) and not os.path.islink(place):
                shutil.rmtree(place, ignore_errors=True)
            elif os.path.lexists(place):
                try:
                    os.unlink(place)
                except OSError:
                    pass
            if os.path.lexists(place):
                os.write(2, f"sandbox worker: cannot remove {place}; exiting\n".encode())
                os._exit(4)

    # ---------------------------------------------------------------- protocol

    def send(self, header: dict[str, Any], buffers: list[bytes] = ()) -> None:
        """Queue a frame for the trusted side (see `flush`)."""
        self.send_packed(framing.pack(header, buffers))

    def send_packed(self, frame: bytes) -> None:
        self.outbox.append(frame)
        self.outbox_size += len(frame)
        if self.outbox_size > (1 << 20):
            self.flush()

    def flush(self) -> None:
        """Write the queued frames in one go."""
        if self.outbox:
            data = b"".join(self.outbox)
            self.outbox.clear()
            self.outbox_size = 0
            framing.write_all(self.control_out, data)

    def spare(self) -> Child:
        """A fresh, warmed-up child waiting for the next submission."""
        self.prepare_cwd()
        return Child(self.config, self.cwd, warm=True)

    def serve(self) -> None:
        """Answer jobs until the trusted side closes the pipe."""
        spare = self.spare()
        self.send({"ev": "ready"})
        self.flush()
        reader = framing.FrameReader(self.control_in, 1 << 40)
        while True:
            frame = reader.next_raw()
            if frame is None:
                return
            header, _, raw = frame
            if header.get("op") != "run":
                raise SystemExit(f"unknown request {header.get('op')!r}")
            self.send({"ev": "accepted"})
            self.flush()
            Submission(self, header, raw, spare).run()
            self.kill_everything()
            self.wipe_files()
            if self.own_namespace:
                self.check_ipc()
            spare = self.spare()

def main(config: dict[str, Any]) -> None:
    """Entry point of the sandboxed interpreter (called by the bootstrap)."""
    control_in, control_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(2, 1)  # stray prints of the worker go to its log, never into the protocol
    os.close(null)
    if config["isolation"] == "bwrap":
        with open("/proc/1/comm") as handle:
            init = handle.read().strip()
        if os.getpid() != 2 or init != "bwrap":
            raise SystemExit("sandbox worker: not alone in a bwrap pid namespace; refusing to run")
        os.chmod(config["tmpdir"], 0o1777)
    else:
        _prctl(PR_SET_CHILD_SUBREAPER, 1)
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    harness.warm_up()
    gc.freeze()  # children never write to the inherited objects' GC headers (fewer copy-on-write faults)
    sys.stdout.flush()
    Worker(config, control_in, control_out).serve()
