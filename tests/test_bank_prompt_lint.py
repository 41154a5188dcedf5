"""Lints of the rendered prompts of every answer exercise, over many seeds: what a strong
student reading only the quiz needs (issue: clearer questions)."""

from __future__ import annotations

import re

import pytest

from grader.bank import default_bank
from grader.exercise import AnswerExercise
from grader.prompts import render_prompt
from grader.variant import make_variant
from grader.wording import article, with_article

ANSWER_EXERCISES = [e for e in default_bank() if isinstance(e, AnswerExercise)]
SEEDS = range(60)
WRONG_ARTICLE = re.compile(r"\b[Aa] (8|11|18|8\d)(?![\d.,])|\b[Aa]n (?!8|11|18)\d")
PRECISION = re.compile(r"decimal place|significant figure|exact|fraction|as a percentage|to \d", re.I)


def _prompts(exercise: AnswerExercise):
    for seed in SEEDS:
        variant = make_variant(exercise, seed)
        yield seed, variant, render_prompt(exercise, variant)


@pytest.mark.parametrize("exercise", ANSWER_EXERCISES, ids=lambda e: e.id)
def test_prompts_are_self_contained_and_well_written(exercise: AnswerExercise) -> None:
    for seed, variant, prompt in _prompts(exercise):
        assert "concept sheet" not in prompt, (seed, "students do not have the concept sheet")
        assert not WRONG_ARTICLE.search(prompt), (seed, WRONG_ARTICLE.search(prompt).group(0))
        kind = exercise.check_for(variant.params).kind
        if kind == "integer":
            assert "integer" in prompt.lower(), (seed, "an integer answer must say so")
        if kind == "real":
            assert PRECISION.search(prompt), (seed, "a real answer must state its precision")


def test_regularized_loss_matrices_can_be_stacked() -> None:
    exercise = default_bank().get("fundamentals_regularized_loss")
    for seed in SEEDS:
        p = make_variant(exercise, seed).params
        hidden_units = len(p["w1"])
        assert all(len(row) == hidden_units for row in p["w2"]), (seed, p["w1"], p["w2"])


@pytest.mark.parametrize("exercise_id, phrase", [
    ("cnn_conv_output_size", "round down"),
    ("cnn_pool_output_size", "floor mode"),
    ("peft_lora_trainable_share", "without adding the LoRA"),
    ("generative_gan_discriminator_loss", "sum of two means"),
])
def test_prompts_state_the_convention_they_are_graded_by(exercise_id: str, phrase: str) -> None:
    exercise = default_bank().get(exercise_id)
    assert phrase in render_prompt(exercise, make_variant(exercise, 1))


@pytest.mark.parametrize("word, expected", [
    (8, "an"), (11, "an"), (18, "an"), (80, "an"), (87, "an"), (800, "an"), (8000, "an"), (11000, "an"),
    (1, "a"), (7, "a"), (10, "a"), (100, "a"), (110, "a"), (180, "a"), (1800, "a"),
    ("image", "an"), ("unit", "an"), ("cat", "a"), ("3-channel", "a"), ("8-channel", "an"),
])
def test_article_follows_the_spoken_number(word: object, expected: str) -> None:
    assert article(word) == expected
    assert with_article(word) == f"{expected} {word}"
