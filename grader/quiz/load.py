"""Reading a quiz folder back for checking and grading.

Variants are rebuilt from the parameters recorded in `key/<id>/variant.json`, not
regenerated from the seed: grading does not need the secret, and a later upgrade of an
exercise's generator cannot change an old quiz's questions.  The key and the misconceptions'
answers are solved again from those parameters (an answer check's key is the solver's value,
which its TOML form cannot always be parsed back into: an expression key is text, a parsed
answer a syntax tree), and the recorded answer must still score full marks against the key,
so a changed reference is noticed instead of silently grading against another key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.answers.base import AnswerParseError
from grader.bank import Bank, BankError, load_bank
from grader.exercise import AnswerExercise
from grader.quiz.model import CodeItem, Question, StudentQuiz
from grader.quiz.roster import Student
from grader.quiz.spec import QuizSpec, SpecError, read_spec
from grader.variant import Variant, applicable_misconceptions


@dataclass(frozen=True)
class LoadedQuiz:
    path: Path
    spec: QuizSpec
    bank: Bank

    def student_ids(self) -> list[str]:
        return [s.id for s in self.spec.students]

    def student_quiz(self, student_id: str) -> StudentQuiz:
        """The student's questions and code items, from key/<id>/variant.json."""
        path = self.path / "key" / student_id / "variant.json"
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SpecError(f"{path}: missing (is {student_id!r} a student of this quiz?)") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise SpecError(f"{path}: unreadable ({error})") from None
        student = next((s for s in self.spec.students if s.id == student_id), Student(student_id))
        questions = tuple(self._question(record, path) for record in document.get("questions", []))
        code = tuple(
            CodeItem(self.bank.get(record["exercise"]), int(record["seed"]))
            for record in document.get("code", [])
        )
        return StudentQuiz(student, questions, code)

    def _question(self, record: dict[str, Any], path: Path) -> Question:
        try:
            qid, params = str(record["question"]), record["params"]
            exercise = self.bank.get(record["exercise"])
            recorded, generator_version, seed = record["answer"], int(record["generator_version"]), int(record["seed"])
        except (KeyError, TypeError, ValueError) as error:
            raise SpecError(f"{path}: a question record is malformed ({error!r})") from None
        if not isinstance(exercise, AnswerExercise):
            raise SpecError(f"{path}: {exercise.id} is not an answer exercise")
        try:
            check = exercise.check_for(params)
            key = exercise.solve(params)
            still_right = check.grade(check.parse(recorded), key).correct
        except AnswerParseError:
            still_right = False
        except Exception as error:  # an exercise's solver may fail in any way on bad parameters
            raise SpecError(f"{path}: cannot solve {qid} ({exercise.id}) again: {type(error).__name__}: {error}") from None
        if not still_right:
            raise SpecError(
                f"{path}: the key of {qid} ({exercise.id}) was {recorded!r} when the quiz was made but "
                f"is now {check.to_text(key)!r}: the exercise or the reference changed since; "
                f"run `grader fix-keys --quiz {self.path}` to record the new keys and regrade"
            )
        variant = Variant(
            exercise_id=exercise.id,
            generator_version=generator_version,
            seed=seed,
            params=params,
            key=key,
            misconceptions=applicable_misconceptions(exercise, params),
        )
        return Question(qid, exercise, variant)


def load_quiz(quiz_dir: Path, bank: Bank | None = None) -> LoadedQuiz:
    """Open a quiz folder written by `grader new-quiz`."""
    quiz_dir = Path(quiz_dir)
    spec = read_spec(quiz_dir)
    try:
        bank = bank or load_bank(spec.bank_dirs)
    except BankError as error:
        raise SpecError(f"{quiz_dir}: cannot load the quiz's bank: {error}") from None
    return LoadedQuiz(quiz_dir, spec, bank)
