"""Shape answers."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.answers import AnswerParseError, Shape

KEY = ("N", 64, 16, 16)


@pytest.mark.parametrize(
    "raw, parsed",
    [
        ([64, 16, 16], (64, 16, 16)),
        ([64.0, 16, "16"], (64, 16, 16)),
        (["N", 64, 16, 16], ("N", 64, 16, 16)),
        ("(N, 64, 16, 16)", ("N", 64, 16, 16)),
        ("[64, 16, 16]", (64, 16, 16)),
        ("64x16x16", (64, 16, 16)),
        ("64 x 16 x 16", (64, 16, 16)),
        ("64×16×16", (64, 16, 16)),
        ("64, 16, 16", (64, 16, 16)),
        ("(64,)", (64,)),
        ("()", ()),
        ([], ()),
        (64, (64,)),
        ("torch.Size([2, 3])", (2, 3)),
        ("(batch, 3, 32, 32)", ("batch", 3, 32, 32)),
    ],
)
def test_accepted_forms(raw: object, parsed: tuple[object, ...]) -> None:
    assert Shape().parse(raw) == parsed


def test_grading_and_diagnoses() -> None:
    spec = Shape()
    assert spec.grade(spec.parse("(N, 64, 16, 16)"), KEY).fraction == 1.0
    assert spec.grade(spec.parse("(n, 64, 16, 16)"), KEY).fraction == 1.0  # names ignore case
    assert spec.grade(spec.parse([64, 16, 16]), KEY).message == "expected 4 dimensions, got 3"
    channels_last = spec.grade(spec.parse("(N, 16, 16, 64)"), KEY)
    assert channels_last.fraction == 0.0 and "wrong order" in channels_last.message
    assert spec.grade(spec.parse("(N, 64, 15, 16)"), KEY).message == "dimension 3 (counting from 1) is wrong"
    assert spec.grade(spec.parse("(B, 64, 15, 16)"), KEY).message == "dimensions 1, 3 (counting from 1) are wrong"
    assert spec.grade(spec.parse([64]), (64,)).fraction == 1.0


@pytest.mark.parametrize(
    "raw, message",
    [
        ([64, 16.5], "dimension 2: expected a whole size"),
        ([64, -1], "between 0 and"),
        ([True], "dimension 1"),
        ([[64]], "dimension 1"),
        ("(N!, 64)", "dimension 1: expected a size (64) or a name (N)"),
        ("(64, 16", "unbalanced"),
        ("", "empty"),
        ([1] * 17, "too many dimensions"),
        ("(" + "1," * 100 + ")", "too many dimensions"),
        ("(６４,)", "dimension 1"),
        ("(__class__,)", "dimension 1"),
        (None, "expected a shape"),
        (float("nan"), "whole size"),
    ],
)
def test_rejections(raw: object, message: str) -> None:
    with pytest.raises(AnswerParseError) as info:
        Shape().parse(raw)
    assert message in str(info.value)


def test_a_huge_string_is_rejected_quickly() -> None:
    start = time.perf_counter()
    with pytest.raises(AnswerParseError):
        Shape().parse("(" + "1, " * 400_000 + ")")
    assert time.perf_counter() - start < 1.0


def test_output_and_repr() -> None:
    spec = Shape()
    assert spec.to_toml((64, 16, 16)) == [64, 16, 16]
    assert spec.to_toml(KEY) == "(N, 64, 16, 16)"
    assert spec.to_text((64,)) == "(64,)"
    assert spec.describe(KEY) == spec.describe((3, 5)) == 'shape as a list of sizes or names, e.g. [2, 5] or "(N, 2, 5)"'
    assert repr(spec) == "Shape()"


dims = st.one_of(st.integers(0, 10**6), st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,5}", fullmatch=True))


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(dims, max_size=8).map(tuple))
def test_round_trip(key: tuple[object, ...]) -> None:
    spec = Shape()
    assert spec.grade(spec.parse(spec.to_toml(key)), key).fraction == 1.0
    assert spec.grade(spec.parse(spec.to_text(key)), key).fraction == 1.0
