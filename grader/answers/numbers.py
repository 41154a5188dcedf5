"""Numeric answers: `Integer` (exact) and `Real` (tolerance or significant figures)."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ._common import NUMBER_EXAMPLES, Stateless, read_float, read_integer, spec_repr
from .base import Check


class Integer(Stateless):
    """An exact integer answer.  Key: int.

    Accepts a TOML int, a whole float (``14.0``), or a text whose value is whole (``"14"``,
    ``"14.0"``, ``"2^4"``); rejects ``14.5`` with a message.
    """

    kind = "integer"

    def describe(self, key: Any) -> str:
        return "integer"

    def parse(self, raw: Any) -> int:
        return read_integer(raw)

    def grade(self, parsed: int, key: int) -> Check:
        if parsed == key:
            return Check(1.0)
        if parsed == -key:
            return Check(0.0, "the sign is wrong")
        return Check(0.0, f"{parsed} is not the expected value")

    def to_toml(self, key: int) -> int:
        return int(key)

    def to_text(self, key: int) -> str:
        return str(int(key))


class Real:
    """A real-number answer.  Key: a finite float.

    Correct when ``|answer - key| <= atol + rtol * |key|``; or, when `sig_figs` is set, when
    the answer rounds (half up, as written) to the key rounded to `sig_figs` significant
    figures.  Accepts numbers, numeric strings and constant expressions (``"1/3"``,
    ``"2^-3"``, ``"sqrt(2)/2"``, ``"e^-1"``, ``"ln(4)"``).
    """

    kind = "real"

    def __init__(self, rtol: float = 1e-3, atol: float = 1e-9, sig_figs: int | None = None) -> None:
        if not (rtol >= 0 and atol >= 0 and math.isfinite(rtol) and math.isfinite(atol)):
            raise ValueError(f"rtol and atol must be finite and >= 0, got {rtol!r}, {atol!r}")
        if sig_figs is not None and (isinstance(sig_figs, bool) or not isinstance(sig_figs, int) or not 1 <= sig_figs <= 15):
            raise ValueError(f"sig_figs must be an int from 1 to 15 or None, got {sig_figs!r}")
        self.rtol = float(rtol)
        self.atol = float(atol)
        self.sig_figs = sig_figs

    def __repr__(self) -> str:
        if self.sig_figs is None:
            return spec_repr(self, rtol=self.rtol, atol=self.atol)
        return spec_repr(self, rtol=self.rtol, atol=self.atol, sig_figs=self.sig_figs)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and repr(other) == repr(self)

    def __hash__(self) -> int:
        return hash(repr(self))

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

    def grade(self, parsed: float, key: float) -> Check:
        if self.close(parsed, key):
            return Check(1.0)
        if key != 0 and self.close(-parsed, key):
            return Check(0.0, "the sign is wrong")
        if self.sig_figs is not None:
            return Check(0.0, f"not equal to the expected value at {self.sig_figs} significant figures")
        if abs(parsed - key) <= 10 * (self.atol + self.rtol * abs(key)):
            return Check(0.0, f"close, but not within the tolerance (relative {self.rtol:g})")
        return Check(0.0, "not the expected value")

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
