"""What checking an exercise.py found: plain dataclasses (no torch), shared by `verdict`,
`table`, `grader check` and the kit."""

from __future__ import annotations

from dataclasses import dataclass, field


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
