"""Each student's files written by a process of their own while the similarity analysis
runs (`student_files`): the same bytes as writing them in the run's own process, still
written when that process fails, and nothing imported from the current folder."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from grader.gradebook import exports, student_files
from grader.gradebook.runner import grade_batch
from grader.gradebook.store import Gradebook
from grader.module_process import module_command

from .conftest import key_answers, make_quiz, misconception_answers, write_answers


@pytest.fixture
def graded_class(tmp_path: Path, mini_bank: Path) -> tuple[Path, Path]:
    quiz = make_quiz(tmp_path / "quiz", mini_bank)
    subs = tmp_path / "subs"
    write_answers(subs / "s1", key_answers(quiz, "s1"))
    write_answers(subs / "s2", {q: a for q, (_, a) in misconception_answers(quiz, "s2").items()})
    return quiz, subs


def _student_files(out: Path) -> dict[str, bytes]:
    found = {}
    for folder in (exports.RESULTS_DIR, exports.FEEDBACK_DIR):
        for path in sorted((out / folder).glob("*")):
            found[f"{folder}/{path.name}"] = path.read_bytes()
    return found


def _written_here(out: Path, into: Path) -> dict[str, bytes]:
    """The student files `write_outputs` writes in this process, from `out`'s gradebook."""
    into.mkdir()
    (into / "gradebook.sqlite").write_bytes((out / "gradebook.sqlite").read_bytes())
    with Gradebook(into / "gradebook.sqlite") as gradebook:
        exports.write_outputs(gradebook, into)
    return _student_files(into)


def test_the_background_process_writes_the_files_this_process_would(tmp_path: Path, graded_class, monkeypatch) -> None:
    quiz, subs = graded_class
    started: list[student_files.Writer | None] = []
    real_start = student_files.start
    monkeypatch.setattr(student_files, "start", lambda out: started.append(real_start(out)) or started[-1])
    out = tmp_path / "out"
    assert grade_batch(subs, quiz, out=out, jobs=1).complete
    assert started and started[0] is not None and started[0].process.returncode == 0
    files = _student_files(out)
    assert {"results/s1.json", "results/s2.json", "feedback/s1.html", "feedback/s2.html"} <= set(files)
    assert files == _written_here(out, tmp_path / "here")


def test_a_failing_process_leaves_the_files_to_the_run(tmp_path: Path, graded_class, monkeypatch) -> None:
    quiz, subs = graded_class
    monkeypatch.setattr(student_files, "module_command",
                        lambda module, *args: module_command("grader.no_such_module", *args))
    out = tmp_path / "out"
    assert grade_batch(subs, quiz, out=out, jobs=1).complete
    files = _student_files(out)
    assert "feedback/s1.html" in files and "results/s2.json" in files
    assert files == _written_here(out, tmp_path / "here")


def test_a_module_process_imports_nothing_from_the_current_folder(tmp_path: Path, monkeypatch) -> None:
    """The processes run where `grade` runs, maybe inside an unpacked submission: a
    `json.py` there must not stand in for the standard library's."""
    marker = tmp_path / "ran"
    (tmp_path / "json.py").write_text(f"open({str(marker)!r}, 'a').close()\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    command, env = module_command("json.tool", "--help")
    done = subprocess.run(command, env=env, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert not marker.exists()
