"""The template process: every submission's child is forked from it, never from the worker.

Runs inside the sandbox.  The worker forks the template once, right after warm-up and
before it reads any job, so no job (source, arguments, results, output) is ever in the
template's memory, and so in none of the children forked from it: a submission finds
nothing of an earlier one in its memory, heap leftovers included.

The worker asks for a child over a socketpair (SOCK_SEQPACKET): one message
{"uid", "cwd", "warm"} carrying the child's four pipe ends (stdout, stderr and result
write ends, job read end) as SCM_RIGHTS; the answer is {"pid"} (or {"error"}).  The
template forks an intermediate process that forks the child and exits at once, so the
child is reparented to the worker, a child subreaper, which waits for it (exit status
and CPU time) like a child of its own.  The job reaches the child later, over its own
pipe, from the worker.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import time
from typing import Any

from . import child

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
REPARENT_PATIENCE = 5.0


class TemplateGone(Exception):
    """The template process died: the worker cannot make children any more."""


def _prctl(option: int, value: int) -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


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

    def spawn(self, uid: int | None, cwd: str, warm: bool, fds: tuple[int, int, int, int]) -> int:
        """Have the template fork a child with these pipe ends; its pid (our child now)."""
        request = json.dumps({"uid": uid, "cwd": cwd, "warm": warm}).encode()
        try:
            socket.send_fds(self.sock, [request], list(fds))
            answer = self.sock.recv(4096)
        except OSError as error:
            raise TemplateGone(str(error)) from None
        if not answer:
            raise TemplateGone("the template closed its socket")
        reply = json.loads(answer)
        if "pid" not in reply:
            raise OSError(f"the template could not fork: {reply.get('error')}")
        return int(reply["pid"])


# ---------------------------------------------------------------------- inside the template


def _serve(config: dict[str, Any], sock: socket.socket, worker_pid: int) -> None:
    """The template's loop: one child per request until the worker closes the socket."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != worker_pid:
        return
    _prctl(PR_SET_DUMPABLE, 1)  # the worker is not dumpable; its children need their own /proc entries
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(sock, 4096, 4)
        except OSError:
            return
        if not message:
            return
        try:
            request = json.loads(message)
            if len(fds) != 4:
                raise OSError("a child needs four pipe ends")
            reply = {"pid": _fork_child(config, request, tuple(fds), sock, worker_pid)}
        except OSError as error:
            reply = {"error": str(error)}
        finally:
            for fd in fds:
                os.close(fd)
        sock.send(json.dumps(reply).encode())


def _fork_child(config: dict[str, Any], request: dict[str, Any], fds: tuple[int, int, int, int],
                sock: socket.socket, worker_pid: int) -> int:
    """Fork the child through an intermediate process that exits at once; the child's pid,
    returned once the intermediate is reaped (the child's parent is then the worker)."""
    read_end, write_end = os.pipe()
    intermediate = os.fork()
    if intermediate == 0:
        try:
            os.close(read_end)
            pid = os.fork()
            if pid == 0:
                os.close(write_end)
                sock.close()
                _become_child(config, request, fds, worker_pid)
            os.write(write_end, str(pid).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        answer = pipe.read()
    os.waitpid(intermediate, 0)
    if not answer:
        raise OSError("the intermediate process could not fork")
    return int(answer)


def _become_child(config: dict[str, Any], request: dict[str, Any], fds: tuple[int, int, int, int], worker_pid: int) -> None:
    """In the child: wait to be the worker's, then run `child.main` (never returns)."""
    deadline = time.monotonic() + REPARENT_PATIENCE
    while os.getppid() != worker_pid:  # the intermediate is exiting
        if time.monotonic() > deadline:
            os._exit(71)
        time.sleep(0.0002)
    child.main(config, request["cwd"], fds, bool(request["warm"]), request["uid"], worker_pid)
    os._exit(70)
