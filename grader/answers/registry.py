"""The answer checks by kind, and their public description as plain data.

Every check class registers itself with `@register` under its `kind` ("real", "matrix",
...).  Its public description is derived from its dataclass fields:
``{"kind": "real", "args": {"rtol": 0.001, "atol": 1e-09, "sig_figs": None}}``, leaving out
the fields marked ``public=False`` (see `grader.answers.fields`).  `rebuild` makes the check
again from such a description, looking its kind up here: plain data in, a constructor call
with validated arguments out (no eval, no pickle).  A description this version cannot
rebuild (an unknown kind, unknown or invalid arguments) gives None.  A description
written by an earlier version names the class instead (``{"type": "Real", "args": ...}``);
it is still read.
Standard library only: the student kit carries this module.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any, TypeVar

from .fields import is_public

T = TypeVar("T", bound=type)

_CHECKS: dict[str, type] = {}


def register(cls: T) -> T:
    """Class decorator: register a frozen-dataclass check under its `kind`."""
    kind = getattr(cls, "kind", None)
    if not isinstance(kind, str) or not kind:
        raise TypeError(f"{cls.__name__} needs a class attribute kind (a non-empty string)")
    if not is_dataclass(cls) or not cls.__dataclass_params__.frozen:  # type: ignore[attr-defined]
        raise TypeError(f"{cls.__name__} must be a frozen dataclass to be registered")
    known = _CHECKS.get(kind)
    if known is not None and known.__qualname__ != cls.__qualname__:
        raise ValueError(f"answer kind {kind!r} is registered twice: {known.__name__} and {cls.__name__}")
    _CHECKS[kind] = cls
    return cls


def kinds() -> tuple[str, ...]:
    """Every registered kind, sorted."""
    return tuple(sorted(_CHECKS))


def check_class(kind: str) -> type | None:
    """The check class registered under `kind`, or None."""
    return _CHECKS.get(kind) if isinstance(kind, str) else None


def public_args(check: Any) -> dict[str, Any]:
    """The check's public constructor arguments as plain JSON data (lists, not tuples)."""
    return {item.name: _plain(getattr(check, item.name)) for item in fields(check) if is_public(item)}


def describe(check: Any) -> dict[str, Any]:
    """``{"kind": ..., "args": {...}}``, or ``{"kind": "unknown"}`` for a check whose class
    is not the one registered under its kind."""
    kind = getattr(check, "kind", None)
    if check_class(kind) is not type(check):
        return {"kind": "unknown"}
    return {"kind": kind, "args": public_args(check)}


def rebuild(description: Any) -> Any | None:
    """The check a description names, or None when this version cannot rebuild it."""
    if not isinstance(description, dict):
        return None
    cls = check_class(description.get("kind"))
    if cls is None and "kind" not in description:  # written before kinds: {"type": "Real"}
        cls = next((c for c in _CHECKS.values() if c.__name__ == description.get("type")), None)
    args = description.get("args", {})
    if cls is None or not isinstance(args, dict):
        return None
    allowed = {item.name for item in fields(cls) if is_public(item)}
    if not set(args) <= allowed:
        return None
    try:
        return cls(**args)
    except (TypeError, ValueError):
        return None


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {key: _plain(item) for key, item in value.items()}
    raise TypeError(f"a public setting must be plain data, not {type(value).__name__}")
