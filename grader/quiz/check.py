"""`grader check answers.toml`: say which answers are missing or unreadable, and why.

In exam mode it never reveals correctness.  In practice mode, with the quiz folder, it grades
each answer against the key and shows the score and the misconception feedback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.answers.base import AnswerParseError
from grader.grading import grade_answer, is_blank
from grader.quiz.answer_sheet import SheetError, read_sheet
from grader.quiz.load import load_quiz
from grader.quiz.public_check import rebuild_check
from grader.quiz.spec import SpecError


class CheckUsageError(ValueError):
    """The check cannot run at all (no quiz information found)."""


@dataclass(frozen=True)
class AnswerLine:
    question: str
    status: str  # ok | missing | invalid | correct | partial | incorrect
    message: str = ""
    score: float | None = None
    max_score: float | None = None
    misconception: str | None = None


@dataclass
class AnswerCheckReport:
    path: Path
    mode: str
    graded: bool
    lines: list[AnswerLine] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        bad = {"missing", "invalid"}
        return 1 if self.problems or any(line.status in bad for line in self.lines) else 0

    @property
    def score(self) -> tuple[float, float]:
        return (
            sum(line.score or 0.0 for line in self.lines),
            sum(line.max_score or 0.0 for line in self.lines),
        )


def _public_info(sheet: Path) -> dict[str, Any] | None:
    path = sheet.parent / "quiz.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None


def _validate_only(path: Path, info: dict[str, Any], answers: dict[str, Any]) -> AnswerCheckReport:
    report = AnswerCheckReport(path, str(info.get("mode", "exam")), graded=False)
    for question in info.get("questions", []):
        qid = str(question.get("question"))
        raw = answers.get(qid)
        if is_blank(raw):
            report.lines.append(AnswerLine(qid, "missing", f"no answer yet ({question.get('format', '')})"))
            continue
        check = rebuild_check(question.get("check", {}))
        if check is None:
            report.lines.append(AnswerLine(qid, "ok", "present (format not checked by this version)"))
            continue
        try:
            check.parse(raw)
        except AnswerParseError as error:
            report.lines.append(AnswerLine(qid, "invalid", str(error)))
        else:
            report.lines.append(AnswerLine(qid, "ok", "readable"))
    return report


def _grade_practice(path: Path, quiz_dir: Path, student_id: str, answers: dict[str, Any]) -> AnswerCheckReport:
    loaded = load_quiz(quiz_dir)
    quiz = loaded.student_quiz(student_id)
    practice = loaded.spec.mode == "practice"
    report = AnswerCheckReport(path, loaded.spec.mode, graded=practice)
    for question in quiz.questions:
        result = grade_answer(question.exercise, question.variant, answers.get(question.qid), item=question.qid)
        if result.status in ("missing", "invalid"):
            report.lines.append(AnswerLine(question.qid, result.status, result.feedback))
        elif practice:
            report.lines.append(
                AnswerLine(question.qid, result.status, result.feedback, result.score, result.max_score, result.misconception)
            )
        else:
            report.lines.append(AnswerLine(question.qid, "ok", "readable"))
    return report


def check_answers(path: Path, quiz_dir: Path | None = None, student_id: str | None = None) -> AnswerCheckReport:
    """Check one answers.toml.  The student's quiz is found from `quiz.json` beside the
    sheet (written into every student's folder), or from `quiz_dir` and the student id
    (by default the name of the sheet's folder)."""
    path = Path(path)
    info = _public_info(path)
    if info is None and quiz_dir is None:
        raise CheckUsageError(
            f"{path}: no quiz.json beside it; run the check in your quiz folder or give --quiz DIR"
        )
    student_id = student_id or (str(info["student"]) if info else path.parent.name)
    known = [q["question"] for q in info["questions"]] if info else None
    try:
        if quiz_dir is not None:
            known = known or [q.qid for q in load_quiz(quiz_dir).student_quiz(student_id).questions]
            answers = read_sheet(path, known)
            return _grade_practice(path, Path(quiz_dir), student_id, answers)
        assert info is not None
        return _validate_only(path, info, read_sheet(path, known))
    except SheetError as error:
        report = AnswerCheckReport(path, str((info or {}).get("mode", "exam")), graded=False)
        report.problems.append(str(error))
        return report
    except SpecError as error:
        raise CheckUsageError(str(error)) from None
