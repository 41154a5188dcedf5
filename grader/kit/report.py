"""What checking an exercise.py found, and everything of the verdict that needs no torch:
the static findings (def lines, not-allowed calls), the lines of tests that did not return
a value, and a function's status from its tests' lines.  Shared by `verdict`, `table`,
`grader check` and the kit (whose parent process never imports torch)."""

from __future__ import annotations

import ast
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..code.signature import check_signature

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


@dataclass(frozen=True)
class TestLine:
    """One public test: passed | failed | error | not-implemented | missing | timeout |
    memory | crashed | bad-output | forbidden | not-run."""

    __test__ = False  # not a pytest class

    name: str
    status: str
    message: str = ""
    expected: str = ""
    got: str = ""
    misconception: str | None = None


@dataclass(frozen=True)
class FunctionReport:
    """What the check found for one function: status is the item's status on the public
    tests (correct, partial, incorrect, error, forbidden, missing, not-implemented,
    timeout, memory, crashed, not-run)."""

    function: str
    present: bool
    signature_problems: tuple[str, ...]
    status: str
    tests: tuple[TestLine, ...]
    hidden_tests: int
    hint: str = ""
    forbidden: tuple[str, ...] = ()

    @property
    def passed(self) -> int:
        return sum(1 for t in self.tests if t.status == "passed")


@dataclass
class CodeReport:
    """The result of checking one exercise.py: problems are file-level (unreadable, syntax
    error, import error), notes do not fail the check."""

    path: str
    functions: list[FunctionReport] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def public_passed(self) -> int:
        return sum(f.passed for f in self.functions)

    @property
    def public_total(self) -> int:
        return sum(len(f.tests) for f in self.functions)

    @property
    def hidden_total(self) -> int:
        return sum(f.hidden_tests for f in self.functions)

    @property
    def signature_problems(self) -> int:
        return sum(len(f.signature_problems) for f in self.functions)

    @property
    def exit_code(self) -> int:
        """0 when every public test passes and every def line fits the contract, else 1."""
        if self.problems or not self.functions or self.signature_problems:
            return 1
        if any(f.forbidden for f in self.functions):
            return 1
        return 0 if self.public_passed == self.public_total else 1


def clip(text: str) -> str:
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


def failure_line(name: str, status: str, message: str = "") -> TestLine:
    """The line of a test whose call returned no value (or was not run)."""
    if status == "missing-function":
        return TestLine(name, "missing", CALL_MESSAGES[status])
    if status in CALL_MESSAGES:
        detail = clip(message) if status in ("crashed", "timeout") and message else ""
        return TestLine(name, status, CALL_MESSAGES[status] + (f": {detail}" if detail else ""))
    if status == "bad-output":
        return TestLine(name, "bad-output", clip(f"returned a value that is not plain data: {message}"))
    if status == "forbidden":
        return TestLine(name, "forbidden", clip(message or "called a function that is not allowed"))
    if status == "not-run":
        return TestLine(name, "not-run", clip(message or "not run"))
    return TestLine(name, "error", clip(f"raised {message}" if message else "raised an exception"))


def forbidden_line(name: str, function: str, uses: tuple[str, ...]) -> TestLine:
    return TestLine(name, "forbidden", f"uses {'; '.join(uses)}, which is not allowed in {function}")


def summarize(function: dict[str, Any], lines: list[TestLine], present: bool, signature: tuple[str, ...],
              forbidden: tuple[str, ...]) -> FunctionReport:
    """A function's report from its tests' lines and its static findings."""
    return FunctionReport(
        function["function"], present, signature, _status(lines, present, bool(forbidden)), tuple(lines),
        int(function.get("hidden_tests", 0)), _hint(function, lines), forbidden,
    )


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
