"""A submission that could not be graded (a grader or sandbox failure, not the student's
doing) is recorded as such, never as a missing submission with 0.

Its submissions row has status `FAILED`; its items that could not be graded (the code
functions) have status `NOT_GRADED`, score 0 only as a placeholder, and as feedback
`not_graded_text(message)`: "not graded (grader failure: ...)".  The exports show that text
instead of a score; the student's feedback page shows `STUDENT_NOTICE` (the failure's
details are for the instructor).  The next run grades it again.
"""

from __future__ import annotations

from typing import Sequence

from grader.gradebook.store import ResultRow
from grader.results import ItemResult

FAILED = "failed"
NOT_GRADED = "not-graded"
MESSAGE_CHARS = 300
STUDENT_NOTICE = (
    "not graded (grader failure: the grading system failed, not your submission; "
    "it will be graded again)"
)


def not_graded_text(message: str) -> str:
    """ "not graded (grader failure: <message>)", on one line, clipped."""
    line = " ".join(message.split())
    if len(line) > MESSAGE_CHARS:
        line = line[: MESSAGE_CHARS - 3] + "..."
    return f"not graded (grader failure: {line})"


def not_graded_items(items: Sequence[tuple[str, float]], message: str) -> list[ItemResult]:
    """One NOT_GRADED result per (item, points)."""
    text = not_graded_text(message)
    return [ItemResult(item, 0.0, points, NOT_GRADED, text) for item, points in items]


def failure_of(rows: Sequence[ResultRow]) -> str | None:
    """The "not graded (grader failure: ...)" text of a student's results, or None when
    every item was graded."""
    return next((row.feedback for row in rows if row.status == NOT_GRADED), None)
