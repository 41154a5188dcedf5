"""Loading the bank: built-in modules plus an instructor's --bank folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.bank import BankError, load_bank, resolve_topic
from grader.exercise import AnswerExercise, DeclarationError, Misconception
from grader.grading import grade_answer
from grader.prompts import latex_matrix, num, render_prompt
from grader.variant import make_variant

CUSTOM_BANK = '''
from grader.answers import Integer
from grader.exercise import AnswerExercise, Misconception

EXERCISES = [
    AnswerExercise(
        id="custom_double",
        title="Double a number",
        section=1,
        generate=lambda rng: {"n": int(rng.integers(2, 50))},
        prompt="What is $2 \\\\times {{ n }}$?",
        solve=lambda p: 2 * p["n"],
        check=Integer(),
        misconceptions=(Misconception("squared", "Doubling is not squaring.", lambda p: p["n"] ** 2),),
    )
]
'''


def test_custom_bank_folder_adds_its_exercises(tmp_path: Path) -> None:
    (tmp_path / "mine.py").write_text(CUSTOM_BANK)
    bank = load_bank([tmp_path], builtin=False)
    exercise = bank.get("custom_double")
    variant = make_variant(exercise, 3)
    n = variant.params["n"]
    assert render_prompt(exercise, variant) == f"What is $2 \\times {n}$?"
    assert grade_answer(exercise, variant, 2 * n).status == "correct"
    squared = grade_answer(exercise, variant, n * n)
    assert (squared.status, squared.misconception) == ("incorrect", "squared")


def test_broken_bank_file_is_named_in_the_error(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("EXERCISES = [\n")
    with pytest.raises(BankError, match="broken.py"):
        load_bank([tmp_path], builtin=False)


def test_bank_file_without_exercises_list_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty.py").write_text("X = 1\n")
    with pytest.raises(BankError, match="empty.py.*EXERCISES"):
        load_bank([tmp_path], builtin=False)


def test_duplicate_ids_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(CUSTOM_BANK)
    (tmp_path / "b.py").write_text(CUSTOM_BANK)
    with pytest.raises(BankError, match="duplicate exercise id 'custom_double'"):
        load_bank([tmp_path], builtin=False)


def test_missing_bank_folder(tmp_path: Path) -> None:
    with pytest.raises(BankError, match="does not exist"):
        load_bank([tmp_path / "nope"], builtin=False)


def test_selection_by_topic_number_and_unknown_names(tmp_path: Path) -> None:
    (tmp_path / "mine.py").write_text(CUSTOM_BANK)
    bank = load_bank([tmp_path], builtin=False)
    assert [e.id for e in bank.select(topics=["1"])] == ["custom_double"]
    assert resolve_topic("4") == "cnn"
    with pytest.raises(BankError, match="unknown topic"):
        bank.select(topics=["quantum"])
    with pytest.raises(BankError, match="unknown exercise id"):
        bank.select(exercise_ids=["nope"])
    with pytest.raises(BankError, match="empty"):
        bank.select(topics=["cnn"])


def test_declarations_validate_their_fields() -> None:
    with pytest.raises(DeclarationError, match="section"):
        AnswerExercise(id="x_y", title="t", section=13, generate=dict, prompt="", solve=len, check=None)  # type: ignore[arg-type]
    with pytest.raises(DeclarationError, match="id"):
        AnswerExercise(id="Bad Id", title="t", section=1, generate=dict, prompt="", solve=len, check=None)  # type: ignore[arg-type]
    with pytest.raises(DeclarationError, match="feedback"):
        Misconception("tag", " ", len)


def test_prompt_filters() -> None:
    assert num(0.123456) == "0.1235" and num(3) == "3" and num(2.0) == "2"
    assert latex_matrix([[1, 2], [3, 4.5]]) == r"\begin{bmatrix} 1 & 2 \\ 3 & 4.5 \end{bmatrix}"
