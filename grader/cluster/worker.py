"""The Dask worker's side: one warm sandbox pool per worker, and the task that grades the
code of one submission with it.

`SandboxPoolPlugin` is registered by the client on every worker, present and future; its
`setup` starts an `ExecutorPool` with one sandbox process per worker thread, `teardown`
kills it. `grade_code_task` receives plain data (the student's id, exercise ids and
hidden-test seeds of their variant, the bytes of their exercise.py), runs the code in
the pool and compares the values in this process (the trusted judge), and returns the
`Graded` to the client, which alone writes the gradebook. The task is pure: when a worker
dies mid-task, the scheduler runs it again elsewhere and the client still receives one
result.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Any

from distributed import WorkerPlugin, get_worker

from grader import __version__
from grader.cluster.bank_context import BankContext, bank_for
from grader.gradebook.grade_one import Graded, grade_code
from grader.heap import freeze_long_lived
from grader.gradebook.submissions import CODE_FILE, LoadedFile, LoadedSubmission
from grader.torch_threads import single_thread
from grader.quiz.model import CodeItem, StudentQuiz
from grader.quiz.roster import Student
from grader.sandbox import ExecutorPool, Limits


def versions() -> tuple[str, str]:
    """What must match between client and workers for the same grades: the grader's and
    torch's versions."""
    import torch

    return __version__, str(torch.__version__)


class SandboxPoolPlugin(WorkerPlugin):
    """One `ExecutorPool` per Dask worker, with as many sandbox processes as the worker
    has threads. Registered under `name` (derived from the limits and isolation), once:
    registering it again leaves running pools alone."""

    idempotent = True

    def __init__(self, limits: Limits = Limits(), isolation: str = "auto") -> None:
        self.limits = limits
        self.isolation = isolation
        self.pool: ExecutorPool | None = None

    @property
    def name(self) -> str:
        digest = hashlib.sha256(repr((self.limits, self.isolation, __version__)).encode()).hexdigest()
        return f"grader-sandbox-{digest[:16]}"

    def setup(self, worker: Any) -> None:
        single_thread()
        self.pool = ExecutorPool(workers=max(1, worker.state.nthreads), limits=self.limits, isolation=self.isolation)
        # the trusted side warms up while the sandboxes boot (off the worker's event loop)
        threading.Thread(target=_warm_up, name="grader-warm-up", daemon=True).start()

    def teardown(self, worker: Any) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None

    def __getstate__(self) -> dict[str, Any]:
        return {"limits": self.limits, "isolation": self.isolation, "pool": None}


def pool_info(name: str, dask_worker: Any) -> tuple[str, list[int]] | None:
    """The isolation and process ids of this worker's sandbox pool registered as `name`
    (run with `Client.run`); None when there is none."""
    plugin = dask_worker.plugins.get(name)
    if not isinstance(plugin, SandboxPoolPlugin) or plugin.pool is None:
        return None
    return plugin.pool.isolation, plugin.pool.processes()


def _warm_up() -> None:
    """Import the judge and load the built-in bank once, before the first task needs them."""
    import grader.code.judge  # noqa: F401

    bank_for(BankContext())
    freeze_long_lived()


@dataclass(frozen=True)
class CodeTask:
    """One submission's code, as sent to a worker: plain data only."""

    student: str
    origin: str
    source: bytes
    code: tuple[tuple[str, int], ...]  # (exercise id, hidden-test seed), in quiz order
    versions: tuple[str, str]
    plugin: str


def grade_code_task(context: BankContext, task: CodeTask) -> Graded:
    """Grade `task` on this worker's sandbox pool (RuntimeError when the worker is not set
    up for it: another grader or torch version, or no plugin)."""
    if task.versions != versions():
        raise RuntimeError(f"this worker runs grader/torch {versions()}, the client {task.versions}: "
                           "install the same versions on every host")
    plugin = get_worker().plugins.get(task.plugin)
    if not isinstance(plugin, SandboxPoolPlugin) or plugin.pool is None:
        raise RuntimeError(f"this worker has no sandbox pool ({task.plugin} is not set up)")
    bank = bank_for(context)
    quiz = StudentQuiz(Student(task.student), (), tuple(CodeItem(bank.get(e), seed) for e, seed in task.code))
    file = LoadedFile(CODE_FILE, task.origin, len(task.source), task.source)
    return grade_code(quiz, LoadedSubmission(task.student, {CODE_FILE: file}, ""), plugin.pool)
