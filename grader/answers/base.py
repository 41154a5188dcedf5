"""The contract every answer check follows: parse first, grade second.

An answer check (an `AnswerCheck`: a frozen dataclass registered by kind, see
`grader.answers.registry`) turns what a student wrote in `answers.toml` (a TOML value:
str, int, float, bool or a list of them) into a canonical value, or rejects it with an
`AnswerParseError` whose message says what was expected.  Grading compares a parsed answer
with a key (the canonical value the reference computed) and returns a `Marking`: the
fraction of the points earned and a message for the student.

The same check reads the key and the misconceptions' answers: `to_toml(key)` is what a
perfect student writes, and `parse(to_toml(key))` graded against `key` scores 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


class AnswerParseError(ValueError):
    """A student's answer could not be read; the message says what was expected."""


@dataclass(frozen=True)
class Marking:
    """The outcome of grading one parsed answer against one key.

    fraction: share of the points earned, in [0, 1] (1 is fully correct).
    message: one sentence for the student ("" when fully correct), e.g. a diagnosis such as
        "your matrix is the transpose of the expected one".
    """

    fraction: float
    message: str = ""

    @property
    def correct(self) -> bool:
        return self.fraction >= 1.0


@runtime_checkable
class AnswerCheck(Protocol):
    """How one kind of answer is written, parsed, compared and shown.

    kind: short name of the answer kind ("integer", "real", "expression", "matrix", ...).
    """

    kind: str

    def describe(self, key: Any) -> str:
        """The expected format in a few words, used as the comment in answers.toml:
        "integer", "2x3 matrix as [[..], [..]]", "expression in s", "one of A, B, C, D"."""
        ...

    def parse(self, raw: Any) -> Any:
        """Turn a TOML value into the canonical answer, or raise AnswerParseError."""
        ...

    def grade(self, parsed: Any, key: Any) -> Marking:
        """Compare a parsed answer with the key; never raises for a parsed answer."""
        ...

    # A check may also define `matches(parsed, key) -> bool`, a faster `grade(...).correct`
    # (see `answer_matches`), and `precheck(raw, keys) -> str`, a message when the raw
    # value cannot match any of `keys` (found cheaply, before parsing; see grade_answer).

    def to_toml(self, key: Any) -> Any:
        """The TOML value of the key: submitting it scores full marks."""
        ...

    def to_text(self, key: Any) -> str:
        """The key as a short human-readable string (for previews and feedback)."""
        ...


def answer_matches(check: AnswerCheck, parsed: Any, key: Any) -> bool:
    """Would `parsed` score full marks against `key`?  Uses the check's `matches` when it
    has one (no diagnosis message is built), else `grade`."""
    matches = getattr(check, "matches", None)
    return bool(matches(parsed, key)) if matches else check.grade(parsed, key).correct
