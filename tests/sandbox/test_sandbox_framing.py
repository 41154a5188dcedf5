"""Frames on the pipes: round trips across arbitrary chunking, and the decoder's caps."""

from __future__ import annotations

import os
import struct

import pytest

from grader.sandbox.framing import FrameDecoder, FrameError, FrameReader, pack


def test_frames_survive_any_chunking():
    stream = pack({"ev": "a", "n": 1}, [b"xyz", b""]) + pack({"ev": "b"}) + pack({"ev": "c", "s": "é"}, [b"\0" * 1000])
    for step in (1, 7, 4096):
        decoder = FrameDecoder(1 << 20)
        frames = []
        for i in range(0, len(stream), step):
            frames += decoder.feed(stream[i : i + step])
        assert [h["ev"] for h, _ in frames] == ["a", "b", "c"]
        assert frames[0][1] == [b"xyz", b""] and frames[2][1] == [b"\0" * 1000]
        assert not decoder.pending


def test_oversized_frames_are_refused_before_buffering():
    decoder = FrameDecoder(100)
    with pytest.raises(FrameError, match="larger"):
        decoder.feed(struct.pack(">II", 10, 1) + b'{"a": 1}  ' + struct.pack(">Q", 1 << 40))
    with pytest.raises(FrameError, match="larger"):
        FrameDecoder(100).feed(struct.pack(">II", 1 << 30, 0))


@pytest.mark.parametrize("body", [b"[1, 2]", b"{not json", b'{"x": NaN}', b"\xff\xfe"], ids=["array", "syntax", "nan", "bytes"])
def test_malformed_headers_are_errors(body):
    with pytest.raises(FrameError):
        FrameDecoder(1 << 20).feed(struct.pack(">II", len(body), 0) + body)


def test_deeply_nested_header_is_an_error_not_a_crash():
    body = b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(FrameError):
        FrameDecoder(1 << 30).feed(struct.pack(">II", len(body), 0) + body)


def test_blocking_reader_keeps_raw_bytes_and_spots_truncation():
    r, w = os.pipe()
    first, second = pack({"n": 1}, [b"ab"]), pack({"n": 2})
    os.write(w, first + second + first[:5])
    os.close(w)
    reader = FrameReader(r, 1 << 20)
    header, buffers, raw = reader.next_raw()
    assert header == {"n": 1} and buffers == [b"ab"] and raw == first
    assert reader.next() == ({"n": 2}, [])
    with pytest.raises(FrameError, match="ended"):
        reader.next()
    os.close(r)


def test_blocking_reader_refuses_oversized_frames():
    r, w = os.pipe()
    os.write(w, struct.pack(">II", 2, 1) + b"{}" + struct.pack(">Q", 1 << 40))
    os.close(w)
    with pytest.raises(FrameError, match="larger"):
        FrameReader(r, 1000).next()
    os.close(r)


def test_a_header_with_too_much_json_structure_is_skipped_unparsed_and_the_stream_stays_in_step():
    from grader.sandbox.framing import TOO_COMPLEX

    bomb = pack({"value": [[]] * 5000})  # 5000 "[]" items and commas: tiny bytes, costly parsed
    after = pack({"ev": "end"}, [b"x"])
    decoder = FrameDecoder(1 << 20, max_tokens=1000)
    frames = decoder.feed(pack({"ev": "first"}) + bomb + after)
    assert [header for header, _ in frames][0] == {"ev": "first"}
    assert TOO_COMPLEX in frames[1][0] and frames[1][1] == []
    assert frames[2] == ({"ev": "end"}, [b"x"])
    assert FrameDecoder(1 << 20, max_tokens=20000).feed(bomb)[0][0] == {"value": [[]] * 5000}
