"""The one rounding rule for scores shown anywhere (CSV files, terminal, report, feedback,
LMS exports): two decimals, half away from zero, trailing zeros dropped (`7`, `7.5`,
`6.67`). Totals are summed from the unrounded item scores, then rounded."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

DECIMALS = 2


def round_score(value: float) -> float:
    """`value` rounded by the rule, as a number."""
    return float(Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-DECIMALS), rounding=ROUND_HALF_UP))


def score_text(value: float | None) -> str:
    """`value` rounded by the rule, as text ("–" for None)."""
    if value is None:
        return "–"
    rounded = round_score(value)
    text = f"{rounded:.{DECIMALS}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text

