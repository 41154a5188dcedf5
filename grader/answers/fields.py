"""Declaring an answer check's settings: dataclass fields with attrs-style validators.

A check is a frozen dataclass deriving from `Validated`; each setting is declared with
`setting(default, *validators, convert=..., public=...)`.  On construction every setting's
validators run, in field order, on the value given (each is ``validator(check, name, value)``
and raises ValueError with an exact message, "Real: rtol must be >= 0, got -1"); then
`convert` turns the value into its stored form (``float``, ``tuple``).  A validator may read
the settings declared before its own, already converted.

`public=False` marks a setting that must not leave the grader (a key, a secret): the
description a student's kit receives (`grader.answers.registry.public_args`) leaves it out.
Standard library only: the student kit carries this module.
"""

from __future__ import annotations

import math
from dataclasses import MISSING, Field, field, fields
from typing import Any, Callable, Sequence

Validator = Callable[[Any, str, Any], None]


def setting(
    default: Any = MISSING,
    *validators: Validator,
    convert: Callable[[Any], Any] | None = None,
    public: bool = True,
    **options: Any,
) -> Any:
    """A dataclass field carrying its validators, its converter and whether it is public;
    `options` go to `dataclasses.field` (``kw_only=True``, ``hash=False``)."""
    metadata = {"validators": validators, "convert": convert, "public": public}
    return field(default=default, metadata=metadata, **options)


def is_public(item: Field[Any]) -> bool:
    """Whether a field belongs to a check's public description (constructor fields only)."""
    return item.init and item.metadata.get("public", True) is not False


class Validated:
    """Runs each field's validators, then its converter, after the dataclass __init__."""

    def __post_init__(self) -> None:
        for item in fields(self):  # type: ignore[arg-type]
            value = getattr(self, item.name)
            for validate in item.metadata.get("validators", ()):
                validate(self, item.name, value)
            convert = item.metadata.get("convert")
            if convert is not None:
                object.__setattr__(self, item.name, convert(value))


def fail(check: Any, name: str, expected: str, value: Any) -> ValueError:
    """The error every validator raises: "<Class>: <name> must be <expected>, got <value>"."""
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return ValueError(f"{type(check).__name__}: {name} must be {expected}, got {shown}")


# --- validators -------------------------------------------------------------------------


def number(check: Any, name: str, value: Any) -> None:
    """An int or float (not a bool), finite."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise fail(check, name, "a number", value)
    if not math.isfinite(value):
        raise fail(check, name, "finite", value)


def integer(check: Any, name: str, value: Any) -> None:
    """An int (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(check, name, "an integer", value)


def boolean(check: Any, name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise fail(check, name, "true or false", value)


def at_least(low: float) -> Validator:
    """A number >= `low` (run after `number`)."""

    def validate(check: Any, name: str, value: Any) -> None:
        if value < low:
            raise fail(check, name, f">= {low:g}", value)

    return validate


def between(low: float, high: float) -> Validator:
    """A number in [low, high] (run after `number` or `integer`)."""

    def validate(check: Any, name: str, value: Any) -> None:
        if not low <= value <= high:
            raise fail(check, name, f"between {low:g} and {high:g}", value)

    return validate


def optional(*validators: Validator) -> Validator:
    """None, or a value all of `validators` accept."""

    def validate(check: Any, name: str, value: Any) -> None:
        if value is not None:
            for inner in validators:
                inner(check, name, value)

    return validate


def texts(check: Any, name: str, value: Any) -> None:
    """A list or tuple of strings (a single string is refused: it is a sequence of letters)."""
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise fail(check, name, "a list of texts", value)


def count(low: int, high: int) -> Validator:
    """A sequence of `low` to `high` items (run after `texts`)."""

    def validate(check: Any, name: str, value: Sequence[Any]) -> None:
        if not low <= len(value) <= high:
            raise fail(check, name, f"{low} to {high} items", value)

    return validate


def distinct(normal: Callable[[str], str] = lambda text: text) -> Validator:
    """Items that differ after `normal` (run after `texts`)."""

    def validate(check: Any, name: str, value: Sequence[str]) -> None:
        if len({normal(item) for item in value}) != len(value):
            raise fail(check, name, "distinct", value)

    return validate
