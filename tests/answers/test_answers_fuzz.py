"""Every answer kind, fed anything: parse raises AnswerParseError or returns a value that
grade turns into a Marking in [0, 1]; nothing else ever escapes."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.answers import (
    AnswerCheck,
    AnswerParseError,
    Expression,
    Integer,
    Marking,
    Matrix,
    MultipleChoice,
    Real,
    Shape,
    SingleChoice,
    TrueFalse,
    Word,
    WordSequence,
)

SPECS_AND_KEYS: list[tuple[AnswerCheck, Any]] = [
    (Integer(), 14),
    (Real(), 0.25),
    (Real(sig_figs=3), 0.12345),
    (Expression(), "s*(1-s)"),
    (Expression(("h", "x")), "4*h*(h+x+1)"),
    (Shape(), ("N", 64, 16, 16)),
    (Matrix(), [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),
    (Matrix(), [0.5, -1.0]),
    (SingleChoice(["a", "b", "c", "d"]), "C"),
    (MultipleChoice(["a", "b", "c", "d"]), ("A", "C")),
    (TrueFalse(), True),
    (Word(), "queen"),
    (Word(["queen", "king"]), "queen"),
    (WordSequence(), (("the", "cat"), ("cat", "the"))),
    (WordSequence(), ("the", "cat")),
]
IDS = [f"{spec!r}:{key!r}"[:60] for spec, key in SPECS_AND_KEYS]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(),  # NaN and infinities included
    st.text(max_size=40),
    st.text(alphabet="0123456789.+-*/^()sxhNe ,[]'\"", max_size=30),
    st.sampled_from(["A", "c", "true", "nan", "inf", "-inf", "1/0", "s*(1-s)", "N", "queen", "the cat"]),
)
toml_like = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=6), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=20,
)


def _parse_and_grade(spec: AnswerCheck, key: Any, raw: Any) -> None:
    try:
        parsed = spec.parse(raw)
    except AnswerParseError as exc:
        assert str(exc), "a parse error must say what was expected"
        return
    marking = spec.grade(parsed, key)
    assert isinstance(marking, Marking)
    assert 0.0 <= marking.fraction <= 1.0 and isinstance(marking.message, str)


@pytest.mark.parametrize("spec, key", SPECS_AND_KEYS, ids=IDS)
@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=toml_like)
def test_arbitrary_toml_values(spec: AnswerCheck, key: Any, raw: Any) -> None:
    _parse_and_grade(spec, key, raw)


@pytest.mark.parametrize("spec, key", SPECS_AND_KEYS, ids=IDS)
@settings(max_examples=100, deadline=None, database=None)
@given(raw=st.text(max_size=200))
def test_arbitrary_text(spec: AnswerCheck, key: Any, raw: str) -> None:
    _parse_and_grade(spec, key, raw)


@pytest.mark.parametrize("spec, key", SPECS_AND_KEYS, ids=IDS)
def test_the_key_as_written_scores_one(spec: AnswerCheck, key: Any) -> None:
    assert spec.grade(spec.parse(spec.to_toml(key)), key) == Marking(1.0)
    assert isinstance(spec.describe(key), str) and spec.describe(key)
    assert isinstance(spec.to_text(key), str) and spec.to_text(key)


@pytest.mark.parametrize("spec, key", SPECS_AND_KEYS, ids=IDS)
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, [math.nan], [[math.inf]]])
def test_non_finite_answers_are_invalid(spec: AnswerCheck, key: Any, bad: Any) -> None:
    with pytest.raises(AnswerParseError):
        spec.parse(bad)


NUMERIC = [(spec, key) for spec, key in SPECS_AND_KEYS if isinstance(spec, (Integer, Real, Expression, Matrix))]


@pytest.mark.parametrize("spec, key", NUMERIC, ids=[f"{s!r}"[:40] for s, _ in NUMERIC])
@pytest.mark.parametrize("bad", ["nan", "inf", "-inf", "Infinity", ["nan"], [["inf"]]])
def test_non_finite_numbers_written_as_text_are_invalid(spec: AnswerCheck, key: Any, bad: Any) -> None:
    with pytest.raises(AnswerParseError):
        spec.parse(bad)


@pytest.mark.parametrize("spec, key", SPECS_AND_KEYS, ids=IDS)
def test_repr_names_the_class_and_its_settings(spec: AnswerCheck, key: Any) -> None:
    text = repr(spec)
    assert text.startswith(type(spec).__name__ + "(") and text.endswith(")")
    assert isinstance(spec, AnswerCheck)
