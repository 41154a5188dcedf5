"""Shared fixtures of the gradebook tests: a small answer-only bank of our own (so the tests
do not depend on the built-in bank's contents), quiz folders made with `new_quiz`, and
helpers to write submissions from a quiz's keys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from grader.quiz.create import new_quiz
from grader.quiz.roster import Student
from grader.quiz.spec import QuizSpec

MINI_BANK = '''
from grader.answers import Integer
from grader.exercise import AnswerExercise, Misconception

EXERCISES = [
    AnswerExercise(
        id="gb_double", title="Double a number", section=1,
        generate=lambda rng: {"n": int(rng.integers(3, 60))},
        prompt="What is $2 \\\\times {{ n }}$?",
        solve=lambda p: 2 * p["n"], check=Integer(),
        misconceptions=(Misconception("squared", "Doubling is not squaring.", lambda p: p["n"] ** 2),),
    ),
    AnswerExercise(
        id="gb_conv", title="Conv output size", section=4, points=2,
        generate=lambda rng: {"n": int(rng.integers(8, 40)), "k": int(rng.choice([3, 5, 7]))},
        prompt="Output width of a {{ k }}x{{ k }} convolution, stride 1, no padding, on width {{ n }}?",
        solve=lambda p: p["n"] - p["k"] + 1, check=Integer(),
        misconceptions=(Misconception("forgot_plus_one", "The output size is n - k + 1: you forgot the +1.", lambda p: p["n"] - p["k"]),),
    ),
    AnswerExercise(
        id="gb_params", title="Parameters of a linear layer", section=2,
        generate=lambda rng: {"i": int(rng.integers(2, 30)), "o": int(rng.integers(2, 30))},
        prompt="How many parameters has a linear layer from {{ i }} to {{ o }} features, with bias?",
        solve=lambda p: p["i"] * p["o"] + p["o"], check=Integer(),
        misconceptions=(Misconception("no_bias", "A linear layer also has one bias per output.", lambda p: p["i"] * p["o"]),),
    ),
]
'''

# A code exercise of our own, on a contract function (so the key comes from
# solutions/exercise.py): diffusion_loss, the mean squared error.
CODE_BANK = '''
import torch
from grader.code.exercise import CodeExercise, CodeMisconception, TestCase


def _mse(eps_pred, eps):
    return ((eps_pred - eps) ** 2).mean()


def _hidden(rng):
    tests = []
    for i in range(3):
        shape = (int(rng.integers(1, 4)), int(rng.integers(2, 5)))
        a = torch.tensor(rng.standard_normal(shape), dtype=torch.float64)
        b = torch.tensor(rng.standard_normal(shape), dtype=torch.float64)
        tests.append(TestCase(f"random_{i}", (a, b), hidden=True))
    return tests


EXERCISES = [
    CodeExercise(
        id="gb_mse", title="Mean squared error", section=12, function="diffusion_loss",
        signature="def diffusion_loss(eps_pred, eps):",
        docstring="The mean squared error between eps_pred and eps, as a 0-d tensor.",
        reference=_mse,
        public_tests=(TestCase("small", (torch.tensor([1.0, 2.0], dtype=torch.float64),
                                         torch.tensor([0.0, 0.5], dtype=torch.float64))),),
        hidden_tests=_hidden,
        misconceptions=(CodeMisconception("sum_not_mean", "The loss is a mean over the elements, not a sum.",
                                          lambda a, b: ((a - b) ** 2).sum()),),
    )
]
'''

STUDENTS = (
    Student("s1", "Ada Lovelace", "ada@example.org"),
    Student("s2", "Alan Turing", "alan@example.org"),
    Student("s3", "Grace Hopper", "grace@example.org"),
    Student("s4", "Edsger Dijkstra", "edsger@example.org"),
)


@pytest.fixture(scope="session")
def mini_bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bank")
    (folder / "gb_mini.py").write_text(MINI_BANK, encoding="utf-8")
    (folder / "gb_code.py").write_text(CODE_BANK, encoding="utf-8")
    return folder


def make_quiz(out: Path, bank: Path, students: tuple[Student, ...] = STUDENTS, **spec: Any) -> Path:
    """A quiz folder of the mini bank's three answer exercises (q1 double: 1 point, q2 conv:
    2 points, q3 params: 1 point) unless `spec` says otherwise."""
    spec.setdefault("exercises", ("gb_double", "gb_conv", "gb_params"))
    spec.setdefault("title", "Gradebook test quiz")
    new_quiz(out, QuizSpec(students=students, bank_dirs=(str(bank),), **spec))
    return out


@pytest.fixture
def bank(tmp_path: Path) -> Path:
    """A private copy of the mini bank (answer exercises only), for tests that edit it."""
    folder = tmp_path / "bank"
    folder.mkdir()
    (folder / "gb_mini.py").write_text(MINI_BANK, encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def shared_quiz(tmp_path_factory: pytest.TempPathFactory, mini_bank: Path) -> Path:
    """One quiz for the tests that only read it (grading output goes elsewhere)."""
    return make_quiz(tmp_path_factory.mktemp("quizzes") / "quiz", mini_bank)


def variant(quiz: Path, student: str) -> dict[str, Any]:
    return json.loads((quiz / "key" / student / "variant.json").read_text(encoding="utf-8"))


def key_answers(quiz: Path, student: str) -> dict[str, Any]:
    """{qid: correct answer as written in answers.toml}."""
    return {q["question"]: q["answer"] for q in variant(quiz, student)["questions"]}


def misconception_answers(quiz: Path, student: str) -> dict[str, tuple[str, Any]]:
    """{qid: (tag, answer)} of each question's first misconception."""
    out = {}
    for q in variant(quiz, student)["questions"]:
        tag, answer = next(iter(q["misconceptions"].items()))
        out[q["question"]] = (tag, answer)
    return out


def write_answers(folder: Path, answers: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "answers.toml"
    path.write_text("".join(f"{k} = {json.dumps(v)}\n" for k, v in answers.items()), encoding="utf-8")
    return path


def key_submission_with_code(tmp_path: Path, bank: Path) -> tuple[Path, Path]:
    """A quiz with an answer and a code item (gb_double, gb_mse) and a submissions folder in
    which s1 hands in the key for both: (quiz, submissions)."""
    quiz = make_quiz(tmp_path / "quiz", bank, exercises=("gb_double", "gb_mse"))
    subs = tmp_path / "subs"
    write_answers(subs / "s1", key_answers(quiz, "s1"))
    (subs / "s1" / "exercise.py").write_text((quiz / "key" / "s1" / "exercise.py").read_text(encoding="utf-8"),
                                             encoding="utf-8")
    return quiz, subs
