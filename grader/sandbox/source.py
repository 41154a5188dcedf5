"""First checks of a submitted exercise.py, before any of it runs: size, encoding, emptiness."""

from __future__ import annotations

from dataclasses import dataclass

from grader.student_file import StudentFileError, decode, too_large_message


@dataclass(frozen=True)
class CheckedSource:
    """`text` when the source may be run; otherwise a submission status and message."""

    text: str | None
    status: str = "ok"
    message: str = ""


def check_source(source: bytes | str, max_bytes: int) -> CheckedSource:
    """Reject sources over `max_bytes` ("too-large"), not UTF-8 ("not-utf8") or blank ("empty").
    A UTF-8 byte-order mark is dropped (`grader.student_file.decode`, the one decoder)."""
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
        return CheckedSource(None, "too-large", too_large_message("exercise.py", len(raw), max_bytes))
    try:
        text = decode(raw, "exercise.py", max_bytes)
    except StudentFileError as error:
        return CheckedSource(None, "not-utf8", str(error))
    if not text.strip():
        return CheckedSource(None, "empty", "exercise.py is empty")
    return CheckedSource(text)
