"""The CLI wing's one console and its error path (`grader.cli.console`): text is printed
as written (no markup, no emoji codes), errors go to stderr as one line with exit status
2, and only the project's usage errors (`GraderError`) are turned into that line."""

from __future__ import annotations

import pytest
from rich.text import Text

from grader.cli.console import USAGE_ERROR, console, fail, print_stderr, run_api, warn
from grader.errors import GraderError


def test_text_a_student_wrote_is_printed_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    written = "[bold]x[/bold] :smile: [link=http://evil]y[/link]"
    console.print(written, soft_wrap=True)
    assert capsys.readouterr().out == written + "\n"


def test_fail_prints_one_line_on_stderr_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    long_path = "/tmp/" + "a" * 300 + "/[red]quiz[/red]"
    with pytest.raises(SystemExit) as stopped:
        fail(f"{long_path}: not a quiz folder")
    assert stopped.value.code == USAGE_ERROR == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"error: {long_path}: not a quiz folder\n"  # never wrapped, never markup


def test_stderr_lines_leave_the_console_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    warn("one")
    print_stderr(Text("two"))
    console.print("three")
    captured = capsys.readouterr()
    assert (captured.err, captured.out) == ("warning: one\ntwo\n", "three\n")


def test_run_api_turns_a_grader_error_into_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    class RosterLike(GraderError, ValueError):
        pass

    def call() -> None:
        raise RosterLike("roster.csv: no id column")

    with pytest.raises(SystemExit) as stopped:
        run_api(call)
    assert stopped.value.code == 2
    assert capsys.readouterr().err == "error: roster.csv: no id column\n"
    assert run_api(lambda: [1, 2]) == [1, 2]


def test_run_api_lets_a_bug_of_the_grader_through() -> None:
    """A plain ValueError is not a usage error: it keeps its traceback."""
    def call() -> None:
        raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):
        run_api(call)
