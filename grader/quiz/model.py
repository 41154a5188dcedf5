"""A student's quiz in memory: the answer questions (each with its variant) and the code
functions (each with its hidden-test seed)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from grader.answers.base import AnswerCheck
from grader.exercise import AnswerExercise, Exercise
from grader.quiz.roster import Student
from grader.variant import Variant


@dataclass(frozen=True)
class Question:
    """Answer question `qid` (q1, q2, ...) of one student's quiz."""

    qid: str
    exercise: AnswerExercise
    variant: Variant

    @cached_property
    def check(self) -> AnswerCheck:
        """The variant's answer check (built once: choice checks are built from the
        shuffled options)."""
        return self.exercise.check_for(self.variant.params)

    @property
    def points(self) -> float:
        return self.exercise.points


@dataclass(frozen=True)
class CodeItem:
    """A function of the student's exercise.py, graded by hidden tests drawn from `seed`."""

    exercise: Exercise
    seed: int

    @property
    def function(self) -> str:
        return getattr(self.exercise, "function")

    @property
    def points(self) -> float:
        return self.exercise.points


@dataclass(frozen=True)
class StudentQuiz:
    student: Student
    questions: tuple[Question, ...]
    code: tuple[CodeItem, ...]

    @property
    def total_points(self) -> float:
        return sum(q.points for q in self.questions) + sum(c.points for c in self.code)

    def item_names(self) -> list[str]:
        return [q.qid for q in self.questions] + [c.function for c in self.code]


def variant_record(question: Question) -> dict[str, Any]:
    """One question's entry in key/<id>/variant.json."""
    check = question.check
    return {
        "question": question.qid,
        "title": question.exercise.title,
        "points": question.points,
        "answer_kind": check.kind,
        "format": check.describe(question.variant.key),
        **question.variant.to_json(check),
    }
