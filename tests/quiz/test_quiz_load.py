"""Reading a quiz folder back: every exercise of the real bank survives the trip through
variant.json (parameters as JSON, key solved again), and a changed key is noticed."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from grader.api import create_quiz
from grader.grading import grade_answer
from grader.quiz.load import load_quiz
from grader.quiz.spec import SpecError

from .conftest import FIXTURE_BANK, FIXTURE_IDS


def test_every_bank_exercise_round_trips_and_its_key_scores_full_marks(tmp_path: Path) -> None:
    create_quiz(tmp_path / "quiz", title="Round trip", student_ids=["ana"], kind="answer")
    loaded = load_quiz(tmp_path / "quiz")
    for student in ("ana",):
        quiz = loaded.student_quiz(student)
        key_sheet = tomllib.loads((tmp_path / "quiz/key" / student / "answers.toml").read_text())
        recorded = json.loads((tmp_path / "quiz/key" / student / "variant.json").read_text())["questions"]
        assert [q.qid for q in quiz.questions] == [r["question"] for r in recorded] == list(key_sheet)
        for question, record in zip(quiz.questions, recorded):
            result = grade_answer(question.exercise, question.variant, key_sheet[question.qid])
            assert result.status == "correct", (question.exercise.id, result.feedback)
            assert set(question.variant.misconceptions) == set(record["misconceptions"]), question.exercise.id
            for tag, answer in record["misconceptions"].items():
                graded = grade_answer(question.exercise, question.variant, answer)
                assert graded.misconception == tag and graded.status != "correct", (question.exercise.id, tag)


def test_a_key_that_changed_since_the_quiz_was_made_is_an_error(tmp_path: Path, fixture_bank_only: Path) -> None:
    create_quiz(tmp_path / "quiz", student_ids=["ana"], exercise_ids=FIXTURE_IDS, bank_dirs=[FIXTURE_BANK])
    path = tmp_path / "quiz/key/ana/variant.json"
    document = json.loads(path.read_text())
    document["questions"][0]["answer"] += 1  # as if the reference now computed another size
    path.write_text(json.dumps(document))
    with pytest.raises(SpecError, match=r"the key of q1 \(qfix_conv_size\) was \d+ when the quiz was made but is now '\d+'"):
        load_quiz(tmp_path / "quiz").student_quiz("ana")
    document["questions"][0]["params"] = {"n": "wide"}
    path.write_text(json.dumps(document))
    with pytest.raises(SpecError, match=r"cannot solve q1 \(qfix_conv_size\) again: KeyError"):
        load_quiz(tmp_path / "quiz").student_quiz("ana")
