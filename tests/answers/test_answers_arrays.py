"""Vector and matrix answers: forms, shape messages, partial credit, diagnoses."""

from __future__ import annotations

import math
import re
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.answers import AnswerParseError, Matrix

KEY = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]


@pytest.mark.parametrize(
    "raw",
    [
        KEY,
        [[1, 2, 3], [4, 5, 6]],
        [[1.0, "2", "3.0"], ["4", "10/2", "sqrt(36)"]],
        "[[1, 2, 3], [4, 5, 6]]",
        " [[1,2,3],[4,5,6],] ",
        [[1.0005, 2, 3], [4, 5, 6]],  # within rtol=1e-3
    ],
)
def test_accepted_matrix_forms(raw: object) -> None:
    spec = Matrix()
    assert spec.grade(spec.parse(raw), KEY).fraction == 1.0


def test_vectors() -> None:
    spec = Matrix()
    key = [0.5, 1 / 3, -2.0, 0.0]
    assert spec.grade(spec.parse(["1/2", "1/3", -2, 0]), key).fraction == 1.0
    assert spec.grade(spec.parse("[0.5, 1/3, -2, 0]"), key).fraction == 1.0
    assert spec.grade(spec.parse([0.5, 0.3, -2, 0]), key).fraction == 0.75
    assert spec.grade(spec.parse([0.5, 1 / 3, -2]), key).message == "expected a vector of 4 numbers, got a vector of 3 numbers"
    assert spec.describe(key) == "vector of 4 numbers as [..]"


def test_shape_messages() -> None:
    spec = Matrix()
    wrong_shape = spec.grade(spec.parse([[1, 2], [3, 4], [5, 6]]), KEY)
    assert wrong_shape == type(wrong_shape)(0.0, "expected a 2x3 matrix, got a 3x2 matrix")
    assert spec.grade(spec.parse([1, 2, 3]), KEY).message == "expected a 2x3 matrix, got a vector of 3 numbers"
    assert spec.describe(KEY) == "2x3 matrix as [[..], [..]]"
    assert spec.describe(np.zeros((4, 2))) == "4x2 matrix as [[..], [..], ..]"


def test_diagnoses() -> None:
    spec = Matrix()
    transposed = spec.grade(spec.parse([[1, 4], [2, 5], [3, 6]]), KEY)
    assert transposed.fraction == 0.0 and transposed.message == "your matrix is the transpose of the expected one"

    square = [[1.0, 2.0], [3.0, 4.0]]
    t = spec.grade(spec.parse([[1, 3], [2, 4]]), square)
    assert t.fraction == 0.5  # the diagonal is right
    assert t.message == "your matrix is the transpose of the expected one"

    flipped = spec.grade(spec.parse([[-1, -2, -3], [-4, -5, -6]]), KEY)
    assert flipped.fraction == 0.0 and "negative of the expected one" in flipped.message

    doubled = spec.grade(spec.parse([[2, 4, 6], [8, 10, 12]]), KEY)
    assert doubled.fraction == 0.0 and doubled.message == "your answer is 2 times the expected one"

    halved = spec.grade(spec.parse([0.5, 1.0]), [1.0, 2.0])
    assert halved.message == "your answer is 0.5 times the expected one"


def test_partial_credit_counts_correct_entries() -> None:
    spec = Matrix()
    marking = spec.grade(spec.parse([[1, 2, 3], [4, 5, 7]]), KEY)
    assert marking.fraction == pytest.approx(5 / 6)
    assert marking.message == "5 of 6 entries are correct; wrong: [1, 2]"
    marking = spec.grade(spec.parse([[0, 2, 0], [4, 0, 6]]), KEY)
    assert marking.fraction == pytest.approx(3 / 6)
    assert marking.message == "3 of 6 entries are correct; wrong: [0, 0], [0, 2], [1, 1]"


@pytest.mark.parametrize(
    "raw, message",
    [
        ([[1, 2], [3]], "rows have different lengths: row [0] has 2 entries, row [1] has 1"),
        ([[1, 2], 3], "mixed numbers and lists"),
        ([[1, "x"]], "entry [0, 1]: expected a number"),
        ([1, float("nan")], "entry [1]: expected a finite number"),
        ([1, float("inf")], "entry [1]: expected a finite number"),
        ([[[1]]], "entry [0, 0]"),
        ([[]], "empty rows"),
        ([True, 1], "entry [0]: expected a number"),
        ("[[1, 2], [3, 4]", "missing ']'"),
        ("[[1, 2] [3, 4]]", "missing ','"),
        ("[[[1]]]", "too many levels"),
        ("[1, 2] 3", "after the closing"),
        ("1, 2", "expected a vector"),
        (3.0, "expected a vector"),
        (None, "expected a vector"),
        ("[1, __import__('os')]", "entry [1]"),
    ],
)
def test_rejections(raw: object, message: str) -> None:
    with pytest.raises(AnswerParseError) as info:
        Matrix().parse(raw)
    assert message in str(info.value)


def test_huge_inputs_are_rejected_quickly() -> None:
    for raw in [[0.0] * 1_000_000, "[" + "1," * 500_000 + "1]", [[0.0] * 1000] * 1000, "[" * 10000]:
        start = time.perf_counter()
        with pytest.raises(AnswerParseError):
            Matrix().parse(raw)
        assert time.perf_counter() - start < 1.0


def test_repr_and_output() -> None:
    spec = Matrix()
    assert repr(spec) == "Matrix(rtol=0.001, atol=1e-06)"
    assert spec.to_toml(KEY) == KEY
    assert spec.to_text([[1, 0.5], [1 / 3, 2]]) == "[[1, 0.5], [0.333333, 2]]"
    with pytest.raises(ValueError):
        spec.to_toml([[1, math.nan]])


arrays = st.one_of(
    hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, max_side=6),
               elements=st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False)),
)


@settings(max_examples=200, deadline=None, database=None)
@given(arrays)
def test_round_trip(key: np.ndarray) -> None:
    spec = Matrix()
    assert spec.grade(spec.parse(spec.to_toml(key)), key).fraction == 1.0
    as_strings = [[repr(x) for x in row] for row in key.tolist()] if key.ndim == 2 else [repr(x) for x in key.tolist()]
    assert spec.grade(spec.parse(as_strings), key).fraction == 1.0


@settings(max_examples=200, deadline=None, database=None)
@given(arrays, st.floats(-10, 10).filter(lambda c: abs(c - 1) > 0.01 and abs(c) > 0.01))
def test_a_scaled_answer_is_diagnosed(key: np.ndarray, factor: float) -> None:
    spec = Matrix()
    if not np.any(np.abs(key) > 1e-3):
        return  # a (near) zero key has no meaningful factor
    marking = spec.grade(spec.parse((factor * key).tolist()), key)
    assert marking.fraction < 1.0
    if abs(factor + 1) <= spec.rtol:  # -key within the tolerance: a sign flip
        assert "negative" in marking.message
    elif not (key.ndim == 2 and key.shape[0] == key.shape[1] and np.allclose(key.T, factor * key)):
        match = re.fullmatch(r"your answer is (\S+) times the expected one", marking.message)
        assert match is not None, marking.message
        assert float(match.group(1)) == pytest.approx(factor, rel=1e-3)
