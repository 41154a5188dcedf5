"""Sources rejected before anything runs: too large, not UTF-8, empty."""

from __future__ import annotations

import pytest

from grader.sandbox import Call, ExecutorPool, Limits, run_in_process
from grader.sandbox.source import check_source

CALLS = [Call("f/1", "f"), Call("g/1", "g")]


@pytest.mark.parametrize(
    "source, status",
    [
        (b"", "empty"),
        ("  \n\t\n", "empty"),
        (b"def f():\n    return '\xff'\n", "not-utf8"),
        ("x = '\udc80'\n", "not-utf8"),
        (b"#" * (30 * 1024**2), "too-large"),
    ],
    ids=["empty-bytes", "blank", "latin1", "lone-surrogate", "30MB"],
)
def test_rejected_sources(source, status):
    checked = check_source(source, Limits().source_bytes)
    assert checked.text is None and checked.status == status and checked.message


def test_size_cap_is_a_parameter_and_bom_is_accepted():
    assert check_source(b"x = 1\n" * 20, 100).status == "too-large"
    assert check_source(b"\xef\xbb\xbfx = 1\n", 100).text == "x = 1\n"


def test_every_call_gets_the_submission_status():
    result = run_in_process(b"\xff\xfe", CALLS)
    assert result.status == "not-utf8"
    assert {c.status for c in result.calls.values()} == {"not-utf8"} and set(result.calls) == {"f/1", "g/1"}


def test_pool_rejects_without_running_anything(pool: ExecutorPool):
    huge = b"x = 1\n" * (6 * 1024**2)
    result = pool.run(huge, CALLS)
    assert result.status == "too-large" and result.calls["g/1"].status == "too-large"
    assert pool.run(b"", CALLS).status == "empty"
    assert pool.run("pass\n".encode("utf-16"), CALLS).status == "not-utf8"
