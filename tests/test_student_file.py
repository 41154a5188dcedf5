"""grader/student_file.py: the one reader of student files (issue 10 §4)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from grader import student_file
from grader.student_file import MAX_BYTES, StudentFileError, decode, read, read_within


def test_it_imports_only_the_standard_library() -> None:
    """The student kit ships this file as it is."""
    tree = ast.parse(Path(student_file.__file__).read_text(encoding="utf-8"))
    modules = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    modules |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert modules <= {"__future__", "os", "stat", "pathlib"}


def test_decode_drops_one_bom_and_keeps_the_rest() -> None:
    assert decode(b"\xef\xbb\xbfq1 = 1\n", "answers.toml") == "q1 = 1\n"
    assert decode("q1 = \"é\"\n".encode(), "answers.toml") == "q1 = \"é\"\n"
    # only a leading BOM is a byte-order mark
    assert decode(b"a\xef\xbb\xbf", "x") == "a\ufeff"


def test_decode_names_the_line_and_byte_of_the_first_bad_byte() -> None:
    with pytest.raises(StudentFileError, match=r"answers.toml is not UTF-8 text \(line 3, byte 6\)"):
        decode(b"a = 1\nb = 2\nc = \"\xff\"\n", "answers.toml")
    # counted after the BOM, as the student's editor shows it
    with pytest.raises(StudentFileError, match=r"\(line 1, byte 2\)"):
        decode(b"\xef\xbb\xbfa\xe9", "x")


def test_one_size_limit_inclusive() -> None:
    assert len(decode(b"#" * MAX_BYTES, "x")) == MAX_BYTES
    with pytest.raises(StudentFileError, match=f"x is too large \\({MAX_BYTES + 1} bytes; the limit is {MAX_BYTES} bytes\\)"):
        decode(b"#" * (MAX_BYTES + 1), "x")


def test_read_caps_what_it_reads_but_reports_the_true_size(tmp_path: Path) -> None:
    path = tmp_path / "exercise.py"
    path.write_bytes(b"#" * 5000)
    size, data = read(path, limit=1000)
    assert size == 5000 and len(data) == 1001
    with pytest.raises(StudentFileError, match=r"exercise.py is too large \(5000 bytes; the limit is 1000 bytes\)"):
        read_within(path, limit=1000)
    assert read_within(path) == b"#" * 5000
    with pytest.raises(StudentFileError, match="cannot read missing.py"):
        read(tmp_path / "missing.py")
    with pytest.raises(StudentFileError, match="not a regular file"):
        read(tmp_path)
