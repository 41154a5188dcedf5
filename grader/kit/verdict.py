"""A public test's verdict from the value its call returned, from data: the one
implementation behind `grader check exercise.py` (which judges values returned by the
sandbox) and the kit (whose child judges each value where it was computed).  The
torch-free rest of the verdict is in `report`.

A function's data (made by `grader.kit.build` when the quiz is generated):
`function`, `signature` (the contract's def line), `points`, `hidden_tests` (a count),
`rtol`, `atol`, `outputs` (names of a tuple output's elements), `deterministic`,
`compare` ("values" or "dropout"), `forbidden` (qualified names), `hints` ({tag:
sentence}) and `tests`: [{name, args, kwargs, expected, misconceptions: [{tag, value}]}],
every value encoded by `values`.  A misconception's value is that mistake's output on the
same public inputs, so a failing output equal to it names the mistake.
"""

from __future__ import annotations

from typing import Any

from . import compare, values
from .report import TestLine, clip, failure_line


class _Tolerance:
    def __init__(self, rtol: float, atol: float) -> None:
        self.rtol, self.atol = rtol, atol


class KitTest:
    """A public test's arguments, with the `argument` look-up comparisons use."""

    __test__ = False  # not a pytest class

    def __init__(self, name: str, args: tuple, kwargs: dict[str, Any]) -> None:
        self.name, self.args, self.kwargs = name, tuple(args), dict(kwargs)

    def argument(self, position: int, name: str, default: Any = None) -> Any:
        if position < len(self.args):
            return self.args[position]
        return self.kwargs.get(name, default)


def judge_test(function: dict[str, Any], test: dict[str, Any], outcome: Any) -> TestLine:
    """The line of one public test from its call's outcome (status, message, value)."""
    if outcome.status != "ok":
        return failure_line(test["name"], outcome.status, getattr(outcome, "message", "") or "")
    tol = _Tolerance(float(function.get("rtol", 1e-6)), float(function.get("atol", 1e-8)))
    got = outcome.value
    expected = values.decode(test["expected"])
    arguments = KitTest(test["name"], values.decode(test["args"]), values.decode(test["kwargs"]))
    verdict = _compare(function, arguments, expected, got, tol, reveal=True)
    deterministic = function.get("deterministic", True)
    focus = None if verdict.ok or not deterministic else compare.first_difference(expected, got, tol)
    shown_expected = compare.describe(expected, focus=focus) if deterministic else ""
    if verdict.ok:
        return TestLine(test["name"], "passed", "", shown_expected, compare.describe(got))
    tag = _misconception(function, test, arguments, got, tol)
    return TestLine(test["name"], "failed", clip(verdict.message), shown_expected, compare.describe(got, focus=focus), tag)


def _compare(function: dict[str, Any], test: KitTest, expected: Any, got: Any, tol: Any, reveal: bool) -> compare.Verdict:
    kind = function.get("compare", "values")
    try:
        if kind == "dropout":
            return compare.compare_dropout(test, expected, got, tol, reveal)
        return compare.compare_outputs(expected, got, tol, reveal=reveal, names=tuple(function.get("outputs", ())))
    except Exception as error:  # a comparison must never crash the check
        return compare.Verdict(False, f"the output could not be compared ({type(error).__name__})")


def _misconception(function: dict[str, Any], test: dict[str, Any], arguments: KitTest, got: Any, tol: Any) -> str | None:
    for mistake in test.get("misconceptions", ()):
        try:
            if _compare(function, arguments, values.decode(mistake["value"]), got, tol, reveal=False).ok:
                return str(mistake["tag"])
        except (ValueError, KeyError, TypeError):
            continue
    return None


