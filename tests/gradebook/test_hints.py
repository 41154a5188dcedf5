"""A result keeps the misconception's sentence (`hint`) and the grader's diagnosis
(`feedback`) apart, from grading through the gradebook to the feedback page and the
Gradescope results; an older gradebook, which stored them joined, is split when opened."""

from __future__ import annotations

import html
import sqlite3
from pathlib import Path

from grader.answers import Matrix
from grader.exercise import AnswerExercise, Misconception
from grader.gradebook import store
from grader.gradebook.exports import gradescope_results
from grader.gradebook.feedback import feedback_page
from grader.gradebook.store import Gradebook, ItemInfo
from grader.grading import grade_answer
from grader.results import ItemResult
from grader.selftest import variant_for

SENTENCE = "You halved the off-diagonal."
EXERCISE = AnswerExercise(
    id="hint_matrix", title="A 2x2 matrix", section=1, generate=lambda rng: {"a": 1.0}, prompt="M?",
    solve=lambda p: [[1.0, 2.0], [3.0, 4.0]], check=Matrix(),
    misconceptions=(Misconception("halved", SENTENCE, lambda p: [[1.0, 1.0], [1.5, 4.0]]),),
)
ITEM = ItemInfo("s1", "q1", 0, "answer", "hint_matrix", "A 2x2 matrix", 1.0)


def _graded() -> ItemResult:
    return grade_answer(EXERCISE, variant_for(EXERCISE, {"a": 1.0}), [[1.0, 1.0], [1.5, 4.0]], item="q1")


def test_grading_keeps_the_sentence_out_of_the_diagnosis() -> None:
    result = _graded()
    assert result.misconception == "halved" and result.hint == SENTENCE
    assert SENTENCE not in result.feedback
    assert result.message.startswith(SENTENCE) and result.feedback in result.message
    plain = grade_answer(EXERCISE, variant_for(EXERCISE, {"a": 1.0}), [[1.0, 2.0], [3.0, 0.0]], item="q1")
    assert (plain.misconception, plain.hint, plain.message) == (None, "", plain.feedback)


def _book(path: Path, sentence: str = SENTENCE) -> Gradebook:
    book = Gradebook(path)
    book.set_quiz("quiz", "Quiz", "exam", "q")
    book.set_roster([("s1", "Ana", "")], [ITEM], [("hint_matrix", "halved", sentence)])
    return book


def test_the_page_shows_the_sentence_the_student_was_graded_with_once(tmp_path: Path) -> None:
    result = _graded()
    with _book(tmp_path / "g.sqlite") as book:
        book.record("s1", [result], status="graded", content_hash="h", key_hash="k", files=[], notes=[], duration=0.1)
        [row] = book.results("s1")
        assert (row.hint, row.feedback) == (SENTENCE, result.feedback)
        # the bank's sentence changes later: the page still says what the grading said
        book.set_roster([("s1", "Ana", "")], [ITEM], [("hint_matrix", "halved", "A reworded sentence.")])
        [row] = book.results("s1")
        page = feedback_page("Quiz", "s1", "Ana", [row], {"q1": ITEM}, book.submission("s1"))
    assert page.count(html.escape(SENTENCE)) == 1 and "A reworded sentence." not in page
    assert f'<b>Likely mistake:</b> {html.escape(SENTENCE)}' in page
    assert result.feedback and f'<p class="why">{html.escape(result.feedback)}</p>' in page
    output = gradescope_results([row], {"q1": ITEM}, 0.1)["tests"][0]["output"]
    assert SENTENCE in output and result.feedback in output


def test_an_older_gradebook_is_split_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(store._SCHEMA.replace("    hint TEXT NOT NULL DEFAULT '',\n", ""))
        db.execute("INSERT INTO meta VALUES ('schema', '2')")
        db.execute("INSERT INTO items VALUES ('s1', 'q1', 0, 'answer', 'hint_matrix', 'M', 1.0, '')")
        db.execute("INSERT INTO items VALUES ('s1', 'q2', 1, 'answer', 'hint_matrix', 'M', 1.0, '')")
        db.execute("INSERT INTO items VALUES ('s1', 'q3', 2, 'answer', 'hint_matrix', 'M', 1.0, '')")
        db.execute("INSERT INTO misconceptions VALUES ('hint_matrix', 'halved', ?)", (SENTENCE,))
        joined = f"{SENTENCE} (2 of 4 entries differ (the off-diagonal))"
        rows = [("q1", "halved", joined), ("q2", "halved", SENTENCE), ("q3", None, "3 of 4 entries agree")]
        for item, tag, feedback in rows:
            db.execute("INSERT INTO results VALUES ('s1', ?, 0, 1, 'incorrect', ?, ?, '', '', 0, '[]', NULL)",
                       (item, tag, feedback))
    with Gradebook(path) as book:
        assert book.meta("schema") == store.SCHEMA_VERSION == "3"
        got = {r.item: (r.hint, r.feedback) for r in book.results("s1")}
    assert got == {
        "q1": (SENTENCE, "2 of 4 entries differ (the off-diagonal)"),
        "q2": (SENTENCE, ""),
        "q3": ("", "3 of 4 entries agree"),
    }
