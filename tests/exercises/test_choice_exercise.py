"""`choice_exercise` (exercises/answer/_common.py): a one-letter question from its correct
text, its distractors and their feedback."""

from __future__ import annotations

import numpy as np
import pytest

from exercises.answer._common import choice_exercise
from grader.answers import shuffle_options
from grader.exercise import DeclarationError
from grader.grading import grade_answer
from grader.variant import make_variant

CORRECT = "Right."
DISTRACTORS = {"first_wrong": "Wrong one.", "second_wrong": "Wrong two.", "third_wrong": "Wrong three."}
FEEDBACK = {tag: f"Feedback of {tag}." for tag in DISTRACTORS}


def _generate(rng: np.random.Generator) -> dict:
    options, _ = shuffle_options(rng, CORRECT, list(DISTRACTORS.values()))
    return {"options": options}


def _exercise(**extra):  # type: ignore[no-untyped-def]
    fields = dict(id="toy_choice", title="Toy", section=1, generate=_generate, prompt="Which?",
                  correct=CORRECT, distractors=DISTRACTORS, feedback=FEEDBACK)
    return choice_exercise(**{**fields, **extra})


@pytest.mark.parametrize("seed", range(6))
def test_the_key_and_each_distractor_are_the_letters_of_their_texts(seed: int) -> None:
    exercise = _exercise()
    variant = make_variant(exercise, seed)
    _, key_letter = shuffle_options(np.random.default_rng(seed), CORRECT, list(DISTRACTORS.values()))
    assert variant.key == key_letter
    options = variant.params["options"]
    for tag, text in DISTRACTORS.items():
        letter = "ABCD"[options.index(text)]
        assert variant.misconceptions[tag] == letter
        result = grade_answer(exercise, variant, letter)
        assert (result.misconception, result.hint, result.score) == (tag, FEEDBACK[tag], 0.0)
    assert grade_answer(exercise, variant, key_letter).score == exercise.points


def test_feedback_must_name_exactly_the_distractors() -> None:
    with pytest.raises(DeclarationError, match="distractors' tags"):
        _exercise(feedback={"first_wrong": "Only one."})
