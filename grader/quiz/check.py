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
from grader.grading import is_blank
from grader.quiz.answer_sheet import SheetError, read_sheet
from grader.quiz.load import load_quiz
from grader.quiz.model import Question, StudentQuiz
from grader.quiz.policy import QuizPolicy, read_policy
from grader.quiz.public_check import describe_check, format_problem, rebuild_check
from grader.quiz.spec import SpecError
from grader.sheet_grading import grade_sheet, within_budget


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


def _missing(qid: str, fmt: str) -> AnswerLine:
    return AnswerLine(qid, "missing", f"no answer yet ({fmt})")


def _validated(qid: str, check: Any, description: dict[str, Any], raw: Any) -> AnswerLine:
    """ok or invalid (with why) for a present answer; never says whether it is right."""
    try:
        parsed = check.parse(raw)
    except AnswerParseError as error:
        return AnswerLine(qid, "invalid", str(error))
    problem = format_problem(description, parsed)
    return AnswerLine(qid, "invalid", problem) if problem else AnswerLine(qid, "ok", "readable")


def _validate_from_public_info(path: Path, info: dict[str, Any], answers: dict[str, Any]) -> AnswerCheckReport:
    """Without the quiz folder: formats only, from quiz.json (under the time budgets of
    `grader.sheet_grading`)."""
    report = AnswerCheckReport(path, str(info.get("mode", "exam")), graded=False)

    def line(question: dict[str, Any]) -> AnswerLine:
        qid, description = question["question"], question.get("check", {})
        raw = answers.get(qid)
        check = rebuild_check(description) if isinstance(description, dict) else None
        if is_blank(raw):
            return _missing(qid, str(question.get("format", "")))
        if check is None:
            return AnswerLine(qid, "ok", "present (format not checked by this version)")
        return _validated(qid, check, description, raw)

    report.lines, _ = within_budget(info["questions"], line, lambda q, why: AnswerLine(q["question"], "invalid", why))
    return report


def _check_with_quiz(
    path: Path, mode: str, quiz: StudentQuiz, answers: dict[str, Any], policy: QuizPolicy | None = None
) -> AnswerCheckReport:
    """With the quiz folder: graded in practice mode (under the quiz's partial-credit
    rules), formats only in exam mode."""
    policy = policy or QuizPolicy()
    practice = mode == "practice"
    report = AnswerCheckReport(path, mode, graded=practice)
    if practice:
        results, _ = grade_sheet(quiz.questions, answers, policy=policy)
        report.lines += [
            AnswerLine(r.item, r.status, r.feedback, r.score, r.max_score, r.misconception) for r in results
        ]
        return report

    def line(question: Question) -> AnswerLine:
        raw = answers.get(question.qid)
        key = question.variant.key
        if is_blank(raw):
            return _missing(question.qid, question.check.describe(key))
        return _validated(question.qid, question.check, describe_check(question.check, key), raw)

    report.lines, _ = within_budget(quiz.questions, line, lambda q, why: AnswerLine(q.qid, "invalid", why))
    return report


def check_answers(path: Path, quiz_dir: Path | None = None, student_id: str | None = None) -> AnswerCheckReport:
    """Check one answers.toml.  The student's quiz is found from `quiz.json` beside the
    sheet (written into every student's folder), or from `quiz_dir` and the student id
    (by default the name of the sheet's folder).

    Problems with the sheet itself (not UTF-8, not TOML, unknown questions) are reported
    as problems (exit code 1); CheckUsageError means the check could not run at all."""
    path = Path(path)
    info = _public_info(path)
    if info is None and quiz_dir is None:
        raise CheckUsageError(
            f"{path}: no readable quiz.json beside it; check the answers.toml in the folder you were "
            "given (it holds quiz.json), or give --quiz DIR"
        )
    student_id = student_id or (info["student"] if info else path.parent.name)
    try:
        if quiz_dir is None:
            assert info is not None
            known = [q["question"] for q in info["questions"]]
            return _validate_from_public_info(path, info, read_sheet(path, known))
        loaded = load_quiz(quiz_dir)
        if info is not None and info.get("quiz_id") != loaded.spec.quiz_id:
            raise CheckUsageError(
                f"{path} belongs to quiz {info.get('quiz_id')!r}, but {quiz_dir} is quiz {loaded.spec.quiz_id!r}"
            )
        quiz = loaded.student_quiz(student_id)
        answers = read_sheet(path, [q.qid for q in quiz.questions])
        return _check_with_quiz(path, loaded.spec.mode, quiz, answers, read_policy(quiz_dir))
    except SheetError as error:
        report = AnswerCheckReport(path, str((info or {}).get("mode", "exam")), graded=False)
        report.problems.append(str(error))
        return report
    except SpecError as error:
        raise CheckUsageError(str(error)) from None
