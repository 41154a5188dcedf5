"""Numeric answers: `Integer` (exact) and `Real` (tolerance or significant figures)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar

from ._common import NUMBER_EXAMPLES, read_float, read_integer
from .base import Marking
from .fields import Validated, at_least, between, integer, number, optional, setting
from .registry import register


@register
@dataclass(frozen=True)
class Integer(Validated):
    """An exact integer answer.  Key: int.

    Accepts a TOML int, a whole float (``14.0``), or a text whose value is whole (``"14"``,
    ``"14.0"``, ``"2^4"``); rejects ``14.5`` with a message.
    """

    kind: ClassVar[str] = "integer"

    def describe(self, key: Any) -> str:
        return "integer"

    def parse(self, raw: Any) -> int:
        return read_integer(raw)

    def grade(self, parsed: int, key: int) -> Marking:
        if parsed == key:
            return Marking(1.0)
        if parsed == -key:
            return Marking(0.0, "the sign is wrong")
        return Marking(0.0, f"{parsed} is not the expected value")

    def to_toml(self, key: int) -> int:
        return int(key)

    def to_text(self, key: int) -> str:
        return str(int(key))


@register
@dataclass(frozen=True)
class Real(Validated):
    """A real-number answer.  Key: a finite float.

    Correct when ``|answer - key| <= atol + rtol * |key|``; or, when `sig_figs` is set, when
    the answer rounds (half up, as written) to the key rounded to `sig_figs` significant
    figures.  Accepts numbers, numeric strings and constant expressions (``"1/3"``,
    ``"2^-3"``, ``"sqrt(2)/2"``, ``"e^-1"``, ``"ln(4)"``).
    """

    kind: ClassVar[str] = "real"
    rtol: float = setting(1e-3, number, at_least(0), convert=float)
    atol: float = setting(1e-9, number, at_least(0), convert=float)
    sig_figs: int | None = setting(None, optional(integer, between(1, 15)))

    def describe(self, key: Any) -> str:
        if self.sig_figs is not None:
            return f"number to {self.sig_figs} significant figures ({NUMBER_EXAMPLES})"
        return f"number ({NUMBER_EXAMPLES})"

    def parse(self, raw: Any) -> float:
        return read_float(raw)

    def close(self, answer: float, key: float) -> bool:
        """Whether `answer` is correct for `key` under this spec's rule."""
        if self.sig_figs is not None:
            return round_sig(answer, self.sig_figs) == round_sig(key, self.sig_figs)
        return abs(answer - key) <= self.atol + self.rtol * abs(key)

    def grade(self, parsed: float, key: float) -> Marking:
        if self.close(parsed, key):
            return Marking(1.0)
        if key != 0 and self.close(-parsed, key):
            return Marking(0.0, "the sign is wrong")
        if self.sig_figs is not None:
            return Marking(0.0, f"not equal to the expected value at {self.sig_figs} significant figures")
        if abs(parsed - key) <= 10 * (self.atol + self.rtol * abs(key)):
            return Marking(0.0, f"close, but not within the tolerance (relative {self.rtol:g})")
        return Marking(0.0, "not the expected value")

    def to_toml(self, key: float) -> float:
        value = float(key)
        if not math.isfinite(value):
            raise ValueError(f"a Real key must be finite, got {key!r}")
        return value

    def to_text(self, key: float) -> str:
        if self.sig_figs is not None:
            return format(round_sig(key, self.sig_figs), "f") if abs(key) >= 1e-4 else f"{key:.{self.sig_figs - 1}e}"
        return f"{float(key):.6g}"


def round_sig(value: float, figures: int) -> Decimal:
    """`value` as written (its shortest repr) rounded half up to `figures` significant
    figures, as an exact Decimal: ``round_sig(0.1235, 3) == Decimal("0.124")``."""
    number = Decimal(repr(float(value)))
    if number == 0:
        return Decimal(0)
    exponent = number.adjusted() - figures + 1
    return number.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_UP)
