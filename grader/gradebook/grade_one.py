"""Grading one student's loaded submission: the answers here, in the judge process; the
code through the sandbox pool.

Every failure of the student's files becomes item results (never an exception): a file
that is missing gives `missing`, one over the size cap, not UTF-8 or not valid TOML gives
`invalid` for each of the items it holds, with the reason as feedback.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from grader.gradebook.submissions import ANSWERS_FILE, CODE_FILE, LoadedFile, LoadedSubmission
from grader.quiz.answer_sheet import SheetError
from grader.quiz.answer_sheet import parse_sheet as parse_answer_sheet
from grader.quiz.model import StudentQuiz
from grader.quiz.policy import QuizPolicy
from grader.results import ItemResult
from grader.sheet_grading import grade_sheet

if TYPE_CHECKING:  # the judge imports torch: loaded when code is graded
    from grader.code.judge import Runner


@dataclass
class Graded:
    """Results of one part of a submission, in item order, with how long each took
    (`seconds`: the whole part; for code, every item carries the run's duration)."""

    results: list[ItemResult] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _all_items(items: Sequence[tuple[str, float]], status: str, feedback: str, seconds: float = 0.0) -> Graded:
    return Graded(
        [ItemResult(name, 0.0, points, status, feedback) for name, points in items],
        [seconds] * len(items),
    )


def parse_sheet(file: LoadedFile) -> dict[str, Any]:
    """The TOML table of an answers.toml that was loaded; ValueError says why it cannot be
    read (`grader.quiz.answer_sheet.parse_sheet` on the bytes already read)."""
    if file.data is None:
        raise ValueError(file.error)
    try:
        return parse_answer_sheet(file.data, ANSWERS_FILE)
    except SheetError as error:
        raise ValueError(str(error)) from None


def grade_answers(
    quiz: StudentQuiz,
    submission: LoadedSubmission,
    policy: QuizPolicy | None = None,
    alternatives: Mapping[str, Sequence[str]] | None = None,
) -> Graded:
    """Grade every question of the quiz from the submission's answers.toml, under the
    quiz's partial-credit rules (`policy`) and the accepted alternative answers (item ->
    answers), and the answer and sheet time budgets of `grader.sheet_grading`."""
    items = [(q.qid, q.points) for q in quiz.questions]
    if not items:
        return Graded()
    file = submission.files.get(ANSWERS_FILE)
    if file is None:
        return _all_items(items, "missing", f"No {ANSWERS_FILE} was submitted.")
    try:
        answers = parse_sheet(file)
    except ValueError as error:
        return _all_items(items, "invalid", f"{error}; no answer could be read.")
    graded = Graded()
    unknown = sorted(set(answers) - {q.qid for q in quiz.questions})
    if unknown:
        shown = ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        graded.notes.append(f"{ANSWERS_FILE}: answers to questions this quiz does not have were ignored: {shown}")
    graded.results, graded.durations = grade_sheet(quiz.questions, answers, policy=policy, alternatives=alternatives)
    graded.seconds = sum(graded.durations)
    return graded


def grade_code(quiz: StudentQuiz, submission: LoadedSubmission, pool: Runner) -> Graded:
    """Grade every code function of the quiz from the submission's exercise.py (blocking:
    the pool runs the code; the judge compares in this process)."""
    items = [(c.function, c.points) for c in quiz.code]
    if not items:
        return Graded()
    file = submission.files.get(CODE_FILE)
    if file is None:
        return _all_items(items, "missing", f"No {CODE_FILE} was submitted.")
    if file.data is None:
        return _all_items(items, "invalid", f"{file.error}; it was not run.")
    from grader.code.judge import grade_code_submission

    start = time.perf_counter()
    results = grade_code_submission(
        file.data,
        [c.exercise for c in quiz.code],
        {c.exercise.id: c.seed for c in quiz.code},
        pool,
    )
    seconds = time.perf_counter() - start
    by_item = {r.item: r for r in results}
    ordered = [
        by_item.get(name) or ItemResult(name, 0.0, points, "error", "No result came back for this function.")
        for name, points in items
    ]
    return Graded(ordered, [seconds] * len(ordered), seconds=seconds)
