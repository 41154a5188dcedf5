"""The one reader of the files a student hands in (answers.toml, exercise.py).

Standard library only, and no imports from the rest of `grader`, so the student kit can
ship this file as it is and give the verdicts `grader check` and `grader grade` give:

* `MAX_BYTES`: the single size limit of a submitted file (1,000,000 bytes);
* `decode`: bytes -> text, UTF-8 with a byte-order mark removed (Windows editors write
  one), or `StudentFileError` naming the line and byte of the first bad byte;
* `read`: a file's bytes, capped, refusing symlinks and anything but a regular file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_BYTES = 1_000_000
BOM = b"\xef\xbb\xbf"


class StudentFileError(ValueError):
    """A submitted file cannot be used; the message says why (and names the file)."""


def too_large_message(name: str, size: int, limit: int = MAX_BYTES) -> str:
    """The one wording of the size verdict."""
    return f"{name} is too large ({size} bytes; the limit is {limit} bytes)"


def decode(raw: bytes, name: str, limit: int = MAX_BYTES) -> str:
    """The text of a submitted file's bytes: at most `limit` bytes, UTF-8, a leading BOM
    dropped.  Raises StudentFileError (too large, or not UTF-8 with line and byte)."""
    if len(raw) > limit:
        raise StudentFileError(too_large_message(name, len(raw), limit))
    body = raw[len(BOM):] if raw.startswith(BOM) else raw
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        line = body.count(b"\n", 0, error.start) + 1
        column = error.start - (body.rfind(b"\n", 0, error.start) + 1) + 1
        raise StudentFileError(
            f"{name} is not UTF-8 text (line {line}, byte {column}); save it as UTF-8"
        ) from None


def read(path: str | os.PathLike[str], limit: int = MAX_BYTES) -> tuple[int, bytes]:
    """(size, bytes) of a regular file, reading at most `limit` + 1 bytes.

    The last component is opened without following a symlink, and without blocking on a
    FIFO; a symlink, a folder or a device raises StudentFileError, as does an unreadable
    file.  A file over the limit is *not* an error here: the caller sees len(bytes) > limit
    (and `decode` refuses it with the size)."""
    name = Path(path).name
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        if os.path.islink(path):
            raise StudentFileError(f"{name} is a symbolic link; links are not followed") from None
        raise StudentFileError(f"cannot read {name} ({error.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise StudentFileError(f"{name} is not a regular file")
        chunks: list[bytes] = []
        remaining = limit + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    except OSError as error:
        raise StudentFileError(f"cannot read {name} ({error.strerror})") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    return max(info.st_size, len(data)), data


def read_within(path: str | os.PathLike[str], limit: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes (see `read`); a larger file
    raises StudentFileError with its true size."""
    size, data = read(path, limit)
    if size > limit or len(data) > limit:
        raise StudentFileError(too_large_message(Path(path).name, max(size, len(data)), limit))
    return data
