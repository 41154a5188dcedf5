"""Red team 4: the similarity step runs after grading (`after_grading`), its fingerprints
in a background thread and worker processes. Whatever goes wrong there costs a warning;
the run completes and the grades are those of the code's own tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.code.stubs import SOLUTION_PATH
from grader.gradebook.reporting import SilentReporter
from grader.gradebook.runner import grade_batch
from grader.gradebook.store import GRADEBOOK_FILE, Gradebook
from grader.integrity import collect
from grader.quiz.create import new_quiz
from grader.quiz.roster import Student
from grader.quiz.spec import QuizSpec

from .answer_classes import EXERCISES


class Warnings(SilentReporter):
    def __init__(self) -> None:
        self.messages: list[str] = []

    def warn(self, message: str) -> None:
        self.messages.append(message)


def test_a_failing_fingerprint_step_costs_a_warning_not_the_grades(tmp_path: Path, monkeypatch) -> None:
    quiz, subs, out = tmp_path / "quiz", tmp_path / "subs", tmp_path / "out"
    students = (Student("s01", "One"), Student("s02", "Two"))
    new_quiz(quiz, QuizSpec(students=students, exercises=EXERCISES[:2] + ("code_relu_backward",), title="Similarity failure"))
    for student in students:
        (subs / student.id).mkdir(parents=True)
        (subs / student.id / "exercise.py").write_text(SOLUTION_PATH.read_text(encoding="utf-8"), encoding="utf-8")

    def broken(*args, **kwargs):
        raise RuntimeError("a fingerprint worker died")

    monkeypatch.setattr(collect, "fingerprint_many", broken)
    reporter = Warnings()
    summary = grade_batch(subs, quiz, out=out, jobs=1, progress=reporter)
    assert (summary.failed, summary.not_graded, summary.interrupted) == ([], [], False)  # complete, said with why not
    assert summary.complete and sorted(summary.graded) == ["s01", "s02"]
    assert any("similarity analysis skipped" in m and "a fingerprint worker died" in m for m in reporter.messages)
    assert not (out / "similarity.csv").exists()
    code = [r for r in Gradebook(out / GRADEBOOK_FILE).results() if r.tests]
    assert code and {r.student for r in code} == {"s01", "s02"}
    assert all(r.status == "correct" and r.score == pytest.approx(r.max_score) for r in code)  # the solution
