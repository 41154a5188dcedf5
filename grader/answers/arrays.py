"""Vectors and matrices of real numbers, graded entry by entry with diagnoses."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, ClassVar, Sequence

from ..indices import index_text
from ..wording import with_article
from ._common import check_text, read_float, show
from .base import AnswerParseError, Marking
from .fields import Validated, at_least, number, setting
from .registry import register

MAX_ENTRIES = 10_000
MAX_TEXT = 20_000

Vector = tuple[float, ...]
MatrixValue = tuple[tuple[float, ...], ...]


@register
@dataclass(frozen=True)
class Matrix(Validated):
    """A vector (1-D) or matrix (2-D) of real numbers.  Key: a nested list of floats.

    Accepts a TOML array (entries: numbers, numeric strings or constant expressions such as
    ``"1/3"``) or the same written as a string (``"[[1, 2], [3, 4]]"``).  An entry is correct
    when ``|answer - key| <= atol + rtol * |key|``; the score is the fraction of correct
    entries (0 when the shape is wrong).  A wrong answer that is the transpose of the key,
    its negative, or a constant multiple of it is diagnosed in the message.
    """

    kind: ClassVar[str] = "matrix"
    rtol: float = setting(1e-3, number, at_least(0), convert=float)
    atol: float = setting(1e-6, number, at_least(0), convert=float)

    def describe(self, key: Any) -> str:
        array = _key_array(key)
        if len(array.shape) == 1:
            return f"vector of {array.shape[0]} numbers as [..]"
        rows, cols = array.shape
        return f"{rows}x{cols} matrix as [{', '.join(['[..]'] * min(rows, 2))}{', ..' if rows > 2 else ''}]"

    def precheck(self, raw: Any, keys: Sequence[Any]) -> str:
        """A message when the TOML array `raw` has a shape that none of `keys` (nor their
        transposes) has, found from its list structure alone, before any entry is read;
        else "".  (A text answer is at most `MAX_TEXT` characters: it is not prechecked.)"""
        shape = _raw_shape(raw)
        if shape is None or not keys or shape == _raw_shape(keys[0]):
            return ""
        allowed = set()
        for key in keys:
            wanted = _raw_shape(key)
            if wanted is not None:
                allowed |= {wanted, wanted[::-1]}
        if shape in allowed or _raw_shape(keys[0]) is None:
            return ""
        return f"expected {_shape_text(_key_array(keys[0]).shape)}, got {_shape_text(shape)}"

    def parse(self, raw: Any) -> Vector | MatrixValue:
        if isinstance(raw, str):
            raw = _parse_text(raw)
        if not isinstance(raw, (list, tuple)):
            raise AnswerParseError(f"expected a vector [..] or a matrix [[..], [..]], got {show(raw)}")
        if any(isinstance(row, (list, tuple)) for row in raw):
            if not all(isinstance(row, (list, tuple)) for row in raw):
                raise AnswerParseError("mixed numbers and lists: write a vector [..] or a matrix [[..], [..]]")
            if sum(len(row) for row in raw) > MAX_ENTRIES:
                raise AnswerParseError(f"too many entries (at most {MAX_ENTRIES})")
            widths = {len(row) for row in raw}
            if len(widths) > 1:
                first = len(raw[0])
                bad = next(i for i, row in enumerate(raw) if len(row) != first)
                raise AnswerParseError(
                    f"rows have different lengths: row [0] has {first} entries, row [{bad}] has {len(raw[bad])}"
                )
            if widths == {0}:
                raise AnswerParseError("the matrix has empty rows")
            return tuple(
                tuple(_number(x, f"entry {index_text((i, j))}") for j, x in enumerate(row))
                for i, row in enumerate(raw)
            )
        if len(raw) > MAX_ENTRIES:
            raise AnswerParseError(f"too many entries (at most {MAX_ENTRIES})")
        return tuple(_number(x, f"entry {index_text((i,))}") for i, x in enumerate(raw))

    def grade(self, parsed: Vector | MatrixValue, key: Any) -> Marking:
        want = _key_array(key)
        got = _Array.of(parsed)
        if got.shape != want.shape:
            if len(got.shape) == 2 and len(want.shape) == 2 and got.shape == want.shape[::-1] and self._all_close(got.T, want):
                return Marking(0.0, "your matrix is the transpose of the expected one")
            return Marking(0.0, f"expected {_shape_text(want.shape)}, got {_shape_text(got.shape)}")
        ok = self._close(got, want)
        fraction = sum(ok) / len(ok) if ok else 1.0
        if fraction == 1.0:
            return Marking(1.0)
        return Marking(fraction, self._diagnose(got, want) or _count_message(ok, want.shape))

    def matches(self, parsed: Vector | MatrixValue, key: Any) -> bool:
        """Full marks?  The same verdict as `grade(...).correct`, without a diagnosis."""
        want = _key_array(key)
        got = _Array.of(parsed)
        return got.shape == want.shape and self._all_close(got, want)

    def to_toml(self, key: Any) -> list[Any]:
        return _key_array(key).tolist()

    def to_text(self, key: Any) -> str:
        array = _key_array(key)
        if len(array.shape) == 1:
            return _row_text(array.flat)
        return "[" + ", ".join(_row_text(row) for row in array.tolist()) + "]"

    # ------------------------------------------------------------------ helpers

    def _close(self, got: _Array, want: _Array) -> list[bool]:
        """Entry by entry, in row-major order (NaN and overflow compare as not close)."""
        return [_close(g, w, self.rtol, self.atol) for g, w in zip(got.flat, want.flat)]

    def _all_close(self, got: _Array, want: _Array) -> bool:
        return all(self._close(got, want))

    def _diagnose(self, got: _Array, want: _Array) -> str:
        if len(got.shape) == 2 and got.shape[0] == got.shape[1] and self._all_close(got.T, want):
            return "your matrix is the transpose of the expected one"
        if any(w != 0 for w in want.flat) and self._all_close(got.scaled(-1.0), want):
            return "the signs are flipped: your answer is the negative of the expected one"
        norm = _dot(want.flat, want.flat)
        if norm > 0 and math.isfinite(norm):
            factor = _dot(got.flat, want.flat) / norm
            if math.isfinite(factor) and factor != 0 and abs(factor - 1) > 1e-3 and self._all_close(got, want.scaled(factor)):
                return f"your answer is {factor:.4g} times the expected one"
        return ""


def _raw_shape(raw: Any) -> tuple[int, ...] | None:
    """The shape of a nested list or array (None when it is not a rectangular 1-D or 2-D one)."""
    if hasattr(raw, "tolist") and not isinstance(raw, (list, tuple)):  # a numpy array
        raw = raw.tolist()
    if not isinstance(raw, (list, tuple)):
        return None
    rows = [row for row in raw if isinstance(row, (list, tuple))]
    if not rows:
        return (len(raw),)
    if len(rows) != len(raw) or len({len(row) for row in rows}) != 1:
        return None
    return (len(raw), len(rows[0]))


class _Array:
    """A real vector or matrix as its shape and its entries in row-major order (plain
    floats: the answer checks need no numpy, so the student kit can carry them)."""

    def __init__(self, shape: tuple[int, ...], flat: list[float]) -> None:
        self.shape = shape
        self.flat = flat

    @classmethod
    def of(cls, value: Any) -> _Array:
        """A vector, a list of equal-length rows, or anything with `tolist()` (a numpy array)."""
        if hasattr(value, "tolist"):
            value = value.tolist()
        if not isinstance(value, (list, tuple)):
            return cls((), [float(value)])
        if value and all(isinstance(row, (list, tuple)) for row in value):
            widths = {len(row) for row in value}
            if len(widths) != 1 or any(isinstance(x, (list, tuple)) for row in value for x in row):
                return cls((-1,), [])
            return cls((len(value), widths.pop()), [float(x) for row in value for x in row])
        if any(isinstance(x, (list, tuple)) for x in value):
            return cls((-1,), [])
        return cls((len(value),), [float(x) for x in value])

    @property
    def T(self) -> _Array:
        rows, cols = self.shape
        return _Array((cols, rows), [self.flat[i * cols + j] for j in range(cols) for i in range(rows)])

    def scaled(self, factor: float) -> _Array:
        return _Array(self.shape, [_product(factor, x) for x in self.flat])

    def tolist(self) -> list[Any]:
        if len(self.shape) == 1:
            return list(self.flat)
        cols = self.shape[1]
        return [self.flat[i:i + cols] for i in range(0, len(self.flat), cols)]


def _product(a: float, b: float) -> float:
    try:
        return a * b
    except OverflowError:  # pragma: no cover - floats overflow to inf, never raise
        return math.inf


def _close(got: float, want: float, rtol: float, atol: float) -> bool:
    difference = got - want
    return abs(difference) <= atol + rtol * abs(want)


def _dot(a: list[float], b: list[float]) -> float:
    return math.fsum(_product(x, y) for x, y in zip(a, b)) if all(map(math.isfinite, a + b)) else math.nan


def _number(raw: Any, where: str) -> float:
    try:
        return read_float(raw)
    except AnswerParseError as exc:
        raise AnswerParseError(f"{where}: {exc}") from None


def _key_array(key: Any) -> _Array:
    array = _Array.of(key)
    if len(array.shape) not in (1, 2) or array.shape[0] < 0 or not all(map(math.isfinite, array.flat)):
        raise ValueError(f"a Matrix key must be a finite 1-D or 2-D array, got shape {array.shape}")
    return array


def _shape_text(shape: tuple[int, ...]) -> str:
    if len(shape) == 1:
        return f"a vector of {shape[0]} numbers"
    return f"{with_article(shape[0])}x{shape[1]} matrix"


def _row_text(row: list[float]) -> str:
    return "[" + ", ".join(f"{x:.6g}" for x in row) + "]"


def _count_message(ok: list[bool], shape: tuple[int, ...]) -> str:
    cols = shape[1] if len(shape) == 2 else 0
    wrong = [divmod(i, cols) if cols else (i,) for i, good in enumerate(ok) if not good]
    shown = ", ".join(index_text(index) for index in wrong[:5])
    more = ", ..." if len(wrong) > 5 else ""
    return f"{sum(ok)} of {len(ok)} entries are correct; wrong: {shown}{more}"


_ITEM = re.compile(r"\s*(\[|\]|,|[^\[\],]+)")


def _parse_text(text: str) -> list[Any]:
    """A nested list (depth at most 2) from text such as ``"[[1, 2], [3, 1/3]]"``; the
    entries stay strings and are read as numbers by `parse`."""
    if len(text) > MAX_TEXT:
        raise AnswerParseError(f"answer too long ({len(text)} characters, at most {MAX_TEXT})")
    text = text.strip()
    if not text.startswith("["):
        check_text(text, "vector")
        raise AnswerParseError(f"expected a vector [..] or a matrix [[..], [..]], got {show(text)}")
    stack: list[list[Any]] = []
    result: list[Any] | None = None
    expect_item = True
    pos = 0
    while pos < len(text):
        match = _ITEM.match(text, pos)
        if match is None:
            break
        token = match.group(1).strip()
        pos = match.end()
        if not token:
            continue
        if result is not None:
            raise AnswerParseError("unexpected text after the closing ']'")
        if token == "[":
            if len(stack) == 2:
                raise AnswerParseError("too many levels of brackets (a matrix has two)")
            if stack and not expect_item:
                raise AnswerParseError("missing ',' between rows")
            new: list[Any] = []
            if stack:
                stack[-1].append(new)
            stack.append(new)
            expect_item = True
        elif token == "]":
            if not stack:
                raise AnswerParseError("unmatched ']'")
            done = stack.pop()
            expect_item = False
            if not stack:
                result = done
        elif token == ",":
            if not stack or expect_item:
                raise AnswerParseError("a ',' without an entry before it")
            expect_item = True
        else:
            if not stack or not expect_item:
                raise AnswerParseError(f"missing ',' before {show(token)}")
            stack[-1].append(token)
            expect_item = False
    if result is None:
        raise AnswerParseError("missing ']' at the end")
    return result
