"""Integer and Real answers."""

from __future__ import annotations

import math
import time
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.answers import AnswerParseError, Integer, Real, round_sig

INTEGER_FORMS = [
    (14, 14),
    (14.0, 14),
    ("14", 14),
    ("14.0", 14),
    (" 14 ", 14),
    ("+14", 14),
    ("-3", -3),
    ("1e3", 1000),
    ("2^4 - 2", 14),
    ("28/2", 14),
    ("sqrt(196)", 14),
    ("sqrt(2)^2", 2),  # 2.0000000000000004 in floats
    (0, 0),
    (-0.0, 0),
]


@pytest.mark.parametrize("raw, value", INTEGER_FORMS)
def test_integer_accepted_forms(raw: object, value: int) -> None:
    parsed = Integer().parse(raw)
    assert parsed == value and type(parsed) is int
    assert Integer().grade(parsed, value).fraction == 1.0


@pytest.mark.parametrize(
    "raw, message",
    [
        (14.5, "expected a whole number, got 14.5"),
        ("14.5", "whole number"),
        ("29/2", "whole number"),
        ("sqrt(2)", "whole number"),
        (True, "expected an integer, got true"),
        (float("nan"), "finite"),
        (float("inf"), "finite"),
        ("nan", "finite"),
        ("-inf", "finite"),
        ("", "empty"),
        ("fourteen", "unknown name"),
        ([14], "got a list of 1 item"),
        (None, "got nothing"),
        ({"a": 1}, "got a table"),
    ],
)
def test_integer_rejections(raw: object, message: str) -> None:
    with pytest.raises(AnswerParseError) as info:
        Integer().parse(raw)
    assert message in str(info.value)


def test_integer_grading() -> None:
    spec = Integer()
    assert spec.grade(13, 14).fraction == 0.0
    assert spec.grade(-14, 14).message == "the sign is wrong"
    assert spec.describe(14) == "integer"
    assert spec.to_toml(14) == 14 and spec.to_text(14) == "14"
    assert repr(spec) == "Integer()"


@settings(max_examples=200, deadline=None, database=None)
@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_integer_round_trip(key: int) -> None:
    spec = Integer()
    assert spec.grade(spec.parse(spec.to_toml(key)), key).fraction == 1.0
    assert spec.grade(spec.parse(str(key)), key).fraction == 1.0
    if abs(key) < 2**53:
        assert spec.grade(spec.parse(float(key)), key).fraction == 1.0
        assert spec.grade(spec.parse(f"{key}.0"), key).fraction == 1.0
    assert spec.grade(spec.parse(key + 1), key).fraction == 0.0


REAL_FORMS = [
    (0.25, 0.25),
    (1, 1.0),
    ("0.25", 0.25),
    (".25", 0.25),
    ("2.5e-1", 0.25),
    ("1/4", 0.25),
    ("1/3", 1 / 3),
    ("2^-3", 0.125),
    ("2**-3", 0.125),
    ("sqrt(2)/2", math.sqrt(2) / 2),
    ("e^-1", math.exp(-1)),
    ("exp(-1)", math.exp(-1)),
    ("ln(4)", math.log(4)),
    ("log(4)", math.log(4)),
    ("-0.5", -0.5),
    ("pi", math.pi),
    ("sigma(0)", 0.5),
]


@pytest.mark.parametrize("raw, value", REAL_FORMS)
def test_real_accepted_forms(raw: object, value: float) -> None:
    spec = Real()
    parsed = spec.parse(raw)
    assert parsed == pytest.approx(value, rel=1e-15)
    assert spec.grade(parsed, value).fraction == 1.0


@pytest.mark.parametrize(
    "raw, message",
    [
        (float("nan"), "finite"),
        (float("inf"), "finite"),
        (float("-inf"), "finite"),
        ("nan", "finite"),
        ("Infinity", "finite"),
        ("1e999", "too large"),
        ("1e9999", "out of range"),
        ("1e308*10", "too large"),
        (10**400, "too large"),
        ("0,25", "write decimals with '.'"),
        ("1/0", "division by zero"),
        ("log(-1)", "logarithm"),
        (True, "got true"),
        ([0.25], "got a list"),
        ("25%", "unexpected character '%'"),
        ("0.25 m", "missing operator"),
    ],
)
def test_real_rejections(raw: object, message: str) -> None:
    with pytest.raises(AnswerParseError) as info:
        Real().parse(raw)
    assert message in str(info.value)


def test_real_tolerance_is_relative_plus_absolute() -> None:
    spec = Real(rtol=1e-3, atol=1e-9)
    assert spec.grade(1.0009, 1.0).fraction == 1.0
    assert spec.grade(0.9991, 1.0).fraction == 1.0
    close = spec.grade(1.0011, 1.0)
    assert close.fraction == 0.0 and "close" in close.message
    assert spec.grade(2.0, 1.0) .message == "not the expected value"
    assert spec.grade(-1.0, 1.0).message == "the sign is wrong"
    assert spec.grade(5e-10, 0.0).fraction == 1.0  # atol around a zero key
    assert spec.grade(2e-9, 0.0).fraction == 0.0


def test_round_sig_rounds_half_up_as_written() -> None:
    assert round_sig(0.12345, 3) == Decimal("0.123")
    assert round_sig(0.1235, 3) == Decimal("0.124")   # the float 0.1235 is 0.12349999...; as written it rounds up
    assert round_sig(12345, 2) == Decimal("1.2E+4")
    assert round_sig(0.9996, 3) == Decimal("1.00")
    assert round_sig(-2.675, 3) == Decimal("-2.68")
    assert round_sig(0.0, 3) == 0


def test_real_significant_figures() -> None:
    spec = Real(sig_figs=3)
    key = 0.12345
    assert spec.grade(spec.parse("0.123"), key).fraction == 1.0
    assert spec.grade(spec.parse(0.1234), key).fraction == 1.0
    assert spec.grade(spec.parse(0.12349), key).fraction == 1.0
    assert spec.grade(spec.parse(0.124), key).fraction == 0.0
    assert spec.grade(spec.parse(0.1235), key).fraction == 0.0  # rounds to 0.124
    assert spec.grade(spec.parse(0.12), key).fraction == 0.0
    assert spec.grade(spec.parse(-0.123), key).message == "the sign is wrong"
    assert "3 significant figures" in spec.describe(key)
    assert spec.to_text(key) == "0.123"
    assert repr(spec) == "Real(rtol=0.001, atol=1e-09, sig_figs=3)"


def test_real_describe_and_repr() -> None:
    assert Real().describe(0.5) == "number (e.g. 0.25, 1/3 or sqrt(2)/2)"
    assert repr(Real()) == "Real(rtol=0.001, atol=1e-09, sig_figs=None)"
    assert repr(Real(rtol=0.01, atol=0)) == "Real(rtol=0.01, atol=0.0, sig_figs=None)"
    assert Real().to_text(1 / 3) == "0.333333"
    with pytest.raises(ValueError):
        Real(rtol=-1)
    with pytest.raises(ValueError):
        Real(sig_figs=0)
    with pytest.raises(ValueError):
        Real().to_toml(float("nan"))


finite_floats = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None, database=None)
@given(finite_floats, st.sampled_from([None, 1, 2, 3, 6]))
def test_real_round_trip(key: float, sig_figs: int | None) -> None:
    spec = Real(sig_figs=sig_figs)
    assert spec.grade(spec.parse(spec.to_toml(key)), key).fraction == 1.0
    assert spec.grade(spec.parse(repr(key)), key).fraction == 1.0  # the same number as a string


@pytest.mark.parametrize(
    "raw",
    ["2**10**10**10", "9^9^9^9", "(" * 10000 + "1" + ")" * 10000, "1" * 1_000_000, "x.__class__",
     "__import__('os').system('echo hi')", "lambda: 1", "'a'", "x[0]", "１", "ѕ"],
    ids=lambda t: repr(t[:20]),
)
def test_hostile_numbers_are_rejected_quickly(raw: str) -> None:
    for spec in (Integer(), Real()):
        start = time.perf_counter()
        with pytest.raises(AnswerParseError):
            spec.parse(raw)
        assert time.perf_counter() - start < 1.0
