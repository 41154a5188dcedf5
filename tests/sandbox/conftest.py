"""Shared pools for the sandbox tests: small limits so that hostile cases end quickly.

Isolation: bwrap where it works (CI installs it); without it the bwrap tests are skipped
locally but fail under CI=true, so a broken CI sandbox cannot pass silently.
"""

from __future__ import annotations

import os
import time
import warnings

import pytest

from grader.sandbox import Call, ExecutorPool, Limits, SandboxWarning
from grader.sandbox.isolation import bwrap_problem

TEST_LIMITS = Limits(cpu_per_test=1.0, cpu_per_submission=8.0, wall_per_submission=8.0)
HEALTHY_SOURCE = "def ping(x):\n    return x + 1\n"


def needs_bwrap() -> None:
    problem = bwrap_problem()
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"bwrap must work in CI: {problem}")
        pytest.skip(problem)


@pytest.fixture(scope="session")
def pool():
    """A two-worker bwrap pool shared by the tests (each test leaves it healthy)."""
    needs_bwrap()
    with ExecutorPool(workers=2, limits=TEST_LIMITS, isolation="bwrap") as shared:
        yield shared


@pytest.fixture(scope="session")
def plain_pool():
    """A one-worker pool without namespaces (isolation="none")."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SandboxWarning)
        with ExecutorPool(workers=1, limits=TEST_LIMITS, isolation="none") as shared:
            yield shared


def assert_healthy(pool: ExecutorPool) -> None:
    """The pool still grades a well-behaved submission correctly (on every worker)."""
    for _ in range(2):
        result = pool.run(HEALTHY_SOURCE, [Call("ping", "ping", (41,))])
        assert result.status == "ok", result.message
        assert result.calls["ping"].status == "ok", result.calls["ping"].message
        assert result.calls["ping"].value == 42


def settle_process_count(pool: ExecutorPool, expected: int, patience: float = 5.0) -> int:
    """The number of processes the pool runs, once it equals `expected` (or whatever it
    is when patience runs out: processes come and go between submissions)."""
    deadline = time.monotonic() + patience
    while True:
        count = len(pool.processes())
        if count == expected or time.monotonic() > deadline:
            return count
        time.sleep(0.05)
