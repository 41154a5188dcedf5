"""The client's side: connect to a Dask cluster (or start a LocalCluster) and grade the
code of submissions on its workers, as a `CodeBackend` of the runner.

The runner still decides what to grade (content hashes, resume), grades the answers and
commits each result in its own transaction; this backend only sends each submission's
code bytes and variant data (exercise ids, hidden-test seeds) as a Dask task and hands
back the worker's `Graded`. A task lost with its worker is run again by the scheduler on
another worker; its result reaches the runner once, so the submission is recorded once.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
import warnings
from concurrent.futures import CancelledError, Future
from contextlib import contextmanager
from typing import Any, Iterator

import dask
from distributed import Client, LocalCluster

from grader.bank import BankError
from grader.cluster import ClusterError
from grader.cluster.bank_context import BankContext, read_context
from grader.cluster.worker import CodeTask, SandboxPoolPlugin, grade_code_task, pool_info, versions
from grader.gradebook.backend import BackendFactory, NoSandbox, needs_sandbox
from grader.gradebook.grade_one import Graded, grade_code
from grader.gradebook.submissions import CODE_FILE, LoadedSubmission
from grader.quiz.load import LoadedQuiz
from grader.quiz.model import StudentQuiz
from grader.sandbox import Limits, SandboxWarning

CONNECT_TIMEOUT = 30.0
CAPACITY_REFRESH = 2.0
_LOCAL = re.compile(r"^local:(\d+)$")


def _context_value(context: BankContext) -> BankContext:
    return context


class DaskBackend:
    """Grades code on the workers of `client`, each of which runs `plugin`'s sandbox pool."""

    def __init__(self, client: Client, plugin: SandboxPoolPlugin, context: BankContext) -> None:
        self.client = client
        self.plugin_name = plugin.name
        self.versions = versions()
        # the bank travels once per worker: a task (recomputed by the scheduler if lost), not data in every task
        self._context = client.submit(_context_value, context, key=f"grader-bank-{context.digest}", pure=False)
        self._pending: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._capacity = (0, 0.0)

    @property
    def capacity(self) -> int:
        """Threads of the connected workers (refreshed every few seconds; 1 when none yet)."""
        count, when = self._capacity
        if time.monotonic() - when > CAPACITY_REFRESH:
            try:
                count = sum(self.client.nthreads().values())
            except Exception:  # a scheduler hiccup: keep the last figure
                pass
            self._capacity = (count, time.monotonic())
        return max(1, count)

    def submit(self, quiz: StudentQuiz, submission: LoadedSubmission) -> Future[Graded]:
        result: Future[Graded] = Future()
        if not needs_sandbox(quiz, submission):  # nothing to run: answered here at once
            result.set_result(grade_code(quiz, submission, NoSandbox()))
            return result
        file = submission.files[CODE_FILE]
        task = CodeTask(
            student=quiz.student.id, origin=file.origin, source=file.data or b"",
            code=tuple((c.exercise.id, c.seed) for c in quiz.code),
            versions=self.versions, plugin=self.plugin_name,
        )
        key = f"grader-code-{uuid.uuid4().hex}"
        remote = self.client.submit(grade_code_task, self._context, task, key=key, pure=False)
        with self._lock:
            self._pending[key] = remote
        remote.add_done_callback(lambda done: self._resolve(key, done, result))
        return result

    def _resolve(self, key: str, remote: Any, result: Future[Graded]) -> None:
        """On Dask's callback thread: pass the outcome on, once."""
        with self._lock:
            self._pending.pop(key, None)
        try:
            if result.done():  # cancelled by the runner
                return
            if remote.status == "cancelled":
                raise CancelledError(f"{key} was cancelled")
            outcome = remote.result()
        except BaseException as error:  # a grader or sandbox failure, or a lost cluster
            _settle(result, error=error)
        else:
            _settle(result, value=outcome)
        finally:
            remote.release()

    def close(self) -> None:
        """Cancel the tasks still queued or running; the client stays connected."""
        with self._lock:
            pending = list(self._pending.values())
            self._pending.clear()
        if pending:
            try:
                self.client.cancel(pending)
            except Exception:
                pass
        self._context.release()


def _settle(result: Future[Graded], value: Graded | None = None, error: BaseException | None = None) -> None:
    try:
        if error is not None:
            result.set_exception(error)
        else:
            result.set_result(value)  # type: ignore[arg-type]
    except Exception:  # already cancelled by the runner
        pass


def parse_local(spec: str) -> int:
    """N of `local:N` (ClusterError otherwise)."""
    match = _LOCAL.match(spec.strip())
    if not match or int(match.group(1)) < 1:
        raise ClusterError(f"--cluster {spec!r}: expected local:N with N >= 1 (N worker processes on this machine)")
    return int(match.group(1))


def local_cluster(workers: int) -> LocalCluster:
    """`workers` single-threaded worker processes (behind nannies) and a scheduler on
    loopback; the workers' statistical profiler is off (it samples every 10 ms)."""
    with dask.config.set({"distributed.worker.profile.enabled": False}):
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                            dashboard_address=None, silence_logs=logging.ERROR)


def _check_versions(client: Client) -> None:
    mine = versions()
    theirs = client.run(versions)
    wrong = {worker: v for worker, v in theirs.items() if tuple(v) != mine}
    if wrong:
        shown = ", ".join(f"{w} ({'/'.join(v)})" for w, v in sorted(wrong.items()))
        raise ClusterError(f"these workers run other grader/torch versions than this client ({'/'.join(mine)}): {shown}")


def _check_sandboxes(client: Client, plugin: SandboxPoolPlugin, confined: bool) -> None:
    """Fail closed: ClusterError naming the workers without a working bubblewrap sandbox
    when `confined`; else one SandboxWarning naming them."""
    found = client.run(pool_info, plugin.name)
    bare = sorted(worker for worker, info in found.items() if info is None or info[0] != "bwrap")
    if not bare:
        return
    if confined:
        raise ClusterError(f"no working sandbox (bubblewrap) on the Dask workers {', '.join(bare)}: install "
                           "bubblewrap on every host, or pass --no-sandbox to run student code unconfined there")
    warnings.warn(f"grader sandbox: no bubblewrap on the Dask workers {', '.join(bare)}; student code "
                  "runs there with resource limits only (install bubblewrap on every host)", SandboxWarning,
                  stacklevel=3)


@contextmanager
def open_cluster(
    scheduler: str | None = None,
    cluster: str | None = None,
    *,
    limits: Limits = Limits(),
    confined: bool = True,
) -> Iterator[BackendFactory]:
    """Connect to the Dask scheduler at `scheduler` (tcp://HOST:PORT, or tls://... with
    Dask's TLS configuration), or start a LocalCluster of N single-threaded worker
    processes on loopback for `cluster="local:N"`; register the sandbox pool on every
    worker; yield the runner's `backend_factory`. Closes the client (and the local
    cluster) on exit. ClusterError when it cannot, and (fail closed) when a worker has no
    working bubblewrap sandbox and `confined`: workers joining later then run no code
    unconfined either (their pools fail to start, their tasks fail and are retried by the
    next run). With `confined=False` pools fall back to resource limits, with a warning."""
    if (scheduler is None) == (cluster is None):
        raise ClusterError("give exactly one of --scheduler and --cluster")
    local: LocalCluster | None = None
    try:
        if cluster is not None:
            local = local_cluster(parse_local(cluster))
            client = Client(local)
        else:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
    except ClusterError:
        raise
    except Exception as error:  # unreachable, refused, or a TLS configuration that does not fit
        if local is not None:
            local.close()
        raise ClusterError(f"cannot connect to the Dask scheduler {scheduler or cluster}: "
                           f"{type(error).__name__}: {error} (see docs/distributed.md)") from None
    try:
        _check_versions(client)
        plugin = SandboxPoolPlugin(limits, "bwrap" if confined else "auto")
        try:
            client.register_plugin(plugin)
        except Exception as error:  # a pool that cannot start (_check_sandboxes names the workers)
            warnings.warn(f"grader sandbox: {type(error).__name__}: {error}", SandboxWarning, stacklevel=3)
        _check_sandboxes(client, plugin, confined)

        def factory(jobs: int, quiz: LoadedQuiz) -> DaskBackend:
            try:
                context = read_context(quiz.spec.bank_dirs)
            except (BankError, OSError) as error:
                raise ClusterError(f"cannot ship the quiz's bank to the workers: {error}") from None
            return DaskBackend(client, plugin, context)

        yield factory
    finally:
        client.close()
        if local is not None:
            local.close()
