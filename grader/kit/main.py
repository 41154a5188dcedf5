"""The kit's command line: `python check.pyz answers.toml` or `python check.pyz exercise.py`.

Exit status: 0 when the file is ready to hand in (every answer present and readable; every
public test passing and every def line fitting the contract), 1 when the check found
problems, 2 when it could not run (no such file, not a .toml or .py file, a broken kit).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from typing import TYPE_CHECKING, Any

from ..notebooks import code_file_source
from . import EXIT_PROBLEMS, EXIT_USAGE
from .answer_report import check_sheet
from .report import CodeReport, failure_line, forbidden_line, static_findings, summarize
from .table import render_answers, render_code

if TYPE_CHECKING:
    from .runner import CallRunner

DATA_FILE = "data.json"


def print_lines(lines: list[str]) -> None:
    """The report on stdout: the kit runs standalone (check.pyz), so it prints itself."""
    for line in lines:
        sys.stdout.write(line + "\n")


def kit_data() -> dict[str, Any]:
    """The student's data packed beside the kit's code (`<package>/data.json`)."""
    import pkgutil

    raw = pkgutil.get_data(__name__.split(".")[0], DATA_FILE)
    if raw is None:
        raise OSError("the kit holds no data.json")
    return json.loads(raw.decode("utf-8"))


def read_exercise(path: str) -> tuple[bytes, tuple[str, ...]]:
    """The Python source of the student's code file, exercise.py or exercise.ipynb, and the
    notes on what a notebook lost (the one place a code file is read; OSError when it cannot
    be read, ValueError with the student's message when it is not a usable notebook)."""
    with open(path, "rb") as handle:
        raw = handle.read()
    return code_file_source(os.path.basename(path), raw)


def check_code(path: str, raw: bytes, functions: list[dict[str, Any]], *, run: CallRunner | None = None,
               call_seconds: float | None = None) -> CodeReport:
    """Check one exercise.py: syntax, def lines and not-allowed calls from the parsed file,
    then the public tests, run by `run(source, calls)` (the sandbox, for grader check) or by
    default by the portable runner, whose child also judges them: this process then never
    imports torch (one torch import per check, in the child)."""
    from ..code.source import check_source
    from . import runner

    checked = check_source(raw)
    if checked.tree is None:
        report = CodeReport(path, problems=[checked.error])
        for function in functions:
            lines = [failure_line(t["name"], "not-run", "not run: the file cannot be used") for t in function["tests"]]
            report.functions.append(summarize(function, lines, False, (), ()))
        return report
    static = {f["function"]: static_findings(checked.tree, f) for f in functions}
    runnable = [f for f in functions if not static[f["function"]][2]]
    calls = runner.calls_for(runnable)
    if run is None:
        import importlib.util

        if importlib.util.find_spec("torch") is None:  # the child would fail to start
            raise ModuleNotFoundError("No module named 'torch'", name="torch")
        result = runner.run_calls(checked.text, calls, call_seconds=call_seconds or runner.CALL_SECONDS, functions=runnable)
    else:
        result = run(checked.text, calls)
    report = CodeReport(path)
    not_run = ""
    if result.load != "ok":
        prefix = {"import-error": "exercise.py fails when it is imported: ", "syntax-error": "exercise.py cannot be compiled: "}
        report.problems.append(prefix.get(result.load, "") + " ".join(str(result.message).split())[:600])
        not_run = "not run: exercise.py could not be imported"
    outcomes = result.calls if result.load == "ok" else {}
    for function in functions:
        present, signature, forbidden = static[function["function"]]
        lines = []
        for test in function["tests"]:
            outcome = outcomes.get(runner.call_id(function["function"], test["name"]))
            if forbidden:
                lines.append(forbidden_line(test["name"], function["function"], forbidden))
            elif outcome is None:
                lines.append(failure_line(test["name"], "not-run", not_run))
            elif outcome.status == "judged":
                lines.append(outcome.value)
            elif outcome.status == "ok":  # a value from another runner: judged here
                from .verdict import judge_test

                lines.append(judge_test(function, test, outcome))
            else:
                lines.append(failure_line(test["name"], outcome.status, outcome.message))
        report.functions.append(summarize(function, lines, present, signature, forbidden))
    return report


def main(argv: list[str] | None = None, data: dict[str, Any] | None = None) -> int:
    """Run the check; the exit status (see the module docstring)."""
    parser = argparse.ArgumentParser(
        prog="check.pyz", description="Check answers.toml, exercise.py or exercise.ipynb before handing it in.",
    )
    parser.add_argument("file", help="answers.toml, exercise.py or exercise.ipynb")
    parser.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                        help="wall-clock limit of each public test (default 10)")
    parser.add_argument("--width", type=int, default=None, help="line width (default: the terminal's)")
    args = parser.parse_args(argv)
    width = args.width or shutil.get_terminal_size((80, 24)).columns
    try:
        data = data if data is not None else kit_data()
    except (OSError, ValueError) as error:
        print(f"error: this check.pyz is damaged ({error}); ask for a new one", file=sys.stderr)
        return EXIT_USAGE
    path = args.file
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in (".toml", ".py", ".ipynb"):
        print(f"error: {path}: expected answers.toml, exercise.py or exercise.ipynb", file=sys.stderr)
        return EXIT_USAGE
    notes: tuple[str, ...] = ()
    try:
        raw, notes = read_exercise(path) if suffix != ".toml" else (_read_bytes(path), ())
    except OSError as error:
        print(f"error: cannot read {path}: {error.strerror or error}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as error:  # not a usable notebook
        print(f"{path}: {error}")
        return EXIT_PROBLEMS
    for note in notes:
        print(f"note: {note}")
    if hasattr(sys.stdout, "reconfigure"):  # a console that cannot show a character gets '?'
        sys.stdout.reconfigure(errors="replace")
    try:
        if suffix == ".toml":
            report = check_sheet(raw, data, name=path)
            print_lines(render_answers(report, width))
            return report.exit_code
        functions = data.get("code", [])
        if not functions:
            print(f"{path}: this quiz has no code exercises; nothing to check.")
            return EXIT_PROBLEMS
        code_report = check_code(path, raw, functions, call_seconds=args.time_limit)
        print_lines(render_code(code_report, width))
        return code_report.exit_code
    except ModuleNotFoundError as error:
        if error.name not in ("torch", "sympy"):
            raise
        print(f"error: this check needs {error.name}, which this Python does not have: "
              f"install torch ({sys.executable} -m pip install torch), which brings sympy", file=sys.stderr)
        return EXIT_USAGE


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()
