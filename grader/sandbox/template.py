"""The template process: every submission's child is forked from it, never from the worker.

Runs inside the sandbox.  The worker forks the template once, right after warm-up and
before it reads any job, so no job (source, arguments, results, output) is ever in the
template's memory, and so in none of the children forked from it: a submission finds
nothing of an earlier one in its memory, heap leftovers included.

The worker talks to the template over a socketpair (SOCK_SEQPACKET), one request and
one answer at a time:

    {"op": "spawn", "uid", "cwd"} + the child's four pipe ends (stdout, stderr
        and result write ends, job read end) as SCM_RIGHTS  ->  {"pid"} or {"error"}
    {"op": "reap", "pid"} (the worker killed it)  ->  {"status", "cpu"}: its wait status,
        and the CPU seconds it and the children it waited for used
    {"op": "watch", "ops"} (ATen op names the trusted side watches, from the exercises'
        declarations, never job data)  ->  {}: the template registers their recording
        kernels (`harness.prepare_op_watch`), so that later children inherit them

The child is the template's; the processes it leaves behind become the worker's (the
nearest child subreaper).  The job reaches the child later, over its own pipe, from the
worker.
"""

from __future__ import annotations

import json
import os
import signal
import socket
from typing import Any

from . import child
from .processes import PR_SET_PDEATHSIG, prctl

REQUEST_BYTES = 4096  # the template reads one request of at most this size
WATCH_NAME_CHARS = 200  # longer op names are not ATen's; the template refuses them


class TemplateGone(Exception):
    """The template process died: the worker cannot make children any more."""


class Template:
    """The worker's handle on its template process."""

    def __init__(self, config: dict[str, Any], close_in_template: tuple[int, ...]) -> None:
        worker_end, template_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        worker_pid = os.getpid()
        pid = os.fork()
        if pid == 0:
            try:
                worker_end.close()
                for fd in close_in_template:
                    os.close(fd)
                _serve(config, template_end, worker_pid)
            finally:
                os._exit(0)
        template_end.close()
        self.pid = pid
        self.sock = worker_end
        self.pidfd = os.pidfd_open(pid)

    def _ask(self, request: dict[str, Any], fds: tuple[int, ...] = ()) -> dict[str, Any]:
        try:
            socket.send_fds(self.sock, [json.dumps(request).encode()], list(fds))
            answer = self.sock.recv(4096)
        except OSError as error:
            raise TemplateGone(str(error)) from None
        if not answer:
            raise TemplateGone("the template closed its socket")
        return json.loads(answer)

    def spawn(self, uid: int | None, cwd: str, fds: tuple[int, int, int, int]) -> int:
        """Have the template fork a child with these pipe ends; the child's pid."""
        reply = self._ask({"op": "spawn", "uid": uid, "cwd": cwd}, fds)
        if "pid" not in reply:
            raise OSError(f"the template could not fork: {reply.get('error')}")
        return int(reply["pid"])

    def watch(self, ops: list[str]) -> None:
        """Have the template register the recording kernels of these ATen ops, in requests
        that fit its read (names the template would refuse anyway are not sent)."""
        chunk: list[str] = []
        size = 0  # of the chunk's names as JSON, with their separators
        for name in (op for op in ops if len(op) < WATCH_NAME_CHARS):
            if chunk and size + len(json.dumps(name)) + 2 > REQUEST_BYTES // 2:
                self._ask({"op": "watch", "ops": chunk})
                chunk, size = [], 0
            chunk.append(name)
            size += len(json.dumps(name)) + 2
        if chunk:
            self._ask({"op": "watch", "ops": chunk})

    def reap(self, pid: int) -> tuple[int, float]:
        """Wait for a child the template forked (kill it first): (wait status, CPU seconds)."""
        reply = self._ask({"op": "reap", "pid": pid})
        return int(reply["status"]), float(reply["cpu"])


# ---------------------------------------------------------------------- inside the template


def _serve(config: dict[str, Any], sock: socket.socket, worker_pid: int) -> None:
    """The template's loop: answer requests until the worker closes the socket."""
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != worker_pid:
        return
    # not dumpable, like the worker: a child of the same uid (no root) could write its memory, and so
    # into every child forked after it; each child makes itself dumpable (`child.prepare`)
    template_pid = os.getpid()
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(sock, REQUEST_BYTES, 4)
        except OSError:
            return
        if not message:
            return
        try:
            request = json.loads(message)
            if request["op"] == "watch":
                names = request["ops"]
                if type(names) is list and all(type(name) is str and len(name) < WATCH_NAME_CHARS for name in names):
                    try:
                        child.harness.prepare_op_watch(names)
                    except Exception:
                        pass  # each child then registers what it watches itself
                reply = {}
            elif request["op"] == "reap":
                _, status, usage = os.wait4(int(request["pid"]), 0)
                reply = {"status": status, "cpu": usage.ru_utime + usage.ru_stime}
            elif len(fds) != 4:
                raise OSError("a child needs four pipe ends")
            else:
                pid = os.fork()
                if pid == 0:
                    sock.close()
                    child.main(config, request["cwd"], tuple(fds), request["uid"], template_pid)
                    os._exit(70)
                reply = {"pid": pid}
        except ChildProcessError:
            reply = {"status": 0, "cpu": 0.0}
        except OSError as error:
            reply = {"error": str(error)}
        finally:
            for fd in fds:
                os.close(fd)
        sock.send(json.dumps(reply).encode())
