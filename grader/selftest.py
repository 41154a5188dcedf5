"""Helpers to test an exercise declaration with hand-computed values (the bank's own tests
use them; instructors can use them for their `--bank` exercises).

    variant_for(exercise, params)        the variant of fixed parameters
    assert_grades(exercise, params, key, {tag: wrong answer})
    letter_of(options, text)             the letter of an option's text
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from grader.answers.choice import letter_of  # re-exported for the bank's tests
from grader.exercise import AnswerExercise, Params
from grader.grading import grade_answer
from grader.variant import Variant, applicable_misconceptions, discriminates

__all__ = ["assert_grades", "letter_of", "variant_for"]


def variant_for(exercise: AnswerExercise, params: Params) -> Variant:
    """The variant of fixed `params`, with every applicable misconception's answer."""
    misconceptions = applicable_misconceptions(exercise, params)
    return Variant(exercise.id, exercise.generator_version, 0, params, exercise.solve(params), misconceptions)


def assert_grades(
    exercise: AnswerExercise,
    params: Params,
    key_raw: Any,
    wrong_answers: Mapping[str, Any],
    absent: Sequence[str] = (),
) -> None:
    """The hand-written key `key_raw` scores full marks (and so does the computed key); each
    hand-computed wrong answer scores less and carries its misconception's tag; the
    `absent` misconceptions do not apply to these parameters."""
    variant = variant_for(exercise, params)
    check = exercise.check_for(params)
    assert discriminates(check, variant.key, variant.misconceptions), "the misconceptions do not discriminate"
    full = grade_answer(exercise, variant, key_raw)
    assert full.score == exercise.points, full
    assert grade_answer(exercise, variant, check.to_toml(variant.key)).score == exercise.points
    for tag, raw in wrong_answers.items():
        result = grade_answer(exercise, variant, raw)
        assert result.misconception == tag, (tag, result)
        assert result.score < exercise.points, (tag, result)
    assert not set(absent) & set(variant.misconceptions), set(absent) & set(variant.misconceptions)

