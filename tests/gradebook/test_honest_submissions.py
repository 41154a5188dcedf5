"""Issue 10 §3 (LMS exports cannot plant or borrow files) and issue 13 §5 (no silent
zeros): each attack as a dishonest student would try it, through `grade_batch`."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from rich.console import Console

from grader.gradebook.runner import BatchError, grade_batch
from grader.gradebook.store import Gradebook
from grader.gradebook.submissions import discover, export_format, submitted_name
from grader.cli.summary import print_summary
from grader.quiz.roster import RosterError, Student, read_roster

from .conftest import key_answers, make_quiz, misconception_answers, write_answers

# Canvas user ids as roster ids: alice is 1001, mallory 1002
CLASS = (Student("1001", "Alice Smith"), Student("1002", "Mallory Jones"), Student("1003", "Bob Brown"))


@pytest.fixture
def quiz(tmp_path: Path, mini_bank: Path) -> Path:
    return make_quiz(tmp_path / "quiz", mini_bank, students=CLASS)


def _sheet(answers: dict[str, object]) -> str:
    return "".join(f"{k} = {json.dumps(v)}\n" for k, v in answers.items())


def _results(out: Path) -> dict[tuple[str, str], tuple[str, float, str]]:
    with Gradebook(out / "gradebook.sqlite") as book:
        return {(r.student, r.item): (r.status, r.score, r.feedback) for r in book.results()}


def _status(out: Path, student: str) -> str:
    with Gradebook(out / "gradebook.sqlite") as book:
        row = book.submission(student)
    assert row is not None
    return row.status


# ----------------------------------------------------------------- §3 planted names


def test_a_canvas_upload_cannot_plant_a_file_for_another_student(tmp_path: Path, quiz: Path) -> None:
    """Mallory uploads `x_1001_assignsubmission_file_answers.toml`; Canvas stores it as
    `jonesmallory_1002_5002_x_1001_assignsubmission_file_answers.toml`.  The old code read
    it as a Moodle name of student 1001 and graded it as Alice's answers."""
    subs = tmp_path / "canvas"
    subs.mkdir()
    wrong = {q: a for q, (_, a) in misconception_answers(quiz, "1001").items()}
    (subs / "jonesmallory_1002_5002_x_1001_assignsubmission_file_answers.toml").write_text(_sheet(wrong))
    (subs / "brownbob_1003_5003_answers.toml").write_text(_sheet(key_answers(quiz, "1003")))
    assert export_format(os.listdir(subs)) == "canvas"
    out = tmp_path / "out"
    summary = grade_batch(subs, quiz, out=out, jobs=1)
    results = _results(out)
    # Alice handed in nothing: nothing of Mallory's is graded as hers
    assert "1001" in summary.missing and "1001" not in summary.graded
    assert {results["1001", q][0] for q in ("q1", "q2", "q3")} == {"missing"}
    assert all("No submission" in results["1001", q][2] for q in ("q1", "q2", "q3"))
    # Mallory's file is hers, under a name that is not recognized
    assert summary.unrecognized == [("1002", ("jonesmallory_1002_5002_x_1001_assignsubmission_file_answers.toml",))]
    assert _status(out, "1002") == "unrecognized"
    assert [results["1003", q][0] for q in ("q1", "q2", "q3")] == ["correct"] * 3


def test_the_lms_id_comes_only_from_the_formats_own_fields(tmp_path: Path) -> None:
    names = [
        "smithalice_1001_5001_answers.toml",
        "jonesmallory_1002_5002_x_1001_assignsubmission_file_exercise.py",
        "jonesmallory_LATE_1002_5009_1001_1_exercise.py",
    ]
    for name in names:
        (tmp_path / name).write_text("x = 1\n")
    discovery = discover(tmp_path, CLASS)
    assert set(discovery.found["1001"].files) == {"answers.toml"}
    assert discovery.found["1002"].files == {}
    assert set(discovery.found["1002"].unrecognized) == set(names[1:])
    # a Moodle export stays Moodle, whatever the files inside are called
    moodle = tmp_path / "moodle"
    moodle.mkdir()
    for name in ("Alice Smith_1001_assignsubmission_file_answers.toml",
                 "Mallory Jones_1002_assignsubmission_file_smithalice_1001_5001_exercise.py"):
        (moodle / name).write_text("x = 1\n")
    assert export_format(os.listdir(moodle)) == "moodle"
    discovery = discover(moodle, CLASS)
    assert set(discovery.found["1001"].files) == {"answers.toml"}
    assert discovery.found["1002"].files == {}


# ----------------------------------------------------------------- §3 symlinks


def test_a_symlink_to_a_neighbours_file_earns_nothing(tmp_path: Path, quiz: Path) -> None:
    subs = tmp_path / "subs"
    write_answers(subs / "1001", key_answers(quiz, "1001"))
    (subs / "1002").mkdir()
    os.symlink("../1001/answers.toml", subs / "1002" / "answers.toml")
    os.symlink("1001", subs / "1003")  # a whole folder
    out = tmp_path / "out"
    summary = grade_batch(subs, quiz, out=out, jobs=1)
    results = _results(out)
    assert [results["1001", q][0] for q in ("q1", "q2", "q3")] == ["correct"] * 3
    for student in ("1002", "1003"):
        assert {results[student, q][1] for q in ("q1", "q2", "q3")} == {0.0}
        assert _status(out, student) == "unrecognized"
    assert dict(summary.unrecognized) == {"1002": ("1002/answers.toml",), "1003": ("1003",)}
    assert {(u.origin, u.reason) for u in summary.unmatched} == {
        ("1002/answers.toml", "a symbolic link; links are not followed"),
        ("1003", "a symbolic link; links are not followed"),
    }
    page = (out / "feedback" / "1002.html").read_text(encoding="utf-8")
    assert "a symbolic link; links are not followed" in page
    assert "No submission was received" not in page and "submitted but not recognized" in page
    console = Console(file=io.StringIO(), width=200)
    print_summary(summary, console)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "1002/answers.toml: a symbolic link; links are not followed" in text


def test_a_key_folder_inside_the_submissions_folder_is_refused(tmp_path: Path, mini_bank: Path) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    quiz = make_quiz(subs / "zz_quiz", mini_bank, students=CLASS)
    (subs / "1002").mkdir()
    os.symlink("../zz_quiz/key/1002/answers.toml", subs / "1002" / "answers.toml")
    with pytest.raises(BatchError, match="--quiz .* lies inside the submissions folder"):
        grade_batch(subs, quiz, out=tmp_path / "out", jobs=1)
    # and a link to a key file is not followed even when the key folder is elsewhere
    elsewhere = tmp_path / "elsewhere"
    subs.rename(elsewhere)
    subs.mkdir()
    (subs / "1002").mkdir()
    os.symlink(elsewhere / "zz_quiz" / "key" / "1002" / "answers.toml", subs / "1002" / "answers.toml")
    grade_batch(subs, elsewhere / "zz_quiz", out=tmp_path / "out", jobs=1)
    assert {s for (_, _), (s, _, _) in _results(tmp_path / "out").items()} == {"missing"}


def test_an_output_folder_inside_the_submissions_folder_is_refused(tmp_path: Path, quiz: Path) -> None:
    subs = tmp_path / "subs"
    write_answers(subs / "1001", key_answers(quiz, "1001"))
    with pytest.raises(BatchError, match="--out .* lies inside the submissions folder"):
        grade_batch(subs, quiz, out=subs / "grading", jobs=1)
    assert not (subs / "grading").exists()


# ----------------------------------------------------------------- 13 §5 no silent zeros


@pytest.mark.parametrize(
    "name, canonical",
    [
        ("answers.toml", ("answers.toml", 0)),
        ("Answers.TOML", ("answers.toml", 0)),
        ("ANSWERS.toml", ("answers.toml", 0)),
        ("exercise (1).py", ("exercise.py", 1)),
        ("exercise(2).py", ("exercise.py", 2)),
        ("exercise-1.py", ("exercise.py", 1)),
        ("Exercise-12.PY", ("exercise.py", 12)),
        ("answer.toml", None),
        ("exercise.py.txt", None),
        ("exercise_1.py", None),
        ("my exercise.py", None),
    ],
)
def test_submitted_names(name: str, canonical: tuple[str, int] | None) -> None:
    assert submitted_name(name) == canonical


@pytest.mark.parametrize("name", ["Answers.TOML", "answers (1).toml", "answers-2.toml", "answer.toml", "notes.txt"])
def test_the_folder_and_the_flat_layout_accept_the_same_names(tmp_path: Path, name: str) -> None:
    folder, flat = tmp_path / "folder", tmp_path / "flat"
    (folder / "1001").mkdir(parents=True)
    (folder / "1001" / name).write_text("q1 = 1\n")
    flat.mkdir()
    (flat / f"smithalice_1001_5001_{name}").write_text("q1 = 1\n")
    by_folder = discover(folder, CLASS).found["1001"]
    by_lms = discover(flat, CLASS).found["1001"]
    assert set(by_folder.files) == set(by_lms.files)
    assert bool(by_folder.unrecognized) == bool(by_lms.unrecognized) == (submitted_name(name) is None)


def test_misnamed_files_and_a_subfolder_are_found(tmp_path: Path, quiz: Path) -> None:
    subs = tmp_path / "subs"
    (subs / "1001").mkdir(parents=True)
    (subs / "1001" / "Answers.TOML").write_text(_sheet(key_answers(quiz, "1001")))
    (subs / "1002" / "week5_submission").mkdir(parents=True)
    (subs / "1002" / "week5_submission" / "answers (1).toml").write_text(_sheet(key_answers(quiz, "1002")))
    (subs / "1003").mkdir()
    (subs / "1003" / "answer.toml").write_text(_sheet(key_answers(quiz, "1003")))  # a typo
    (subs / "1003" / "README.txt").write_text("hi")
    out = tmp_path / "out"
    summary = grade_batch(subs, quiz, out=out, jobs=1)
    results = _results(out)
    assert sorted(summary.graded) == ["1001", "1002"]
    for student in ("1001", "1002"):
        assert [results[student, q][0] for q in ("q1", "q2", "q3")] == ["correct"] * 3
    # not recognized: listed as such everywhere, never as "no submission"
    assert summary.missing == [] and summary.unrecognized == [("1003", ("1003/README.txt", "1003/answer.toml"))]
    assert all(results["1003", q][2].startswith("Submitted but not recognized: 1003/README.txt, 1003/answer.toml")
               for q in ("q1", "q2", "q3"))
    page = (out / "feedback" / "1003.html").read_text(encoding="utf-8")
    assert "No submission was received" not in page
    assert "Files were submitted but not recognized" in page and "answer.toml" in page
    report = (out / "report.html").read_text(encoding="utf-8")
    assert report.count("submitted but not recognized") == 2  # a card and the student's row
    assert '<div class="v">0</div><div class="k">without a submission</div>' in report
    console = Console(file=io.StringIO(), width=200)
    print_summary(summary, console)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "submitted but not recognized: 1003: 1003/README.txt, 1003/answer.toml" in text
    # renamed and graded again: no longer unrecognized
    (subs / "1003" / "answer.toml").rename(subs / "1003" / "answers.toml")
    summary = grade_batch(subs, quiz, out=out, jobs=1)
    assert summary.graded == ["1003"] and summary.unrecognized == []
    assert [s for (st, _), (s, _, _) in _results(out).items() if st == "1003"] == ["correct"] * 3


# ----------------------------------------------------------------- 13 §5 roster quotes


def test_a_roster_with_an_unclosed_quote_is_an_error_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text('id,name\ns1,Ada\ns2,"Alan Turing\ns3,Grace\ns4,Edsger\n', encoding="utf-8")
    with pytest.raises(RosterError, match=r"roster.csv, line 3: a quoted field is never closed"):
        read_roster(path)
    path.write_text('id,name\ns1,Ada\ns2,"Alan\ns3,"Grace\n', encoding="utf-8")
    with pytest.raises(RosterError, match=r"line 3: malformed CSV"):
        read_roster(path)
    # a quoted field that spans lines and is closed is still one name
    path.write_text('id,name\ns1,"Ada\nLovelace"\ns2,Alan\n', encoding="utf-8")
    assert [(s.id, s.name) for s in read_roster(path)] == [("s1", "Ada Lovelace"), ("s2", "Alan")]
