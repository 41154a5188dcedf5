"""LMS gradebook imports (issue 13 §2): Canvas's and Moodle's CSV, column by column, keyed
by the roster's LMS ids or the --id-map, with the final totals (overrides, late penalty)."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from grader.gradebook.course import export_lms, override
from grader.gradebook.lms import LmsExportError
from grader.gradebook.runner import grade_batch

from .conftest import key_answers, make_quiz, write_answers


def rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


@pytest.fixture
def graded(tmp_path: Path, mini_bank: Path) -> tuple[Path, Path]:
    """s1 full marks (4), s2 all but q2 (2 of 4), s3 and s4 nothing submitted."""
    quiz = make_quiz(tmp_path / "quiz", mini_bank)
    subs = tmp_path / "subs"
    write_answers(subs / "s1", key_answers(quiz, "s1"))
    wrong = key_answers(quiz, "s2")
    wrong["q2"] += 1
    write_answers(subs / "s2", wrong)
    out = tmp_path / "out"
    grade_batch(subs, quiz, out=out, jobs=1)
    override(quiz, "s2", "q2", 1.5, "partly right", out)
    return quiz, out


def test_canvas_csv_has_canvas_columns_points_possible_and_ids_from_the_roster(tmp_path: Path, graded) -> None:
    quiz, out = graded
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name,canvas_id,sis_login_id,section\n"
                      "s1,Ada Lovelace,1001,ada.l,Sec 1\ns2,Alan Turing,1002,,Sec 2\n", encoding="utf-8")
    target = export_lms(quiz, "canvas", tmp_path / "canvas.csv", out=out, roster=roster, assignment="Quiz 3 (4711)")
    table = rows(target)
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Quiz 3 (4711)"]
    assert table[1] == ["Points Possible", "", "", "", "", "4"]
    assert table[2] == ["Lovelace, Ada", "1001", "s1", "ada.l", "Sec 1", "4"]
    assert table[3] == ["Turing, Alan", "1002", "s2", "alan@example.org", "Sec 2", "3.5"]  # 2 + override 1.5
    assert table[4] == ["Hopper, Grace", "", "s3", "grace@example.org", "", "0"]
    assert len(table) == 2 + 4


def test_canvas_ids_from_an_id_map_and_the_quiz_title_as_the_default_column(tmp_path: Path, graded) -> None:
    quiz, out = graded
    id_map = tmp_path / "map.csv"
    id_map.write_text("lms_id,id\n555,s3\n", encoding="utf-8")
    table = rows(export_lms(quiz, "canvas", tmp_path / "c.csv", out=out, id_map=id_map))
    assert table[0][5] == "Gradebook test quiz"
    assert table[4][:3] == ["Hopper, Grace", "555", "s3"]


def test_moodle_csv_has_an_identifier_a_grade_and_a_feedback_column(tmp_path: Path, graded) -> None:
    quiz, out = graded
    roster = tmp_path / "roster.csv"
    roster.write_text("id,idnumber\ns1,U-0001\n", encoding="utf-8")
    table = rows(export_lms(quiz, "moodle", tmp_path / "m.csv", out=out, roster=roster))
    assert table[0] == ["First name", "Last name", "ID number", "Email address", "Gradebook test quiz", "Feedback"]
    assert table[1][:5] == ["Ada", "Lovelace", "U-0001", "ada@example.org", "4"]
    assert table[2][:5] == ["Alan", "Turing", "s2", "alan@example.org", "3.5"]
    assert table[2][5].startswith("Total 3.5 / 4.") and "q2 1.5/2" in table[2][5]
    assert len(table) == 1 + 4


def test_export_on_the_command_line_and_its_errors(tmp_path: Path, graded) -> None:
    quiz, out = graded
    target = tmp_path / "canvas.csv"
    base = [sys.executable, "-m", "grader.cli", "export"]
    done = subprocess.run([*base, "canvas", "--quiz", str(quiz), "--grading", str(out), "--out", str(target)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert rows(target)[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    bad_map = tmp_path / "bad.csv"
    bad_map.write_text("who,what\n", encoding="utf-8")
    failed = subprocess.run([*base, "moodle", "--quiz", str(quiz), "--grading", str(out), "--out", str(target),
                             "--id-map", str(bad_map)], capture_output=True, text=True)
    assert failed.returncode == 2 and "lms_id,id" in failed.stderr
    with pytest.raises(LmsExportError):
        export_lms(quiz, "blackboard", target, out=out)


def test_spreadsheet_formulas_in_roster_cells_are_defused(tmp_path: Path, mini_bank: Path) -> None:
    from grader.quiz.roster import Student

    evil = (Student("s1", "=HYPERLINK(\"http://x\") Eve", "+cmd@example.org"),)
    quiz = make_quiz(tmp_path / "quiz", mini_bank, evil)
    (tmp_path / "subs").mkdir()
    grade_batch(tmp_path / "subs", quiz, out=tmp_path / "out", jobs=1)
    roster = tmp_path / "roster.csv"
    roster.write_text("id,section,idnumber\ns1,@SUM(A1),-1+1\n", encoding="utf-8")
    for fmt in ("canvas", "moodle"):
        table = rows(export_lms(quiz, fmt, tmp_path / f"{fmt}.csv", out=tmp_path / "out", roster=roster))
        cells = [c for row in table[1:] for c in row]
        assert not any(c[:1] in "=+-@" and c not in ("0",) for c in cells if c), (fmt, cells)
