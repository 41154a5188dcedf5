"""Exclusion groups: a quiz never pairs an exercise with one whose answer it gives away
(the `linear_backward` docstring states dW = x^T @ dout, which `optimization_linear_dw` asks for)."""

from __future__ import annotations

import dataclasses

import pytest

from grader.bank import Bank, BankError, default_bank
from grader.exercise import DeclarationError
from grader.quiz.build import select_for_quiz, select_for_student
from grader.quiz.roster import Student
from grader.quiz.spec import QuizSpec

PAIR = ("code_linear_backward", "optimization_linear_dw")
STUDENTS = (Student("s1", "One"),)


def test_the_code_exercise_declares_what_it_gives_away() -> None:
    bank = default_bank()
    assert "optimization_linear_dw" in bank.get("code_linear_backward").excludes
    assert "transformers_sdpa_weights" in bank.get("code_scaled_dot_product_attention").excludes


def test_selecting_both_keeps_the_one_that_gives_the_other_away() -> None:
    spec = QuizSpec(title="t", students=STUDENTS, exercises=PAIR)
    assert [e.id for e in select_for_quiz(default_bank(), spec, b"k" * 32)] == ["code_linear_backward"]


def test_a_sampled_quiz_never_holds_both() -> None:
    bank = default_bank()
    both_seen = set()
    for seed in range(60):
        spec = QuizSpec(title=f"quiz {seed}", students=STUDENTS, topics=("optimization",), count=5)
        chosen = {e.id for e in select_for_quiz(bank, spec, b"s" * 32)}
        assert not set(PAIR) <= chosen, (seed, chosen)
        both_seen |= chosen & set(PAIR)
        shuffled = dataclasses.replace(spec, shuffle_exercises=True)
        mine = {e.id for e in select_for_student(bank, shuffled, b"s" * 32, STUDENTS[0])}
        assert len(mine) == 5 and not set(PAIR) <= mine, (seed, mine)
    assert both_seen == set(PAIR), "each of the two still appears in some quizzes"


def test_a_count_that_needs_both_is_an_error_that_says_why() -> None:
    spec = QuizSpec(title="t", students=STUDENTS, exercises=PAIR, count=2)
    with pytest.raises(BankError, match="give others' answers away"):
        select_for_quiz(default_bank(), spec, b"k" * 32)


def test_declarations_name_real_exercises() -> None:
    exercise = default_bank().get("optimization_sgd_step")
    with pytest.raises(DeclarationError, match="excludes"):
        dataclasses.replace(exercise, excludes=(exercise.id,))
    with pytest.raises(BankError, match="unknown exercise id 'no_such_exercise'"):
        Bank((dataclasses.replace(exercise, excludes=("no_such_exercise",)),))
