"""What the answer exercises of several sections share."""

from __future__ import annotations

from typing import Any, Mapping

import torch

from grader.answers import Matrix, Real, SingleChoice
from grader.answers.choice import letter_of
from grader.exercise import AnswerExercise, DeclarationError, Misconception

Params = dict[str, Any]
F64 = torch.float64
# Answers rounded to 4 decimal places are off by up to 5e-5: the absolute tolerance accepts
# them for small values too, where the relative tolerance alone would not.
FOUR_DECIMALS_MATRIX = Matrix(atol=1e-4)
FOUR_DECIMALS_REAL = Real(atol=1e-4)


def choice_exercise(*, correct: str, distractors: Mapping[str, str], feedback: Mapping[str, str], **fields: Any) -> AnswerExercise:
    """A one-letter question whose `generate` puts the shuffled options (`correct` and the
    distractors' texts, `grader.answers.shuffle_options`) in `p["options"]`: the key is the
    letter of `correct`, and choosing the distractor `tag` is the misconception `tag`, with
    the sentence `feedback[tag]`.  `fields`: the other AnswerExercise fields (id, title,
    section, generate, prompt, ...)."""
    if set(feedback) != set(distractors):
        raise DeclarationError(f"{fields.get('id')}: feedback must name exactly the distractors' tags")
    return AnswerExercise(
        solve=lambda p: letter_of(p["options"], correct),
        check=lambda p: SingleChoice(p["options"]),
        misconceptions=tuple(_chose(tag, text, feedback[tag]) for tag, text in distractors.items()),
        **fields,
    )


def _chose(tag: str, text: str, feedback: str) -> Misconception:
    """Choosing the option `text` is the misconception `tag`."""
    return Misconception(tag, feedback, lambda p: letter_of(p["options"], text))


def tensor(values: Any) -> torch.Tensor:
    """Nested lists of numbers (or a tensor) as a float64 tensor."""
    return torch.as_tensor(values, dtype=F64)
