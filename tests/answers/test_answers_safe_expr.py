"""The whitelist expression parser: accepted forms, rejections, limits, evaluation, sympy."""

from __future__ import annotations

import builtins
import math
import time
from fractions import Fraction

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.answers import AnswerParseError, EvaluationError, evaluate, format_expression, parse_expression, to_sympy
from grader.answers import safe_expr
from tests.strategies import expression_leaves

ACCEPTED = [
    ("3", 3.0),
    ("0.25", 0.25),
    (".5", 0.5),
    ("1.5e-3", 0.0015),
    ("2E2", 200.0),
    ("1/3", 1 / 3),
    ("2^-3", 0.125),
    ("2**3", 8.0),
    ("-2^2", -4.0),          # power binds tighter than unary minus
    ("(-2)^2", 4.0),
    ("2^3^2", 512.0),        # right-associative
    ("10-4-3", 3.0),         # left-associative
    ("10/4/5", 0.5),
    ("2*(3+4)", 14.0),
    ("--3", 3.0),
    ("+3", 3.0),
    ("sqrt(16)", 4.0),
    ("sqrt(2)/2", math.sqrt(2) / 2),
    ("e^-1", math.exp(-1)),
    ("e", math.e),
    ("pi/2", math.pi / 2),
    ("ln(e^2)", 2.0),
    ("log(1)", 0.0),
    ("ln(4)", math.log(4)),
    ("exp(1)", math.e),
    ("abs(-3)", 3.0),
    ("sigma(0)", 0.5),
    ("sigmoid(0)", 0.5),
    ("tanh(0)", 0.0),
    ("sin(pi/2)", 1.0),
    ("cos(0)", 1.0),
    ("tan(0)", 0.0),
    ("  1 +\t2 ", 3.0),
]


@pytest.mark.parametrize("text, value", ACCEPTED)
def test_accepted_constant_forms_evaluate_to_the_hand_computed_value(text: str, value: float) -> None:
    assert evaluate(parse_expression(text), {}) == pytest.approx(value, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(
    "text, env, value",
    [
        ("s*(1-s)", {"s": 0.25}, 0.1875),
        ("4*h*(h+x+1)", {"h": 1.0, "x": 2.0}, 16.0),
        ("s^2 - 2*s + 1", {"s": 3.0}, 4.0),
        ("exp(-s)/(1+exp(-s))^2", {"s": 0.0}, 0.25),
        ("x_1 + x2", {"x_1": 1.0, "x2": 2.0}, 3.0),
    ],
)
def test_variables_take_their_values_from_env(text: str, env: dict[str, float], value: float) -> None:
    assert evaluate(parse_expression(text, env), env) == pytest.approx(value)


def test_decimals_are_exact_rationals_in_sympy() -> None:
    assert to_sympy(parse_expression("0.1")) == sympy.Rational(1, 10)
    assert to_sympy(parse_expression("1.5e-3")) == sympy.Rational(3, 2000)
    assert to_sympy(parse_expression("sqrt(2)/2")) == sympy.sqrt(2) / 2
    s = sympy.Symbol("s")
    assert sympy.expand(to_sympy(parse_expression("s*(1-s)", ["s"]), {"s": s})) == s - s**2
    assert sympy.simplify(to_sympy(parse_expression("sigma(s)", ["s"]), {"s": s}) - 1 / (1 + sympy.exp(-s))) == 0
    assert to_sympy(parse_expression("e^pi")) == sympy.exp(sympy.pi)


def test_nothing_evaluates_strings(monkeypatch: pytest.MonkeyPatch) -> None:
    """With eval/exec disabled, parsing, evaluation and sympy conversion still work: none of
    them goes through Python's evaluator (sympify/parse_expr would)."""

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("eval/exec was called")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    node = parse_expression("s*(1-s) + sqrt(2)^2 - ln(e)", ["s"])
    assert evaluate(node, {"s": 0.5}) == pytest.approx(1.25)
    s = sympy.Symbol("s")
    assert sympy.expand(to_sympy(node, {"s": s})) == s - s**2 + 1


REJECTED = [
    ("x.__class__.__mro__", "attribute access"),
    ("__import__('os').system('echo hi')", "names must start with a letter"),
    ("2**10**10**10", "exponent too large"),
    ("9^9^9^9", "exponent too large"),
    ("lambda: 1", "'lambda' is not allowed"),
    ("'a'", "quotes"),
    ('"a"', "quotes"),
    ("x[0]", "subscripts"),
    ("１", "non-ASCII character '１' (U+FF11) at position 1"),
    ("2 + ѕ", "non-ASCII character 'ѕ' (U+0455) at position 5"),
    ("2x", "missing operator"),
    ("2 x", "missing operator"),
    ("(1)(2)", "missing operator"),
    ("2e", "missing operator"),
    ("sin x", "sin must be followed by '('"),
    ("s(2)", "'s' is not a function"),
    ("y + 1", "unknown name 'y'"),
    ("open(1)", "unknown name 'open'"),
    ("1,5", "',' at position 2"),
    ("sqrt(1, 2)", "sqrt takes exactly one argument"),
    ("1/0", "division by zero"),
    ("log(0)", "logarithm"),
    ("sqrt(-1)", "square root"),
    ("(-8)^(1/3)", "fractional power"),
    ("1e309", "too large"),
    ("1e999", "out of range"),
    ("1e99999999999999", "out of range"),
    ("1" * 41, "number too long"),
    ("", "empty"),
    ("   ", "empty"),
    ("1 +", "ends too early"),
    ("(1", "missing ')'"),
    ("1)", "unmatched ')'"),
    ("()", "missing operand"),
    ("*2", "missing operand"),
    ("a = 1", "'='"),
    ("1; 2", "unexpected character ';'"),
    ("{1}", "unexpected character '{'"),
    ("1\x00", "control character"),
    ("if", "'if' is not allowed"),
]


@pytest.mark.parametrize("text, message", REJECTED)
def test_rejected_with_a_message_saying_why(text: str, message: str) -> None:
    with pytest.raises(AnswerParseError, match=None) as info:
        parse_expression(text, ["s"])
    assert message in str(info.value)


HOSTILE = [
    "x.__class__.__mro__",
    "__import__('os').system('echo hi')",
    "2**10**10**10",
    "9^9^9^9",
    "(" * 10000 + "1" + ")" * 10000,
    "1" * 1_000_000,
    "(" * 1_000_000,
    "lambda: 1",
    "'a'",
    "x[0]",
    "１",
    "ѕ",
    "-" * 400 + "1",
    "2^" * 200 + "2",
    "sqrt(" * 45 + "2" + ")" * 45 + "^" + "9^" * 50 + "9",
    "exp(exp(exp(exp(exp(10)))))",
]


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t[:20]))
def test_hostile_inputs_are_rejected_quickly(text: str) -> None:
    start = time.perf_counter()
    with pytest.raises(AnswerParseError):
        parse_expression(text, ["x", "s"])
    assert time.perf_counter() - start < 1.0


def test_depth_is_checked_while_tokenizing() -> None:
    deep = "(" * 400  # within the length limit, far beyond the depth limit
    with pytest.raises(AnswerParseError, match="too deeply nested"):
        safe_expr.tokenize(deep)


def test_nesting_limit_is_exactly_max_depth() -> None:
    n = safe_expr.MAX_DEPTH
    assert evaluate(parse_expression("(" * n + "1" + ")" * n), {}) == 1.0
    assert evaluate(parse_expression("-" * n + "1"), {}) == (-1.0) ** n
    with pytest.raises(AnswerParseError, match="too deeply nested"):
        parse_expression("(" * (n + 1) + "1" + ")" * (n + 1))
    with pytest.raises(AnswerParseError, match="too deeply nested"):
        parse_expression("-" * (n + 1) + "1")


def test_length_limit() -> None:
    ok = "+".join(["1"] * 120)  # 239 characters, 239 tokens
    assert evaluate(parse_expression(ok), {}) == 120.0
    with pytest.raises(AnswerParseError, match="too long"):
        parse_expression("1" + " " * safe_expr.MAX_LENGTH)


@pytest.mark.parametrize(
    "text, env, reason",
    [
        ("sqrt(s)", {"s": -1.0}, "square root"),
        ("log(s)", {"s": 0.0}, "logarithm"),
        ("1/s", {"s": 0.0}, "division by zero"),
        ("exp(s)", {"s": 1000.0}, "overflow"),
        ("s^0.5", {"s": -1.0}, "fractional power"),
        ("s^2", {"s": 1e200}, "overflow"),
        ("s^s", {"s": 2000.0}, "exponent too large"),
        ("s", {}, "no value for the variable"),
    ],
)
def test_evaluation_errors_are_evaluation_errors(text: str, env: dict[str, float], reason: str) -> None:
    node = parse_expression(text, ["s"])
    with pytest.raises(EvaluationError, match=reason):
        evaluate(node, env)
    assert issubclass(EvaluationError, AnswerParseError)


def test_variable_names_may_not_shadow_constants_or_functions() -> None:
    with pytest.raises(ValueError):
        parse_expression("e", ["e"])
    with pytest.raises(ValueError):
        parse_expression("1", ["sqrt"])


def test_exact_value_of_rational_expressions() -> None:
    assert safe_expr.exact_value(parse_expression("1/3 + 1/6")) == Fraction(1, 2)
    assert safe_expr.exact_value(parse_expression("2^-3")) == Fraction(1, 8)
    assert safe_expr.exact_value(parse_expression("14.0")) == 14
    assert safe_expr.exact_value(parse_expression("sqrt(4)")) is None
    assert safe_expr.exact_value(parse_expression("2^0.5")) is None


# ------------------------------------------------------------------ properties

_leaves = expression_leaves("h")


def _grower(functions: tuple[str, ...]):  # type: ignore[no-untyped-def]
    def grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "^", "**"]), inner).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/"]), inner).map(lambda t: f"({t[0]}){t[1]}({t[2]})"),
            inner.map(lambda x: f"-{x}"),
            st.tuples(st.sampled_from(functions), inner).map(lambda t: f"{t[0]}({t[1]})"),
        )

    return grow


expression_texts = st.recursive(_leaves, _grower(safe_expr.FUNCTIONS), max_leaves=12)
# Without the periodic functions, whose float values at huge arguments are meaningless
# (sin(exp(27)) loses all its digits), float evaluation must match sympy closely.
well_conditioned_texts = st.recursive(
    _leaves, _grower(tuple(f for f in safe_expr.FUNCTIONS if f not in ("sin", "cos", "tan"))), max_leaves=10
)


@settings(max_examples=300, deadline=None, database=None)
@given(expression_texts)
def test_format_expression_parses_back_to_the_same_tree(text: str) -> None:
    try:
        node = parse_expression(text, ["s", "h"])
    except AnswerParseError:
        return  # e.g. a constant part with no value; the property is about valid trees
    assert parse_expression(format_expression(node), ["s", "h"]) == node


@settings(max_examples=300, deadline=None, database=None)
@given(well_conditioned_texts)
def test_evaluate_agrees_with_sympy(text: str) -> None:
    try:
        node = parse_expression(text, ["s", "h"])
        value = evaluate(node, {"s": 0.7, "h": 1.3})
    except AnswerParseError:
        return
    s, h = sympy.Symbol("s"), sympy.Symbol("h")
    exact = to_sympy(node, {"s": s, "h": h}).subs({s: sympy.Rational(7, 10), h: sympy.Rational(13, 10)})
    if not exact.is_finite:
        return  # e.g. s/sin(pi): exactly a division by zero, in floats sin(pi) = 1.2e-16
    reference = complex(sympy.N(exact, 30))
    assert reference.imag == pytest.approx(0, abs=1e-9 * max(1, abs(reference)))
    assert value == pytest.approx(reference.real, rel=1e-7, abs=1e-9)


grammar_soup = st.text(alphabet="0123456789.+-*/^()sepiqrtlogxn ,eE_[]'", max_size=60)


@settings(max_examples=500, deadline=None, database=None)
@given(st.one_of(st.text(max_size=80), grammar_soup))
def test_arbitrary_text_raises_nothing_but_answer_parse_error(text: str) -> None:
    try:
        node = parse_expression(text, ["s"])
    except AnswerParseError:
        return
    try:
        value = evaluate(node, {"s": 0.5})
    except AnswerParseError:
        return
    assert math.isfinite(value)
