"""The output caps on both sides of a child's stdout/stderr pipes: the child's own streams
stop writing past the cap (second line), the worker keeps the first bytes of a pipe and
counts the rest however much arrives (the boundary)."""

from __future__ import annotations

import os
import threading

from grader.sandbox import framing
from grader.sandbox.child import _text_stream
from grader.sandbox.session import Capture


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
