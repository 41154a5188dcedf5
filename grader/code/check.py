"""`grader check exercise.py`: validate a student's code file and run the public tests.

The file is read by `grader.student_file` (its size limit, UTF-8, a BOM dropped) and compiled in the trusted process only to report
syntax errors with their line (compiling never executes anything); each function's `def`
is compared with the contract (`ast`); the public tests run in the sandbox.  Hidden tests
are counted, never run here.

Start-up: the sandbox worker is spawned in the background as soon as the file parses, so
its torch import overlaps the trusted side's own imports and reference computations.
"""

from __future__ import annotations

import json
import threading
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from grader.code.source import check_source
from grader.student_file import StudentFileError
from grader.student_file import read_within as read_student_file
from grader.results import TestOutcome

# Imported lazily, because they import torch: grader.code.judge, exercises.code and the
# sandbox's codec.  Reading, parsing and compiling the file need none of them.


@dataclass(frozen=True)
class FunctionCheck:
    """What `grader check` found for one function of the quiz.

    status: the judge's item status on the public tests (correct, partial, incorrect,
        error, forbidden, missing, not-implemented, timeout, memory, crashed).
    hint: the sentence of the typical mistake the failing public tests show, if any.
    """

    function: str
    present: bool
    signature_problems: tuple[str, ...]
    status: str
    feedback: str
    tests: tuple[TestOutcome, ...]
    hidden_tests: int
    hint: str = ""

    @property
    def passed(self) -> int:
        return sum(1 for t in self.tests if t.status == "passed")


@dataclass(frozen=True)
class CodeCheckReport:
    """The result of checking one exercise.py.

    problems: file-level problems (unreadable, too large, syntax error); notes: remarks
    that do not fail the check (quiz information that could not be read).
    """

    path: Path
    functions: tuple[FunctionCheck, ...] = ()
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

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
        """0 when every public test passes, 1 otherwise (also for a file-level problem or a
        def line that breaks the contract: hidden tests pass some arguments by keyword)."""
        if self.problems or not self.functions or self.signature_problems:
            return 1
        return 0 if self.public_passed == self.public_total else 1


class _BackgroundPool:
    """An ExecutorPool created in a background thread; `run` waits until it exists."""

    def __init__(self, workers: int = 1) -> None:
        self._pool: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._start, args=(workers,), name="grader-check-pool", daemon=True)
        self._thread.start()

    def _start(self, workers: int) -> None:
        try:
            from grader.sandbox import ExecutorPool

            self._pool = ExecutorPool(workers=workers)
        except BaseException as error:  # re-raised by run()
            self._error = error

    def _ready(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._pool

    def run(self, source: bytes | str, calls: list[Any]) -> Any:
        return self._ready().run(source, calls)

    def close(self) -> None:
        self._thread.join()
        if self._pool is not None:
            self._pool.close()


def check_exercise_file(path: str | Path, *, quiz_dir: str | Path | None = None, pool: Any = None) -> CodeCheckReport:
    """Check one exercise.py (see the module docstring).  `pool` runs the public tests (an
    ExecutorPool); None starts a one-worker pool for this check and closes it after."""
    path = Path(path)
    try:
        raw = read_student_file(path)
    except StudentFileError as error:
        return CodeCheckReport(path, problems=(f"{path}: {error}",))
    checked = check_source(raw)
    if checked.tree is None:
        return CodeCheckReport(path, problems=(checked.error,))
    own_pool = _BackgroundPool() if pool is None else None
    try:
        return _check_parsed(path, raw, checked.tree, quiz_dir, pool or own_pool)
    finally:
        if own_pool is not None:
            own_pool.close()


def _check_parsed(path: Path, raw: bytes, tree: Any, quiz_dir: str | Path | None, pool: Any) -> CodeCheckReport:
    from grader.code.judge import hidden_test_count, run_public_tests
    from grader.code.scan import top_level_names
    from grader.code.signature import check_signature

    exercises, notes = quiz_exercises(path, quiz_dir)
    bindings = top_level_names(tree)
    results = run_public_tests(raw, exercises, pool)
    functions = tuple(
        FunctionCheck(
            function=exercise.function,
            present=exercise.function in bindings,
            signature_problems=tuple(check_signature(bindings[exercise.function], exercise.signature))
            if exercise.function in bindings
            else (),
            status=result.status,
            feedback=result.feedback,
            tests=result.tests,
            hidden_tests=hidden_test_count(exercise),
            hint=next((m.feedback for m in exercise.misconceptions if m.tag == result.misconception), ""),
        )
        for exercise, result in zip(exercises, results)
    )
    return CodeCheckReport(path, functions, notes=tuple(notes))


def quiz_exercises(path: Path, quiz_dir: str | Path | None) -> tuple[list[Any], list[str]]:
    """The code exercises to check: those of the student's quiz (`quiz.json` beside the file
    or in `quiz_dir`, or `quiz_dir/quiz.toml`), else all of them; plus notes on quiz files
    that could not be read."""
    from exercises.code import all_code_exercises

    everything = all_code_exercises()
    notes: list[str] = []
    wanted: list[str] | None = None
    candidates = [path.parent / "quiz.json"]
    if quiz_dir is not None:
        candidates = [Path(quiz_dir) / "quiz.json", Path(quiz_dir) / "quiz.toml", *candidates]
    for candidate in candidates:
        if not candidate.is_file():
            continue
        try:
            wanted = _functions_in(candidate, everything)
        except (OSError, UnicodeDecodeError, ValueError, tomllib.TOMLDecodeError) as error:
            notes.append(f"{candidate}: cannot read it ({error}); checking every code exercise")
            continue
        if wanted:
            break
    if not wanted:
        return everything, notes
    return [e for e in everything if e.function in wanted or e.id in wanted], notes


def _functions_in(path: Path, everything: Sequence[Any]) -> list[str]:
    """Function names or exercise ids of the code exercises a quiz file lists."""
    known = {e.function for e in everything} | {e.id for e in everything}
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        document = json.loads(text)
        listed = [item.get("function") for item in document.get("code", []) if isinstance(item, dict)]
    else:
        document = tomllib.loads(text)
        listed = list(document.get("selected", ())) or list(document.get("exercises", ()))
    return [name for name in listed if isinstance(name, str) and name in known]


# ------------------------------------------------------------------------- printing

_STYLE = {
    "passed": "green",
    "failed": "red",
    "forbidden": "bold red",
    "missing": "yellow",
    "not-implemented": "yellow",
}


def print_check_report(console: Any, report: CodeCheckReport) -> None:
    """Print the report as a rich table (function, test, result, message).  Everything that
    comes from the student's file is printed as `rich.text.Text`, never parsed as markup."""
    from rich.table import Table
    from rich.text import Text

    console.print(Text(f"Checking {report.path}", style="bold"))
    for problem in report.problems:
        console.print(Text("error: ", style="bold red") + Text(problem))
    for note in report.notes:
        console.print(Text("note: ", style="yellow") + Text(note))
    if not report.functions:
        return
    table = Table(show_lines=False, header_style="bold")
    for column in ("function", "test", "result", "message"):
        table.add_column(column, overflow="fold")
    for function in report.functions:
        name = Text(function.function)
        for problem in function.signature_problems:
            table.add_row(name, Text("signature"), Text("wrong", style="red"), Text(problem))
        if not function.tests:
            table.add_row(name, Text("-"), Text(function.status, style=_STYLE.get(function.status, "red")), Text(function.feedback))
        for test in function.tests:
            message = test.message
            if test.status != "passed" and test.got and test.expected:
                message = f"{message} | expected {test.expected} | got {test.got}"
            table.add_row(name, Text(test.name), Text(test.status, style=_STYLE.get(test.status, "red")), Text(message))
        if function.hint:
            table.add_row(name, Text("hint"), Text(""), Text(function.hint, style="italic"))
    console.print(table)
    summary = (
        f"{report.public_passed} of {report.public_total} public tests passed. "
        f"{report.hidden_total} hidden tests will grade these {len(report.functions)} functions; they do not run here."
    )
    if report.signature_problems:
        summary += " Fix the signatures: hidden tests pass some arguments by name."
    console.print(Text(summary, style="green" if report.exit_code == 0 else "red"))
