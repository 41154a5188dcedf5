"""Without bubblewrap: the rlimits-only path works, and says so once."""

from __future__ import annotations

import warnings

import pytest

from grader.sandbox import Call, ExecutorPool, SandboxError, SandboxWarning, isolation

SOURCE = """
import os, signal
def add(a, b):
    return a + b
def spin():
    while True:
        pass
def hog():
    return len(bytearray(3 * 1024**3))
def kill_worker():
    # the worker is the parent of our parent, the template children are forked from
    with open(f"/proc/{os.getppid()}/stat") as handle:
        worker = int(handle.read().rsplit(")", 1)[1].split()[1])
    os.kill(worker, signal.SIGKILL)
def boom():
    raise KeyError("k")
"""


def test_rlimits_path_grades_and_limits(plain_pool: ExecutorPool):
    calls = [Call("add", "add", (2, 3)), Call("spin", "spin"), Call("hog", "hog"), Call("boom", "boom"), Call("again", "add", (1, 1))]
    result = plain_pool.run(SOURCE, calls)
    assert result.isolation == "rlimits" and result.status == "ok"
    assert {cid: c.status for cid, c in result.calls.items()} == {
        "add": "ok", "spin": "timeout", "hog": "memory", "boom": "error", "again": "ok"
    }
    assert result.calls["add"].value == 5 and result.calls["again"].value == 2


def test_a_killed_worker_costs_only_its_own_submission(plain_pool: ExecutorPool):
    # Here the student runs as the worker's uid and can kill it (under bwrap it cannot).
    result = plain_pool.run(SOURCE, [Call("add", "add", (1, 2)), Call("kill", "kill_worker"), Call("after", "add", (3, 4))])
    assert result.status == "crashed"
    # a result still in flight when the worker died is lost with it
    assert (result.calls["add"].status, result.calls["add"].value) in (("ok", 3), ("crashed", None))
    assert result.calls["kill"].status == "crashed" and result.calls["after"].status == "crashed"
    following = plain_pool.run(SOURCE, [Call("add", "add", (5, 5))])
    assert following.status == "ok" and following.calls["add"].value == 10


def test_fallback_is_chosen_and_warned_about_once(monkeypatch):
    monkeypatch.setattr(isolation, "bwrap_problem", lambda: "bwrap (bubblewrap) is not installed")
    monkeypatch.setattr(isolation, "_warned", False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert isolation.choose("auto") == "rlimits"
        assert isolation.choose("auto") == "rlimits"
        assert isolation.choose("none") == "rlimits"
    assert [w.category for w in caught] == [SandboxWarning]
    assert "not installed" in str(caught[0].message)
    with pytest.raises(SandboxError, match="not installed"):
        isolation.choose("bwrap")
    with pytest.raises(ValueError):
        isolation.choose("docker")
