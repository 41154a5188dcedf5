"""`grader.api.check_file`, the one entry of `grader check`: it dispatches on the file's
kind and returns the report as data (it prints nothing); usage errors are GraderErrors."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.api import check_file
from grader.errors import GraderError
from grader.kit.report import CodeReport


def test_another_kind_of_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("q1 = 3\n", encoding="utf-8")
    with pytest.raises(GraderError, match="expected answers.toml, exercise.py or exercise.ipynb"):
        check_file(notes)
    assert capsys.readouterr() == ("", "")


def test_an_answer_sheet_without_its_quiz_is_a_usage_error(tmp_path: Path) -> None:
    sheet = tmp_path / "answers.toml"
    sheet.write_text("q1 = 3\n", encoding="utf-8")
    with pytest.raises(GraderError, match="quiz.json"):
        check_file(sheet)


def test_a_code_file_comes_back_as_a_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = tmp_path / "exercise.py"
    code.write_text("import torch\n\ndef relu(x:\n    return x\n", encoding="utf-8")
    report = check_file(code)
    assert isinstance(report, CodeReport)
    assert report.exit_code == 1
    assert any("line 3" in problem for problem in report.problems), report.problems
    assert capsys.readouterr() == ("", "")
