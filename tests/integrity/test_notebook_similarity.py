"""A copy handed in as exercise.ipynb is compared as the code `grade` ran (the notebook's
code cells), not as the notebook's JSON, in which no function is found."""

from __future__ import annotations

import csv
from pathlib import Path

import nbformat
from nbformat import v4

from grader.code.stubs import SOLUTION_PATH
from grader.gradebook.runner import grade_batch
from grader.quiz.create import new_quiz
from grader.quiz.roster import Student
from grader.quiz.spec import QuizSpec

from .answer_classes import EXERCISES

SOLUTION = SOLUTION_PATH.read_text(encoding="utf-8")


def _as_notebook(source: str) -> str:
    cells = [v4.new_code_cell(block) for block in source.split("\n\n\n") if block.strip()]
    return nbformat.writes(v4.new_notebook(cells=cells))


def _code_pairs(out: Path) -> set[tuple[str, str]]:
    with (out / "similarity.csv").open(encoding="utf-8", newline="") as handle:
        return {(row["student_a"], row["student_b"]) for row in csv.DictReader(handle) if row["kind"] != "answers"}


def test_a_copy_handed_in_as_a_notebook_is_found(tmp_path: Path) -> None:
    quiz, subs = tmp_path / "quiz", tmp_path / "subs"
    students = tuple(Student(f"s{i:02d}", f"Student {i}") for i in range(3))
    new_quiz(quiz, QuizSpec(students=students, exercises=EXERCISES[:1] + ("code_relu_backward",), title="Notebook"))
    for student in students:
        (subs / student.id).mkdir(parents=True)
    (subs / "s00" / "exercise.py").write_text(SOLUTION, encoding="utf-8")
    (subs / "s01" / "exercise.ipynb").write_text(_as_notebook(SOLUTION), encoding="utf-8")  # the same code
    (subs / "s02" / "exercise.py").write_text("import torch\n", encoding="utf-8")
    summary = grade_batch(subs, quiz, out=tmp_path / "out", jobs=1)
    assert summary.complete and sorted(summary.graded) == ["s00", "s01", "s02"]
    pairs = _code_pairs(tmp_path / "out")
    assert ("s00", "s01") in pairs and ("s01", "solution") in pairs
