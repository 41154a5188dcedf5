"""The real `grader` program in subprocesses, on the real bank: the whole quiz loop, exit
codes, code exercises, and errors on stderr.  (Byte-identical re-runs, every error and the
finer points are tested in-process in the other test_quiz_* files.)"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

GRADER = [sys.executable, "-m", "grader.cli"]


def grader(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GRADER, *map(str, args)], capture_output=True, text=True, timeout=120, cwd=cwd,
                          env={"PATH": "/usr/bin:/bin", "COLUMNS": "200", "HOME": str(cwd or Path.cwd())})


def test_quiz_loop_in_practice_mode(tmp_path: Path) -> None:
    listed = grader("list", "--json", "--topic", "cnn")
    assert listed.returncode == 0, listed.stderr
    answer_ids = [row["id"] for row in json.loads(listed.stdout) if row["kind"] == "answer"][:3]
    assert len(answer_ids) == 3
    preview = grader("preview", answer_ids[0], "--seed", "2")
    assert preview.returncode == 0 and "Key:" in preview.stdout

    secret = tmp_path / "secret"
    secret.write_bytes(b"s" * 32)
    args = ("--students", "ana,ben", "--exercises", ",".join(answer_ids), "--mode", "practice", "--secret-file", secret)
    made = grader("new-quiz", "--out", tmp_path / "quiz", *args)
    assert made.returncode == 0, made.stderr
    assert "2 students, 3 answer questions" in made.stdout

    full = grader("check", tmp_path / "quiz/key/ben/answers.toml", "--quiz", tmp_path / "quiz")
    assert full.returncode == 0, full.stdout + full.stderr
    assert "Score: 3 / 3" in full.stdout
    blank = grader("check", "answers.toml", cwd=tmp_path / "quiz/students/ana")
    assert blank.returncode == 1 and "3 missing" in blank.stdout


def test_exam_check_and_usage_errors(tmp_path: Path) -> None:
    made = grader("new-quiz", "--out", tmp_path / "quiz", "--students", "ana", "--kind", "answer", "--count", "4")
    assert made.returncode == 0, made.stderr
    spec = tomllib.loads((tmp_path / "quiz/quiz.toml").read_text())
    assert spec["mode"] == "exam" and len(spec["selected"]) == 4
    key = (tmp_path / "quiz/key/ana/answers.toml").read_text()
    sheet = tmp_path / "quiz/students/ana/answers.toml"
    sheet.write_text(key, encoding="utf-8")
    checked = grader("check", sheet)
    assert checked.returncode == 0 and "Score" not in checked.stdout and "correct" not in checked.stdout
    sheet.write_text("q1 = \n", encoding="utf-8")
    broken = grader("check", sheet)
    assert broken.returncode == 1 and "not valid TOML" in broken.stdout
    unknown = grader("new-quiz", "--out", tmp_path / "other", "--students", "ana", "--topics", "alchemy")
    assert unknown.returncode == 2 and unknown.stdout == ""
    assert unknown.stderr.strip().splitlines() == [unknown.stderr.strip()]
    assert "unknown topic 'alchemy'" in unknown.stderr
    assert not (tmp_path / "other").exists()
    usage = grader("check")
    assert usage.returncode == 2


def test_code_exercises_get_stubs_and_solutions(tmp_path: Path) -> None:
    made = grader("new-quiz", "--out", tmp_path / "quiz", "--students", "ana", "--kind", "code", "--topics", "cnn")
    assert made.returncode == 0, made.stderr
    stubs = (tmp_path / "quiz/students/ana/exercise.py").read_text()
    solution = (tmp_path / "quiz/key/ana/exercise.py").read_text()
    variant = json.loads((tmp_path / "quiz/key/ana/variant.json").read_text())
    functions = [item["function"] for item in variant["code"]]
    assert functions and variant["questions"] == []
    assert not (tmp_path / "quiz/students/ana/answers.toml").exists()
    for function in functions:
        assert f"def {function}(" in stubs and f"def {function}(" in solution
    assert stubs.count("raise NotImplementedError") == len(functions)
    html = (tmp_path / "quiz/students/ana/quiz.html").read_text()
    assert all(f'id="code-{f}"' in html for f in functions) and "grader check exercise.py" in html
