"""The quiz's exercise bank, shipped to Dask workers.

Workers have the grader (and so the built-in bank) installed; a quiz's extra `--bank`
folders exist only on the client. The client reads their *.py files into a `BankContext`
(what `load_bank` would load there, in the same order); a worker writes them once into
a private folder and loads the bank from it, cached by the context's digest for the life
of the worker process.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from grader.bank import Bank, BankError, default_bank, load_bank


@dataclass(frozen=True)
class BankContext:
    """The extra bank folders: for each, its (file name, bytes) in name order."""

    folders: tuple[tuple[tuple[str, bytes], ...], ...] = ()

    @property
    def digest(self) -> str:
        hashed = hashlib.sha256(b"grader-bank-context-v1")
        for folder in self.folders:
            hashed.update(b"\0folder")
            for name, data in folder:
                hashed.update(b"\0%d\0%s\0" % (len(data), name.encode()))
                hashed.update(data)
        return hashed.hexdigest()


def read_context(bank_dirs: Iterable[str | Path]) -> BankContext:
    """The files `load_bank(bank_dirs)` would load; BankError for a missing folder."""
    folders = []
    for folder in bank_dirs:
        folder = Path(folder)
        if not folder.is_dir():
            raise BankError(f"{folder}: bank folder does not exist")
        folders.append(tuple((path.name, path.read_bytes()) for path in sorted(folder.glob("*.py"))))
    return BankContext(tuple(folders))


_LOADED: dict[str, Bank] = {}
_LOCK = threading.Lock()


def bank_for(context: BankContext) -> Bank:
    """The bank of `context` in this process (built-in only when it has no folder)."""
    if not context.folders:
        with _LOCK:
            return default_bank()
    digest = context.digest
    with _LOCK:
        bank = _LOADED.get(digest)
        if bank is None:
            root = Path(tempfile.mkdtemp(prefix=f"grader-bank-{digest[:12]}-"))
            dirs = []
            for index, folder in enumerate(context.folders):
                target = root / str(index)
                target.mkdir()
                for name, data in folder:
                    (target / Path(name).name).write_bytes(data)
                dirs.append(target)
            bank = _LOADED[digest] = load_bank(dirs)
        return bank
