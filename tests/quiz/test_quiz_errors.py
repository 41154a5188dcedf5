"""Bad input to `grader new-quiz` and `grader check`: one clear line, a non-zero exit status,
and nothing half-written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .conftest import FIXTURE_BANK, FIXTURE_IDS

ALL_FIXTURES = ",".join(FIXTURE_IDS)


def one_error_line(result) -> str:  # type: ignore[no-untyped-def]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--topics", "quantum"), "unknown topic 'quantum'"),
        (("--topics", "13"), "unknown topic '13'"),
        (("--exercises", "qfix_conv_size,no_such_exercise"), "unknown exercise id 'no_such_exercise'"),
        (("--topics", "cnn", "--exercises", "qfix_sigmoid_derivative"), "the selection is empty"),
        (("--topics", "cnn", "--kind", "code"), "the selection is empty"),
        (("--exercises", ALL_FIXTURES, "--count", "5"), "--count 5 is more than the 4 exercises"),
    ],
)
def test_bad_selection(cli, tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    out = tmp_path / "quiz"
    result = cli("new-quiz", "--bank", FIXTURE_BANK, "--out", out, "--students", "ana", *args)
    assert result.exit_code == 2
    assert message in one_error_line(result)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("students", "message"),
    [
        ("ana,ben,ana", "duplicate student id 'ana'"),
        ("ana,../etc", "student id '../etc' must be"),
        (",", "no students"),
    ],
)
def test_bad_student_ids(cli, tmp_path: Path, students: str, message: str) -> None:
    result = cli("new-quiz", "--bank", FIXTURE_BANK, "--out", tmp_path / "quiz", "--students", students,
                 "--exercises", ALL_FIXTURES)
    assert result.exit_code == 2
    assert message in one_error_line(result)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"name,email\nAda,ada@uni.edu\n", "needs a header row with an 'id' column"),
        (b"", "needs a header row with an 'id' column"),
        (b"id,name\nada,Ada\nada,Other Ada\n", "duplicate student id 'ada'"),
        (b"id,name\n", "no students"),
        (b"id,name\nada,Ad\xe9\n", "not UTF-8"),
    ],
)
def test_bad_roster(cli, tmp_path: Path, content: bytes, message: str) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_bytes(content)
    result = cli("new-quiz", "--bank", FIXTURE_BANK, "--out", tmp_path / "quiz", "--roster", roster,
                 "--exercises", ALL_FIXTURES)
    assert result.exit_code == 2
    assert message in one_error_line(result)
    assert leftovers(tmp_path) == ["roster.csv"]


def test_missing_roster_file(cli, tmp_path: Path) -> None:
    result = cli("new-quiz", "--bank", FIXTURE_BANK, "--out", tmp_path / "quiz", "--roster", tmp_path / "nope.csv")
    assert result.exit_code == 2
    assert "nope.csv" in one_error_line(result)


def test_students_and_roster_are_exclusive_and_one_is_needed(cli, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("id\nada\n")
    both = cli("new-quiz", "--out", tmp_path / "quiz", "--students", "ana", "--roster", roster)
    neither = cli("new-quiz", "--out", tmp_path / "quiz")
    for result in (both, neither):
        assert result.exit_code == 2
        assert "exactly one of --students or --roster" in one_error_line(result)


def test_out_that_is_not_empty_is_refused_and_left_alone(cli, tmp_path: Path) -> None:
    out = tmp_path / "quiz"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = cli("new-quiz", "--bank", FIXTURE_BANK, "--out", out, "--students", "ana", "--exercises", ALL_FIXTURES)
    assert result.exit_code == 2
    assert "already exists and is not empty" in one_error_line(result)
    assert leftovers(out) == ["notes.txt"]


def test_an_existing_empty_out_folder_is_used(new_quiz, tmp_path: Path) -> None:
    (tmp_path / "quiz").mkdir()
    quiz = new_quiz("--students", "ana", "--exercises", "qfix_conv_size")
    assert (quiz / "students/ana/quiz.html").is_file()


def test_out_under_a_file_or_a_missing_folder(cli, tmp_path: Path) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("")
    for out, message in ((blocker / "quiz", "does not exist"), (tmp_path / "a" / "b", "does not exist"),
                         (blocker, "already exists")):
        result = cli("new-quiz", "--bank", FIXTURE_BANK, "--out", out, "--students", "ana", "--exercises", ALL_FIXTURES)
        assert result.exit_code == 2
        assert message in one_error_line(result)
    assert leftovers(tmp_path) == ["file.txt"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only folders")
def test_out_in_a_read_only_folder(cli, tmp_path: Path) -> None:
    parent = tmp_path / "ro"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        result = cli("new-quiz", "--bank", FIXTURE_BANK, "--out", parent / "quiz", "--students", "ana",
                     "--exercises", ALL_FIXTURES)
        assert result.exit_code == 2
        assert "cannot write into" in one_error_line(result)
        assert leftovers(parent) == []
    finally:
        parent.chmod(0o755)


def test_failure_while_writing_leaves_nothing(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import grader.quiz.write as write

    calls = {"n": 0}
    real = write.write_student

    def fail_on_third(root, spec, quiz):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device", str(root / "students" / quiz.student.id))
        real(root, spec, quiz)

    monkeypatch.setattr(write, "write_student", fail_on_third)
    result = cli("new-quiz", "--bank", FIXTURE_BANK, "--out", tmp_path / "quiz", "--students", "a,b,c,d",
                 "--exercises", ALL_FIXTURES)
    assert calls["n"] == 3
    assert result.exit_code == 2
    assert "No space left on device" in one_error_line(result)
    assert leftovers(tmp_path) == []


def test_bad_secret_file(cli, tmp_path: Path) -> None:
    short = tmp_path / "short.key"
    short.write_bytes(b"tiny")
    for secret, message in ((short, "at least 16 bytes"), (tmp_path / "absent.key", "cannot read the secret file")):
        result = cli("new-quiz", "--bank", FIXTURE_BANK, "--out", tmp_path / "quiz", "--students", "ana",
                     "--exercises", ALL_FIXTURES, "--secret-file", secret)
        assert result.exit_code == 2
        assert message in one_error_line(result)
    assert leftovers(tmp_path) == ["short.key"]


def test_bad_option_values_are_usage_errors(cli, tmp_path: Path) -> None:
    for args in (("--mode", "homework"), ("--kind", "essay"), ("--count", "-1")):
        result = cli("new-quiz", "--out", tmp_path / "q", "--students", "ana", *args)
        assert result.exit_code == 2
        assert "Invalid value" in result.stderr
    assert leftovers(tmp_path) == []


def test_unknown_topic_in_list_and_unknown_exercise_in_preview(cli) -> None:
    listed = cli("list", "--topic", "astrology")
    assert listed.exit_code == 2
    assert "unknown topic 'astrology'" in one_error_line(listed)
    previewed = cli("preview", "qfix_nothing")
    assert previewed.exit_code == 2
    assert "unknown exercise id 'qfix_nothing'" in one_error_line(previewed)


def test_long_error_messages_stay_on_one_line(cli, tmp_path: Path) -> None:
    deep = tmp_path / ("x" * 120) / "quiz"
    result = cli("new-quiz", "--bank", FIXTURE_BANK, "--out", deep, "--students", "ana")
    assert result.exit_code == 2
    assert str(deep) in one_error_line(result)


def test_every_usage_error_of_the_project_is_one_grader_error() -> None:
    """One base class, so the command line catches one class (issue: a CLI wing)."""
    from grader.bank import BankError
    from grader.errors import GraderError
    from grader.gradebook.confinement import SandboxUnavailable
    from grader.gradebook.runner import BatchError
    from grader.quiz.roster import RosterError
    from grader.quiz.spec import SpecError
    from grader.sandbox.api import SandboxError

    for error in (BankError, SandboxUnavailable, BatchError, RosterError, SpecError, SandboxError):
        assert issubclass(error, GraderError)
    assert issubclass(BankError, ValueError) and issubclass(SandboxError, RuntimeError)  # as before
