"""Batch grading and its records: the SQLite gradebook (`store`), finding submissions
(`submissions`), the batch run (`runner`), the exported files (`exports`, `feedback`,
`report`) and the item analysis behind the report (`stats`).

The public entry point is `grader.gradebook.runner.grade_batch`; it is re-exported here
lazily so that importing this package stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["grade_batch", "BatchSummary", "BatchError"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from grader.gradebook import runner

        return getattr(runner, name)
    raise AttributeError(name)
