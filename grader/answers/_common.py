"""Helpers shared by the answer kinds: describing raw values, reading numbers."""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any

from .base import AnswerParseError
from .safe_expr import (
    MAX_LENGTH,
    evaluate,
    exact_value,
    parse_expression,
)

NUMBER_EXAMPLES = "e.g. 0.25, 1/3 or sqrt(2)/2"
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?", re.ASCII)
_NON_FINITE = frozenset({"nan", "inf", "infinity"})
_PLAIN_INTEGER = re.compile(r"[+-]?[0-9]{1,18}", re.ASCII)


def show(raw: Any) -> str:
    """A short description of a raw TOML value for error messages (never the whole value)."""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, str):
        text = raw if len(raw) <= 40 else raw[:37] + "..."
        return repr(text)
    if isinstance(raw, int):
        text = str(raw) if raw.bit_length() < 128 else "a very large integer"
        return text
    if isinstance(raw, float):
        return repr(raw)
    if isinstance(raw, (list, tuple)):
        return f"a list of {len(raw)} item{'s' if len(raw) != 1 else ''}"
    if isinstance(raw, dict):
        return "a table"
    if raw is None:
        return "nothing"
    return f"a value of type {type(raw).__name__}"


def check_text(raw: str, what: str) -> str:
    """`raw` stripped, after the length check every text answer gets."""
    if len(raw) > MAX_LENGTH:
        raise AnswerParseError(f"{what} too long ({len(raw)} characters, at most {MAX_LENGTH})")
    return raw.strip()


def number_text_value(text: str, exact: bool = True) -> tuple[float, Fraction | None]:
    """The value of a numeric text (a number or a constant expression), and its exact value
    when it is rational (only computed when `exact`; else None).  Raises AnswerParseError
    with the reason otherwise."""
    text = check_text(text, "number")
    if not text:
        raise AnswerParseError(f"expected a number ({NUMBER_EXAMPLES}), got an empty text")
    if text.lstrip("+-").casefold() in _NON_FINITE:
        raise AnswerParseError(f"expected a finite number, got {show(text)}")
    if _PLAIN_NUMBER.fullmatch(text):
        exact = Fraction(text)
        try:
            value = float(exact)
        except OverflowError:
            raise AnswerParseError(f"the number {show(text)} is too large") from None
        if not math.isfinite(value):
            raise AnswerParseError(f"the number {show(text)} is too large")
        return value, exact
    try:
        node = parse_expression(text, ())
        value = evaluate(node, {})
    except AnswerParseError as exc:
        raise AnswerParseError(f"expected a number ({NUMBER_EXAMPLES}): {exc}") from None
    return value, exact_value(node) if exact else None


def read_float(raw: Any, what: str = "a number") -> float:
    """A finite float from a TOML number, a numeric string or a constant expression."""
    if isinstance(raw, bool):
        raise AnswerParseError(f"expected {what} ({NUMBER_EXAMPLES}), got {show(raw)}")
    if isinstance(raw, int):
        try:
            return float(raw)
        except OverflowError:
            raise AnswerParseError("the number is too large for a float") from None
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise AnswerParseError(f"expected a finite number, got {show(raw)}")
        return raw
    if isinstance(raw, str):
        return number_text_value(raw, exact=False)[0]
    raise AnswerParseError(f"expected {what} ({NUMBER_EXAMPLES}), got {show(raw)}")


def read_integer(raw: Any) -> int:
    """An int from a TOML int, a whole float (14.0), or a text whose value is whole."""
    if isinstance(raw, bool):
        raise AnswerParseError(f"expected an integer, got {show(raw)}")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise AnswerParseError(f"expected a finite integer, got {show(raw)}")
        if not raw.is_integer():
            raise AnswerParseError(f"expected a whole number, got {show(raw)}")
        return int(raw)
    if isinstance(raw, str):
        text = check_text(raw, "integer")
        if _PLAIN_INTEGER.fullmatch(text):
            return int(text)
        value, exact = number_text_value(text)
        if exact is not None:
            if exact.denominator != 1:
                raise AnswerParseError(f"expected a whole number, got {show(raw)}")
            return int(exact)
        nearest = round(value)
        if abs(value) >= 2.0**53 or abs(value - nearest) > 1e-9 * max(1.0, abs(value)):
            raise AnswerParseError(f"expected a whole number, got {show(raw)} = {value:.10g}")
        return int(nearest)
    raise AnswerParseError(f"expected an integer, got {show(raw)}")
