"""Word answers: a single word or label, and sequences of words or word tuples."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar, Sequence

from ._common import show
from .base import AnswerParseError, Marking
from .fields import Validated, boolean, optional, setting, texts
from .registry import register

MAX_ITEMS = 5000
MAX_WORD = 100
MAX_TEXT = 100_000

Item = tuple[str, ...]


def normal_word(text: str) -> str:
    """How words are compared: whitespace collapsed, case folded."""
    return " ".join(text.split()).casefold()


def _word(raw: Any, where: str) -> str:
    if not isinstance(raw, str):
        raise AnswerParseError(f"{where}: expected a word in quotes, got {show(raw)}")
    if len(raw) > MAX_WORD:
        raise AnswerParseError(f"{where}: word too long ({len(raw)} characters, at most {MAX_WORD})")
    word = normal_word(raw)
    if not word:
        raise AnswerParseError(f"{where}: empty word")
    if not word.isprintable():
        raise AnswerParseError(f"{where}: the word contains control characters")
    return word


def _tuple_or_none(options: Sequence[str] | None) -> tuple[str, ...] | None:
    return None if options is None else tuple(options)


@register
@dataclass(frozen=True)
class Word(Validated):
    """One word or label, compared case-insensitively after stripping.  Key: str.

    With `options`, the answer must be one of them (else it is invalid, not wrong).
    """

    kind: ClassVar[str] = "word"
    options: tuple[str, ...] | None = setting(None, optional(texts), convert=_tuple_or_none)

    @cached_property
    def _allowed(self) -> set[str] | None:
        return None if self.options is None else {normal_word(o) for o in self.options}

    def describe(self, key: Any) -> str:
        if self.options is None:
            return "a word"
        shown = ", ".join(self.options[:8]) + (", ..." if len(self.options) > 8 else "")
        return f"one word out of: {shown}"

    def parse(self, raw: Any) -> str:
        word = _word(raw, "answer")
        if self._allowed is not None and word not in self._allowed:
            raise AnswerParseError(f"{show(raw)} is not one of the allowed words ({self.describe(None)})")
        return word

    def grade(self, parsed: str, key: str) -> Marking:
        if parsed == normal_word(key):
            return Marking(1.0)
        return Marking(0.0, f"{parsed!r} is not the expected word")

    def to_toml(self, key: str) -> str:
        return key

    def to_text(self, key: str) -> str:
        return key


@register
@dataclass(frozen=True)
class WordSequence(Validated):
    """An ordered list of words or of word tuples (e.g. skip-gram pairs).  Key: a tuple of
    tuples, e.g. ``(("the", "cat"), ("cat", "the"))`` (plain strings count as 1-tuples).

    Accepts a TOML array of strings or of arrays of strings (all of one length), or a string
    of words separated by commas or spaces.  Words compare as in `Word`.  Score:
    ``max(0, (expected items present - extra items) / number of expected items)``, counting
    repeated items; when `ordered`, the right items in a wrong order score 0.5.
    """

    kind: ClassVar[str] = "word_sequence"
    ordered: bool = setting(True, boolean)

    def describe(self, key: Any) -> str:
        width = _width(key)
        if width > 1:
            example = "[" + ", ".join(f'"{c}"' for c in "abcd"[:width]) + "]"
            return f"list of {'pairs' if width == 2 else f'{width}-tuples'} as [{example}, ..]"
        return 'list of words as ["a", "b", ..]'

    def parse(self, raw: Any) -> tuple[Item, ...]:
        if isinstance(raw, str):
            if len(raw) > MAX_TEXT:
                raise AnswerParseError(f"answer too long ({len(raw)} characters)")
            parts = raw.split(",") if "," in raw else raw.split()
            raw = [p for p in parts if p.strip()]
        if not isinstance(raw, (list, tuple)):
            raise AnswerParseError(f'expected a list such as ["a", "b"], got {show(raw)}')
        if len(raw) > MAX_ITEMS:
            raise AnswerParseError(f"too many items ({len(raw)}, at most {MAX_ITEMS})")
        items = tuple(self._item(x, i) for i, x in enumerate(raw))
        widths = {len(item) for item in items}
        if len(widths) > 1:
            raise AnswerParseError("mixed items: every item must be a word, or every item a list of the same length")
        return items

    @staticmethod
    def _item(raw: Any, index: int) -> Item:
        where = f"item {index + 1}"
        if isinstance(raw, (list, tuple)):
            if not 1 <= len(raw) <= 10:
                raise AnswerParseError(f"{where}: expected a list of 1 to 10 words, got {show(raw)}")
            return tuple(_word(w, where) for w in raw)
        return (_word(raw, where),)

    def grade(self, parsed: tuple[Item, ...], key: Sequence[Any]) -> Marking:
        want = _key_items(key)
        got = tuple(parsed)
        if got == want or (not self.ordered and Counter(got) == Counter(want)):
            return Marking(1.0)
        if not want:
            return Marking(0.0, f"expected no items, got {len(got)}")
        matched = sum((Counter(got) & Counter(want)).values())
        extra, missing = len(got) - matched, len(want) - matched
        if not extra and not missing:
            return Marking(0.5, "all the right items, but in the wrong order")
        fraction = max(0.0, (matched - extra) / len(want))
        parts = []
        if missing:
            parts.append(f"{missing} expected item{'s are' if missing != 1 else ' is'} missing")
        if extra:
            extras = list((Counter(got) - Counter(want)).elements())
            shown = ", ".join(_item_text(x) for x in extras[:3]) + (", ..." if len(extras) > 3 else "")
            parts.append(f"{extra} item{'s are' if extra != 1 else ' is'} not expected ({shown})")
        return Marking(fraction, "; ".join(parts))

    def to_toml(self, key: Sequence[Any]) -> list[Any]:
        return [item if isinstance(item, str) else list(item) for item in key]

    def to_text(self, key: Sequence[Any]) -> str:
        return ", ".join(item if isinstance(item, str) else _item_text(tuple(item)) for item in key)


def _key_items(key: Sequence[Any]) -> tuple[Item, ...]:
    return tuple(
        (normal_word(item),) if isinstance(item, str) else tuple(normal_word(w) for w in item)
        for item in key
    )


def _width(key: Sequence[Any]) -> int:
    for item in key:
        return 1 if isinstance(item, str) else len(item)
    return 1


def _item_text(item: Item) -> str:
    return item[0] if len(item) == 1 else "(" + ", ".join(item) + ")"
