"""Fixtures of the quiz tests.

Most tests run the command line in-process (click's CliRunner) on a small fixture bank
(`fixture_bank/`, ids `qfix_*`) with the built-in bank switched off, so they are fast and do
not depend on the built-in exercises; `test_quiz_subprocess.py` runs the real `grader`
program on the real bank.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner, Result

import grader.bank
from grader.cli import main

FIXTURE_BANK = Path(__file__).parent / "fixture_bank"
FIXTURE_IDS = ("qfix_conv_size", "qfix_linear_forward", "qfix_sigmoid_derivative", "qfix_critical_point")

RunCli = Callable[..., Result]


@pytest.fixture
def fixture_bank_only(monkeypatch: pytest.MonkeyPatch) -> Path:
    """The built-in bank switched off: only `--bank` folders are loaded."""
    monkeypatch.setattr(grader.bank, "_builtin_modules", lambda: iter(()))
    monkeypatch.setattr(grader.bank, "_DEFAULT_BANK", None)
    return FIXTURE_BANK


@pytest.fixture
def cli(fixture_bank_only: Path) -> RunCli:
    """Run `grader ARGS...` in-process on the fixture bank; returns click's Result
    (`exit_code`, `stdout`, `stderr`)."""

    def run(*args: str | Path) -> Result:
        runner = CliRunner()
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)

    return run


@pytest.fixture
def new_quiz(cli: RunCli, tmp_path: Path) -> Callable[..., Path]:
    """`grader new-quiz --bank fixture_bank --out tmp/NAME ARGS...`; returns the folder."""

    def create(*args: str | Path, name: str = "quiz") -> Path:
        out = tmp_path / name
        result = cli("new-quiz", "--bank", FIXTURE_BANK, "--out", out, *args)
        assert result.exit_code == 0, result.stdout + result.stderr
        return out

    return create


def python() -> str:
    return sys.executable
