"""Partial-credit rules (issue 13 §4): proportional, all-or-nothing and threshold, per
exercise and per quiz; choosing every option of a multiple-choice question scores 0; an
answer recognized as a misconception earns that misconception's credit (default 0)."""

from __future__ import annotations

import numpy as np
import pytest

from exercises.answer.s02_optimization import SOFTMAX_CE_GRAD
from grader.answers import Integer, Matrix, MultipleChoice
from grader.answers.credit import CreditRule, CreditRuleError, parse_rule
from grader.exercise import AnswerExercise, DeclarationError, Misconception
from grader.grading import grade_answer
from grader.selftest import variant_for


def test_rules_map_the_fraction_as_documented() -> None:
    fractions = [0.0, 0.3, 0.5, 0.99, 1.0]
    assert [parse_rule("proportional").apply(f) for f in fractions] == fractions
    assert [parse_rule("all-or-nothing").apply(f) for f in fractions] == [0, 0, 0, 0, 1]
    assert [parse_rule("threshold:0.5").apply(f) for f in fractions] == [0, 0, 0.5, 0.99, 1.0]
    assert parse_rule("Threshold=0.5") == CreditRule("threshold", 0.5) and str(parse_rule("threshold:0.5")) == "threshold:0.5"
    for bad in ("half", "threshold:0", "threshold:1.5", "threshold:x"):
        with pytest.raises(CreditRuleError):
            parse_rule(bad)


def test_choosing_every_option_scores_zero() -> None:
    check = MultipleChoice(options=[f"option {i}" for i in range(7)])
    key = ("A", "B", "C", "D")
    assert check.grade(check.parse("ABCDEFG"), key).fraction == 0.0  # was (4 - 3) / 4 = 0.25
    assert check.grade(check.parse("ABC"), key).fraction == pytest.approx(3 / 4)
    assert check.grade(check.parse("ABCE"), key).fraction == pytest.approx(3 / 4 - 1 / 3)
    assert check.grade(check.parse("EFG"), key).fraction == 0.0
    assert check.grade(check.parse("ABCD"), key).fraction == 1.0


def _matrix_exercise(**extra) -> AnswerExercise:
    return AnswerExercise(
        id="pc_matrix", title="A 2x2 matrix", section=1, generate=lambda rng: {"a": 1.0}, prompt="M?",
        solve=lambda p: [[1.0, 2.0], [3.0, 4.0]], check=Matrix(),
        misconceptions=(Misconception("transposed_half", "You halved the off-diagonal.", lambda p: [[1.0, 1.0], [1.5, 4.0]],
                                      **extra.pop("credit", {})),),
        **extra,
    )


def test_a_recognized_misconception_earns_its_credit_not_the_share_of_agreeing_entries() -> None:
    exercise = _matrix_exercise()
    variant = variant_for(exercise, {"a": 1.0})
    result = grade_answer(exercise, variant, [[1.0, 1.0], [1.5, 4.0]])  # 2 of 4 entries agree with the key
    assert (result.misconception, result.score, result.status) == ("transposed_half", 0.0, "incorrect")
    credited = _matrix_exercise(credit={"credit": 0.25})
    result = grade_answer(credited, variant_for(credited, {"a": 1.0}), [[1.0, 1.0], [1.5, 4.0]])
    assert (result.score, result.status) == (0.25, "partial")
    other = grade_answer(exercise, variant, [[1.0, 2.0], [3.0, 0.0]])  # not a misconception: 3 of 4
    assert (other.misconception, other.score) == (None, 0.75)


def test_forgot_one_hot_no_longer_earns_two_thirds() -> None:
    rng = np.random.default_rng(0)
    params = SOFTMAX_CE_GRAD.generate(rng)
    variant = variant_for(SOFTMAX_CE_GRAD, params)
    check = SOFTMAX_CE_GRAD.check_for(params)
    raw = check.to_toml(variant.misconceptions["forgot_one_hot"])
    result = grade_answer(SOFTMAX_CE_GRAD, variant, raw)
    assert result.misconception == "forgot_one_hot" and result.score == 0.0
    assert check.grade(check.parse(raw), variant.key).fraction > 0.5  # what it earned before


def test_the_exercise_rule_applies_unless_the_quiz_gives_one() -> None:
    exercise = _matrix_exercise(partial_credit="all-or-nothing")
    variant = variant_for(exercise, {"a": 1.0})
    three_of_four = [[1.0, 2.0], [3.0, 0.0]]
    assert grade_answer(exercise, variant, three_of_four).score == 0.0
    assert grade_answer(exercise, variant, three_of_four, rule=parse_rule("proportional")).score == 0.75
    assert grade_answer(exercise, variant, three_of_four, rule=parse_rule("threshold:0.8")).score == 0.0
    assert grade_answer(exercise, variant, three_of_four, rule=parse_rule("threshold:0.7")).score == 0.75
    with pytest.raises(DeclarationError, match="partial-credit rule"):
        _matrix_exercise(partial_credit="most")
    with pytest.raises(DeclarationError, match="credit must be in"):
        Misconception("x_y", "Sentence.", lambda p: 0, credit=1.0)


def test_an_accepted_alternative_scores_full_marks() -> None:
    exercise = AnswerExercise(id="pc_int", title="N", section=1, generate=lambda rng: {}, prompt="?",
                              solve=lambda p: 7, check=Integer())
    variant = variant_for(exercise, {})
    assert grade_answer(exercise, variant, 8).score == 0.0
    result = grade_answer(exercise, variant, 8, alternatives=("not a number", "8"))
    assert (result.score, result.status) == (1.0, "correct") and "8" in result.feedback
    assert grade_answer(exercise, variant, 9, alternatives=("8",)).score == 0.0
