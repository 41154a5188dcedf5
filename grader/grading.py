"""Grading one answer: parse first, grade second, then name the misconception it matches."""

from __future__ import annotations

from typing import Any, Sequence

from grader.answers.base import AnswerParseError, answer_matches
from grader.answers.credit import CreditRule, parse_rule
from grader.exercise import AnswerExercise
from grader.kit.answer_report import is_blank  # noqa: F401  (one definition, shared with the kit)
from grader.results import ItemResult, status_for_fraction
from grader.variant import Variant


def answer_text(raw: Any) -> str:
    """What the student wrote, as short text for reports (cut at 200 characters)."""
    text = raw if isinstance(raw, str) else repr(raw)
    return text if len(text) <= 200 else text[:197] + "..."


def grade_answer(
    exercise: AnswerExercise,
    variant: Variant,
    raw: Any,
    *,
    item: str | None = None,
    rule: CreditRule | None = None,
    alternatives: Sequence[str] = (),
) -> ItemResult:
    """Grade the raw TOML value `raw` (None when absent) against the variant's key.

    A wrong answer equal, under the check's tolerance, to a misconception's answer carries
    that misconception's tag and feedback sentence, and earns that misconception's credit
    (default 0) instead of the check's fraction. Any other answer earns `rule` applied to
    the check's fraction (`rule`: the quiz's partial-credit rule; default the exercise's).
    An answer equal to one of the instructor's accepted `alternatives` (answers.toml text,
    read by the same check) scores full marks.  A check with a `precheck(raw, keys)` (a
    matrix: its shape) can refuse an answer that matches neither the key nor any
    misconception before its entries are read.
    """
    item = item or exercise.id
    check = exercise.check_for(variant.params)
    points = exercise.points
    expected = check.to_text(variant.key)
    if is_blank(raw):
        return ItemResult(item, 0.0, points, "missing", "No answer given.", expected=expected)
    precheck = getattr(check, "precheck", None)
    problem = precheck(raw, [variant.key, *variant.misconceptions.values()]) if precheck else ""
    if problem:
        return ItemResult(item, 0.0, points, status_for_fraction(0.0), problem,
                          answer=answer_text(raw), expected=expected)
    try:
        parsed = check.parse(raw)
    except AnswerParseError as error:
        return ItemResult(
            item, 0.0, points, "invalid", f"Could not read the answer: {error}",
            answer=answer_text(raw), expected=expected,
        )
    outcome = check.grade(parsed, variant.key)
    share = (rule or parse_rule(exercise.partial_credit)).apply(outcome.fraction)
    feedback, tag, hint = outcome.message, None, ""
    if not outcome.correct:
        alternative = _matching_alternative(check, parsed, alternatives)
        if alternative is not None:
            return ItemResult(
                item, float(points), points, "correct",
                f"Accepted: the instructor also accepts {alternative}.",
                answer=answer_text(raw), expected=expected,
            )
        tag, hint = _matching_misconception(exercise, variant, check, parsed)
        if tag:
            share = next(m.credit for m in exercise.misconceptions if m.tag == tag)
    score = round(points * share, 6)
    status = status_for_fraction(share)
    return ItemResult(
        item, score, points, status, feedback, tag, answer=answer_text(raw), expected=expected, hint=hint
    )


def _matching_alternative(check: Any, parsed: Any, alternatives: Sequence[str]) -> str | None:
    """The first accepted alternative (as the instructor wrote it) that `parsed` equals."""
    for text in alternatives:
        try:
            if answer_matches(check, parsed, check.parse(text)):
                return text
        except (AnswerParseError, TypeError, ValueError):
            continue  # an alternative this variant's check cannot read accepts nothing here
    return None


def _matching_misconception(
    exercise: AnswerExercise, variant: Variant, check: Any, parsed: Any
) -> tuple[str | None, str]:
    sentences = {m.tag: m.feedback for m in exercise.misconceptions}
    for tag, answer in variant.misconceptions.items():
        if answer_matches(check, parsed, answer):
            return tag, sentences[tag]
    return None, ""
