"""The self-test of every answer exercise of the bank (PrairieLearn's "self-test" step).

For every exercise and 200 seeds: the key scores full marks; every misconception's answer
scores less than full and carries its tag; an unreadable answer is `invalid` with a message;
the same seed gives the same variant, and different seeds give different variants.
"""

from __future__ import annotations

import json
import re

import numpy as np

import pytest

from grader.bank import default_bank
from grader.exercise import AnswerExercise
from grader.grading import grade_answer
from grader.prompts import render_prompt
from grader.variant import jsonable, make_variant, variant_fingerprint

SEEDS = range(200)
ANSWER_EXERCISES = [e for e in default_bank() if isinstance(e, AnswerExercise)]
UNREADABLE = {"not": "an answer"}  # a TOML inline table is never a valid answer


def test_bank_covers_every_section_with_three_answer_exercises() -> None:
    per_section = {s: 0 for s in range(1, 13)}
    for exercise in ANSWER_EXERCISES:
        per_section[exercise.section] += 1
    assert len(ANSWER_EXERCISES) >= 40
    assert min(per_section.values()) >= 3, per_section


@pytest.mark.parametrize("exercise", ANSWER_EXERCISES, ids=lambda e: e.id)
def test_self_test_over_200_seeds(exercise: AnswerExercise) -> None:
    fingerprints = set()
    misconceptions_seen: set[str] = set()
    for seed in SEEDS:
        variant = make_variant(exercise, seed)
        check = exercise.check_for(variant.params)
        fingerprints.add(json.dumps([jsonable(variant.params), jsonable(check.to_toml(variant.key))], sort_keys=True))

        prompt = render_prompt(exercise, variant)
        assert prompt and "{{" not in prompt and "{%" not in prompt, (seed, prompt)

        full = grade_answer(exercise, variant, check.to_toml(variant.key))
        assert (full.status, full.score) == ("correct", exercise.points), (seed, full)

        for tag, answer in variant.misconceptions.items():
            result = grade_answer(exercise, variant, check.to_toml(answer))
            assert result.score < exercise.points, (seed, tag, result)
            assert result.misconception == tag, (seed, tag, result)
            assert result.feedback
            misconceptions_seen.add(tag)

        invalid = grade_answer(exercise, variant, UNREADABLE)
        assert invalid.status == "invalid" and invalid.feedback, (seed, invalid)
        missing = grade_answer(exercise, variant, None)
        assert missing.status == "missing" and missing.score == 0

    declared = {m.tag for m in exercise.misconceptions}
    assert misconceptions_seen == declared, f"never applicable: {declared - misconceptions_seen}"
    assert len(fingerprints) >= 2, "different seeds should give different variants"


@pytest.mark.parametrize("exercise", ANSWER_EXERCISES, ids=lambda e: e.id)
def test_same_seed_same_variant(exercise: AnswerExercise) -> None:
    for seed in (0, 7, 2**127 + 5):
        first, second = make_variant(exercise, seed), make_variant(exercise, seed)
        check = exercise.check_for(first.params)
        assert variant_fingerprint(first, check) == variant_fingerprint(second, check)


@pytest.mark.parametrize("exercise", ANSWER_EXERCISES, ids=lambda e: e.id)
def test_answers_rounded_as_the_prompt_asks_score_full(exercise: AnswerExercise) -> None:
    """A prompt that asks for N decimal places must accept the key rounded to N places."""
    for seed in range(40):
        variant = make_variant(exercise, seed)
        check = exercise.check_for(variant.params)
        places = re.search(r"(\d+) decimal place", render_prompt(exercise, variant))
        if check.kind not in ("real", "matrix") or not places:
            continue
        rounded = np.round(np.asarray(check.to_toml(variant.key), dtype=float), int(places.group(1)))
        result = grade_answer(exercise, variant, rounded.tolist())
        assert result.status == "correct", (seed, rounded.tolist(), result.feedback)
