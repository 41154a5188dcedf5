"""Principle 5: a `grader grade` killed with SIGKILL mid-run and run again grades every
submission exactly once, and its outputs are complete."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.quiz.roster import Student

from .conftest import key_answers, make_quiz, write_answers

STUDENTS = tuple(Student(f"k{i:02d}", f"Student {i}") for i in range(10))
# Each call sleeps, so one submission (4 calls) takes over half a second with one worker.
SLOW = "\n\nimport time\n\ndef diffusion_loss(eps_pred, eps):\n    time.sleep(0.15)\n    return ((eps_pred - eps) ** 2).mean()\n"


def committed(gradebook: Path) -> dict[str, int]:
    if not gradebook.exists():
        return {}
    try:
        with sqlite3.connect(f"file:{gradebook}?mode=ro", uri=True, timeout=5) as db:
            rows = db.execute("SELECT student, graded_count FROM submissions WHERE status = 'graded'").fetchall()
    except sqlite3.OperationalError:  # the tables are not there yet
        return {}
    return dict(rows)


def slow_class(tmp_path: Path, bank: Path) -> tuple[Path, list[str]]:
    """A quiz of 10 students whose submissions each take over half a second to grade, and the
    `grader grade` command line for them (one job)."""
    quiz = make_quiz(tmp_path / "quiz", bank, STUDENTS, exercises=("gb_double", "gb_mse"))
    subs = tmp_path / "subs"
    for student in STUDENTS:
        write_answers(subs / student.id, key_answers(quiz, student.id))
        key = (quiz / "key" / student.id / "exercise.py").read_text(encoding="utf-8")
        (subs / student.id / "exercise.py").write_text(key + SLOW, encoding="utf-8")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "grader.cli", "grade", str(subs), "--quiz", str(quiz),
               "--out", str(out), "--jobs", "1"]
    return out, command


def interrupt_after(command: list[str], out: Path, done: int, sig: int) -> int:
    """Start the run, send `sig` once `done` submissions are committed; its exit status."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while len(committed(out / "gradebook.sqlite")) < done:
            assert process.poll() is None, "the run ended before it could be interrupted"
            assert time.monotonic() < deadline, f"fewer than {done} submissions committed in 90 s"
            time.sleep(0.05)
        os.kill(process.pid, sig)
        return process.wait(timeout=60)
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # orphaned sandbox workers of a killed run
        except ProcessLookupError:
            pass


@pytest.mark.slow
def test_sigkill_then_rerun_grades_each_submission_exactly_once(tmp_path: Path, mini_bank: Path) -> None:
    out, command = slow_class(tmp_path, mini_bank)
    assert interrupt_after(command, out, 3, signal.SIGKILL) == -signal.SIGKILL
    before = committed(out / "gradebook.sqlite")
    assert 3 <= len(before) < len(STUDENTS)
    assert set(before.values()) == {1}

    rerun = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    after = committed(out / "gradebook.sqlite")
    assert after == {s.id: 1 for s in STUDENTS}  # every submission graded exactly once
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        per_student = dict(db.execute("SELECT student, COUNT(*) FROM results GROUP BY student").fetchall())
        runs = db.execute("SELECT status, graded, skipped FROM runs ORDER BY id").fetchall()
    assert per_student == {s.id: 2 for s in STUDENTS}
    assert runs[0][0] == "running"  # the killed run never finished
    assert runs[1] == ("finished", len(STUDENTS) - len(before), len(before))
    with (out / "grades.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 * len(STUDENTS)
    assert {r["status"] for r in rows} == {"correct"}
    for student in STUDENTS:
        document = json.loads((out / "results" / f"{student.id}.json").read_text(encoding="utf-8"))
        assert document["score"] == pytest.approx(2.0)
        assert (out / "feedback" / f"{student.id}.html").is_file()


@pytest.mark.slow
def test_ctrl_c_exits_130_keeps_what_was_committed_and_resumes(tmp_path: Path, mini_bank: Path) -> None:
    out, command = slow_class(tmp_path, mini_bank)
    assert interrupt_after(command, out, 2, signal.SIGINT) == 130
    before = committed(out / "gradebook.sqlite")
    assert 2 <= len(before) < len(STUDENTS)
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        assert db.execute("SELECT status FROM runs").fetchall() == [("interrupted",)]
    assert (out / "grades.csv").is_file()  # outputs are written even when interrupted
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert committed(out / "gradebook.sqlite") == {s.id: 1 for s in STUDENTS}
