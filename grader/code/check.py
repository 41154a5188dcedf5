"""`grader check exercise.py`: validate a student's code file and run the public tests.

The file is read by `grader.student_file` (its size limit, UTF-8, a BOM dropped) and compiled in the trusted process only to report
syntax errors with their line (compiling never executes anything); the rest is the student
kit's check (`grader.kit.main.check_code`: def lines against the contract, not-allowed
calls, verdicts, hints, the report table) with the public tests run in the sandbox instead
of the kit's portable runner.  Hidden tests are counted, never run here.

Start-up: the sandbox worker is spawned in the background as soon as the file parses, so
its torch import overlaps the trusted side's own imports and reference computations.
"""

from __future__ import annotations

import json
import threading
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from grader.code.source import check_source
from grader.kit.report import CodeReport
from grader.notebooks import code_file_source
from grader.student_file import read_within as read_student_file

if TYPE_CHECKING:
    from grader.code.judge import Runner
    from grader.kit.runner import RunResult
    from grader.sandbox import Call, SubmissionResult

# Imported lazily, because they import torch: grader.code.judge, the bank and the
# sandbox's codec.  Reading, parsing and compiling the file need none of them.


CodeCheckReport = CodeReport  # the kit's report: grader check and the kit print the same


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

    def run(self, source: bytes | str, calls: Sequence[Call]) -> SubmissionResult:
        return self._ready().run(source, calls)

    def close(self) -> None:
        self._thread.join()
        if self._pool is not None:
            self._pool.close()


def check_exercise_file(path: str | Path, *, quiz_dir: str | Path | None = None, pool: Runner | None = None) -> CodeReport:
    """Check one exercise.py (see the module docstring).  `pool` runs the public tests (an
    ExecutorPool); None starts a one-worker pool for this check and closes it after."""
    path = Path(path)
    try:
        raw, notes = code_file_source(path.name, read_student_file(path))
    except ValueError as error:  # StudentFileError, NotebookError: the message says why
        return CodeReport(str(path), problems=[f"{path}: {error}"])
    checked = check_source(raw)
    if checked.tree is None:
        return CodeReport(str(path), problems=[*notes, checked.error])
    own_pool = _BackgroundPool() if pool is None else None
    try:
        report = _check_parsed(path, raw, quiz_dir, pool or own_pool)
        report.notes.extend(notes)
        return report
    finally:
        if own_pool is not None:
            own_pool.close()


def _check_parsed(path: Path, raw: bytes, quiz_dir: str | Path | None, pool: Runner) -> CodeReport:
    """The kit's check (`grader.kit.main.check_code`) with the public tests run in the sandbox."""
    from grader.kit.build import function_data
    from grader.kit.main import check_code

    exercises, notes = quiz_exercises(path, quiz_dir)
    functions = [function_data(e) for e in exercises]
    forbidden = {e.function: e.forbidden for e in exercises}

    def run_in_sandbox(source: str, calls: list[dict[str, Any]]) -> RunResult:
        return _sandbox_run(pool, source, calls, forbidden)

    report = check_code(str(path), raw, functions, run=run_in_sandbox)
    report.notes.extend(notes)
    return report


def _sandbox_run(pool: Runner, source: str, calls: list[dict[str, Any]], forbidden: dict[str, tuple[str, ...]]) -> RunResult:
    """Run the kit's calls in the sandbox; the outcome in the kit runner's terms."""
    from grader.kit import values
    from grader.kit.runner import CallOutcome, RunResult
    from grader.sandbox import Call, ModelSpec

    def plain(value: Any) -> Any:  # the kit's data -> what the sandbox sends
        if isinstance(value, values.Model):
            return ModelSpec(layers=value.layers)
        if type(value) in (list, tuple):
            return type(value)(plain(v) for v in value)
        if type(value) is dict:
            return {k: plain(v) for k, v in value.items()}
        return value

    sandbox_calls = [
        Call(c["id"], c["function"], plain(values.decode(c["args"])), plain(values.decode(c["kwargs"])),
             forbidden=forbidden.get(c["function"], ()))
        for c in calls
    ]
    result = pool.run(source, sandbox_calls)
    if result.status != "ok":
        status = {"syntax-error": "syntax-error", "import-error": "import-error", "timeout": "timeout"}.get(result.status, "crashed")
        return RunResult(status, result.message or result.status)
    outcomes = {}
    for call_id, call in result.calls.items():
        message = call.message
        if call.status == "forbidden":
            message = "called " + ", ".join(call.forbidden_calls or ("a not-allowed function",)) + ", which is not allowed"
        outcomes[call_id] = CallOutcome(call.status, message, _tensors(call.value))
    return RunResult("ok", calls=outcomes)


def _tensors(value: Any) -> Any:
    """numpy arrays the sandbox decoded, as tensors (the kit compares torch values only)."""
    import numpy as np
    import torch

    if type(value) is np.ndarray and value.dtype.kind in "biufc":
        return torch.from_numpy(np.array(value, copy=True))
    if type(value) in (list, tuple):
        return type(value)(_tensors(v) for v in value)
    return value


def quiz_exercises(path: Path, quiz_dir: str | Path | None) -> tuple[list[Any], list[str]]:
    """The code exercises to check: those of the student's quiz (`quiz.json` beside the file
    or in `quiz_dir`, or `quiz_dir/quiz.toml`), else all of them; plus notes on quiz files
    that could not be read."""
    from grader.bank import default_bank

    everything = default_bank().select(kind="code")
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

