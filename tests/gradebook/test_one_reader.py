"""Issue 10 §4: one reader of student files, so `grader check` and `grader grade` (and the
trusted check_source and the sandbox's) give the same verdict on the same bytes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader import student_file
from grader.code.check import check_exercise_file
from grader.code.source import check_source as trusted_check_source
from grader.gradebook.runner import grade_batch
from grader.gradebook.store import Gradebook
from grader.quiz.check import check_answers
from grader.sandbox.api import Limits
from grader.sandbox.source import check_source as sandbox_check_source

from .conftest import key_answers, make_quiz

BOM = b"\xef\xbb\xbf"
# between the two limits the old code had (1,000,000 and 1,048,576 bytes)
BETWEEN = 1_020_000


def _sheet_bytes(answers: dict[str, object]) -> bytes:
    return "".join(f"{k} = {json.dumps(v)}\n" for k, v in answers.items()).encode()


@pytest.fixture
def practice_quiz(tmp_path: Path, mini_bank: Path) -> Path:
    return make_quiz(tmp_path / "quiz", mini_bank, mode="practice")


def _grade_one(tmp_path: Path, quiz: Path, name: str, data: bytes) -> dict[str, tuple[str, str]]:
    subs = tmp_path / "subs"
    (subs / "s1").mkdir(parents=True, exist_ok=True)
    (subs / "s1" / name).write_bytes(data)
    grade_batch(subs, quiz, out=tmp_path / "out", jobs=1)
    with Gradebook(tmp_path / "out" / "gradebook.sqlite") as book:
        return {r.item: (r.status, r.feedback) for r in book.results() if r.student == "s1"}


def test_one_size_limit_everywhere() -> None:
    assert student_file.MAX_BYTES == 1_000_000
    assert Limits().source_bytes == student_file.MAX_BYTES
    from grader.code.source import MAX_SOURCE_BYTES
    from grader.gradebook.submissions import DEFAULT_MAX_FILE_BYTES
    from grader.quiz.answer_sheet import MAX_SHEET_BYTES

    assert MAX_SOURCE_BYTES == DEFAULT_MAX_FILE_BYTES == MAX_SHEET_BYTES == student_file.MAX_BYTES


def test_bom_answer_sheet_scores_full_marks_in_check_and_grade(tmp_path: Path, practice_quiz: Path) -> None:
    data = BOM + _sheet_bytes(key_answers(practice_quiz, "s1"))
    sheet = tmp_path / "answers.toml"
    sheet.write_bytes(data)
    report = check_answers(sheet, quiz_dir=practice_quiz, student_id="s1")
    assert not report.problems
    assert [line.status for line in report.lines] == ["correct"] * 3
    graded = _grade_one(tmp_path, practice_quiz, "answers.toml", data)
    assert [status for status, _ in graded.values()] == ["correct"] * 3


def test_sheet_between_the_old_limits_is_refused_by_check_and_by_grade(tmp_path: Path, practice_quiz: Path) -> None:
    body = _sheet_bytes(key_answers(practice_quiz, "s1"))
    data = body + b"#" * (BETWEEN - len(body) - 1) + b"\n"
    assert len(data) == BETWEEN
    sheet = tmp_path / "answers.toml"
    sheet.write_bytes(data)
    report = check_answers(sheet, quiz_dir=practice_quiz, student_id="s1")
    assert len(report.problems) == 1 and "too large" in report.problems[0] and str(BETWEEN) in report.problems[0]
    graded = _grade_one(tmp_path, practice_quiz, "answers.toml", data)
    assert all(status == "invalid" and "too large" in why for status, why in graded.values())
    # one byte under the limit is accepted by both
    ok = body + b"#" * (student_file.MAX_BYTES - len(body) - 1) + b"\n"
    sheet.write_bytes(ok)
    assert [line.status for line in check_answers(sheet, quiz_dir=practice_quiz, student_id="s1").lines] == ["correct"] * 3


def test_non_utf8_sheet_gives_the_same_message_in_check_and_grade(tmp_path: Path, practice_quiz: Path) -> None:
    data = b'q1 = "\xff"\n'
    sheet = tmp_path / "answers.toml"
    sheet.write_bytes(data)
    check_message = check_answers(sheet, quiz_dir=practice_quiz, student_id="s1").problems[0]
    graded = _grade_one(tmp_path, practice_quiz, "answers.toml", data)
    assert "not UTF-8 text (line 1, byte 7)" in check_message
    assert all("not UTF-8 text (line 1, byte 7)" in why for _, why in graded.values())


CODE = b"import torch\n\ndef f(x):\n    return x + 1\n"


@pytest.mark.parametrize(
    "data, accepted",
    [
        (CODE, True),
        (BOM + CODE, True),  # a Windows editor's BOM: the old trusted side said "syntax error"
        (CODE + b"#" * (BETWEEN - len(CODE)), False),  # between the old limits
        (CODE + b"#" * (1_000_000 - len(CODE)), True),  # exactly at the limit
        (b"x = '\xff'\n", False),
    ],
    ids=["plain", "bom", "between-old-limits", "at-the-limit", "not-utf8"],
)
def test_trusted_and_sandbox_source_checks_agree(data: bytes, accepted: bool) -> None:
    trusted = trusted_check_source(data)
    sandboxed = sandbox_check_source(data, Limits().source_bytes)
    assert (trusted.error == "") is accepted
    assert (sandboxed.text is not None) is accepted
    if accepted:
        assert trusted.text == sandboxed.text == data.removeprefix(BOM).decode()
    else:
        assert trusted.error == sandboxed.message


def test_code_file_between_the_old_limits_is_refused_by_check_and_by_grade(tmp_path: Path) -> None:
    path = tmp_path / "exercise.py"
    path.write_bytes(CODE + b"#" * (BETWEEN - len(CODE)))
    report = check_exercise_file(path, pool=object())  # refused before any pool is used
    assert len(report.problems) == 1 and f"{BETWEEN} bytes" in report.problems[0]
    from grader.gradebook.submissions import Found, FileRef, load

    loaded = load(Found("s1", {"exercise.py": FileRef("exercise.py", path, "exercise.py")}), tmp_path)
    assert loaded.files["exercise.py"].data is None and "too large" in loaded.files["exercise.py"].error


def test_student_file_read_refuses_links_and_fifos(tmp_path: Path) -> None:
    import os

    real = tmp_path / "real.py"
    real.write_bytes(b"x = 1\n")
    (tmp_path / "link.py").symlink_to(real)
    with pytest.raises(student_file.StudentFileError, match="symbolic link"):
        student_file.read(tmp_path / "link.py")
    os.mkfifo(tmp_path / "fifo.py")
    with pytest.raises(student_file.StudentFileError, match="not a regular file"):
        student_file.read(tmp_path / "fifo.py")
    assert student_file.read(real) == (6, b"x = 1\n")
