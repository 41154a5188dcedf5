"""Finding submissions: per-student folders, Canvas and Moodle exports, the id map, name
matching, unmatched files, and hostile files (symlinks out, FIFOs, oversized files)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader.gradebook.submissions import (
    IdMapError,
    discover,
    display_name,
    load,
    read_id_map,
)
from grader.quiz.roster import Student

ROSTER = (
    Student("s1", "Ada Lovelace"),
    Student("12345", "Jane Doe"),
    Student("s3", "Grace Hopper"),
    Student("s4", "Alan Turing"),
)


def put(path: Path, text: str = "x = 1\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_student_folders_are_matched_by_id_and_other_files_are_noted(tmp_path: Path) -> None:
    put(tmp_path / "s1" / "answers.toml")
    put(tmp_path / "s1" / "exercise.py")
    put(tmp_path / "s1" / "notes.txt")
    put(tmp_path / "s9" / "answers.toml")
    found = discover(tmp_path, ROSTER)
    assert set(found.found) == {"s1"}
    assert set(found.found["s1"].files) == {"answers.toml", "exercise.py"}
    assert any("notes.txt" in n for n in found.found["s1"].notes)
    assert [(u.origin, u.reason) for u in found.unmatched] == [
        ("s9", "folder name is not a student id of this quiz")
    ]


def test_canvas_names_late_and_repeated_uploads(tmp_path: Path) -> None:
    put(tmp_path / "doejane_12345_700_exercise.py", "old\n")
    put(tmp_path / "doejane_LATE_12345_701_exercise-1.py", "newest\n")
    put(tmp_path / "doejane_12345_700_answers.toml", "q1 = 1\n")
    found = discover(tmp_path, ROSTER).found["12345"]
    assert found.files["exercise.py"].path.name == "doejane_LATE_12345_701_exercise-1.py"
    assert found.files["answers.toml"].path.name == "doejane_12345_700_answers.toml"
    assert any("2 files found" in n for n in found.notes)
    loaded = load(found, tmp_path)
    assert loaded.files["exercise.py"].data == b"newest\n"


def test_canvas_id_map_and_name_matching(tmp_path: Path) -> None:
    put(tmp_path / "lovelaceada_777_1_answers.toml")  # via the id map
    put(tmp_path / "hoppergrace_888_2_answers.toml")  # by name: "hoppergrace" = Grace Hopper
    put(tmp_path / "nobody_999_3_answers.toml")  # nothing matches
    discovery = discover(tmp_path, ROSTER, {"777": "s1"})
    assert set(discovery.found) == {"s1", "s3"}
    assert [u.origin for u in discovery.unmatched] == ["nobody_999_3_answers.toml"]
    assert "999" in discovery.unmatched[0].reason and "--id-map" in discovery.unmatched[0].reason


def test_moodle_files_and_folders(tmp_path: Path) -> None:
    put(tmp_path / "Jane Doe_12345_assignsubmission_file_exercise.py")
    put(tmp_path / "Alan Turing_555_assignsubmission_file_" / "answers.toml")
    put(tmp_path / "Someone Else_556_assignsubmission_file_answers.toml")
    discovery = discover(tmp_path, ROSTER)
    assert set(discovery.found["12345"].files) == {"exercise.py"}
    assert set(discovery.found["s4"].files) == {"answers.toml"}
    assert [u.origin for u in discovery.unmatched] == ["Someone Else_556_assignsubmission_file_answers.toml"]


def test_stray_top_level_file_is_unmatched(tmp_path: Path) -> None:
    put(tmp_path / "answers.toml")
    put(tmp_path / ".DS_Store")
    discovery = discover(tmp_path, ROSTER)
    assert discovery.found == {}
    assert [u.origin for u in discovery.unmatched] == ["answers.toml"]


def test_excluded_output_folder_is_passed_over(tmp_path: Path) -> None:
    put(tmp_path / "grading" / "grades.csv")
    put(tmp_path / "s1" / "answers.toml")
    discovery = discover(tmp_path, ROSTER, exclude=[tmp_path / "grading"])
    assert discovery.unmatched == () and set(discovery.found) == {"s1"}


def test_id_map_errors(tmp_path: Path) -> None:
    good = put(tmp_path / "map.csv", "LMS_ID,Id\n777,s1\n\n888,s3\n")
    assert read_id_map(good, ROSTER) == {"777": "s1", "888": "s3"}
    with pytest.raises(IdMapError, match="lms_id,id"):
        read_id_map(put(tmp_path / "bad.csv", "a,b\n1,2\n"), ROSTER)
    with pytest.raises(IdMapError, match="'zz' is not a student"):
        read_id_map(put(tmp_path / "unknown.csv", "lms_id,id\n1,zz\n"), ROSTER)
    with pytest.raises(IdMapError, match="mapped twice"):
        read_id_map(put(tmp_path / "twice.csv", "lms_id,id\n1,s1\n1,s3\n"), ROSTER)
    with pytest.raises(IdMapError, match="line 4: 'zz' is not a student"):
        read_id_map(put(tmp_path / "late.csv", "lms_id,id\n1,s1\n\n2,zz\n"), ROSTER)
    # the same reader as rosters: semicolon-separated exports from spreadsheets work too
    assert read_id_map(put(tmp_path / "semi.csv", "lms_id;id\n777;s1\n"), ROSTER) == {"777": "s1"}


def test_symlinks_are_never_followed(tmp_path: Path) -> None:
    secret = put(tmp_path / "outside" / "secret.txt", "top secret\n")
    root = tmp_path / "subs"
    put(root / "s1" / "answers.toml", "q1 = 1\n")
    os.symlink(secret, root / "s1" / "exercise.py")
    os.symlink(tmp_path / "outside", root / "s3")
    os.symlink(root / "s1" / "answers.toml", root / "s4_link")  # inside the folder: not followed either
    discovery = discover(root, ROSTER)
    assert set(discovery.found["s1"].files) == {"answers.toml"}
    assert any("s1/exercise.py: a symbolic link" in n for n in discovery.found["s1"].notes)
    assert [(u.origin, u.reason) for u in discovery.unmatched] == [
        ("s1/exercise.py", "a symbolic link; links are not followed"),
        ("s3", "a symbolic link; links are not followed"),
        ("s4_link", "a symbolic link; links are not followed"),
    ]
    assert discovery.found["s3"].files == {} and discovery.found["s3"].unrecognized == ("s3",)
    loaded = load(discovery.found["s1"], root)
    assert b"secret" not in b"".join(f.data or b"" for f in loaded.files.values())


def test_a_fifo_is_not_read_and_does_not_block(tmp_path: Path) -> None:
    os.makedirs(tmp_path / "s1")
    os.mkfifo(tmp_path / "s1" / "exercise.py")
    loaded = load(discover(tmp_path, ROSTER).found["s1"], tmp_path)
    assert loaded.files["exercise.py"].data is None
    assert loaded.files["exercise.py"].error == "exercise.py is not a regular file"


def test_oversized_file_is_not_loaded_but_changes_the_hash(tmp_path: Path) -> None:
    put(tmp_path / "s1" / "exercise.py", "#" * 2000)
    found = discover(tmp_path, ROSTER).found["s1"]
    big = load(found, tmp_path, cap=1000)
    assert big.files["exercise.py"].data is None and big.files["exercise.py"].too_large
    assert "2000 bytes" in big.files["exercise.py"].error
    put(tmp_path / "s1" / "exercise.py", "#" * 3000)
    assert load(found, tmp_path, cap=1000).content_hash != big.content_hash


def test_content_hash_covers_names_and_bytes(tmp_path: Path) -> None:
    put(tmp_path / "s1" / "answers.toml", "q1 = 1\n")
    first = load(discover(tmp_path, ROSTER).found["s1"], tmp_path).content_hash
    assert load(discover(tmp_path, ROSTER).found["s1"], tmp_path).content_hash == first
    put(tmp_path / "s1" / "answers.toml", "q1 = 2\n")
    second = load(discover(tmp_path, ROSTER).found["s1"], tmp_path).content_hash
    (tmp_path / "s1" / "answers.toml").rename(tmp_path / "s1" / "exercise.py")
    third = load(discover(tmp_path, ROSTER).found["s1"], tmp_path).content_hash
    assert len({first, second, third}) == 3


def test_display_name_escapes_control_and_undecodable_characters() -> None:
    raw = os.fsdecode(b"bad\xff\x1b[31mname\n")
    shown = display_name(raw)
    assert "\x1b" not in shown and "\n" not in shown
    assert shown.startswith("bad") and "\\x1b" in shown
