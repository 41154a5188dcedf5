"""`grader grade` on the command line: exit codes, plain progress lines off a terminal,
warnings for unmatched files, and the summary."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli.grade import grade

from .conftest import key_answers, make_quiz, write_answers


@pytest.fixture
def setup(tmp_path: Path, mini_bank: Path) -> tuple[Path, Path]:
    quiz = make_quiz(tmp_path / "quiz", mini_bank)
    subs = tmp_path / "subs"
    write_answers(subs / "s1", key_answers(quiz, "s1"))
    (subs / "s2").mkdir(parents=True)
    (subs / "s2" / "answers.toml").write_bytes(b"\xff\xfe not toml")
    (subs / "zz9").mkdir()
    (subs / "zz9" / "answers.toml").write_text("q1 = 1\n", encoding="utf-8")
    return quiz, subs


def test_exit_0_when_grading_completed_even_with_bad_files(tmp_path: Path, setup: tuple[Path, Path]) -> None:
    quiz, subs = setup
    result = CliRunner().invoke(grade, [str(subs), "--quiz", str(quiz), "--out", str(tmp_path / "out"), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert any(line.split() == ["graded", "in", "this", "run", "2"] for line in result.output.splitlines())
    assert "zz9: folder name is not a student id of this quiz" in result.output
    assert (tmp_path / "out" / "report.html").is_file()


def test_usage_errors_exit_2(tmp_path: Path, setup: tuple[Path, Path]) -> None:
    quiz, subs = setup
    runner = CliRunner()
    missing_quiz = runner.invoke(grade, [str(subs)])
    assert missing_quiz.exit_code == 2 and "--quiz" in missing_quiz.output
    not_a_quiz = runner.invoke(grade, [str(subs), "--quiz", str(tmp_path)])
    assert not_a_quiz.exit_code == 2
    assert "not a quiz folder" in not_a_quiz.stderr
    no_subs = runner.invoke(grade, [str(tmp_path / "none"), "--quiz", str(quiz)])
    assert no_subs.exit_code == 2 and "no such folder of submissions" in no_subs.stderr
    bad_only = runner.invoke(grade, [str(subs), "--quiz", str(quiz), "--only", "nobody"])
    assert bad_only.exit_code == 2 and "nobody" in bad_only.stderr
    bad_jobs = runner.invoke(grade, [str(subs), "--quiz", str(quiz), "--jobs", "0"])
    assert bad_jobs.exit_code == 2


def test_subprocess_prints_plain_progress_lines_and_summary(tmp_path: Path, setup: tuple[Path, Path]) -> None:
    quiz, subs = setup
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "grader.cli", "grade", str(subs), "--quiz", str(quiz), "--out", str(out),
         "--only", "s1,s2,s3"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "grading 2 submissions" in lines
    progress = [line for line in lines if line.startswith("[")]
    assert progress == ["[1/2] s1 graded: 4/4 in " + progress[0].split(" in ")[1], progress[1]]
    assert progress[1].startswith("[2/2] s2 graded: 0/4")
    assert "warning: zz9: folder name is not a student id of this quiz" in lines
    assert any(line.split() == ["without", "a", "submission", "1"] for line in lines)
    assert any(str(out / "report.html") in line for line in lines)
    assert "\x1b[" not in result.stdout  # no terminal control codes off a terminal
