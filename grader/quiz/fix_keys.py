"""Fixing the keys of an existing quiz after a wrong key or a buggy exercise was corrected
in the bank: every question whose recorded key no longer scores full marks against the
exercise's solver, or whose exercise's generator version changed, gets its key, its
misconceptions' answers and its generator version re-recorded in `key/<id>/variant.json`
(and the filled `key/<id>/answers.toml`). The student's parameters are kept: they are
the questions the student saw.

The next `grader grade` regrades exactly the students whose variant.json changed (their
key hash changed); the gradebook and its overrides are kept.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.answers.base import AnswerParseError
from grader.bank import BankError, load_bank
from grader.exercise import AnswerExercise
from grader.quiz.answer_sheet import key_sheet
from grader.quiz.documents import json_text
from grader.quiz.load import LoadedQuiz
from grader.quiz.model import Question, StudentQuiz
from grader.quiz.roster import Student
from grader.quiz.spec import SpecError, read_spec
from grader.variant import Variant, applicable_misconceptions


@dataclass(frozen=True)
class KeyFix:
    """One question whose key record changed."""

    student: str
    item: str
    exercise: str
    old_answer: Any
    new_answer: Any
    old_generator: int
    new_generator: int

    def describe(self) -> str:
        text = f"{self.exercise}: key {json.dumps(self.old_answer)} -> {json.dumps(self.new_answer)}"
        if self.old_generator != self.new_generator:
            text += f"; generator version {self.old_generator} -> {self.new_generator}"
        return text


def _replace(path: Path, text: str) -> None:
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    os.replace(temp, path)


def fix_keys(quiz_dir: Path, *, dry_run: bool = False) -> list[KeyFix]:
    """Re-record the changed keys of every student of the quiz; returns what changed
    (nothing is written with `dry_run`)."""
    quiz_dir = Path(quiz_dir)
    spec = read_spec(quiz_dir)
    try:
        bank = load_bank(spec.bank_dirs)
    except BankError as error:
        raise SpecError(f"{quiz_dir}: cannot load the quiz's bank: {error}") from None
    fixes: list[KeyFix] = []
    for student in spec.students:
        path = quiz_dir / "key" / student.id / "variant.json"
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise SpecError(f"{path}: unreadable ({error})") from None
        questions, changed = [], []
        for record in document.get("questions", []):
            question, fix = _refreshed(bank.get(record["exercise"]), record, student.id, path)
            questions.append(question)
            if fix is not None:
                changed.append(fix)
                record.update(_record_of(question))
        if changed and not dry_run:
            _replace(path, json_text(document))
            code = LoadedQuiz(quiz_dir, spec, bank).student_quiz(student.id).code
            quiz = StudentQuiz(Student(student.id, student.name, student.email), tuple(questions), code)
            _replace(path.parent / "answers.toml", key_sheet(spec.title, spec.quiz_id, quiz))
        fixes += changed
    return fixes


def _record_of(question: Question) -> dict[str, Any]:
    return question.variant.to_json(question.check)


def _refreshed(exercise: Any, record: dict[str, Any], student: str, path: Path) -> tuple[Question, KeyFix | None]:
    if not isinstance(exercise, AnswerExercise):
        raise SpecError(f"{path}: {record.get('exercise')} is not an answer exercise")
    qid, params, recorded = str(record["question"]), record["params"], record["answer"]
    old_generator = int(record["generator_version"])
    try:
        check = exercise.check_for(params)
        key = exercise.solve(params)
    except Exception as error:  # an exercise's solver may fail in any way on bad parameters
        raise SpecError(f"{path}: cannot solve {qid} ({exercise.id}) again: {type(error).__name__}: {error}") from None
    try:
        still_right = check.grade(check.parse(recorded), key).correct
    except AnswerParseError:
        still_right = False
    variant = Variant(
        exercise_id=exercise.id, generator_version=exercise.generator_version, seed=int(record["seed"]),
        params=params, key=key, misconceptions=applicable_misconceptions(exercise, params),
    )
    question = Question(qid, exercise, variant)
    if still_right and old_generator == exercise.generator_version:
        return Question(qid, exercise, Variant(
            exercise_id=exercise.id, generator_version=old_generator, seed=int(record["seed"]),
            params=params, key=key, misconceptions=applicable_misconceptions(exercise, params),
        )), None
    new_answer = _record_of(question)["answer"]
    return question, KeyFix(student, qid, exercise.id, recorded, new_answer, old_generator, exercise.generator_version)
