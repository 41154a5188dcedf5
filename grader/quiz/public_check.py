"""A check described without its key, so a student's copy of the quiz can validate answers.

`students/<id>/quiz.json` lists each question's id, points, format and this description
(the check's type and its constructor arguments: tolerances, expression variables, the
option texts already printed in the quiz; for a matrix, the shape its format comment already
states).  It never contains a key or a parameter.
"""

from __future__ import annotations

from typing import Any

import numpy as np

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


def describe_check(check: AnswerSpec, key: Any = None) -> dict[str, Any]:
    """The check as plain data; with the key, also the shape a matrix answer must have."""
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
    description: dict[str, Any] = {"type": name, "args": args}
    if name == "Matrix" and key is not None:
        description["shape"] = list(np.shape(check.to_toml(key)))
    return description


def _shape_words(shape: tuple[int, ...]) -> str:
    if len(shape) == 1:
        return f"a vector of {shape[0]} numbers"
    if len(shape) == 2:
        return f"a {shape[0]}x{shape[1]} matrix"
    return f"an array of shape {list(shape)}"


def format_problem(description: dict[str, Any], parsed: Any) -> str | None:
    """Why a readable answer still does not have the announced form (a matrix of another
    shape), or None.  Says nothing about whether it is right."""
    expected = description.get("shape")
    if not isinstance(expected, list):
        return None
    got = np.shape(parsed)
    if list(got) == expected:
        return None
    return f"expected {_shape_words(tuple(expected))}, got {_shape_words(got)}"


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
