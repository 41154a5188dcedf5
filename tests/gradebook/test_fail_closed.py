"""Fail closed: `grader grade` and `grader demo` refuse to run student code without a
working sandbox (exit 2, one line: what is missing and the fix) unless --no-sandbox is
given; then a banner, and the run is recorded and reported as unconfined."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli.grade import demo, grade
from grader.sandbox import SandboxWarning, isolation

from .conftest import key_answers, key_submission_with_code, make_quiz, write_answers

MISSING = "bwrap (bubblewrap) is not installed"


@pytest.fixture
def code_setup(tmp_path: Path, mini_bank: Path) -> tuple[Path, Path]:
    """A quiz with an answer and a code item; s1 hands in the key for both."""
    return key_submission_with_code(tmp_path, mini_bank)


@pytest.fixture
def no_bwrap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(isolation, "bwrap_problem", lambda: MISSING)


def test_grade_without_bwrap_on_path_exits_2_with_the_fix(tmp_path: Path, code_setup: tuple[Path, Path]) -> None:
    quiz, subs = code_setup
    env = dict(os.environ, PATH=str(tmp_path / "empty-bin"))  # no bwrap to be found
    done = subprocess.run(
        [sys.executable, "-m", "grader.cli", "grade", str(subs), "--quiz", str(quiz), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120, env=env,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert MISSING in lines[0] and "apt-get install bubblewrap" in lines[0] and "--no-sandbox" in lines[0]
    assert not (tmp_path / "out" / "gradebook.sqlite").exists()  # nothing graded, nothing written


def test_grade_with_no_sandbox_grades_unconfined_and_says_so(tmp_path: Path, code_setup: tuple[Path, Path],
                                                               no_bwrap: None) -> None:
    quiz, subs = code_setup
    out = tmp_path / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("error", SandboxWarning)  # the banner replaces the warning
        result = CliRunner().invoke(grade, [str(subs), "--quiz", str(quiz), "--out", str(out), "--jobs", "1",
                                            "--no-sandbox"])
    assert result.exit_code == 0, result.output
    assert "NO SANDBOX" in result.stderr and "UNCONFINED" in result.stderr and MISSING in result.stderr
    assert "UNCONFINED" in result.stdout  # in the summary too
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        assert db.execute("SELECT sandbox, status FROM runs").fetchall() == [("unconfined", "finished")]
        # the code really ran (rlimits only) and was graded
        assert db.execute("SELECT status FROM results WHERE student='s1' AND item='diffusion_loss'").fetchone() == (
            "correct",)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Unconfined:</b> 1 submission was graded in a run without the sandbox" in html
    row = html.split('<td class="mono">s1</td>')[1].split("</tr>")[0]
    assert "pill unconfined" in row
    assert "pill unconfined" not in html.split('<td class="mono">s2</td>')[1].split("</tr>")[0]


def test_a_confined_run_is_recorded_as_bwrap(tmp_path: Path, code_setup: tuple[Path, Path]) -> None:
    from tests.sandbox.conftest import needs_bwrap

    needs_bwrap()
    quiz, subs = code_setup
    out = tmp_path / "out"
    result = CliRunner().invoke(grade, [str(subs), "--quiz", str(quiz), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        assert db.execute("SELECT sandbox FROM runs").fetchall() == [("bwrap",)]
    assert "Unconfined" not in (out / "report.html").read_text(encoding="utf-8")


def test_answers_only_quizzes_need_no_sandbox(tmp_path: Path, mini_bank: Path, no_bwrap: None) -> None:
    quiz = make_quiz(tmp_path / "quiz", mini_bank)
    write_answers(tmp_path / "subs" / "s1", key_answers(quiz, "s1"))
    result = CliRunner().invoke(grade, [str(tmp_path / "subs"), "--quiz", str(quiz), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output


def test_an_unconfined_pool_is_refused_even_from_a_custom_factory(tmp_path: Path,
                                                                  code_setup: tuple[Path, Path]) -> None:
    from grader.gradebook.confinement import SandboxUnavailable
    from grader.gradebook.runner import grade_batch
    from tests.sandbox.conftest import needs_bwrap

    needs_bwrap()  # the sandbox works; the factory ignores it

    class FellBack:
        isolation = "rlimits"
        closed = False

        def close(self) -> None:
            FellBack.closed = True

    quiz, subs = code_setup
    with pytest.raises(SandboxUnavailable, match="not confined"):
        grade_batch(subs, quiz, out=tmp_path / "out", jobs=1, pool_factory=lambda jobs: FellBack())
    assert FellBack.closed
    with sqlite3.connect(tmp_path / "out" / "gradebook.sqlite") as db:
        assert db.execute("SELECT status FROM runs").fetchall() == [("refused",)]
        assert db.execute("SELECT count(*) FROM submissions WHERE status != 'missing'").fetchone() == (0,)


def test_demo_without_a_sandbox_exits_2_before_writing_anything(tmp_path: Path, no_bwrap: None) -> None:
    result = CliRunner().invoke(demo, ["--out", str(tmp_path / "demo")])
    assert result.exit_code == 2, result.output
    assert MISSING in result.stderr and "apt-get install bubblewrap" in result.stderr
    assert not (tmp_path / "demo").exists()


def test_check_still_falls_back(tmp_path: Path, no_bwrap: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Student-side checking of one's own code is not affected: it warns and runs."""
    from grader.sandbox import Call, ExecutorPool

    monkeypatch.setattr(isolation, "_warned", False)
    with pytest.warns(SandboxWarning, match="not installed"):
        pool = ExecutorPool(workers=1)  # what `grader check` starts
    with pool:
        result = pool.run("def f(x):\n    return x * 2\n", [Call("f", "f", (21,))])
    assert result.isolation == "rlimits" and result.calls["f"].value == 42


def test_a_gradebook_from_before_gains_the_sandbox_column(tmp_path: Path) -> None:
    from grader.gradebook.store import Gradebook

    with Gradebook(tmp_path / "gradebook.sqlite") as book:
        old = book.start_run(1, False, None)
        book.db.execute("ALTER TABLE runs DROP COLUMN sandbox")  # as written by the previous version
    with Gradebook(tmp_path / "gradebook.sqlite") as book:
        new = book.start_run(1, False, None)
        book.set_run_sandbox(new, "unconfined")
        assert book.run_sandboxes() == {old: None, new: "unconfined"}
