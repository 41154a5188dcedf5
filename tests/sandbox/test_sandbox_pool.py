"""Pool lifecycle: a worker that dies is replaced, its submission alone is affected."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from grader.sandbox import Call, ExecutorPool

from .conftest import TEST_LIMITS, needs_bwrap

SOURCE = "import time\ndef add(a, b):\n    return a + b\ndef slow():\n    time.sleep(2)\n    return 1\n"


def worker_root(pool: ExecutorPool) -> int:
    (root,) = [pid for pid in pool.processes()[:1]]
    return root


def test_dead_workers_are_replaced():
    needs_bwrap()
    with ExecutorPool(workers=1, limits=TEST_LIMITS, isolation="bwrap") as pool:
        assert pool.run(SOURCE, [Call("a", "add", (1, 2))]).calls["a"].value == 3

        # killed while idle: nothing was running, the next submission is simply retried
        os.kill(worker_root(pool), signal.SIGKILL)
        result = pool.run(SOURCE, [Call("a", "add", (2, 2))])
        assert result.status == "ok" and result.calls["a"].value == 4

        # killed while grading: that submission is "crashed", the next one is fine
        victim = worker_root(pool)
        timer = threading.Timer(0.5, os.kill, (victim, signal.SIGKILL))
        timer.start()
        result = pool.run(SOURCE, [Call("a", "add", (1, 1)), Call("slow", "slow"), Call("b", "add", (0, 1))])
        timer.join()
        assert result.status == "crashed"
        assert result.calls["slow"].status == "crashed" and result.calls["b"].status == "crashed"
        assert result.calls["a"].status in ("ok", "crashed")
        after = pool.run(SOURCE, [Call("a", "add", (3, 4))])
        assert after.status == "ok" and after.calls["a"].value == 7
    assert pool.processes() == []
    with pytest.raises(RuntimeError, match="closed"):
        pool.run(SOURCE, [Call("a", "add", (1, 2))])


def test_a_dropped_pool_takes_its_workers_down():
    import gc
    import time

    pool = ExecutorPool(workers=1, limits=TEST_LIMITS, isolation="auto")
    roots = pool.processes()[:1]
    assert roots and os.path.exists(f"/proc/{roots[0]}")
    del pool
    gc.collect()
    deadline = time.monotonic() + 5
    while os.path.exists(f"/proc/{roots[0]}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{roots[0]}")


def test_ipc_objects_never_reach_the_next_submission(monkeypatch):
    """Without the seccomp filter a submission can create System V shared memory, which
    outlives its processes: the worker then retires, and its IPC namespace with it."""
    needs_bwrap()
    from grader.sandbox import seccomp

    monkeypatch.setattr(seccomp, "program", lambda: None)
    source = (
        "import ctypes\n"
        "libc = ctypes.CDLL(None)\n"
        "def leave():\n"
        "    return libc.shmget(0, 1 << 20, 0o1600)\n"
        "def look():\n"
        "    return open('/proc/sysvipc/shm').read().splitlines()[1:]\n"
    )
    with ExecutorPool(workers=1, limits=TEST_LIMITS, isolation="bwrap") as pool:
        left = pool.run(source, [Call("leave", "leave")])
        assert left.calls["leave"].status == "ok" and left.calls["leave"].value >= 0  # created
        following = pool.run(source, [Call("look", "look")])
        assert following.status == "ok" and following.calls["look"].value == []


def test_long_lists_of_watched_ops_reach_the_template_without_killing_it():
    """The worker tells the template every watched ATen op it has seen; a job naming many
    long ones must not end the template (and with it the worker) with an oversized request."""
    needs_bwrap()
    names = tuple(f"aten::not_an_op_{i:03d}_" + "x" * 150 for i in range(60))
    with ExecutorPool(workers=1, limits=TEST_LIMITS, isolation="bwrap") as pool:
        before = worker_root(pool)
        for round_ in range(2):
            result = pool.run(SOURCE, [Call(f"c{round_}", "add", (1, 2), forbidden=names)])
            assert result.status == "ok" and result.calls[f"c{round_}"].value == 3
        assert worker_root(pool) == before  # the same worker: its template is alive


def test_jobs_waiting_for_one_worker_each_get_their_own_results():
    """Six threads sharing one worker: each reads exactly its own submission's results."""
    with ExecutorPool(workers=1, limits=TEST_LIMITS) as pool:
        results: dict[int, int] = {}

        def grade(n: int) -> None:
            source = f"def add(a, b):\n    return a + b + {1000 * n}\n"
            results[n] = pool.run(source, [Call("a", "add", (n, n))]).calls["a"].value

        threads = [threading.Thread(target=grade, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert results == {n: 1000 * n + 2 * n for n in range(6)}


def test_a_worker_killed_with_jobs_waiting_for_it_loses_only_its_own():
    """The job running when the worker dies is "crashed"; the jobs that were waiting for
    that worker go to its replacement."""
    needs_bwrap()
    with ExecutorPool(workers=1, limits=TEST_LIMITS, isolation="bwrap") as pool:
        pool.run(SOURCE, [Call("a", "add", (1, 2))])
        victim = worker_root(pool)
        outcomes: dict[str, object] = {}

        def slow() -> None:
            outcomes["slow"] = pool.run(SOURCE, [Call("slow", "slow")]).status

        def waiting(n: int) -> None:
            outcomes[f"add{n}"] = pool.run(SOURCE, [Call("a", "add", (n, 1))]).calls["a"].value

        first = threading.Thread(target=slow)
        first.start()
        threading.Event().wait(0.3)  # the slow job has the worker
        others = [threading.Thread(target=waiting, args=(n,)) for n in range(3)]
        for thread in others:
            thread.start()
        threading.Event().wait(0.3)
        os.kill(victim, signal.SIGKILL)
        for thread in [first, *others]:
            thread.join()
        assert outcomes == {"slow": "crashed", "add0": 1, "add1": 2, "add2": 3}


def test_closing_the_pool_wakes_the_threads_waiting_for_a_worker():
    """...and the run in progress ends as "crashed" (its worker's pipes close under it)."""
    pool = ExecutorPool(workers=1, limits=TEST_LIMITS)
    pool.run(SOURCE, [Call("a", "add", (1, 2))])  # the worker is up
    errors: list[str] = []
    statuses: list[str] = []

    def slow() -> None:
        statuses.append(pool.run(SOURCE, [Call("slow", "slow")]).status)

    def waiting() -> None:
        try:
            pool.run(SOURCE, [Call("a", "add", (1, 1))])
        except RuntimeError as error:
            errors.append(str(error))

    first = threading.Thread(target=slow)
    first.start()
    threading.Event().wait(0.3)
    second = threading.Thread(target=waiting)
    second.start()
    threading.Event().wait(0.3)
    pool.close()
    first.join(timeout=30)
    second.join(timeout=30)
    assert not second.is_alive() and errors == ["the ExecutorPool is closed"]
    assert statuses == ["crashed"]  # the run in progress ends when its worker is killed
