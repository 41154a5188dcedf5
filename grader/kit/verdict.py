"""Verdicts on the public tests of exercise.py, from data: the one implementation behind
`grader check exercise.py` (which runs the calls in the sandbox) and the kit (which runs
them with `runner`).

A function's data (made by `grader.kit.build` when the quiz is generated):
`function`, `signature` (the contract's def line), `points`, `hidden_tests` (a count),
`rtol`, `atol`, `outputs` (names of a tuple output's elements), `deterministic`,
`compare` ("values" or "dropout"), `forbidden` (qualified names), `hints` ({tag:
sentence}) and `tests`: [{name, args, kwargs, expected, misconceptions: [{tag, value}]}],
every value encoded by `values`.  A misconception's value is that mistake's output on the
same public inputs, so a failing output equal to it names the mistake.
"""

from __future__ import annotations

import ast
from collections import Counter
from typing import Any, Callable

from ..code.signature import check_signature
from . import compare, values
from .report import CodeReport, FunctionReport, TestLine  # noqa: F401  (re-exported)
from .runner import call_id, calls_for  # noqa: F401  (calls_for is part of this module's API)

try:  # the static scan of not-allowed calls (standard library only); skipped if absent
    from ..code.scan import ForbiddenIndex, ModuleScan
except ImportError:  # pragma: no cover - a kit built without it
    ForbiddenIndex = ModuleScan = None  # type: ignore[assignment,misc]

MESSAGE_CHARS = 300
CALL_MESSAGES = {
    "not-implemented": "raises NotImplementedError (not written yet)",
    "missing-function": "the function is not defined in exercise.py",
    "timeout": "took too long (time limit exceeded)",
    "memory": "used too much memory",
    "crashed": "the process running it crashed",
}


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


def _clip(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 3] + "..."


def static_findings(tree: ast.Module | None, function: dict[str, Any]) -> tuple[bool, tuple[str, ...], tuple[str, ...]]:
    """(defined at top level, signature problems, not-allowed uses) from the parsed file."""
    if tree is None:
        return False, (), ()
    if ModuleScan is not None:
        scan = ModuleScan(tree)
        bindings = scan.bindings
        uses = scan.forbidden_uses(function["function"], ForbiddenIndex(function.get("forbidden", ()))) if function.get("forbidden") else []
        forbidden = tuple(u.describe() for u in uses[:3])
    else:  # pragma: no cover
        bindings = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        forbidden = ()
    node = bindings.get(function["function"])
    problems = tuple(check_signature(node, function["signature"])) if node is not None else ()
    return node is not None, problems, forbidden


def judge_function(
    function: dict[str, Any], outcome_of: Callable[[str], Any], tree: ast.Module | None, not_run: str = ""
) -> FunctionReport:
    """The report of one function: static findings from `tree`, and each public test's
    outcome (`outcome_of(call id)` -> an object with status, message and value, or None)."""
    present, signature, forbidden = static_findings(tree, function)
    tol = _Tolerance(float(function.get("rtol", 1e-6)), float(function.get("atol", 1e-8)))
    lines: list[TestLine] = []
    for test in function["tests"]:
        if forbidden:
            lines.append(TestLine(test["name"], "forbidden", f"uses {'; '.join(forbidden)}, which is not allowed in {function['function']}"))
            continue
        outcome = outcome_of(call_id(function["function"], test["name"]))
        if outcome is None:
            lines.append(TestLine(test["name"], "not-run", not_run or "not run"))
            continue
        lines.append(_judge_test(function, test, outcome, tol))
    return FunctionReport(
        function["function"], present, signature, _status(lines, present, bool(forbidden)), tuple(lines),
        int(function.get("hidden_tests", 0)), _hint(function, lines), forbidden,
    )


def _judge_test(function: dict[str, Any], test: dict[str, Any], outcome: Any, tol: Any) -> TestLine:
    status, message = outcome.status, getattr(outcome, "message", "") or ""
    if status == "ok":
        got = outcome.value
        expected = values.decode(test["expected"])
        arguments = KitTest(test["name"], values.decode(test["args"]), values.decode(test["kwargs"]))
        verdict = _compare(function, arguments, expected, got, tol, reveal=True)
        shown_expected = compare.describe(expected) if function.get("deterministic", True) else ""
        if verdict.ok:
            return TestLine(test["name"], "passed", "", shown_expected, compare.describe(got))
        tag = _misconception(function, test, arguments, got, tol)
        return TestLine(test["name"], "failed", _clip(verdict.message), shown_expected, compare.describe(got), tag)
    if status == "missing-function":
        return TestLine(test["name"], "missing", CALL_MESSAGES[status])
    if status in CALL_MESSAGES:
        detail = _clip(message) if status in ("crashed", "timeout") and message else ""
        return TestLine(test["name"], status, CALL_MESSAGES[status] + (f": {detail}" if detail else ""))
    if status == "bad-output":
        return TestLine(test["name"], "bad-output", _clip(f"returned a value that is not plain data: {message}"))
    if status == "forbidden":
        return TestLine(test["name"], "forbidden", _clip(message or "called a function that is not allowed"))
    if status == "not-run":
        return TestLine(test["name"], "not-run", _clip(message or "not run"))
    return TestLine(test["name"], "error", _clip(f"raised {message}" if message else "raised an exception"))


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


def _status(lines: list[TestLine], present: bool, forbidden: bool) -> str:
    statuses = {line.status for line in lines}
    if forbidden:
        return "forbidden"
    if statuses == {"missing"} or (not lines and not present):
        return "missing"
    if statuses == {"not-implemented"}:
        return "not-implemented"
    if statuses == {"not-run"}:
        return "not-run"
    passed = sum(1 for line in lines if line.status == "passed")
    if passed == len(lines):
        return "correct"
    if passed:
        return "partial"
    if "failed" in statuses:
        return "incorrect"
    return next((s for s in ("timeout", "memory", "crashed", "not-implemented", "missing", "not-run") if s in statuses), "error")


def _hint(function: dict[str, Any], lines: list[TestLine]) -> str:
    """The sentence of the mistake the failing tests show most often, if any."""
    tags = [line.misconception for line in lines if line.misconception]
    if not tags:
        return ""
    counts = Counter(tags)
    best = max(counts.values())
    tag = next(t for t in tags if counts[t] == best)
    return str(function.get("hints", {}).get(tag, ""))
