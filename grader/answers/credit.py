"""Partial-credit rules: how a check's fraction of correctness becomes the share of an
item's points.

    proportional      the fraction itself (the default)
    all-or-nothing    full points for a fully correct answer, 0 otherwise
    threshold:T       0 below T (0 < T <= 1), the fraction itself from T on

A rule is written as text in an exercise declaration (`partial_credit=...`) or in a quiz's
`quiz.toml` (`[grading] partial_credit = ...` and `[grading.exercises] <id> = ...`).
"""

from __future__ import annotations

from dataclasses import dataclass

PROPORTIONAL = "proportional"
ALL_OR_NOTHING = "all-or-nothing"
THRESHOLD = "threshold"


class CreditRuleError(ValueError):
    """A partial-credit rule's text cannot be read; the message says what is accepted."""


@dataclass(frozen=True)
class CreditRule:
    kind: str = PROPORTIONAL
    threshold: float = 0.0

    def apply(self, fraction: float) -> float:
        """The share of the points earned by an answer whose check gave `fraction`."""
        fraction = max(0.0, min(1.0, fraction))
        if self.kind == ALL_OR_NOTHING:
            return 1.0 if fraction >= 1.0 else 0.0
        if self.kind == THRESHOLD and fraction < self.threshold:
            return 0.0
        return fraction

    def __str__(self) -> str:
        return f"{THRESHOLD}:{self.threshold:g}" if self.kind == THRESHOLD else self.kind


def parse_rule(text: str) -> CreditRule:
    """`proportional`, `all-or-nothing` or `threshold:T` (also `threshold=T`) -> the rule."""
    value = str(text).strip().lower().replace("_", "-")
    if value in (PROPORTIONAL, ALL_OR_NOTHING):
        return CreditRule(value)
    name, _, number = value.replace("=", ":").partition(":")
    if name == THRESHOLD:
        try:
            threshold = float(number)
        except ValueError:
            threshold = -1.0
        if 0.0 < threshold <= 1.0:
            return CreditRule(THRESHOLD, threshold)
    raise CreditRuleError(
        f"partial-credit rule {text!r}: expected proportional, all-or-nothing or threshold:T with 0 < T <= 1"
    )
