"""Length-prefixed frames over pipes: a JSON object plus raw byte buffers.

Wire format of one frame (big-endian):

    u32 header_length | u32 buffer_count | header: UTF-8 JSON object | per buffer: u64 length, bytes

Runs on both sides of the sandbox, so it imports nothing but the standard library.  The
decoder enforces its size caps before buffering anything, and reports any malformed input
as a FrameError; it never evaluates what it reads.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import struct
import time
from typing import Any

_PREFIX = struct.Struct(">II")
_LENGTH = struct.Struct(">Q")
MAX_BUFFERS = 1 << 20
TOO_COMPLEX = "too-complex"

Frame = tuple[dict[str, Any], list[bytes]]


PIPE_BYTES = 1 << 20


def widen_pipe(fd: int, size: int = PIPE_BYTES) -> None:
    """Ask for a larger pipe buffer, so that a whole job or result usually fits in it and
    the writer need not wait for the reader to be scheduled (best effort)."""
    try:
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, size)
    except (OSError, AttributeError):
        pass


class FrameError(Exception):
    """The byte stream is not a well-formed frame within the caps."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"JSON constant {name} is not allowed")


def pack(header: dict[str, Any], buffers: list[bytes] | tuple[bytes, ...] = ()) -> bytes:
    """The bytes of one frame."""
    body = json.dumps(header, separators=(",", ":"), allow_nan=False, ensure_ascii=False).encode("utf-8", "surrogatepass")
    parts = [_PREFIX.pack(len(body), len(buffers)), body]
    for buffer in buffers:
        parts.append(_LENGTH.pack(len(buffer)))
        parts.append(buffer)
    return b"".join(parts)


def write_all(fd: int, data: bytes | memoryview, deadline: float | None = None) -> None:
    """Write all of `data` to `fd`.  With a deadline (time.monotonic), `fd` must be
    non-blocking and TimeoutError is raised when it is not written in time."""
    view = memoryview(data)
    while view:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("write timed out")
            _, writable, _ = select.select([], [fd], [], remaining)
            if not writable:
                continue
        try:
            written = os.write(fd, view[: 1 << 20])
        except BlockingIOError:
            continue
        view = view[written:]


def write_frame(fd: int, header: dict[str, Any], buffers: list[bytes] | tuple[bytes, ...] = (), deadline: float | None = None) -> None:
    """Write one frame to `fd`."""
    write_all(fd, pack(header, buffers), deadline)


class FrameDecoder:
    """Incremental frame parser: feed it bytes as they arrive, get back complete frames.

    `max_frame` caps the header plus all buffers of one frame.  `max_tokens`, if given,
    caps the JSON structure of a header before it is parsed: its `[`, `{` and `,` bytes
    (an upper bound on its containers and items, which cost far more memory parsed than
    as bytes).  A frame over it is consumed without being parsed and comes out as
    ({TOO_COMPLEX: message}, []); the stream stays in step.  After a FrameError the
    decoder is unusable (the stream has lost its framing).
    """

    def __init__(self, max_frame: int, max_tokens: int | None = None) -> None:
        self.max_frame = max_frame
        self.max_tokens = max_tokens
        self.consumed = 0  # bytes fed so far
        self._data = bytearray()
        self._pos = 0
        self._reset()

    def _reset(self) -> None:
        self._header: bytes | None = None
        self._header_length: int | None = None
        self._count = 0
        self._buffers: list[bytes] = []
        self._next_length: int | None = None
        self._size = 0

    def _take(self, n: int) -> bytes | None:
        if len(self._data) - self._pos < n:
            return None
        chunk = bytes(self._data[self._pos : self._pos + n])
        self._pos += n
        return chunk

    def _grow(self, n: int) -> None:
        self._size += n
        if self._size > self.max_frame:
            raise FrameError(f"frame larger than {self.max_frame} bytes")

    @property
    def pending(self) -> bool:
        """True when a frame has started but is not complete."""
        return self._header_length is not None or self._pos < len(self._data)

    def feed(self, data: bytes) -> list[Frame]:
        """Add bytes; return the frames they complete, in order."""
        self.consumed += len(data)
        self._data += data
        frames: list[Frame] = []
        while True:
            frame = self._step()
            if frame is None:
                break
            frames.append(frame)
        if self._pos and (self._pos > (1 << 20) or self._pos == len(self._data)):
            del self._data[: self._pos]
            self._pos = 0
        return frames

    def _step(self) -> Frame | None:
        if self._header_length is None:
            prefix = self._take(_PREFIX.size)
            if prefix is None:
                return None
            self._header_length, self._count = _PREFIX.unpack(prefix)
            if self._count > MAX_BUFFERS:
                raise FrameError(f"frame announces {self._count} buffers")
            self._grow(self._header_length)
        if self._header is None:
            self._header = self._take(self._header_length)
            if self._header is None:
                return None
        while len(self._buffers) < self._count:
            if self._next_length is None:
                length = self._take(_LENGTH.size)
                if length is None:
                    return None
                (self._next_length,) = _LENGTH.unpack(length)
                self._grow(self._next_length)
            buffer = self._take(self._next_length)
            if buffer is None:
                return None
            self._buffers.append(buffer)
            self._next_length = None
        header, buffers = self._header, self._buffers
        self._reset()
        if self.max_tokens is not None and tokens(header) > self.max_tokens:
            return {TOO_COMPLEX: f"its header has more than {self.max_tokens} JSON items"}, []
        return _parse_header(header), buffers


def tokens(data: bytes, start: int = 0, end: int | None = None) -> int:
    """The `[`, `{` and `,` bytes of data[start:end]: in JSON text, an upper bound on its
    containers and items (what `FrameDecoder`'s `max_tokens` caps)."""
    end = len(data) if end is None else end
    return data.count(b"[", start, end) + data.count(b"{", start, end) + data.count(b",", start, end)


def header_tokens(frame: bytes) -> int:
    """`tokens` of the header of a frame made by `pack`."""
    length, _ = _PREFIX.unpack_from(frame)
    return tokens(frame, _PREFIX.size, _PREFIX.size + length)


def _parse_header(raw: bytes) -> dict[str, Any]:
    try:
        header = json.loads(raw.decode("utf-8", "surrogatepass"), parse_constant=_reject_constant)
    except (ValueError, RecursionError, UnicodeDecodeError) as error:
        raise FrameError(f"frame header is not valid JSON: {type(error).__name__}") from None
    if type(header) is not dict:
        raise FrameError("frame header is not a JSON object")
    return header


class FrameReader:
    """Blocking reader of consecutive frames from one fd, reading in large chunks."""

    def __init__(self, fd: int, max_frame: int) -> None:
        self.fd = fd
        self.max_frame = max_frame
        self._data = bytearray()

    def _fill(self, size: int) -> bool:
        while len(self._data) < size:
            chunk = os.read(self.fd, max(1 << 20, size - len(self._data)))
            if not chunk:
                return False
            self._data += chunk
        return True

    def next_raw(self) -> tuple[dict[str, Any], list[bytes], bytes] | None:
        """(header, buffers, the frame's bytes); None at end of stream between frames."""
        if not self._fill(_PREFIX.size):
            if self._data:
                raise FrameError("stream ended inside a frame")
            return None
        header_length, count = _PREFIX.unpack_from(self._data)
        if count > MAX_BUFFERS or header_length > self.max_frame:
            raise FrameError("frame too large")
        end = _PREFIX.size + header_length
        spans = []
        for _ in range(count):
            if not self._fill(end + _LENGTH.size):
                raise FrameError("stream ended inside a frame")
            (length,) = _LENGTH.unpack_from(self._data, end)
            end += _LENGTH.size
            if end + length > self.max_frame + _LENGTH.size * count + _PREFIX.size:
                raise FrameError(f"frame larger than {self.max_frame} bytes")
            spans.append((end, end + length))
            end += length
        if not self._fill(end):
            raise FrameError("stream ended inside a frame")
        raw = bytes(self._data[:end])
        del self._data[:end]
        header = _parse_header(raw[_PREFIX.size : _PREFIX.size + header_length])
        return header, [raw[a:b] for a, b in spans], raw

    def next(self) -> Frame | None:
        """The next frame; None at end of stream between frames."""
        frame = self.next_raw()
        return None if frame is None else frame[:2]
