"""How a position in an array is shown to students, in answer and code feedback alike:
Python's own index, counted from 0, in brackets (`[1, 2]` is the second row's third
entry), so that it can be pasted into code as `x[1, 2]`."""

from __future__ import annotations

from typing import Iterable

INDEX_NOTE = "Indices count from 0, as in Python: [1, 2] is row 2, column 3."


def index_text(index: Iterable[int]) -> str:
    """(1, 2) -> `[1, 2]`; () -> `[]`."""
    return "[" + ", ".join(str(int(i)) for i in index) + "]"
