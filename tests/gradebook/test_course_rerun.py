"""Regrading an existing quiz (issue 13 §1): a key fixed in the bank is recorded with
`fix-keys` and regrades only the students concerned; an interrupted `grade --force`
resumes; a schema-1 gradebook is migrated."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from grader.gradebook.course import audit_trail, override, record_key_fixes
from grader.gradebook.reporting import SilentReporter
from grader.gradebook.runner import BatchError, grade_batch
from grader.gradebook.store import Gradebook, GradebookError

from grader.quiz.roster import Student

from .conftest import MINI_BANK, STUDENTS, key_answers, make_quiz, variant, write_answers


def test_a_fixed_key_is_recorded_and_regrades_only_the_students_it_concerns(tmp_path: Path, bank: Path, monkeypatch) -> None:
    monkeypatch.setenv("GRADER_AUTHOR", "lead")
    students = tuple(Student(f"f{i}") for i in range(8))
    quiz = make_quiz(tmp_path / "quiz", bank, students)
    subs = tmp_path / "subs"
    for s in students:
        write_answers(subs / s.id, key_answers(quiz, s.id))
    out = tmp_path / "out"
    grade_batch(subs, quiz, out=out, jobs=1)
    override(quiz, "f0", "q3", 0.0, "kept through the fix", out)
    # The "fixed" reference: the key of gb_double changes for odd n only
    odd = {s.id for s in students if variant(quiz, s.id)["questions"][0]["params"]["n"] % 2}
    assert odd and odd != {s.id for s in students}, "the seeds should give both parities"
    fixed = MINI_BANK.replace('solve=lambda p: 2 * p["n"], check=Integer(),',
                              'solve=lambda p: 2 * p["n"] + p["n"] % 2, check=Integer(),')
    assert fixed != MINI_BANK
    (bank / "gb_mini.py").write_text(fixed, encoding="utf-8")

    with pytest.raises(BatchError, match="grader fix-keys"):
        grade_batch(subs, quiz, out=out, jobs=1)
    assert set(record_key_fixes(quiz, "", out, dry_run=True).changed) == odd
    change = record_key_fixes(quiz, "gb_double's key was wrong for odd n", out)
    assert {f.student for f in change.fixes} == odd
    assert all(f.new_answer == f.old_answer + 1 for f in change.fixes)
    trail = [a for a in audit_trail(quiz, out) if a.kind == "key-fix"]
    assert {a.student for a in trail} == odd and all(a.author == "lead" and a.item == "q1" for a in trail)
    assert record_key_fixes(quiz, "", out).fixes == []  # nothing left to fix

    again = grade_batch(subs, quiz, out=out, jobs=1)
    assert set(again.graded) == odd
    with Gradebook(out / "gradebook.sqlite") as book:
        q1 = {r.student: r.score for r in book.results() if r.item == "q1"}
        assert {s for s, score in q1.items() if score == 0} == odd  # the old key is now wrong for them
        assert [a.note for a in book.adjustments() if a.kind == "override"] == ["kept through the fix"]
    assert grade_batch(subs, quiz, out=out, jobs=1).graded == []

    # a new generator version is recorded too (the students keep their parameters)
    (bank / "gb_mini.py").write_text(fixed.replace("check=Integer(),", "check=Integer(), generator_version=2,", 1), encoding="utf-8")
    bumped = record_key_fixes(quiz, "", out)
    assert {f.student for f in bumped.fixes} == {s.id for s in students}
    assert all("generator version 1 -> 2" in f.describe() for f in bumped.fixes)
    assert all(variant(quiz, s.id)["questions"][0]["generator_version"] == 2 for s in students)


class _StopAfter(SilentReporter):
    """Interrupts the run (like Ctrl-C) once `n` submissions are committed."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    def graded(self, student: str, text: str) -> None:
        self.n -= 1
        if self.n == 0:
            raise KeyboardInterrupt


def test_an_interrupted_force_run_resumes_instead_of_starting_over(tmp_path: Path, bank: Path) -> None:
    quiz = make_quiz(tmp_path / "quiz", bank)
    subs = tmp_path / "subs"
    for s in STUDENTS:
        write_answers(subs / s.id, key_answers(quiz, s.id))
    out = tmp_path / "out"
    grade_batch(subs, quiz, out=out, jobs=1)
    first = grade_batch(subs, quiz, out=out, jobs=1, force=True, progress=_StopAfter(2))
    assert first.interrupted and len(first.graded) == 2
    second = grade_batch(subs, quiz, out=out, jobs=1, force=True)
    assert sorted(second.graded) == sorted(set(s.id for s in STUDENTS) - set(first.graded) - set(second.missing))
    assert sorted(second.skipped) == sorted(first.graded)
    third = grade_batch(subs, quiz, out=out, jobs=1, force=True)  # the forced run finished: start over
    assert len(third.graded) == len(STUDENTS)
    with Gradebook(out / "gradebook.sqlite") as book:
        assert {r.graded_count for r in book.submissions().values()} == {3}


SCHEMA_1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE items (student TEXT NOT NULL, item TEXT NOT NULL, position INTEGER NOT NULL,
    kind TEXT NOT NULL, exercise TEXT NOT NULL, title TEXT NOT NULL, max_score REAL NOT NULL,
    PRIMARY KEY (student, item));
CREATE TABLE submissions (student TEXT PRIMARY KEY, content_hash TEXT, key_hash TEXT, files TEXT NOT NULL,
    notes TEXT NOT NULL, graded_at TEXT NOT NULL, duration REAL NOT NULL, status TEXT NOT NULL,
    total REAL NOT NULL, max_total REAL NOT NULL, graded_count INTEGER NOT NULL DEFAULT 0, run_id INTEGER);
INSERT INTO meta VALUES ('schema', '1');
INSERT INTO items VALUES ('s1', 'q1', 0, 'answer', 'ex', 'Ex', 1.0);
INSERT INTO submissions VALUES ('s1', 'h', 'k', '[]', '[]', '2026-01-01T00:00:00+00:00', 0.1, 'graded', 1, 1, 1, 1);
"""


def test_a_schema_1_gradebook_is_migrated_and_a_newer_one_refused(tmp_path: Path) -> None:
    path = tmp_path / "g.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA_1)
    with Gradebook(path) as book:
        assert book.meta("schema") == "3"
        [item] = book.items()
        assert (item.item, item.prompt) == ("q1", "")
        sub = book.submission("s1")
        assert sub is not None and (sub.graded_count, sub.submitted_at, sub.time_source) == (1, None, "")
        book.add_adjustment("drop", "q1", author="me")
        assert [a.kind for a in book.adjustments()] == ["drop"]
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '4' WHERE key = 'schema'")
    with pytest.raises(GradebookError, match="newer grader"):
        Gradebook(path)


MATRIX_BANK = '''
from grader.answers import Matrix
from grader.exercise import AnswerExercise

EXERCISES = [
    AnswerExercise(
        id="gb_matrix", title="Twice the identity plus n", section=1,
        generate=lambda rng: {"n": int(rng.integers(1, 9))},
        prompt="2I + {{ n }}?",
        solve=lambda p: [[2.0 + p["n"], float(p["n"])], [float(p["n"]), 2.0 + p["n"]]], check=Matrix(),
    ),
]
'''


def test_the_quiz_partial_credit_rule_applies_and_a_change_of_it_regrades(tmp_path: Path) -> None:
    bank = tmp_path / "mbank"
    bank.mkdir()
    (bank / "m.py").write_text(MATRIX_BANK, encoding="utf-8")
    quiz = make_quiz(tmp_path / "quiz", bank, STUDENTS[:2], exercises=("gb_matrix",))
    subs = tmp_path / "subs"
    for s in STUDENTS[:2]:
        key = key_answers(quiz, s.id)["q1"]
        key[0][1] += 1  # 3 of 4 entries right
        write_answers(subs / s.id, {"q1": key})
    out = tmp_path / "out"

    def q1_scores() -> set[float]:
        with Gradebook(out / "gradebook.sqlite") as book:
            return {r.score for r in book.results()}

    grade_batch(subs, quiz, out=out, jobs=1)
    assert q1_scores() == {0.75}
    spec = (quiz / "quiz.toml").read_text(encoding="utf-8")
    (quiz / "quiz.toml").write_text(spec + '\n[grading]\npartial_credit = "all-or-nothing"\n', encoding="utf-8")
    assert len(grade_batch(subs, quiz, out=out, jobs=1).graded) == 2
    assert q1_scores() == {0.0}
    (quiz / "quiz.toml").write_text(spec + '\n[grading]\npartial_credit = "all-or-nothing"\n'
                                    '[grading.exercises]\ngb_matrix = "threshold:0.7"\n', encoding="utf-8")
    grade_batch(subs, quiz, out=out, jobs=1)
    assert q1_scores() == {0.75}
    (quiz / "quiz.toml").write_text(spec + '\n[grading]\npartial_credit = "most of it"\n', encoding="utf-8")
    with pytest.raises(BatchError, match="partial-credit rule"):
        grade_batch(subs, quiz, out=out, jobs=1)
