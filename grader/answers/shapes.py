"""Tensor shapes: a tuple of sizes (ints) and symbolic dimensions (names such as ``N``)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, ClassVar, Sequence

from ._common import check_text, show
from .base import AnswerParseError, Marking
from .fields import Validated
from .registry import register

MAX_DIMS = 16
MAX_SIZE = 10**12
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,19}", re.ASCII)
_SIZE = re.compile(r"[0-9]{1,13}(?:\.0*)?", re.ASCII)
_FORMAT = 'shape as a list of sizes or names, e.g. [2, 5] or "(N, 2, 5)"'

Dim = int | str


@register
@dataclass(frozen=True)
class Shape(Validated):
    """A tensor shape.  Key: a tuple of non-negative ints and dimension names, e.g.
    ``("N", 64, 16, 16)``.

    Accepts a TOML array (``[64, 16, 16]``, ``["N", 64, 16, 16]``) or a string
    ``"(N, 64, 16, 16)"``, ``"[64, 16, 16]"``, ``"64x16x16"`` (also ``×``), ``"(64,)"``,
    ``"()"``.  Names are compared case-insensitively; grading is exact (0 or 1) with a
    diagnosis of a wrong number of dimensions and of a permutation of the key.
    """

    kind: ClassVar[str] = "shape"

    def describe(self, key: Any) -> str:
        return _FORMAT

    def parse(self, raw: Any) -> tuple[Dim, ...]:
        if isinstance(raw, (list, tuple)):
            if len(raw) > MAX_DIMS:
                raise AnswerParseError(f"too many dimensions ({len(raw)}, at most {MAX_DIMS})")
            return tuple(_entry(item, i) for i, item in enumerate(raw))
        if isinstance(raw, bool) or isinstance(raw, (int, float)):
            return (_entry(raw, 0),)
        if isinstance(raw, str):
            return _parse_text(check_text(raw, "shape"))
        raise AnswerParseError(f"expected a {_FORMAT}, got {show(raw)}")

    def grade(self, parsed: tuple[Dim, ...], key: Sequence[Dim]) -> Marking:
        want = tuple(_norm(d) for d in key)
        got = tuple(_norm(d) for d in parsed)
        if got == want:
            return Marking(1.0)
        if len(got) != len(want):
            return Marking(0.0, f"expected {_dims(len(want))}, got {len(got)}")
        if sorted(map(repr, got)) == sorted(map(repr, want)):
            return Marking(0.0, "the right sizes in the wrong order (check where the channel dimension goes)")
        wrong = [str(i + 1) for i, (a, b) in enumerate(zip(got, want)) if a != b]
        label = "dimension" if len(wrong) == 1 else "dimensions"
        return Marking(0.0, f"{label} {', '.join(wrong)} (counting from 1) {'is' if len(wrong) == 1 else 'are'} wrong")

    def to_toml(self, key: Sequence[Dim]) -> list[int] | str:
        if all(isinstance(d, int) for d in key):
            return [int(d) for d in key]
        return self.to_text(key)

    def to_text(self, key: Sequence[Dim]) -> str:
        inner = ", ".join(str(d) for d in key)
        return f"({inner},)" if len(key) == 1 else f"({inner})"


def _dims(n: int) -> str:
    return f"{n} dimension{'s' if n != 1 else ''}"


def _norm(dim: Dim) -> Dim:
    return dim.lower() if isinstance(dim, str) else dim


def _entry(item: Any, index: int) -> Dim:
    where = f"dimension {index + 1}"
    if isinstance(item, bool):
        raise AnswerParseError(f"{where}: expected a size or a name, got {show(item)}")
    if isinstance(item, int):
        return _size(item, where)
    if isinstance(item, float):
        if not math.isfinite(item) or not item.is_integer():
            raise AnswerParseError(f"{where}: expected a whole size, got {show(item)}")
        return _size(int(item), where)
    if isinstance(item, str):
        text = item.strip()
        if _SIZE.fullmatch(text):
            return _size(int(text.split(".")[0]), where)
        if _NAME.fullmatch(text):
            return text
        raise AnswerParseError(
            f"{where}: expected a size (64) or a name (N), got {show(item)}"
        )
    raise AnswerParseError(f"{where}: expected a size or a name, got {show(item)}")


def _size(value: int, where: str) -> int:
    if value < 0 or value > MAX_SIZE:
        raise AnswerParseError(f"{where}: a size must be between 0 and {MAX_SIZE}, got {value}")
    return value


def _parse_text(text: str) -> tuple[Dim, ...]:
    if not text:
        raise AnswerParseError(f"expected a {_FORMAT}, got an empty text")
    if text.startswith("torch.Size(") and text.endswith(")"):
        text = text[len("torch.Size("):-1].strip()
    pairs = {"(": ")", "[": "]"}
    if text[0] in pairs:
        if text[-1] != pairs[text[0]]:
            raise AnswerParseError(f"unbalanced brackets in {show(text)}")
        text = text[1:-1].strip()
        if not text:
            return ()
        parts = text.split(",")
        if parts[-1].strip() == "":
            parts = parts[:-1]
    elif "," in text:
        parts = text.split(",")
    else:
        parts = re.split(r"\s*[x×*]\s*", text) if re.search(r"[0-9]\s*[x×*]|[x×*]\s*[0-9]", text) else [text]
    if len(parts) > MAX_DIMS:
        raise AnswerParseError(f"too many dimensions ({len(parts)}, at most {MAX_DIMS})")
    return tuple(_entry(part, i) for i, part in enumerate(parts))
