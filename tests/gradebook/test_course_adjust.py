"""Overrides, accepted answers, dropped items and the audit trail (issue 13 §1): each is
stored with time, author and note, survives re-runs and --force, and shows in grades.csv,
totals.csv, the feedback pages and report.html."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from grader.gradebook.course import CourseError, accept, audit_trail, drop, override
from grader.gradebook.runner import grade_batch
from grader.gradebook.store import Gradebook

from .conftest import key_answers, make_quiz, variant, write_answers


def table(path: Path, *keys: str) -> dict[tuple[str, ...], dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {tuple(r[k] for k in keys): r for r in csv.DictReader(handle)}


@pytest.fixture
def graded(tmp_path: Path, bank: Path) -> tuple[Path, Path, Path]:
    """(quiz, submissions, out) after one run: s1 and s2 answered everything right, s3 wrote
    the key + 1 for q1 and s4 the key + 2; s3 and s4 have the rest right."""
    quiz = make_quiz(tmp_path / "quiz", bank)
    subs = tmp_path / "subs"
    for student, offset in (("s1", 0), ("s2", 0), ("s3", 1), ("s4", 2)):
        answers = key_answers(quiz, student)
        answers["q1"] = answers["q1"] + offset
        write_answers(subs / student, answers)
    out = tmp_path / "out"
    assert grade_batch(subs, quiz, out=out, jobs=1).complete
    return quiz, subs, out


def test_an_override_is_audited_shown_everywhere_and_survives_force(graded, monkeypatch) -> None:
    quiz, subs, out = graded
    monkeypatch.setenv("GRADER_AUTHOR", "Prof. Lee")
    override(quiz, "s3", "q1", 0.5, "the question was ambiguous", out)

    grades = table(out / "grades.csv", "student", "item")
    assert (grades["s3", "q1"]["score"], grades["s3", "q1"]["graded_score"]) == ("0.5", "0")
    assert "Prof. Lee" in grades["s3", "q1"]["adjustment"] and "ambiguous" in grades["s3", "q1"]["adjustment"]
    assert grades["s2", "q1"]["adjustment"] == ""
    totals = table(out / "totals.csv", "student")
    assert (totals[("s3",)]["total"], totals[("s3",)]["max"], totals[("s3",)]["adjustments"]) == ("3.5", "4", "q1: override")
    feedback = (out / "feedback" / "s3.html").read_text(encoding="utf-8")
    assert "the question was ambiguous" in feedback
    n = variant(quiz, "s3")["questions"][0]["params"]["n"]
    assert "What is" in feedback and f"<mn>{n}</mn>" in feedback  # the question text the student saw
    assert "adjusted 1" in (out / "report.html").read_text(encoding="utf-8")
    [entry] = audit_trail(quiz, out)
    assert (entry.kind, entry.student, entry.item, entry.score, entry.author) == ("override", "s3", "q1", 0.5, "Prof. Lee")
    assert entry.created_at[:4].isdigit()

    again = grade_batch(subs, quiz, out=out, jobs=1, force=True)
    assert "s3" in again.graded  # really regraded...
    assert table(out / "grades.csv", "student", "item")["s3", "q1"]["score"] == "0.5"  # ...and kept
    with Gradebook(out / "gradebook.sqlite") as book:
        assert [r.score for r in book.results("s3") if r.item == "q1"] == [0.0]  # the grader's own score is kept too


def test_an_override_outside_the_item_points_or_of_an_unknown_item_is_refused(graded) -> None:
    quiz, _, out = graded
    with pytest.raises(CourseError, match="between 0 and 1"):
        override(quiz, "s1", "q1", 1.5, "", out)
    with pytest.raises(CourseError, match="no item 'q9'"):
        override(quiz, "s1", "q9", 1, "", out)
    with pytest.raises(CourseError, match="not a student"):
        override(quiz, "nobody", "q1", 1, "", out)


def test_accepting_an_answer_regrades_only_the_students_who_gave_it(graded) -> None:
    quiz, subs, out = graded
    with Gradebook(out / "gradebook.sqlite") as book:
        before = {s: (r.graded_count, r.graded_at) for s, r in book.submissions().items()}
        untouched = {s: book.results(s) for s in ("s1", "s2", "s4")}
    s3_answer = key_answers(quiz, "s3")["q1"] + 1
    change = accept(quiz, "q1", str(s3_answer), "also accept the off-by-one", out)

    assert change.changed == ["s3"]
    grades = table(out / "grades.csv", "student", "item")
    assert (grades["s3", "q1"]["score"], grades["s3", "q1"]["status"]) == ("1", "correct")
    # s4's wrong answer differs (unless it happens to equal s3's, which the fixture avoids)
    assert key_answers(quiz, "s4")["q1"] + 2 != s3_answer
    assert grades["s4", "q1"]["score"] == "0"
    with Gradebook(out / "gradebook.sqlite") as book:
        after = {s: (r.graded_count, r.graded_at) for s, r in book.submissions().items()}
        assert after == before  # nobody's whole submission was regraded
        assert {s: book.results(s) for s in ("s1", "s2", "s4")} == untouched
        assert book.submission("s3").total == 4.0  # type: ignore[union-attr]
    # a full regrade grades with the accepted answer as well
    grade_batch(subs, quiz, out=out, jobs=1, force=True)
    assert table(out / "grades.csv", "student", "item")["s3", "q1"]["status"] == "correct"


def test_accept_refuses_a_code_item_or_an_unknown_item(graded) -> None:
    quiz, _, out = graded
    with pytest.raises(CourseError, match="no item 'q7'"):
        accept(quiz, "q7", "3", "", out)


def test_a_dropped_item_counts_for_no_one_until_undone(graded) -> None:
    quiz, subs, out = graded
    drop(quiz, "q2", "the figure was wrong", out)
    totals = table(out / "totals.csv", "student")
    assert {s: (r["total"], r["max"]) for (s,), r in totals.items()} == {
        "s1": ("2", "2"), "s2": ("2", "2"), "s3": ("1", "2"), "s4": ("1", "2")}
    grades = table(out / "grades.csv", "student", "item")
    assert (grades["s1", "q2"]["status"], grades["s1", "q2"]["max_score"]) == ("dropped", "0")
    report = (out / "report.html").read_text(encoding="utf-8")
    items_table = report.split("<h2>Items</h2>")[1].split("</table>")[0]
    assert ">q1<" in items_table and ">q2<" not in items_table and "left out here): q2." in report
    grade_batch(subs, quiz, out=out, jobs=1, force=True)
    assert table(out / "totals.csv", "student")[("s1",)]["max"] == "2"
    drop(quiz, "q2", "", out, undo=True)
    assert table(out / "totals.csv", "student")[("s1",)]["max"] == "4"
    assert [a.kind for a in audit_trail(quiz, out)] == ["drop", "undrop"]


def test_commands_on_the_command_line(graded) -> None:
    quiz, _, out = graded
    base = [sys.executable, "-m", "grader.cli"]
    done = subprocess.run([*base, "override", "--quiz", str(quiz), "--out", str(out), "--student", "s4",
                           "--item", "q1", "--score", "1", "--note", "regrade request"],
                          capture_output=True, text=True, env={**__import__("os").environ, "GRADER_AUTHOR": "ta1"})
    assert done.returncode == 0, done.stderr
    assert "s4 q1: score set to 1 / 1" in done.stdout
    history = subprocess.run([*base, "history", "--quiz", str(quiz), "--out", str(out)], capture_output=True, text=True)
    assert "ta1" in history.stdout and "regrade request" in history.stdout
    bad = subprocess.run([*base, "drop", "--quiz", str(quiz), "--out", str(out), "--item", "nope"], capture_output=True, text=True)
    assert bad.returncode == 2 and "no item 'nope'" in bad.stderr
    missing = subprocess.run([*base, "drop", "--quiz", str(quiz), "--item", "q1"], capture_output=True, text=True)
    assert missing.returncode == 2 and "run `grader grade` first" in missing.stderr



def test_one_rounding_rule_across_csv_report_and_feedback(graded) -> None:
    from grader.rounding import score_text

    assert [score_text(v) for v in (7.0, 7.5, 2 / 3, 2.675, 0.125, -0.001, 1e-9)] == ["7", "7.5", "0.67", "2.68", "0.13", "0", "0"]
    quiz, _, out = graded
    override(quiz, "s3", "q2", 2 / 3, "", out)  # s3: q1 0 + q2 2/3 + q3 1 = 1.6666...
    assert table(out / "grades.csv", "student", "item")["s3", "q2"]["score"] == "0.67"
    assert table(out / "totals.csv", "student")[("s3",)]["total"] == "1.67"
    assert "Total: 1.67 / 4" in (out / "feedback" / "s3.html").read_text(encoding="utf-8")
    assert "1.67 / 4" in (out / "report.html").read_text(encoding="utf-8")
