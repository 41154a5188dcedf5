"""Variants: one exercise instantiated from one seed (generate, then solve, then check that
every misconception discriminates).

A variant is rejected and regenerated, from the same random stream, when a misconception's
answer would be graded correct against the key, or two misconceptions give the same answer:
such a variant could not tell the mistakes apart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.errors import GraderError
from grader.answers.base import AnswerCheck, AnswerParseError, answer_matches
from grader.exercise import AnswerExercise, Params

MAX_ATTEMPTS = 200


class VariantError(GraderError, RuntimeError):
    """No discriminating variant could be generated (a bug in the exercise declaration)."""


@dataclass(frozen=True)
class Variant:
    """One student's copy of one answer exercise.

    key: the canonical correct answer; misconceptions: tag -> that mistake's answer, for the
    misconceptions that apply to this variant.
    """

    exercise_id: str
    generator_version: int
    seed: int
    params: Params
    key: Any
    misconceptions: dict[str, Any] = field(default_factory=dict)

    def to_json(self, check: AnswerCheck) -> dict[str, Any]:
        """Plain JSON data: the parameters, the key as written in answers.toml, and the
        misconceptions' answers in the same form."""
        return {
            "exercise": self.exercise_id,
            "generator_version": self.generator_version,
            "seed": str(self.seed),
            "params": jsonable(self.params),
            "answer": jsonable(check.to_toml(self.key)),
            "answer_text": check.to_text(self.key),
            "misconceptions": {
                tag: jsonable(check.to_toml(answer)) for tag, answer in self.misconceptions.items()
            },
        }


def jsonable(value: Any) -> Any:
    """numpy scalars and arrays, tuples and sets as plain JSON values."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(jsonable(v) for v in value)
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "tolist"):  # torch tensors
        return jsonable(value.tolist())
    return value


def same_answer(check: AnswerCheck, answer: Any, other: Any) -> bool:
    """Would a student who wrote `answer` be graded correct against the key `other`?"""
    try:
        return answer_matches(check, check.parse(check.to_toml(answer)), other)
    except AnswerParseError:
        return False


def applicable_misconceptions(exercise: AnswerExercise, params: Params) -> dict[str, Any]:
    """tag -> answer of each misconception that applies to these parameters."""
    answers: dict[str, Any] = {}
    for misconception in exercise.misconceptions:
        try:
            answer = misconception.solve(params)
        except (ValueError, ZeroDivisionError, ArithmeticError):
            continue
        if answer is not None:
            answers[misconception.tag] = answer
    return answers


def discriminates(check: AnswerCheck, key: Any, misconceptions: dict[str, Any]) -> bool:
    """True when no misconception's answer passes for the key and all of them differ."""
    answers = list(misconceptions.values())
    if any(same_answer(check, answer, key) for answer in answers):
        return False
    return not any(
        same_answer(check, answers[i], answers[j])
        for i in range(len(answers))
        for j in range(i + 1, len(answers))
    )


def make_variant(exercise: AnswerExercise, seed: int) -> Variant:
    """Generate the variant of `exercise` for `seed` (deterministic on any machine)."""
    rng = np.random.default_rng(seed)
    for _ in range(MAX_ATTEMPTS):
        params = exercise.generate(rng)
        key = exercise.solve(params)
        check = exercise.check_for(params)
        misconceptions = applicable_misconceptions(exercise, params)
        if discriminates(check, key, misconceptions):
            return Variant(
                exercise_id=exercise.id,
                generator_version=exercise.generator_version,
                seed=seed,
                params=params,
                key=key,
                misconceptions=misconceptions,
            )
    raise VariantError(
        f"{exercise.id}: no variant in {MAX_ATTEMPTS} attempts where every misconception "
        f"gives a distinct wrong answer (seed {seed})"
    )


def variant_fingerprint(variant: Variant, check: AnswerCheck) -> str:
    """Canonical JSON text of a variant, for byte-identity checks."""
    return json.dumps(variant.to_json(check), sort_keys=True)
