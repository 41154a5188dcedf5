"""Fixtures of the code-exercise tests: the bank's code exercises and one sandbox pool shared by
every test of this folder (starting workers is the slow part).  Helpers that assemble
submissions live in `codegrading_support`."""

from __future__ import annotations

from typing import Iterator

import pytest

from grader.bank import default_bank
from grader.code.exercise import CodeExercise
from grader.sandbox import ExecutorPool

from .codegrading_support import SOLUTION_PATH


@pytest.fixture(scope="session")
def exercises() -> list[CodeExercise]:
    return default_bank().select(kind="code")


@pytest.fixture(scope="session")
def by_function(exercises: list[CodeExercise]) -> dict[str, CodeExercise]:
    return {e.function: e for e in exercises}


@pytest.fixture(scope="session")
def pool() -> Iterator[ExecutorPool]:
    with ExecutorPool(workers=2) as shared:
        yield shared


@pytest.fixture(scope="session")
def solution_source() -> bytes:
    return SOLUTION_PATH.read_bytes()
