"""`grade_batch` end to end on answer-only quizzes (fast): outputs, re-runs, --force,
--only, LMS exports, hostile files and the Gradescope schema."""

from __future__ import annotations

import csv
import fcntl
import importlib.util
import json
import os
from pathlib import Path

import pytest

from grader.gradebook.runner import BatchError, grade_batch
from grader.gradebook.store import Gradebook

from .conftest import STUDENTS, key_answers, make_quiz, misconception_answers, write_answers

HERE = Path(__file__).parent
_spec = importlib.util.spec_from_file_location("minischema", HERE / "minischema.py")
minischema = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(minischema)  # type: ignore[union-attr]
SCHEMA = json.loads((HERE / "gradescope_results.schema.json").read_text(encoding="utf-8"))


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def quiz(tmp_path: Path, mini_bank: Path) -> Path:
    return make_quiz(tmp_path / "quiz", mini_bank)


@pytest.fixture
def class_submissions(tmp_path: Path, quiz: Path) -> Path:
    """s1: the key; s2: every question's misconception; s3: broken TOML; s4: nothing."""
    subs = tmp_path / "subs"
    write_answers(subs / "s1", key_answers(quiz, "s1"))
    write_answers(subs / "s2", {q: a for q, (_, a) in misconception_answers(quiz, "s2").items()})
    (subs / "s3").mkdir(parents=True)
    (subs / "s3" / "answers.toml").write_text("q1 = [1, 2\n", encoding="utf-8")
    return subs


def graded_counts(out: Path) -> dict[str, int]:
    with Gradebook(out / "gradebook.sqlite") as book:
        return {s: row.graded_count for s, row in book.submissions().items()}


def test_grades_a_class_into_every_output(tmp_path: Path, quiz: Path, class_submissions: Path) -> None:
    out = tmp_path / "out"
    summary = grade_batch(class_submissions, quiz, out=out, jobs=1)
    assert summary.complete
    assert (sorted(summary.graded), summary.skipped, summary.missing) == (["s1", "s2", "s3"], [], ["s4"])
    rows = read_csv(out / "grades.csv")
    assert list(rows[0]) == ["student", "item", "score", "max_score", "status", "misconception", "graded_score", "adjustment"]
    table = {(r["student"], r["item"]): r for r in rows}
    assert len(rows) == 12
    for qid, points in (("q1", "1"), ("q2", "2"), ("q3", "1")):
        assert (table["s1", qid]["score"], table["s1", qid]["max_score"], table["s1", qid]["status"]) == (points, points, "correct")
        assert table["s3", qid]["status"] == "invalid" and table["s4", qid]["status"] == "missing"
    tags = {qid: tag for qid, (tag, _) in misconception_answers(quiz, "s2").items()}
    assert {q: table["s2", q]["misconception"] for q in tags} == tags
    assert all(table["s2", q]["status"] == "incorrect" for q in tags)
    totals = read_csv(out / "totals.csv")
    assert [(t["student"], t["name"], t["email"], t["total"], t["max"]) for t in totals] == [
        ("s1", "Ada Lovelace", "ada@example.org", "4", "4"),
        ("s2", "Alan Turing", "alan@example.org", "0", "4"),
        ("s3", "Grace Hopper", "grace@example.org", "0", "4"),
        ("s4", "Edsger Dijkstra", "edsger@example.org", "0", "4"),
    ]
    for student in ("s1", "s2", "s3", "s4"):
        assert (out / "feedback" / f"{student}.html").is_file()
        assert (out / "results" / f"{student}.json").is_file()
    assert "Grace Hopper" in (out / "report.html").read_text(encoding="utf-8")
    assert summary.mean == pytest.approx(4 / 3) and summary.median == 0
    assert {(item, tag) for item, tag, _ in summary.misconceptions} == {(q, t) for q, t in tags.items()}
    assert not list(out.rglob(".*.tmp*")) and not [p for p in out.rglob(".*") if p.name.startswith(".grades")]


def test_results_json_follow_the_gradescope_schema(tmp_path: Path, quiz: Path, class_submissions: Path) -> None:
    out = tmp_path / "out"
    grade_batch(class_submissions, quiz, out=out, jobs=1)
    for student in ("s1", "s2", "s3", "s4"):
        document = json.loads((out / "results" / f"{student}.json").read_text(encoding="utf-8"))
        assert minischema.errors(document, SCHEMA) == []
        assert [t["name"].split(":")[0] for t in document["tests"]] == ["q1", "q2", "q3"]
        assert document["score"] == pytest.approx(sum(t["score"] for t in document["tests"]))
        assert all(t["visibility"] == "visible" for t in document["tests"])
    s1 = json.loads((out / "results" / "s1.json").read_text(encoding="utf-8"))
    assert s1["score"] == 4 and {t["status"] for t in s1["tests"]} == {"passed"}


def test_the_schema_validator_rejects_what_gradescope_would() -> None:
    assert minischema.errors({"tests": [{"name": "x"}]}, SCHEMA) == ["$: matches none of the anyOf alternatives"]
    bad = {"score": 1, "tests": [{"score": 1, "status": "ok", "visibility": "sometimes", "colour": 1}]}
    found = minischema.errors(bad, SCHEMA)
    assert any("'ok' is not one of" in e for e in found)
    assert any("'sometimes' is not one of" in e for e in found)
    assert any("unexpected property 'colour'" in e for e in found)
    assert minischema.errors({"score": "1"}, SCHEMA) == ["$.score: expected number, got str"]


def test_rerun_regrades_only_the_changed_submission(tmp_path: Path, quiz: Path, class_submissions: Path) -> None:
    out = tmp_path / "out"
    grade_batch(class_submissions, quiz, out=out, jobs=1)
    again = grade_batch(class_submissions, quiz, out=out, jobs=1)
    assert (again.graded, sorted(again.skipped)) == ([], ["s1", "s2", "s3"])
    write_answers(class_submissions / "s2", key_answers(quiz, "s2"))
    third = grade_batch(class_submissions, quiz, out=out, jobs=1)
    assert (third.graded, sorted(third.skipped)) == (["s2"], ["s1", "s3"])
    assert graded_counts(out) == {"s1": 1, "s2": 2, "s3": 1, "s4": 0}
    totals = {r["student"]: r["total"] for r in read_csv(out / "totals.csv")}
    assert totals == {"s1": "4", "s2": "4", "s3": "0", "s4": "0"}


def test_force_regrades_everything(tmp_path: Path, quiz: Path, class_submissions: Path) -> None:
    out = tmp_path / "out"
    grade_batch(class_submissions, quiz, out=out, jobs=1)
    forced = grade_batch(class_submissions, quiz, out=out, jobs=1, force=True)
    assert (sorted(forced.graded), forced.skipped) == (["s1", "s2", "s3"], [])
    assert graded_counts(out) == {"s1": 2, "s2": 2, "s3": 2, "s4": 0}


def test_only_limits_the_run_to_the_given_ids(tmp_path: Path, quiz: Path, class_submissions: Path) -> None:
    out = tmp_path / "out"
    summary = grade_batch(class_submissions, quiz, out=out, jobs=1, only=["s2", "s4"])
    assert (summary.graded, summary.missing) == (["s2"], ["s4"])
    assert graded_counts(out) == {"s2": 1, "s4": 0}
    rows = read_csv(out / "grades.csv")
    assert {r["student"] for r in rows} == {"s1", "s2", "s3", "s4"}  # every roster student is exported
    assert {r["status"] for r in rows if r["student"] == "s1"} == {"missing"}
    with pytest.raises(BatchError, match="not students of this quiz: zz"):
        grade_batch(class_submissions, quiz, out=out, only=["s1", "zz"])


def test_default_out_is_inside_the_quiz_folder(quiz: Path, class_submissions: Path) -> None:
    summary = grade_batch(class_submissions, quiz, jobs=1)
    assert summary.out == quiz / "grading"
    assert (quiz / "grading" / "grades.csv").is_file()


def test_lms_export_with_id_map_and_an_unmatched_file(tmp_path: Path, quiz: Path) -> None:
    subs = tmp_path / "canvas"
    subs.mkdir()
    key = key_answers(quiz, "s1")
    (subs / "lovelaceada_4242_99_answers.toml").write_text("q1 = 0\n", encoding="utf-8")
    (subs / "lovelaceada_LATE_4242_100_answers-1.toml").write_text(
        "".join(f"{k} = {json.dumps(v)}\n" for k, v in key.items()), encoding="utf-8"
    )
    key3 = key_answers(quiz, "s3")
    (subs / "Grace Hopper_31_assignsubmission_file_answers.toml").write_text(
        f"q1 = {json.dumps(key3['q1'])}\n", encoding="utf-8"
    )
    (subs / "stranger_777_5_answers.toml").write_text("q1 = 1\n", encoding="utf-8")
    id_map = tmp_path / "map.csv"
    id_map.write_text("lms_id,id\n4242,s1\n", encoding="utf-8")
    summary = grade_batch(subs, quiz, out=tmp_path / "out", jobs=1, id_map=id_map)
    assert sorted(summary.graded) == ["s1"]
    # one export format per folder: this one is Canvas, so a Moodle-named file is not read
    assert [(u.origin, u.reason) for u in summary.unmatched] == [
        ("Grace Hopper_31_assignsubmission_file_answers.toml",
         "named like a Moodle export, but this folder is a Canvas export"),
        ("stranger_777_5_answers.toml", "no roster student for LMS id 777 (add it to --id-map)"),
    ]
    table = {(r["student"], r["item"]): r for r in read_csv(tmp_path / "out" / "grades.csv")}
    assert [table["s1", q]["status"] for q in ("q1", "q2", "q3")] == ["correct"] * 3  # the later upload
    moodle = tmp_path / "moodle"
    moodle.mkdir()
    (subs / "Grace Hopper_31_assignsubmission_file_answers.toml").rename(
        moodle / "Grace Hopper_31_assignsubmission_file_answers.toml")
    summary = grade_batch(moodle, quiz, out=tmp_path / "out", jobs=1, only=["s3"])
    table = {(r["student"], r["item"]): r for r in read_csv(tmp_path / "out" / "grades.csv")}
    assert [table["s3", q]["status"] for q in ("q1", "q2", "q3")] == ["correct", "missing", "missing"]


def test_hostile_answer_files_cost_only_their_student(tmp_path: Path, quiz: Path) -> None:
    subs = tmp_path / "subs"
    write_answers(subs / "s1", key_answers(quiz, "s1") | {"q99": 1})
    (subs / "s2").mkdir()
    (subs / "s2" / "answers.toml").write_bytes(b"q1 = \"\xff\xfe\"\n")
    (subs / "s3").mkdir()
    (subs / "s3" / "answers.toml").write_text("q1 = " + "[" * 50_000 + "]" * 50_000 + "\n", encoding="utf-8")
    (subs / "s4").mkdir()
    (subs / "s4" / "answers.toml").write_text("# padding\n" * 500, encoding="utf-8")
    summary = grade_batch(subs, quiz, out=tmp_path / "out", jobs=1, max_file_bytes=4000)
    assert summary.complete and sorted(summary.graded) == ["s1", "s2", "s3", "s4"]
    table = {(r["student"], r["item"]): r["status"] for r in read_csv(tmp_path / "out" / "grades.csv")}
    assert [table["s1", q] for q in ("q1", "q2", "q3")] == ["correct"] * 3
    assert {table[s, q] for s in ("s2", "s3", "s4") for q in ("q1", "q2", "q3")} == {"invalid"}
    with Gradebook(tmp_path / "out" / "gradebook.sqlite") as book:
        assert any("q99" in note for note in book.submission("s1").notes)  # type: ignore[union-attr]
        assert "not UTF-8" in book.results("s2")[0].feedback
        assert "too large" in book.results("s4")[0].feedback


def test_feedback_escapes_what_students_wrote(tmp_path: Path, quiz: Path) -> None:
    subs = tmp_path / "subs"
    write_answers(subs / "s1", {"q1": "<script>alert('x')</script>", "q2": "<b>7</b>"})
    grade_batch(subs, quiz, out=tmp_path / "out", jobs=1)
    page = (tmp_path / "out" / "feedback" / "s1.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "<b>7</b>" not in page
    assert "&lt;script&gt;" in page and "&lt;b&gt;7&lt;/b&gt;" in page


def test_unusable_inputs_are_batch_errors(tmp_path: Path, quiz: Path, class_submissions: Path) -> None:
    with pytest.raises(BatchError, match="not a quiz folder"):
        grade_batch(class_submissions, tmp_path, out=tmp_path / "o1")
    with pytest.raises(BatchError, match="no such folder of submissions"):
        grade_batch(tmp_path / "nope", quiz, out=tmp_path / "o2")
    bad_map = tmp_path / "map.csv"
    bad_map.write_text("lms,who\n", encoding="utf-8")
    with pytest.raises(BatchError, match="lms_id,id"):
        grade_batch(class_submissions, quiz, out=tmp_path / "o3", id_map=bad_map)


def test_a_second_concurrent_run_is_refused(tmp_path: Path, quiz: Path, class_submissions: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    fd = os.open(out / ".grader-grade.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(BatchError, match="another `grader grade`"):
            grade_batch(class_submissions, quiz, out=out, jobs=1)
    finally:
        os.close(fd)
    assert grade_batch(class_submissions, quiz, out=out, jobs=1).complete


def test_a_gradebook_of_another_quiz_is_refused(tmp_path: Path, mini_bank: Path, class_submissions: Path, quiz: Path) -> None:
    out = tmp_path / "out"
    grade_batch(class_submissions, quiz, out=out, jobs=1)
    other = make_quiz(tmp_path / "other", mini_bank, STUDENTS[:2], title="Another quiz")
    with pytest.raises(BatchError, match="gradebook of quiz"):
        grade_batch(class_submissions, other, out=out, jobs=1)


def test_a_changed_key_regrades_that_student(tmp_path: Path, quiz: Path, class_submissions: Path) -> None:
    out = tmp_path / "out"
    grade_batch(class_submissions, quiz, out=out, jobs=1)
    variant = quiz / "key" / "s3" / "variant.json"
    variant.write_text(variant.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    again = grade_batch(class_submissions, quiz, out=out, jobs=1)
    assert again.graded == ["s3"] and sorted(again.skipped) == ["s1", "s2"]
