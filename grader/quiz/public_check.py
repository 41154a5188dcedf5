"""A check described without its key, so a student's copy of the quiz can validate answers.

`students/<id>/quiz.json` lists each question's id, points, format and this description
(the check's type and its constructor arguments: tolerances, expression variables, the
option texts already printed in the quiz).  It never contains a key or a parameter.
"""

from __future__ import annotations

from typing import Any

from grader import answers
from grader.answers.base import AnswerSpec

_FIELDS: dict[str, tuple[str, ...]] = {
    "Integer": (),
    "Real": ("rtol", "atol", "sig_figs"),
    "Matrix": ("rtol", "atol"),
    "Expression": ("variables", "domains"),
    "Shape": (),
    "SingleChoice": ("options",),
    "MultipleChoice": ("options",),
    "TrueFalse": (),
    "Word": ("options",),
    "WordSequence": ("ordered",),
}


def describe_check(check: AnswerSpec) -> dict[str, Any]:
    name = type(check).__name__
    if name not in _FIELDS:
        return {"type": "unknown"}
    args = {}
    for field in _FIELDS[name]:
        value = getattr(check, field, None)
        if isinstance(value, tuple):
            value = list(value)
        if isinstance(value, dict):
            value = {k: list(v) for k, v in value.items()}
        args[field] = value
    return {"type": name, "args": args}


def rebuild_check(description: dict[str, Any]) -> AnswerSpec | None:
    """The check again, or None for a description this version cannot rebuild."""
    name = description.get("type")
    args = description.get("args", {})
    if name not in _FIELDS or not isinstance(args, dict) or set(args) - set(_FIELDS[name]):
        return None
    try:
        return getattr(answers, name)(**args)
    except (TypeError, ValueError):
        return None
