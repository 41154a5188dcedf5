"""Grading one answer: parse first, grade second, then name the misconception it matches."""

from __future__ import annotations

from typing import Any

from grader.answers.base import AnswerParseError, answer_matches
from grader.exercise import AnswerExercise
from grader.kit.answer_report import is_blank  # noqa: F401  (one definition, shared with the kit)
from grader.results import ItemResult, status_for_fraction
from grader.variant import Variant


def answer_text(raw: Any) -> str:
    """What the student wrote, as short text for reports (cut at 200 characters)."""
    text = raw if isinstance(raw, str) else repr(raw)
    return text if len(text) <= 200 else text[:197] + "..."


def grade_answer(
    exercise: AnswerExercise, variant: Variant, raw: Any, *, item: str | None = None
) -> ItemResult:
    """Grade the raw TOML value `raw` (None when absent) against the variant's key.

    A wrong answer equal, under the check's tolerance, to a misconception's answer carries
    that misconception's tag and feedback sentence.
    """
    item = item or exercise.id
    check = exercise.check_for(variant.params)
    points = exercise.points
    expected = check.to_text(variant.key)
    if is_blank(raw):
        return ItemResult(item, 0.0, points, "missing", "No answer given.", expected=expected)
    try:
        parsed = check.parse(raw)
    except AnswerParseError as error:
        return ItemResult(
            item, 0.0, points, "invalid", f"Could not read the answer: {error}",
            answer=answer_text(raw), expected=expected,
        )
    outcome = check.grade(parsed, variant.key)
    score = round(points * max(0.0, min(1.0, outcome.fraction)), 6)
    status = status_for_fraction(outcome.fraction)
    feedback, tag = outcome.message, None
    if not outcome.correct:
        tag, sentence = _matching_misconception(exercise, variant, check, parsed)
        if tag:
            feedback = sentence if not feedback else f"{sentence} ({feedback})"
    return ItemResult(
        item, score, points, status, feedback, tag, answer=answer_text(raw), expected=expected
    )


def _matching_misconception(
    exercise: AnswerExercise, variant: Variant, check: Any, parsed: Any
) -> tuple[str | None, str]:
    sentences = {m.tag: m.feedback for m in exercise.misconceptions}
    for tag, answer in variant.misconceptions.items():
        if answer_matches(check, parsed, answer):
            return tag, sentences[tag]
    return None, ""
