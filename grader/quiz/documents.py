"""The JSON files of a quiz folder: `key/<id>/variant.json` (everything about a student's
variants) and `students/<id>/quiz.json` (what `grader check` needs, and no key).

They are written by `json_text`: readable (one key per line for the outer levels, each
question's parameters on one line) and fast (the C encoder for every leaf value), the same
bytes on every run.
"""

from __future__ import annotations

import json
from typing import Any

from grader.quiz.model import CodeItem, StudentQuiz, variant_record
from grader.quiz.public_check import describe_check
from grader.quiz.spec import QuizSpec

_LEAF = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "), allow_nan=True)
_EXPANDED_LEVELS = 3


def json_text(value: Any, level: int = 0) -> str:
    """`value` as JSON text ending in a newline; objects (and arrays of objects) of the first
    levels are spread over lines with a two-space indent, deeper values stay on one line."""
    return _json(value, level) + "\n"


def _json(value: Any, level: int) -> str:
    expand = level < _EXPANDED_LEVELS and (
        (isinstance(value, dict) and value)
        or (isinstance(value, list) and value and all(isinstance(v, dict) for v in value))
    )
    if not expand:
        return _LEAF.encode(value)
    inner = "  " * (level + 1)
    if isinstance(value, dict):
        items = [f"{inner}{_LEAF.encode(str(k))}: {_json(v, level + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + "  " * level + "}"
    items = [f"{inner}{_json(v, level + 1)}" for v in value]
    return "[\n" + ",\n".join(items) + "\n" + "  " * level + "]"


def code_record(item: CodeItem) -> dict[str, Any]:
    """One code function's entry in variant.json (its hidden tests come from `seed`)."""
    return {
        "function": item.function,
        "exercise": item.exercise.id,
        "points": item.points,
        "generator_version": item.exercise.generator_version,
        "seed": str(item.seed),
        "hidden_tests": item.exercise.hidden_test_count,  # type: ignore[attr-defined]
    }


def variant_document(spec: QuizSpec, quiz: StudentQuiz) -> dict[str, Any]:
    """key/<id>/variant.json: every question's parameters, answer, misconceptions' answers
    and generator version, and every code function's seed."""
    return {
        "quiz_id": spec.quiz_id,
        "student": {"id": quiz.student.id, "name": quiz.student.name, "email": quiz.student.email},
        "questions": [variant_record(q) for q in quiz.questions],
        "code": [code_record(c) for c in quiz.code],
    }


def public_document(spec: QuizSpec, quiz: StudentQuiz) -> dict[str, Any]:
    """students/<id>/quiz.json: question ids, points, formats and key-free checks."""
    return {
        "quiz_id": spec.quiz_id,
        "title": spec.title,
        "mode": spec.mode,
        "student": quiz.student.id,
        "questions": [
            {
                "question": q.qid,
                "points": q.points,
                "format": q.check.describe(q.variant.key),
                "check": describe_check(q.check, q.variant.key),
            }
            for q in quiz.questions
        ],
        "code": [{"function": c.function, "points": c.points} for c in quiz.code],
    }
