"""Simulated classes for the copied-answers tests and benchmark: real exercises of the
bank, one variant per student, honest students (the key, a misconception's answer, or a
random slip) and planted copiers who hand in another student's keys."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any, Sequence

from grader.answers.base import answer_matches
from grader.bank import default_bank
from grader.exercise import AnswerExercise
from grader.grading import answer_text
from grader.integrity.answer_pairs import AnswerRecord
from grader.variant import Variant, make_variant

# Small parameter spaces (conv and pool sizes: many students share keys and
# misconception answers), shapes, an expression, matrices and reals.
EXERCISES = (
    "cnn_conv_output_size", "cnn_pool_output_size", "cnn_conv_output_shape", "rnn_lstm_param_expression",
    "optimization_sgd_step", "adversarial_linf_distance", "peft_lora_param_count", "transformers_layer_norm",
)


@dataclass
class Sheet:
    """One student's variants and answers (TOML values), by question."""

    variants: dict[str, Variant]
    answers: dict[str, Any]


def exercises(ids: Sequence[str] = EXERCISES) -> list[AnswerExercise]:
    bank = default_bank()
    return [bank.get(i) for i in ids]  # type: ignore[misc]


def _slip(value: Any, rng: random.Random) -> Any:
    """A random error: a number off by a few percent or a few units (first entry of an
    array or shape), an expression with an extra term."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value + rng.choice([-3, -2, 2, 3, 5])
    if isinstance(value, float):
        return value * rng.uniform(1.05, 1.4) + 0.01
    if isinstance(value, (list, tuple)) and value:
        return [_slip(value[0], rng), *value[1:]]
    if isinstance(value, str):  # a shape "(N, 8, 5)" or an expression: change its last number
        numbers = list(re.finditer(r"\d+", value))
        if not numbers:
            return f"{value} + 1"
        last = numbers[-1]
        return f"{value[:last.start()]}{int(last.group()) + rng.choice([1, 2, 3])}{value[last.end():]}"
    return value


def honest_sheet(student: int, exs: Sequence[AnswerExercise], rng: random.Random, seed_base: int) -> Sheet:
    variants, answers = {}, {}
    for q, exercise in enumerate(exs, start=1):
        variant = make_variant(exercise, seed_base + 1000 * student + q)
        check = exercise.check_for(variant.params)
        roll = rng.random()
        if roll < 0.6 or not variant.misconceptions:
            value = variant.key
        elif roll < 0.85:
            value = variant.misconceptions[rng.choice(sorted(variant.misconceptions))]
        else:
            value = _slip(check.to_toml(variant.key), rng)
            answers[f"q{q}"] = value
            variants[f"q{q}"] = variant
            continue
        answers[f"q{q}"] = check.to_toml(value)
        variants[f"q{q}"] = variant
    return Sheet(variants, answers)


def make_class(
    students: int, seed: int, copies: dict[int, int] | None = None, exs: Sequence[AnswerExercise] | None = None,
) -> list[Sheet]:
    """`students` honest sheets; `copies` {copier: source}: the copier's answers are the
    source's keys."""
    exs = list(exs) if exs is not None else exercises()
    rng = random.Random(seed)
    sheets = [honest_sheet(i, exs, rng, seed * 7919) for i in range(students)]
    for copier, source in (copies or {}).items():
        src = sheets[source]
        sheets[copier].answers = {
            q: exs[int(q[1:]) - 1].check_for(v.params).to_toml(v.key) for q, v in src.variants.items()
        }
    return sheets


def records(sheets: Sequence[Sheet], exs: Sequence[AnswerExercise] | None = None) -> list[AnswerRecord]:
    """The AnswerRecords the gradebook would give: the answer text, parsed by the
    student's own check, and whether it is correct for the student's own key."""
    exs = list(exs) if exs is not None else exercises()
    out = []
    for i, sheet in enumerate(sheets):
        for q, raw in sheet.answers.items():
            variant = sheet.variants[q]
            exercise = exs[int(q[1:]) - 1]
            check = exercise.check_for(variant.params)
            text = answer_text(raw)
            parsed = check.parse(text)
            out.append(AnswerRecord(f"s{i:03d}", q, exercise.id, check, parsed, text, variant.key,
                                    answer_matches(check, parsed, variant.key)))
    return out
