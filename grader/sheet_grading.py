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
from typing import Any, Callable, Mapping, Sequence, TypeVar

from grader.answers._timelimit import can_limit_time, run_with_budget
from grader.answers.credit import CreditRule
from grader.grading import grade_answer
from grader.quiz.model import Question
from grader.quiz.policy import QuizPolicy
from grader.results import ItemResult

ANSWER_SECONDS = 2.0
SHEET_SECONDS = 10.0

Item = TypeVar("Item")
Result = TypeVar("Result")


def over_answer_budget(seconds: float) -> str:
    return (f"This answer took more than {seconds:g} s to read and grade, so it was not graded; "
            "write it more simply (plain numbers).")


def over_sheet_budget(seconds: float) -> str:
    return (f"Not graded: the answers before it took the whole {seconds:g} s this answer sheet "
            "may take; write them more simply (plain numbers).")


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


def within_budget(
    items: Sequence[Item],
    work: Callable[[Item], Result],
    over: Callable[[Item, str], Result],
    *,
    answer_seconds: float = ANSWER_SECONDS,
    sheet_seconds: float = SHEET_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[list[Result], list[float]]:
    """`work(item)` for each item, in order, each within `answer_seconds` and all within
    `sheet_seconds`; an item over either budget gets `over(item, message)` instead.  Returns
    the results and the seconds each took.  An exception `work` raises is raised again."""
    results: list[Result] = []
    durations: list[float] = []
    deadline = clock() + sheet_seconds
    limited = can_limit_time()
    for item in items:
        start = clock()
        remaining = deadline - start
        if remaining <= 0:
            result = over(item, over_sheet_budget(sheet_seconds))
        elif not limited:
            result = work(item)
        else:
            budget = min(answer_seconds, remaining)
            raised: list[Exception] = []
            done, value = run_with_budget(lambda: _recording(work, item, raised), budget)
            if raised:
                raise raised[0]
            if done:
                result = value  # type: ignore[assignment]
            elif budget < answer_seconds:
                result = over(item, over_sheet_budget(sheet_seconds))
            else:
                result = over(item, over_answer_budget(answer_seconds))
        results.append(result)
        durations.append(clock() - start)
    return results, durations


def _recording(work: Callable[[Item], Result], item: Item, raised: list[Exception]) -> Result:
    try:
        return work(item)
    except Exception as error:  # run_with_budget swallows it; within_budget raises it again
        raised.append(error)
        raise


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
