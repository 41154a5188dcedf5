"""One torch intra-op thread: the single guard of the project.

The grader computes on tiny tensors, where extra OpenMP threads only cost (10-100x on a busy
machine), and a process that has used several torch threads can hang the children it forks.

- `single_thread()`: one thread for the rest of this process; call it before torch work in
  any process that forks (loading the bank, a Dask worker, the kit's child).
- `with one_thread():` one thread while the block runs, then the previous setting back
  (grading, writing a quiz).  Re-entrant, and per OS thread: torch keeps the count of each
  thread that has used it, so each thread entering sets its own and restores it on leaving.

Importing this module does not import torch (it is one of the kit's modules, see
`grader.kit.KIT_MODULES`); the sandbox, which cannot import the grader's packages, keeps
its own line in `grader.sandbox.harness.warm_up`.
"""

from __future__ import annotations

import threading
from typing import Any


class _OneThread:
    """The shared context manager behind `one_thread()`.  torch's thread count belongs to
    each OS thread once that thread has used torch (an OpenMP setting; threads that have
    not yet take the last value set), so every thread sets and restores its own."""

    def __init__(self) -> None:
        self._local = threading.local()

    def _saved(self) -> list[int]:
        saved = getattr(self._local, "saved", None)
        if saved is None:
            saved = self._local.saved = []
        return saved

    def __enter__(self) -> None:
        import torch

        self._saved().append(torch.get_num_threads())
        torch.set_num_threads(1)

    def __exit__(self, *exc: Any) -> None:
        import torch

        previous = self._saved().pop()
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)

    def make_permanent(self) -> None:
        """One thread now, also once this thread's open blocks have ended."""
        import torch

        saved = self._saved()
        saved[:] = [1] * len(saved)
        torch.set_num_threads(1)


_GUARD = _OneThread()


def one_thread() -> _OneThread:
    """A context manager: one torch thread inside the block (see the module docstring)."""
    return _GUARD


def single_thread() -> None:
    """One torch thread for the rest of this process (threads started later take it too),
    also after this thread's open `one_thread()` blocks end."""
    _GUARD.make_permanent()
