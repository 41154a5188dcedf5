"""First checks of a submitted exercise.py, before any of it runs: size, encoding, emptiness."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CheckedSource:
    """`text` when the source may be run; otherwise a submission status and message."""

    text: str | None
    status: str = "ok"
    message: str = ""


def check_source(source: bytes | str, max_bytes: int) -> CheckedSource:
    """Reject sources over `max_bytes` ("too-large"), not UTF-8 ("not-utf8") or blank ("empty").
    A UTF-8 byte-order mark is dropped."""
    if isinstance(source, str):
        try:
            raw = source.encode("utf-8")
        except UnicodeEncodeError:
            return CheckedSource(None, "not-utf8", "exercise.py contains characters that are not valid UTF-8")
    elif isinstance(source, (bytes, bytearray, memoryview)):
        raw = bytes(source)
    else:
        raise TypeError(f"source must be bytes or str, not {type(source).__name__}")
    if len(raw) > max_bytes:
        return CheckedSource(None, "too-large", f"exercise.py is {len(raw)} bytes; the limit is {max_bytes} bytes")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        return CheckedSource(None, "not-utf8", f"exercise.py is not valid UTF-8 (line {line}, byte {error.start})")
    if not text.strip():
        return CheckedSource(None, "empty", "exercise.py is empty")
    return CheckedSource(text)
