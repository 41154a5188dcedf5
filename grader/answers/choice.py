"""Choice answers: one letter, a set of letters, or true/false; and option shuffling."""

from __future__ import annotations

import math
import re
import string
from dataclasses import MISSING, dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Sequence

from ._common import show
from .base import AnswerParseError, Marking
from .fields import Validated, count, distinct, setting, texts
from .registry import register

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

LETTERS = string.ascii_uppercase
_LETTER = re.compile(r"\(?([A-Za-z])[).]?", re.ASCII)
_TRUE = frozenset({"true", "t", "yes", "y"})
_FALSE = frozenset({"false", "f", "no", "n"})


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold()


class _Options:
    """Validated option texts and the letters that name them."""

    def __init__(self, options: Sequence[str]) -> None:
        if isinstance(options, str):
            raise ValueError("options must be a sequence of option texts, not a string")
        self.options = tuple(str(o) for o in options)
        if not 2 <= len(self.options) <= len(LETTERS):
            raise ValueError(f"need 2 to {len(LETTERS)} options, got {len(self.options)}")
        if len({_normal(o) for o in self.options}) != len(self.options):
            raise ValueError(f"options must be distinct, got {self.options!r}")
        self.letters = LETTERS[: len(self.options)]
        self.by_text = {_normal(o): letter for o, letter in zip(self.options, self.letters)}

    def listing(self) -> str:
        return ", ".join(self.letters)

    def letter(self, raw: Any) -> str:
        """The letter an answer names: a letter (``b``, ``B)``, ``(B)``) or an option text."""
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = str(raw)
        elif isinstance(raw, float) and math.isfinite(raw):
            raw = str(int(raw)) if raw.is_integer() else repr(raw)
        if not isinstance(raw, str):
            raise AnswerParseError(f"expected one of {self.listing()}, got {show(raw)}")
        text = raw.strip()
        if len(text) > 1000:
            raise AnswerParseError(f"expected one of {self.listing()}, got a long text")
        match = _LETTER.fullmatch(text)
        if match:
            letter = match.group(1).upper()
            if letter not in self.letters:
                raise AnswerParseError(f"{letter} is not an option; expected one of {self.listing()}")
            return letter
        found = self.by_text.get(_normal(text))
        if found is None:
            raise AnswerParseError(f"expected one of {self.listing()}, got {show(raw)}")
        return found


@dataclass(frozen=True)
class _OptionsCheck(Validated):
    """What single and multiple choice share: the option texts, in display order."""

    options: tuple[str, ...] = setting(
        MISSING, texts, count(2, len(LETTERS)), distinct(_normal), convert=tuple
    )

    @cached_property
    def _opts(self) -> _Options:
        return _Options(self.options)


@register
@dataclass(frozen=True)
class SingleChoice(_OptionsCheck):
    """One option out of `options` (texts in display order).  Key: a letter ``"A"``...

    Accepts a letter (case-insensitive, optionally ``B)`` or ``(B)``) or the exact text of an
    option (case and spacing ignored); a letter wins over an option whose text is a letter.
    """

    kind: ClassVar[str] = "single_choice"

    def describe(self, key: Any) -> str:
        return f"one of {self._opts.listing()}"

    def parse(self, raw: Any) -> str:
        return self._opts.letter(raw)

    def grade(self, parsed: str, key: str) -> Marking:
        if parsed == key:
            return Marking(1.0)
        return Marking(0.0, f"{parsed} is not the right choice")

    def to_toml(self, key: str) -> str:
        return self._key(key)

    def to_text(self, key: str) -> str:
        letter = self._key(key)
        return f"{letter}) {self.options[LETTERS.index(letter)]}"

    def _key(self, key: str) -> str:
        if key not in self._opts.letters:
            raise ValueError(f"key must be one of {self._opts.listing()}, got {key!r}")
        return key


@register
@dataclass(frozen=True)
class MultipleChoice(_OptionsCheck):
    """Any subset of `options`.  Key: a sorted tuple of letters, e.g. ``("A", "C")``.

    Accepts a TOML array of letters or option texts, or a string ``"A, C"`` / ``"A C"`` /
    ``"AC"``.  Score: ``max(0, right picks / right options - wrong picks / wrong options)``,
    so that choosing every option (or choosing at random) earns 0; with an empty key, 1 for
    an empty answer and 0 otherwise.
    """

    kind: ClassVar[str] = "multiple_choice"

    def describe(self, key: Any) -> str:
        return f'letters among {self._opts.listing()}, as ["A", "C"]'

    def parse(self, raw: Any) -> tuple[str, ...]:
        if isinstance(raw, str):
            text = raw.strip()
            if len(text) > 1000:
                raise AnswerParseError("answer too long")
            if _normal(text) in self._opts.by_text:
                items: list[Any] = [text]
            elif not text or text.casefold() == "none":
                items = []
            elif re.fullmatch(r"[A-Za-z]{2,26}", text, re.ASCII) and set(text.upper()) <= set(self._opts.letters):
                items = list(text)
            else:
                items = [part for part in re.split(r"[,;]", text) if part.strip()]
                if len(items) == 1:
                    items = text.split()
        elif isinstance(raw, (list, tuple)):
            if len(raw) > 2 * len(self.options):
                raise AnswerParseError(f"too many choices ({len(raw)})")
            items = list(raw)
        else:
            raise AnswerParseError(f'expected letters among {self._opts.listing()}, as ["A", "C"], got {show(raw)}')
        return tuple(sorted({self._opts.letter(item) for item in items}))

    def grade(self, parsed: tuple[str, ...], key: Sequence[str]) -> Marking:
        want, got = set(key), set(parsed)
        right, wrong = len(got & want), len(got - want)
        if not want:
            return Marking(1.0) if not got else Marking(0.0, "none of the options should be chosen")
        if got == want:
            return Marking(1.0)
        others = len(self.options) - len(want)
        fraction = max(0.0, right / len(want) - (wrong / others if others else 0.0))
        message = f"{right} of {len(want)} right options chosen"
        if wrong:
            message += f", and {wrong} wrong option{'s' if wrong != 1 else ''}"
        return Marking(fraction, message)

    def to_toml(self, key: Sequence[str]) -> list[str]:
        letters = sorted(set(key))
        if any(letter not in self._opts.letters for letter in letters):
            raise ValueError(f"key letters must be among {self._opts.listing()}, got {key!r}")
        return letters

    def to_text(self, key: Sequence[str]) -> str:
        return ", ".join(self.to_toml(key)) or "none"


@register
@dataclass(frozen=True)
class TrueFalse(Validated):
    """True or false.  Key: bool.  Accepts a TOML bool or true/false/yes/no/t/f/y/n."""

    kind: ClassVar[str] = "true_false"

    def describe(self, key: Any) -> str:
        return "true or false"

    def parse(self, raw: Any) -> bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and len(raw) < 100:
            word = raw.strip().casefold()
            if word in _TRUE:
                return True
            if word in _FALSE:
                return False
        raise AnswerParseError(f"expected true or false, got {show(raw)}")

    def grade(self, parsed: bool, key: bool) -> Marking:
        return Marking(1.0) if parsed == bool(key) else Marking(0.0, "that is not right")

    def to_toml(self, key: bool) -> bool:
        return bool(key)

    def to_text(self, key: bool) -> str:
        return "true" if key else "false"


def shuffle_options(
    rng: np.random.Generator, correct: str, distractors: Sequence[str]
) -> tuple[list[str], str]:
    """``(options, key_letter)``: `correct` and `distractors` in an order drawn from `rng`
    (deterministic for a seeded generator); raises ValueError on duplicate options."""
    options, key = shuffle_options_multi(rng, [correct], distractors)
    return options, key[0]


def letter_of(options: Sequence[str], text: str) -> str:
    """The letter ("A", "B", ...) under which `text` is listed among `options` (the inverse
    of `shuffle_options`); ValueError when it is not one of them."""
    return LETTERS[list(options).index(text)]


def shuffle_options_multi(
    rng: np.random.Generator, correct: Sequence[str], distractors: Sequence[str]
) -> tuple[list[str], tuple[str, ...]]:
    """``(options, key_letters)`` for a multiple-choice question: every option shuffled by
    `rng`, and the sorted letters of the `correct` ones."""
    if isinstance(correct, str) or isinstance(distractors, str):
        raise ValueError("correct and distractors must be sequences of option texts")
    pool = list(correct) + list(distractors)
    _Options(pool)  # validates count and distinctness
    order = [int(i) for i in rng.permutation(len(pool))]
    options = [pool[i] for i in order]
    key = tuple(sorted(LETTERS[order.index(i)] for i in range(len(correct))))
    return options, key
