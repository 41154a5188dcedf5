"""Fingerprinting students' code while `grade` is still grading.

The similarity analysis after grading fingerprints every exercise.py (about 11 ms of CPU
each), which left the cores idle that grading leaves idle. A `Prefetch` feeds each file,
as the runner reads it, to one `fingerprint_worker` process that runs only when a core
would otherwise be idle (SCHED_IDLE, else nice 19), and stores what it answers in the
analysis's cache (`cache`). The analysis then finds those files there and fingerprints
only the rest. Nothing here touches a grade: a worker that fails or is stopped only
leaves files for the analysis to fingerprint itself.
"""

from __future__ import annotations

import os
import queue
import subprocess
import threading
from pathlib import Path

from grader.integrity import cache, fingerprint_worker
from grader.integrity.collect import worker_command
from grader.integrity.winnow import FilePrint

_STOP = None


def _lowest_priority(pid: int) -> None:
    """Let `pid` run only on a core nothing else wants."""
    try:
        os.sched_setscheduler(pid, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        try:
            os.setpriority(os.PRIO_PROCESS, pid, 19)
        except OSError:
            pass


class Prefetch:
    """One low-priority fingerprint worker filling the cache in `cache_dir` for `stub`.
    `add` never blocks on the worker; `stop` kills it and returns once every answer it
    gave is stored, in the cache and in `prints` (cache entry -> fingerprints), which the
    analysis may take instead of reading the cache again."""

    def __init__(self, stub: FilePrint | None, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        self.stub_key = cache.stub_digest(stub)
        self.seen: set[str] = set()
        self.prints: dict[str, FilePrint] = {}  # cache entry -> fingerprints, as stored
        self.sent: queue.SimpleQueue[tuple[str, bytes]] = queue.SimpleQueue()
        self.todo: queue.SimpleQueue[tuple[str, bytes] | None] = queue.SimpleQueue()
        command, env = worker_command()
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, env=env)
        _lowest_priority(self.process.pid)
        self.head = fingerprint_worker.pack(stub, [])
        self.writer = threading.Thread(target=self._write, name="grader-fingerprint-feed", daemon=True)
        self.reader = threading.Thread(target=self._read, name="grader-fingerprint-store", daemon=True)
        self.writer.start()
        self.reader.start()

    def add(self, data: bytes) -> None:
        """Fingerprint `data` (one student's exercise.py) unless the cache has it."""
        entry = cache.key(data, self.stub_key)
        if entry in self.seen:
            return
        self.seen.add(entry)
        if not (self.cache_dir / f"{entry}.json").is_file():
            self.todo.put((entry, data))

    def _write(self) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        try:
            stdin.write(self.head)
            while (item := self.todo.get()) is not _STOP:
                entry, data = item
                self.sent.put(item)
                stdin.write(fingerprint_worker.pack_file(data))
                stdin.flush()
        except (OSError, ValueError):  # the worker is gone, or stopped
            pass
        finally:
            try:
                stdin.close()
            except OSError:
                pass

    def _read(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        for line in stdout:
            entry, data = self.sent.get()
            try:
                prints = cache.from_json(line, data)
                cache.store(self.cache_dir, entry, prints)
            except (OSError, ValueError):
                return
            self.prints[entry] = prints

    def stop(self) -> None:
        """Kill the worker (what it has not answered is left to the analysis) and wait
        until its answers are stored."""
        self.todo.put(_STOP)
        self.process.kill()
        self.writer.join()
        self.reader.join()
        self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
