"""An instructor-written code exercise in a `--bank` folder, with its solution and reference
kept there, works end to end: list, preview, new-quiz, grade (README's worked example)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main

MSE_BANK = '''
import torch
from grader.code.exercise import CodeExercise, CodeMisconception, TestCase


def mse_reference(pred, target):
    """Mean squared error: mean((pred - target)^2)."""
    return ((pred - target) ** 2).mean()


def hidden_tests(rng):
    tests = []
    for i, shape in enumerate([(1,), (3, 4), (2, 3, 5)]):
        pred = torch.tensor(rng.standard_normal(shape), dtype=torch.float64)
        target = torch.tensor(rng.standard_normal(shape), dtype=torch.float64)
        tests.append(TestCase(f"random_{i}", (pred, target), hidden=True))
    return tests


EXERCISES = [
    CodeExercise(
        id="course_mse", title="Mean squared error loss", section=1, function="mse",
        signature="def mse(pred, target):",
        docstring="The mean over all elements of (pred - target)^2, as a 0-d tensor. Not allowed: F.mse_loss.",
        reference=mse_reference,
        public_tests=(TestCase("two_values", (torch.tensor([1.0, 2.0], dtype=torch.float64),
                                              torch.tensor([0.0, 0.0], dtype=torch.float64))),),
        hidden_tests=hidden_tests,
        forbidden=("torch.nn.functional.mse_loss",),
        misconceptions=(CodeMisconception("summed", "A mean, not a sum, over the elements.",
                                          lambda pred, target: ((pred - target) ** 2).sum()),),
    )
]
'''

MSE_SOLUTION = '''"""The course's own solutions."""

import torch


def mse(pred, target):
    return ((pred - target) ** 2).mean()
'''


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("course_bank")
    (folder / "losses.py").write_text(MSE_BANK, encoding="utf-8")
    (folder / "solutions").mkdir()
    (folder / "solutions" / "exercise.py").write_text(MSE_SOLUTION, encoding="utf-8")
    return folder


def cli(*args: object) -> object:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_list_and_preview_show_the_bank_exercise_with_its_own_solution(bank: Path) -> None:
    listed = json.loads(cli("list", "--json", "--bank", bank).output)
    assert {"id": "course_mse", "kind": "code"}.items() <= next(r for r in listed if r["id"] == "course_mse").items()
    preview = cli("preview", "course_mse", "--bank", bank)
    assert preview.exit_code == 0, preview.output
    assert "def mse(pred, target)" in preview.output and "** 2).mean()" in preview.output


def test_new_quiz_and_grade_end_to_end(tmp_path: Path, bank: Path) -> None:
    quiz = tmp_path / "quiz"
    made = cli("new-quiz", "--out", quiz, "--students", "s1,s2", "--exercises", "course_mse", "--bank", bank)
    assert made.exit_code == 0, made.output
    key = (quiz / "key" / "s1" / "exercise.py").read_text(encoding="utf-8")
    assert "def mse(pred, target):\n    return ((pred - target) ** 2).mean()" in key
    assert "raise NotImplementedError" in (quiz / "students" / "s1" / "exercise.py").read_text(encoding="utf-8")

    subs = tmp_path / "subs"
    (subs / "s1").mkdir(parents=True)
    (subs / "s2").mkdir(parents=True)
    (subs / "s1" / "exercise.py").write_text(key, encoding="utf-8")
    (subs / "s2" / "exercise.py").write_text(key.replace(".mean()", ".sum()"), encoding="utf-8")
    graded = cli("grade", subs, "--quiz", quiz, "--out", tmp_path / "out", "--jobs", "1")
    assert graded.exit_code == 0, graded.output
    with (tmp_path / "out" / "grades.csv").open(encoding="utf-8", newline="") as handle:
        rows = {r["student"]: r for r in csv.DictReader(handle)}
    assert (rows["s1"]["item"], rows["s1"]["status"], rows["s1"]["score"]) == ("mse", "correct", "1")
    # a one-element test cannot tell a sum from a mean: partial credit, the mistake named
    assert (rows["s2"]["status"], rows["s2"]["misconception"]) == ("partial", "summed")
    assert 0 < float(rows["s2"]["score"]) < 1


def test_a_bank_without_the_solution_says_which_function_is_missing(tmp_path: Path, bank: Path) -> None:
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    (lonely / "losses.py").write_text(MSE_BANK, encoding="utf-8")
    made = cli("new-quiz", "--out", tmp_path / "q", "--students", "s1", "--exercises", "course_mse", "--bank", lonely)
    assert made.exit_code == 2 and "does not define mse" in made.output
