"""Fingerprints of files already seen, so that a `grade` rerun after a few new submissions
fingerprints only those: `OUT/similarity/.fingerprints/<key>.json`, where the key is a
SHA-256 of the algorithm's version, the stub's fingerprints and the file's bytes. Plain
JSON written by this process (never pickle); an unreadable or malformed entry is a miss.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Iterable

from grader.atomic_write import write_atomic
from grader.integrity.winnow import K, WINDOW, FilePrint, FunctionPrint, source_text

VERSION = f"winnow-v2-k{K}-w{WINDOW}"  # v2: BOM dropped, CR line ends, NFKC names, functions as graded
FOLDER = ".fingerprints"


def stub_digest(stub: FilePrint | None) -> str:
    digest = hashlib.sha256()
    for name, f in sorted((stub.functions if stub else {}).items()):
        digest.update(name.encode() + b"\0" + ",".join(map(str, sorted(f.hashes))).encode() + b"\n")
    return digest.hexdigest()


def key(data: bytes, stub: str) -> str:
    return hashlib.sha256(f"{VERSION}\0{stub}\0".encode() + data).hexdigest()


def to_json(prints: FilePrint) -> str:
    """A file's fingerprints as one line of JSON (without its text, which is the file's)."""
    document = {
        "error": prints.error,
        "functions": {
            name: {"lines": list(f.lines), "hashes": [[h, s] for h, s in f.hashes.items()]}
            for name, f in prints.functions.items()
        },
    }
    return json.dumps(document, separators=(",", ":"))


def from_json(text: str | bytes, data: bytes) -> FilePrint:
    """The fingerprints `to_json` wrote for the file `data`; ValueError when malformed."""
    try:
        document = json.loads(text)
        functions = {
            name: FunctionPrint(name, (int(f["lines"][0]), int(f["lines"][1])), {int(h): int(s) for h, s in f["hashes"]})
            for name, f in document["functions"].items()
        }
        error = str(document["error"])
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as problem:
        raise ValueError(f"malformed fingerprints ({type(problem).__name__})") from None
    return FilePrint(source_text(data) or "", functions, error)  # as fingerprint_file read it


def load(folder: Path, entry: str, data: bytes) -> FilePrint | None:
    """The cached fingerprints of `data`, or None."""
    try:
        return from_json((folder / f"{entry}.json").read_bytes(), data)
    except (OSError, ValueError):
        return None


def store(folder: Path, entry: str, prints: FilePrint) -> None:
    write_atomic(folder / f"{entry}.json", to_json(prints))


def prune(folder: Path, keep: Iterable[str]) -> None:
    """Delete the entries of files no longer submitted."""
    wanted = {f"{k}.json" for k in keep}
    for path in folder.glob("*.json") if folder.is_dir() else []:
        if path.name not in wanted:
            path.unlink(missing_ok=True)
