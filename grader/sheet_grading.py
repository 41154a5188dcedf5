"""Grading the answers of one answers.toml under a time budget, so that no sheet can hold
up the others (used by `grader grade` and by `grader check` in practice mode).

Each answer gets `ANSWER_SECONDS`, the whole sheet `SHEET_SECONDS`; an answer over its
budget, and every answer left when the sheet's budget is spent, is `invalid` with a
message saying so.  The budgets are enforced by `grader.answers._timelimit` (main thread
only); elsewhere the answers are graded without one, still bounded by the answer checks'
own limits (length, nesting, exact arithmetic in bits).
"""

from __future__ import annotations

import time
from typing import Any, Callable, Mapping, Sequence

from grader.answers._timelimit import ANSWER_SECONDS, SHEET_SECONDS, within_budget
from grader.answers.credit import CreditRule
from grader.grading import grade_answer
from grader.quiz.model import Question
from grader.quiz.policy import QuizPolicy
from grader.results import ItemResult


def _grade_one(question: Question, raw: Any, rule: CreditRule | None, alternatives: Sequence[str]) -> ItemResult:
    try:
        return grade_answer(question.exercise, question.variant, raw, item=question.qid, rule=rule,
                            alternatives=alternatives)
    except Exception as error:  # a grader bug must cost one item, not the sheet
        return ItemResult(
            question.qid, 0.0, question.points, "invalid",
            f"The answer could not be graded ({type(error).__name__}); ask the instructor to check it.",
        )


def _invalid(question: Question, message: str) -> ItemResult:
    return ItemResult(question.qid, 0.0, question.points, "invalid", message)


def grade_sheet(
    questions: Sequence[Question],
    answers: Mapping[str, Any],
    *,
    policy: QuizPolicy | None = None,
    alternatives: Mapping[str, Sequence[str]] | None = None,
    answer_seconds: float = ANSWER_SECONDS,
    sheet_seconds: float = SHEET_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[list[ItemResult], list[float]]:
    """Every question's result, in order, and the seconds each took (see the module
    docstring), under the quiz's partial-credit rules (`policy`) and the instructor's
    accepted alternative answers (question id -> answers).  Never raises for anything in
    `answers`."""
    policy = policy or QuizPolicy()
    alternatives = alternatives or {}

    def grade(question: Question) -> ItemResult:
        return _grade_one(question, answers.get(question.qid), policy.rule_for(question.exercise.id),
                          alternatives.get(question.qid, ()))

    return within_budget(
        questions, grade, _invalid,
        answer_seconds=answer_seconds, sheet_seconds=sheet_seconds, clock=clock,
    )
