"""Where `grader grade` runs the code part of each submission: the runner's backend seam.

The runner decides what to grade, grades the answers itself and commits every result; a
backend only turns one student's quiz and loaded submission into a future of the code's
`Graded`. `LocalBackend` is the single-machine way (threads sharing one `ExecutorPool`);
`grader.cluster` provides one on a Dask cluster.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Callable, Protocol

from grader.gradebook.grade_one import Graded, grade_code
from grader.gradebook.submissions import CODE_FILE, LoadedSubmission
from grader.quiz.model import StudentQuiz

if TYPE_CHECKING:
    from grader.quiz.load import LoadedQuiz

PoolFactory = Callable[[int], Any]


class CodeBackend(Protocol):
    """Grades the code of submissions, several at a time.

    `capacity`: how many submissions it grades at once (the runner keeps about twice as
    many in flight; read again as the run goes, so it may change). `submit` never blocks
    on the grading and never raises for the student's files: the future's exception is a
    grader or sandbox failure. `close` cancels what is still queued and frees resources.
    """

    @property
    def capacity(self) -> int: ...

    def submit(self, quiz: StudentQuiz, submission: LoadedSubmission) -> Future[Graded]: ...

    def close(self) -> None: ...


# makes the backend of one run: (jobs, the quiz) -> backend; the runner closes it
BackendFactory = Callable[[int, "LoadedQuiz"], CodeBackend]


def needs_sandbox(quiz: StudentQuiz, submission: LoadedSubmission) -> bool:
    """Whether grading this submission's code runs it (else `grade_code` answers at once:
    no code item, or no readable exercise.py)."""
    file = submission.files.get(CODE_FILE)
    return bool(quiz.code) and file is not None and file.data is not None


class NoSandbox:
    """Stands for the pool where no code should run: running code through it raises
    (never falls back to running student code unsandboxed)."""

    def run(self, source: Any, calls: Any) -> Any:
        raise RuntimeError("no sandbox pool was expected to be needed for this submission")


JUDGE_THREADS_PER_WORKER = 2
"""Threads per sandbox worker: while one submission runs in a worker, another thread plans,
scans and judges the next one, so the workers do not wait for the judge (2 jobs, full
contract: about 10 % more submissions per second than one thread per worker)."""


class LocalBackend:
    """Threads sharing ONE sandbox pool of `jobs` workers, made by `pool_factory` at the
    first submission that has code to run; `JUDGE_THREADS_PER_WORKER` threads per worker."""

    def __init__(self, jobs: int, pool_factory: PoolFactory) -> None:
        self.jobs = jobs
        self._pool_factory = pool_factory
        self._pool: Any = None
        self._threads = ThreadPoolExecutor(max_workers=JUDGE_THREADS_PER_WORKER * jobs, thread_name_prefix="grader-code")

    @property
    def capacity(self) -> int:
        return JUDGE_THREADS_PER_WORKER * self.jobs

    def submit(self, quiz: StudentQuiz, submission: LoadedSubmission) -> Future[Graded]:
        if self._pool is None and needs_sandbox(quiz, submission):
            self._pool = self._pool_factory(self.jobs)
        return self._threads.submit(grade_code, quiz, submission, self._pool or NoSandbox())

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
        self._threads.shutdown(wait=False, cancel_futures=True)
