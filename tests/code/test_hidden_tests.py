"""`CodeExercise.draw_hidden_tests` and `.hidden_test_count`: the hidden tests belong to
the declaration."""

from __future__ import annotations

import numpy as np
import pytest

from grader.code.exercise import CodeExercise, TestCase


def _exercise(hidden_tests) -> CodeExercise:  # type: ignore[no-untyped-def]
    return CodeExercise(
        id="toy_double", title="Double", section=1, function="double",
        signature="def double(x):", docstring="Return 2 * x.", reference=lambda x: 2 * x,
        public_tests=(TestCase("one", (1.0,)),), hidden_tests=hidden_tests,
    )


def _draws(rng: np.random.Generator) -> list[TestCase]:
    count = int(rng.integers(3, 4))  # always 3, but through the generator
    return [TestCase(f"value_{i}", (float(rng.standard_normal()),)) for i in range(count)]


def test_hidden_tests_are_drawn_from_the_seed_and_marked_hidden() -> None:
    exercise = _exercise(_draws)
    first, again, other = exercise.draw_hidden_tests(5), exercise.draw_hidden_tests(5), exercise.draw_hidden_tests(6)
    assert first == again and first != other
    assert all(t.hidden for t in first)  # declared hidden=False, graded as hidden
    expected = _draws(np.random.default_rng(5))
    assert [t.args for t in first] == [t.args for t in expected]
    assert exercise.hidden_test_count == 3


def test_duplicate_hidden_test_names_are_refused() -> None:
    exercise = _exercise(lambda rng: [TestCase("same"), TestCase("same")])
    with pytest.raises(ValueError, match="hidden test names must be unique"):
        exercise.draw_hidden_tests(0)
