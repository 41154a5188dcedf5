"""Building quizzes: choose the exercises, then make each student's variants.

Selection with `count` is sampled once per quiz from the secret, so every student gets the
same exercises (with different variants) unless `shuffle_exercises` is set, in which case
each student gets their own sample in their own order.  `count` applies to all the matching
exercises, answer and code alike; without it the quiz holds every one of them.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from grader.bank import Bank, BankError
from grader.exercise import AnswerExercise, Exercise
from grader.quiz.model import CodeItem, Question, StudentQuiz
from grader.quiz.roster import Student
from grader.quiz.spec import QuizSpec
from grader.seeding import variant_seed
from grader.variant import make_variant


def candidate_exercises(bank: Bank, spec: QuizSpec) -> list[Exercise]:
    """The exercises matching the spec's topics, ids and kind, in bank order."""
    return bank.select(topics=spec.topics, exercise_ids=spec.exercises, kind=spec.kind)


def _without_giveaways(exercises: list[Exercise]) -> list[Exercise]:
    """The exercises minus those another one of them gives away (`Exercise.excludes`)."""
    given_away = {other for e in exercises for other in e.excludes}
    return [e for e in exercises if e.id not in given_away]


def _sample(exercises: list[Exercise], count: int, rng: np.random.Generator, shuffle: bool) -> list[Exercise]:
    """`count` of the exercises (all of them when `count` is 0), in bank order unless
    shuffled; never two that give each other away (`Exercise.excludes`)."""
    if not count:
        pool = _without_giveaways(exercises)
    else:
        if count > len(exercises):
            raise BankError(
                f"--count {count} is more than the {len(exercises)} exercises that match the selection"
            )
        picked: list[Exercise] = []
        for i in rng.permutation(len(exercises)).tolist():
            candidate = exercises[i]
            clash = any(candidate.id in e.excludes or e.id in candidate.excludes for e in picked)
            if not clash:
                picked.append(candidate)
            if len(picked) == count:
                break
        if len(picked) < count:
            raise BankError(
                f"--count {count} is more than the {len(picked)} exercises of the selection that can share "
                "a quiz (some give others' answers away; see `excludes` in their declarations)"
            )
        order = {e.id: i for i, e in enumerate(exercises)}
        pool = sorted(picked, key=lambda e: order[e.id])
    if shuffle:
        pool = [pool[i] for i in rng.permutation(len(pool))]
    return pool


def select_for_quiz(bank: Bank, spec: QuizSpec, secret: bytes) -> list[Exercise]:
    """The quiz-wide selection (the same for every student)."""
    rng = np.random.default_rng(variant_seed(secret, spec.quiz_id, "", "selection", 1))
    return _sample(candidate_exercises(bank, spec), spec.count, rng, shuffle=False)


def select_for_student(bank: Bank, spec: QuizSpec, secret: bytes, student: Student) -> list[Exercise]:
    if not spec.shuffle_exercises:
        return [bank.get(i) for i in spec.selected]
    rng = np.random.default_rng(variant_seed(secret, spec.quiz_id, student.id, "selection", 1))
    return _sample(candidate_exercises(bank, spec), spec.count, rng, shuffle=True)


def build_student_quiz(
    exercises: Iterable[Exercise], spec: QuizSpec, secret: bytes, student: Student
) -> StudentQuiz:
    questions: list[Question] = []
    code: list[CodeItem] = []
    for exercise in exercises:
        seed = variant_seed(secret, spec.quiz_id, student.id, exercise.id, exercise.generator_version)
        if isinstance(exercise, AnswerExercise):
            qid = f"q{len(questions) + 1}"
            questions.append(Question(qid, exercise, make_variant(exercise, seed)))
        elif exercise.kind == "code":
            code.append(CodeItem(exercise, seed))
        else:
            raise BankError(f"{exercise.id}: unknown exercise kind {exercise.kind!r}")
    return StudentQuiz(student, tuple(questions), tuple(code))
