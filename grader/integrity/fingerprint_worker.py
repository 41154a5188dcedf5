"""Fingerprint files in a process of its own: `python -m grader.integrity.fingerprint_worker`.

Standard input: the stub's fingerprints as one line of `cache.to_json` (or `null`), then
each file as an 8-byte big-endian length and its bytes. Standard output: one line of
`cache.to_json` per file, in order. Started with `-m`, the process imports what
fingerprinting needs and nothing else: multiprocessing's spawn would re-import the
caller's `__main__` in every worker (a script that imports torch costs seconds each).
The files are only tokenized, never run.
"""

from __future__ import annotations

import sys
from typing import BinaryIO, Iterator

from grader.integrity import cache
from grader.integrity.winnow import FilePrint, fingerprint_file

LENGTH_BYTES = 8


def pack(stub: FilePrint | None, sources: list[bytes]) -> bytes:
    """The standard input for a worker that fingerprints `sources`."""
    head = (cache.to_json(stub) if stub is not None else "null").encode() + b"\n"
    return head + b"".join(pack_file(data) for data in sources)


def pack_file(data: bytes) -> bytes:
    """One file of a worker's standard input (after the stub's line)."""
    return len(data).to_bytes(LENGTH_BYTES, "big") + data


def _files(stream: BinaryIO) -> Iterator[bytes]:
    while header := stream.read(LENGTH_BYTES):
        size = int.from_bytes(header, "big")
        data = stream.read(size)
        if len(data) != size:
            raise SystemExit("fingerprint worker: truncated input")
        yield data


def main() -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    head = stdin.readline()
    stub = None if head.strip() == b"null" else cache.from_json(head, b"")
    for data in _files(stdin):
        stdout.write(cache.to_json(fingerprint_file(data, stub)).encode() + b"\n")
    stdout.flush()


if __name__ == "__main__":
    main()
