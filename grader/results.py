"""What grading produces: one `ItemResult` per question or code function.

Statuses: for answers `correct`, `partial`, `incorrect`, `invalid` (could not be parsed),
`missing` (no answer); code items add `error` (the function raised or returned the wrong
kind of value), `timeout`, `memory`, `forbidden` (a not-allowed call), `crashed`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

ANSWER_STATUSES = ("correct", "partial", "incorrect", "invalid", "missing")
CODE_STATUSES = ("error", "timeout", "memory", "forbidden", "crashed", "not-implemented")


@dataclass(frozen=True)
class TestOutcome:
    """One test of a code item (or one check of an answer item)."""

    name: str
    score: float
    max_score: float
    status: str
    message: str = ""
    hidden: bool = False
    misconception: str | None = None
    expected: str = ""
    got: str = ""


@dataclass(frozen=True)
class ItemResult:
    """The grade of one item: a question (`q3`) or a code function (`conv2d`).

    score is in [0, max_score]; feedback is the grader's diagnosis for the student (what
    the check or the tests found), never the misconception's sentence; misconception is
    the matched tag, if any, and hint its sentence ("" when none matched).  `message`
    joins the two where only one text fits.
    """

    item: str
    score: float
    max_score: float
    status: str
    feedback: str = ""
    misconception: str | None = None
    answer: str = ""
    expected: str = ""
    tests: tuple[TestOutcome, ...] = field(default_factory=tuple)
    hint: str = ""

    @property
    def message(self) -> str:
        """The hint and the feedback as one text: `hint (feedback)`, or either alone."""
        return join_hint(self.hint, self.feedback)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def join_hint(hint: str, feedback: str) -> str:
    """A misconception's sentence and the grader's diagnosis as one text (the one place
    they are joined)."""
    if hint and feedback:
        return f"{hint} ({feedback})"
    return hint or feedback


def status_for_fraction(fraction: float) -> str:
    """`correct` at full marks, `incorrect` at zero, `partial` in between."""
    if fraction >= 1.0:
        return "correct"
    if fraction <= 0.0:
        return "incorrect"
    return "partial"
