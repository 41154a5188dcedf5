"""The sandbox worker: a long-lived process that imports torch once and runs submissions.

Runs inside the sandbox (under bwrap: alone in its own pid, network, ipc and uts namespaces
with only the interpreter mounted).  It talks to the trusted process over its original
stdin/stdout with `framing` frames:

    trusted -> worker   {"op": "run", "source", "calls": [{"id", "function", "forbidden", "args"}], "forbidden",
                        "limits"} + buffers; a call's "forbidden" is an index into the job's list of name lists
    worker -> trusted   {"ev": "ready"} once; then per job {"ev": "accepted"}, {"ev": "load", "status", "message"},
                        {"ev": "call", "index", "status", "message", "forbidden", "duration", "value"} + buffers
                        per call, and last {"ev": "done", "status", "message"} + [stdout bytes, stderr bytes]

Each submission runs in children (`session`, `child`) forked by the template
(`template`), a process the worker forks after warm-up and before it reads any job: the
worker, which holds every job it forwards, is never forked.  The child for the next
submission is made ahead of time, while idle.  Each submission runs as a uid of its own.
The worker is a child subreaper: every process of a submission that loses its parent
becomes the worker's, which kills, waits for and accounts for it (`processes`).  After
each submission nothing of it is left: no process, no file, no IPC object (else the
worker exits and the pool starts a fresh one).  A worker whose template died exits too.

While it runs a job, the worker's own address space may grow by `MEMORY_HEADROOM` at most
(RLIMIT_AS): what a child sends is capped (`session`), and a worker that still runs out
of memory dies alone, and is replaced.
"""

from __future__ import annotations

import gc
import os
import resource
import select
import shutil
import signal
import sys
import time
from typing import Any

from . import framing, harness, processes
from .processes import PR_SET_CHILD_SUBREAPER, PR_SET_DUMPABLE, PR_SET_PDEATHSIG, prctl
from .session import Child, Submission
from .template import Template, TemplateGone

MEMORY_HEADROOM = 1 << 30


class Worker:
    """The worker's state and its loop over jobs."""

    def __init__(self, config: dict[str, Any], control_in: int, control_out: int, template: Template) -> None:
        self.config = config
        self.control_in = control_in
        self.control_out = control_out
        self.template = template
        self.own_namespace = config["isolation"] == "bwrap"
        self.pid = os.getpid()
        self.cwd = os.path.join(config["scratch"], "work")
        self.outbox: list[bytes] = []
        self.outbox_size = 0
        self.reaped_cpu = 0.0  # CPU seconds of every process the worker waited for
        uids = config.get("child_uids")
        self.uids = (int(uids[0]), int(uids[1])) if uids else None
        self.submissions = 0
        self.watched_ops: set[str] = set()  # the ATen ops the template has kernels for

    # ---------------------------------------------------------------- processes

    def next_uid(self) -> int | None:
        """A uid no earlier submission of this worker ran as (None: no uid change)."""
        if self.uids is None:
            return None
        first, count = self.uids
        self.submissions += 1
        return first + self.submissions % count

    def spawn(self, uid: int | None) -> Child:
        """A child forked by the template; a worker whose template is gone exits."""
        try:
            return Child(self, uid)
        except TemplateGone as error:
            self.template_died(str(error))

    def reap(self, pid: int) -> tuple[int, float]:
        """Have the template wait for a child it forked: (wait status, CPU seconds)."""
        try:
            return self.template.reap(pid)
        except TemplateGone as error:
            self.template_died(str(error))

    def template_died(self, why: str) -> None:
        os.write(2, f"sandbox worker: the template process is gone ({why}); exiting\n".encode())
        os._exit(6)

    def scan(self) -> list[processes.Stat]:
        """Every process of the submissions: under bwrap everything in the pid namespace
        but its init, the worker and the template; without, the worker's descendants but
        the template (its children are the submissions')."""
        if self.own_namespace:
            excluded = (1, self.pid, self.template.pid)
            return [stat for stat in processes.all_stats() if stat.pid not in excluded]
        return [stat for stat in processes.descendants(self.pid, processes.all_stats()) if stat.pid != self.template.pid]

    def sandbox_processes(self) -> list[int]:
        return [stat.pid for stat in self.scan()]

    def wait(self, pid: int, flags: int = 0) -> tuple[int, int]:
        """wait4 on one pid (or -1): (pid, status); counts the CPU time it reports."""
        waited, status, usage = os.wait4(pid, flags)
        if waited == self.template.pid:
            self.template_died("it exited")
        if waited:
            self.reaped_cpu += usage.ru_utime + usage.ru_stime
        return waited, status

    def _reap(self) -> None:
        while True:
            try:
                pid, _ = self.wait(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return

    def kill_everything(self) -> None:
        """SIGKILL every process of the submissions (never the template) and wait until
        they are gone; a worker that cannot get there exits (the pool then starts a fresh one)."""
        deadline = time.monotonic() + 5
        while True:
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

    # ---------------------------------------------------------------- files

    def prepare_cwd(self, uid: int | None) -> None:
        """A fresh, empty working directory for the next submission, owned by its uid."""
        shutil.rmtree(self.cwd, ignore_errors=True)
        os.mkdir(self.cwd, 0o700)
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
        """Remove every file a submission could have written; exit when that fails.  The
        whole scratch folder, not only the working directory in it: without root the
        submission's processes own it too."""
        places: list[str] = []
        for folder in (self.config["scratch"], self.config.get("tmpdir")):
            if folder:
                places += [os.path.join(folder, entry) for entry in os.listdir(folder)]
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
        """A fresh child, with a uid of its own, waiting for the next submission."""
        uid = self.next_uid()
        self.prepare_cwd(uid)
        return self.spawn(uid)

    def learn_ops(self, forbidden: list[list[str]]) -> None:
        """Tell the template the ATen ops this job's calls watch that it does not know yet."""
        new = harness.aten_ops(name for names in forbidden for name in names) - self.watched_ops
        if new:
            self.watched_ops |= new
            try:
                self.template.watch(sorted(new))
            except TemplateGone as error:
                self.template_died(str(error))

    def wait_for_job(self) -> None:
        """Block until the trusted side sends something; exit if the template dies first."""
        while True:
            ready, _, _ = select.select([self.control_in, self.template.pidfd], [], [])
            if self.template.pidfd in ready:
                self.template_died("it exited")
            if self.control_in in ready:
                return

    def serve(self) -> None:
        """Answer jobs until the trusted side closes the pipe."""
        spare = self.spare()
        self.send({"ev": "ready"})
        self.flush()
        reader = framing.FrameReader(self.control_in, 1 << 40)
        while True:
            self.wait_for_job()
            frame = reader.next_raw()
            if frame is None:
                return
            header, _, raw = frame
            del frame
            if header.get("op") != "run":
                raise SystemExit(f"unknown request {header.get('op')!r}")
            self.send({"ev": "accepted"})
            self.flush()
            with memory_headroom(MEMORY_HEADROOM):
                Submission(self, header, raw, spare).run()
                self.learn_ops(header["forbidden"])
                del header, raw
                self.kill_everything()
            self.wipe_files()
            if self.own_namespace:
                self.check_ipc()
            spare = self.spare()


class memory_headroom:
    """While in the block, the worker's address space may grow by `headroom` bytes."""

    def __init__(self, headroom: int) -> None:
        self.headroom = headroom
        self.previous = resource.getrlimit(resource.RLIMIT_AS)

    def __enter__(self) -> None:
        with open("/proc/self/statm") as handle:
            size = int(handle.read().split()[0]) * resource.getpagesize()
        soft, hard = self.previous
        limit = size + self.headroom
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))

    def __exit__(self, *exc: object) -> None:
        resource.setrlimit(resource.RLIMIT_AS, self.previous)


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
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans of a submission become ours: killed, waited for, counted
    prctl(PR_SET_DUMPABLE, 0)  # no process of the same uid may read the worker's memory
    harness.warm_up()
    gc.freeze()  # children never write to the inherited objects' GC headers (fewer copy-on-write faults)
    sys.stdout.flush()
    template = Template(config, (control_in, control_out))  # before any job is read
    Worker(config, control_in, control_out, template).serve()
