"""`grader export gradescope`: the autograder bundle, run in a fake /autograder laid out in a
temporary folder, grades the submitter's own variant like `grader grade` does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.gradebook.runner import grade_batch
from grader.gradescope.bundle import build_bundle

from . import minischema
from .conftest import key_answers, make_quiz, write_answers
from .test_batch_answers import SCHEMA
from .test_batch_code import SUM_BUG, key_code, short_pool


@pytest.fixture(scope="module")
def quiz(tmp_path_factory: pytest.TempPathFactory, mini_bank: Path) -> Path:
    return make_quiz(tmp_path_factory.mktemp("gs") / "quiz", mini_bank, exercises=("gb_double", "gb_conv", "gb_mse"))


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory, quiz: Path) -> Path:
    return build_bundle(quiz, tmp_path_factory.mktemp("zip") / "autograder.zip").path


def _submission(quiz: Path, folder: Path, student: str) -> None:
    """The student's key answers with q2 wrong, and their key code with the sum-not-mean bug."""
    answers = key_answers(quiz, student)
    answers["q2"] = int(answers["q2"]) + 1
    write_answers(folder, answers)
    (folder / "exercise.py").write_text(key_code(quiz, student) + SUM_BUG, encoding="utf-8")


def _run(bundle: Path, root: Path, users: list[dict[str, str]], quiz: Path, student: str) -> dict:
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    _submission(quiz, root / "submission", student)
    (root / "submission_metadata.json").write_text(json.dumps({"users": users}), encoding="utf-8")
    env = dict(os.environ, AUTOGRADER_ROOT=str(root))
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))


def test_bundle_holds_what_gradescope_needs_and_no_handout_or_secret(bundle: Path, quiz: Path) -> None:
    names = zipfile.ZipFile(bundle).namelist()
    assert {"setup.sh", "run_autograder", "bundle.json", "quiz/quiz.toml", "grader-src/pyproject.toml"} <= set(names)
    assert {f"quiz/key/{s}/variant.json" for s in ("s1", "s2", "s3", "s4")} <= set(names)
    assert any(n.startswith("grader-src/grader/gradescope/") for n in names)
    assert any(n.startswith("quiz/bank/0/") for n in names), "the instructor's bank travels with the quiz"
    assert not [n for n in names if "secret" in n or n.startswith("quiz/students/") or n.endswith("answers.toml")]
    modes = {i.filename: i.external_attr >> 16 for i in zipfile.ZipFile(bundle).infolist()}
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    for script in ("setup.sh", "run_autograder"):
        text = zipfile.ZipFile(bundle).read(script).decode()
        assert subprocess.run(["bash", "-n"], input=text, text=True).returncode == 0


def test_run_autograder_grades_the_submitters_variant_like_grade(tmp_path: Path, bundle: Path, quiz: Path) -> None:
    document = _run(bundle, tmp_path / "autograder", [{"email": "ALAN@example.org", "sid": "", "name": "A"}], quiz, "s2")
    assert minischema.errors(document, SCHEMA) == []
    assert "roster id s2" in document["output"] and "matched by email" in document["output"]
    hidden = [t for t in document["tests"] if t["name"].endswith("hidden tests")]
    assert hidden and {t["visibility"] for t in hidden} == {"after_published"}

    subs = tmp_path / "subs"
    _submission(quiz, subs / "s2", "s2")
    grade_batch(subs, quiz, out=tmp_path / "out", jobs=1, pool_factory=short_pool)
    expected = json.loads((tmp_path / "out" / "results" / "s2.json").read_text(encoding="utf-8"))
    assert document["score"] == pytest.approx(expected["score"])
    assert document["score"] == pytest.approx(1.0)  # q1 right; q2 (2 points) wrong; the code has the bug
    assert [(t["name"], t["score"]) for t in document["tests"]] == [(t["name"], t["score"]) for t in expected["tests"]]
    assert not (tmp_path / "autograder" / "source" / "quiz" / "key").exists(), "other students' keys are deleted"


def test_an_unknown_submitter_gets_a_message_not_a_crash(tmp_path: Path, bundle: Path, quiz: Path) -> None:
    document = _run(bundle, tmp_path / "ag", [{"email": "eve@example.org", "sid": "x9"}], quiz, "s1")
    assert minischema.errors(document, SCHEMA) == []
    assert document["score"] == 0 and "eve@example.org" in document["output"] and "roster" in document["output"]


def test_sid_and_id_map_also_identify_the_submitter(tmp_path: Path, quiz: Path) -> None:
    from grader.gradescope.autograder import match_submitter
    from grader.quiz.spec import read_spec

    spec = read_spec(quiz)
    assert match_submitter({"users": [{"sid": "s3"}]}, spec, {}).student.id == "s3"
    assert match_submitter({"users": [{"sid": "G-77", "email": "x@y"}]}, spec, {"G-77": "s4"}).student.id == "s4"
    assert match_submitter({"users": [{"sid": "G-77"}]}, spec, {}) is None


def test_cli_writes_the_bundle_and_refuses_a_folder_that_is_no_quiz(tmp_path: Path, quiz: Path) -> None:
    from click.testing import CliRunner

    from grader.cli import main

    runner = CliRunner()
    done = runner.invoke(main, ["export", "gradescope", "--quiz", str(quiz), "--out", str(tmp_path / "ag.zip")])
    assert done.exit_code == 0, done.output
    assert "4 students" in done.output and zipfile.is_zipfile(tmp_path / "ag.zip")
    refused = runner.invoke(main, ["export", "gradescope", "--quiz", str(tmp_path), "--out", str(tmp_path / "x.zip")])
    assert refused.exit_code == 2 and "not a quiz folder" in refused.output
    assert not (tmp_path / "x.zip").exists()


def test_without_a_sandbox_the_bundle_fails_closed_with_a_message(tmp_path: Path, bundle: Path, quiz: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """On an image where bubblewrap cannot run, the student's code is not run unconfined: the
    result says why (the bundle was built without --allow-unconfined)."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    for tool in ("bash", "python3", "env"):
        found = subprocess.run(["which", tool], capture_output=True, text=True).stdout.strip()
        (fake_bin / tool).symlink_to(found)
    (fake_bin / "python3").unlink()
    (fake_bin / "python3").symlink_to(sys.executable)
    monkeypatch.setenv("PATH", str(fake_bin))  # no bwrap on this "image"
    document = _run(bundle, tmp_path / "ag", [{"email": "ada@example.org"}], quiz, "s1")
    assert minischema.errors(document, SCHEMA) == []
    assert document["score"] == 0 and "could not be graded" in document["output"]
    assert "bubblewrap" in document["output"] or "bwrap" in document["output"]


def test_an_id_map_is_read_like_grades_and_refused_at_build_time_when_wrong(tmp_path: Path, quiz: Path) -> None:
    from grader.gradescope.autograder import _id_map
    from grader.gradescope.bundle import BundleError
    from grader.quiz.spec import read_spec

    good = tmp_path / "ids.csv"
    good.write_text("lms_id,id\nG-77,s4\n", encoding="utf-8")
    built = build_bundle(quiz, tmp_path / "ok.zip", id_map=good)
    with zipfile.ZipFile(built.path) as archive:
        archive.extractall(tmp_path / "root" / "source")
    assert _id_map(tmp_path / "root" / "source", read_spec(quiz)) == {"G-77": "s4"}
    bad = tmp_path / "bad.csv"
    bad.write_text("lms_id,id\nG-1,nobody\n", encoding="utf-8")
    with pytest.raises(BundleError, match="'nobody' is not a student of this quiz"):
        build_bundle(quiz, tmp_path / "bad.zip", id_map=bad)
    assert not (tmp_path / "bad.zip").exists()
