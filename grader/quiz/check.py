"""`grader check answers.toml`: say which answers are missing or unreadable, and why.

In exam mode it never reveals correctness.  In practice mode, with the quiz folder, it grades
each answer against the key and shows the score and the misconception feedback.  The check
itself is `grader.kit.answer_report.check_sheet`, the code the student kit runs: this module
only finds the quiz's data (quiz.json beside the sheet, or the quiz folder).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from grader.errors import GraderError
from grader.kit.answer_report import AnswerLine, AnswerReport, check_sheet
from grader import student_file
from grader.kit.sheet import MAX_SHEET_BYTES
from grader.quiz.spec import SpecError

__all__ = ["AnswerCheckReport", "AnswerLine", "CheckUsageError", "check_answers"]

AnswerCheckReport = AnswerReport


class CheckUsageError(GraderError, ValueError):
    """The check cannot run at all (no quiz information found)."""


def _public_info(sheet: Path) -> dict[str, Any] | None:
    """students/<id>/quiz.json beside the sheet, when it is there and well-formed."""
    try:
        info = json.loads((sheet.parent / "quiz.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    questions = info.get("questions") if isinstance(info, dict) else None
    if not isinstance(info, dict) or not isinstance(info.get("student"), str) or not isinstance(questions, list):
        return None
    if not all(isinstance(q, dict) and isinstance(q.get("question"), str) for q in questions):
        return None
    return info


def _quiz_data(quiz_dir: Path, info: dict[str, Any] | None, student_id: str, path: Path) -> dict[str, Any]:
    """The student's data from the quiz folder (with the keys in practice mode)."""
    from grader.kit.build import question_data
    from grader.quiz.load import load_quiz

    loaded = load_quiz(quiz_dir)
    if info is not None and info.get("quiz_id") != loaded.spec.quiz_id:
        raise CheckUsageError(
            f"{path} belongs to quiz {info.get('quiz_id')!r}, but {quiz_dir} is quiz {loaded.spec.quiz_id!r}"
        )
    quiz = loaded.student_quiz(student_id)
    practice = loaded.spec.mode == "practice"
    return {"mode": loaded.spec.mode, "questions": [question_data(q, practice) for q in quiz.questions]}


def check_answers(path: Path, quiz_dir: Path | None = None, student_id: str | None = None) -> AnswerReport:
    """Check one answers.toml.  The student's quiz is found from `quiz.json` beside the
    sheet (written into every student's folder), or from `quiz_dir` and the student id
    (by default the name of the sheet's folder).

    Problems with the sheet itself (not UTF-8, not TOML, unknown questions) are reported
    as problems (exit code 1) beside every answer's own line; CheckUsageError means the
    check could not run at all."""
    path = Path(path)
    info = _public_info(path)
    if info is None and quiz_dir is None:
        raise CheckUsageError(
            f"{path}: no readable quiz.json beside it; check the answers.toml in the folder you were "
            "given (it holds quiz.json), or give --quiz DIR"
        )
    student_id = student_id or (info["student"] if info else path.parent.name)
    try:
        data = info if quiz_dir is None else _quiz_data(Path(quiz_dir), info, student_id, path)
    except SpecError as error:
        raise CheckUsageError(str(error)) from None
    assert data is not None
    try:
        size, raw = student_file.read(path, MAX_SHEET_BYTES)
    except student_file.StudentFileError as error:
        size, raw, problem = 0, b"", f"{path}: {error}"
    else:
        problem = student_file.too_large_message(str(path), size, MAX_SHEET_BYTES) if size > MAX_SHEET_BYTES else ""
    if problem:
        report = AnswerReport(str(path), str(data.get("mode", "exam")), graded=False)
        report.problems.append(problem)
        return report
    return check_sheet(raw, data, name=str(path))
