"""The output caps on both sides of a child's stdout/stderr pipes: the child's own streams
stop writing past the cap (second line), the worker keeps the first bytes of a pipe and
counts the rest however much arrives (the boundary)."""

from __future__ import annotations

import os
import threading

import pytest

from grader.sandbox import Call, ExecutorPool, Limits, framing
from grader.sandbox.child import _text_stream
from grader.sandbox.session import Capture

from .conftest import needs_bwrap


def _pipe_contents(read_fd: int) -> bytes:
    os.set_blocking(read_fd, False)
    chunks = []
    while True:
        try:
            chunk = os.read(read_fd, 1 << 16)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def test_a_capped_stream_stops_writing_to_its_pipe_past_its_room():
    read_fd, write_fd = os.pipe()
    try:
        stream = _text_stream(write_fd, line_buffering=True)
        stream.room = 25
        for i in range(1000):
            assert stream.write(f"line {i:04d}\n") == 10  # the writer is told every character went out
        stream.flush()
        # 25 characters of room: the first three lines go out whole (30 characters), no more
        assert _pipe_contents(read_fd) == b"line 0000\nline 0001\nline 0002\n"
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_a_stream_without_a_cap_writes_everything():
    read_fd, write_fd = os.pipe()
    try:
        stream = _text_stream(write_fd, line_buffering=True)
        text = "".join(f"{i}\n" for i in range(2000))
        stream.write(text)
        stream.flush()
        assert _pipe_contents(read_fd) == text.encode()
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_capture_keeps_the_first_bytes_and_counts_every_dropped_byte():
    read_fd, write_fd = os.pipe()
    framing.widen_pipe(read_fd)
    sent = bytes(range(256)) * (3 * 4096 + 7)  # about 3 MB: several pipefuls past the cap

    def writer():
        view = memoryview(sent)
        while view:
            view = view[os.write(write_fd, view[: 1 << 16]):]
        os.close(write_fd)

    thread = threading.Thread(target=writer)
    thread.start()
    capture = Capture(cap=1000)
    os.set_blocking(read_fd, True)
    while capture.read(read_fd):
        pass
    thread.join()
    os.close(read_fd)
    assert bytes(capture.data) == sent[:1000]
    assert capture.dropped == len(sent) - 1000
    assert capture.full


# ----------------------------------------------------------------- through the real sandbox

_SMALL_CAP = 5000
_MIXED = '''
import os, sys, threading

def mixed(n):
    os.write(1, b"a" * 3000)
    for i in range(n):
        print(f"line {i}")
    sys.stdout.buffer.write(b"b" * 100)
    sys.stdout.flush()
    os.write(1, b"c" * 100000)
    def trickle():
        for _ in range(2000):
            os.write(2, b"e")
    threads = [threading.Thread(target=trickle) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return n + 1

def tail():
    print("after the cap")
    return "tail"
'''


def _expected_stdout(n: int) -> str:
    written = "a" * 3000 + "".join(f"line {i}\n" for i in range(n)) + "b" * 100 + "c" * 100000
    return written[:_SMALL_CAP]


@pytest.fixture(scope="module")
def small_cap_pool():
    needs_bwrap()
    with ExecutorPool(workers=1, limits=Limits(cpu_per_test=5.0, output_bytes=_SMALL_CAP), isolation="bwrap") as pool:
        yield pool


@pytest.mark.parametrize("n", [10, 200, 100_000])
def test_the_kept_output_is_the_first_bytes_written_however_they_were_written(small_cap_pool, n):
    """print, sys.stdout.buffer and os.write on fd 1, threads on fd 2, before, across and past
    the cap: stdout is exactly the first bytes written, stderr as many 'e' as the cap allows,
    and every call (the one that flooded and the one after) has its own value."""
    result = small_cap_pool.run(_MIXED, [Call("flood", "mixed", (n,)), Call("after", "tail")])
    assert result.status == "ok", result.message
    assert (result.calls["flood"].status, result.calls["flood"].value) == ("ok", n + 1)
    assert (result.calls["after"].status, result.calls["after"].value) == ("ok", "tail")
    assert result.stdout == _expected_stdout(n)
    assert result.stderr == "e" * _SMALL_CAP


def test_output_under_the_cap_written_just_before_the_end_is_kept(small_cap_pool):
    """The last call's output, the submission's only output, arrives with the child's last
    result: it is read before the submission is reported."""
    result = small_cap_pool.run("def f():\n    print('x' * 4999)\n    return 1\n", [Call("f", "f")])
    assert result.calls["f"].status == "ok"
    assert result.stdout == "x" * 4999 + "\n"
