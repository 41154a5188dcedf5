"""The trusted comparison of outputs: shapes, dtype families, tolerances, NaN and infinity
rules, sequences, strict plain types, and hidden messages that disclose no expected value."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from grader.code.compare import binomial_consistent, compare_outputs, compare_tensors, dtype_family
from grader.code.exercise import Tolerance

TOL = Tolerance(rtol=1e-6, atol=1e-8)
F64 = torch.float64


def t(values, dtype=F64) -> torch.Tensor:
    return torch.tensor(values, dtype=dtype)


def test_equal_tensors_pass_and_small_differences_within_tolerance_pass() -> None:
    expected = t([[1.0, 2.0], [3.0, 4.0]])
    assert compare_tensors(expected, expected.clone(), TOL).ok
    assert compare_tensors(expected, expected * (1 + 5e-7), TOL).ok
    assert not compare_tensors(expected, expected * (1 + 5e-5), TOL).ok


def test_float32_arithmetic_is_judged_by_value() -> None:
    expected = t([0.1, 0.2, 0.3])
    assert compare_tensors(expected, expected.float(), Tolerance(rtol=1e-6, atol=1e-7)).ok
    assert not compare_tensors(expected, expected.float(), Tolerance(rtol=1e-12, atol=0.0)).ok


def test_shape_mismatch_names_both_shapes() -> None:
    verdict = compare_tensors(torch.zeros(2, 3, dtype=F64), torch.zeros(3, 2, dtype=F64), TOL)
    assert not verdict.ok
    assert "(3, 2)" in verdict.message and "(2, 3)" in verdict.message


def test_scalar_shape_one_is_not_a_scalar() -> None:
    verdict = compare_tensors(t(1.0), t([1.0]), TOL)
    assert not verdict.ok and "shape (1,)" in verdict.message


def test_dtype_family_must_match() -> None:
    assert dtype_family(torch.float16) == "float" and dtype_family(torch.int32) == "int"
    assert dtype_family(torch.bool) == "bool" and dtype_family(torch.complex64) == "complex"
    verdict = compare_tensors(t([1.0, 2.0]), t([1, 2], torch.int64), TOL)
    assert not verdict.ok and "int" in verdict.message and "float" in verdict.message
    assert not compare_tensors(t([True, False], torch.bool), t([1, 0], torch.int64), TOL).ok
    assert compare_tensors(t([1, 2], torch.int64), t([1, 2], torch.int32), TOL).ok


def test_nan_where_a_finite_value_is_expected_fails_with_its_position() -> None:
    got = t([1.0, math.nan, 3.0])
    verdict = compare_tensors(t([1.0, 2.0, 3.0]), got, TOL)
    assert not verdict.ok
    assert "NaN" in verdict.message and "index [1]" in verdict.message


def test_nan_matches_nan_and_a_number_where_nan_is_expected_fails() -> None:
    assert compare_tensors(t([math.nan, 1.0]), t([math.nan, 1.0]), TOL).ok
    verdict = compare_tensors(t([math.nan, 1.0]), t([0.0, 1.0]), TOL)
    assert not verdict.ok and "NaN is expected" in verdict.message


def test_infinities_must_match_in_position_and_sign() -> None:
    expected = t([math.inf, -math.inf, 1.0])
    assert compare_tensors(expected, expected.clone(), TOL).ok
    assert not compare_tensors(expected, t([-math.inf, -math.inf, 1.0]), TOL).ok
    assert not compare_tensors(expected, t([1e308, -math.inf, 1.0]), TOL).ok
    verdict = compare_tensors(t([1.0, 2.0]), t([1.0, math.inf]), TOL)
    assert not verdict.ok and "infinity" in verdict.message


def test_public_message_shows_values_hidden_message_does_not() -> None:
    expected = t([[1.0, 123.456], [2.0, 3.0]])
    got = t([[1.0, 7.0], [2.0, 3.0]])
    public = compare_tensors(expected, got, TOL, reveal=True)
    hidden = compare_tensors(expected, got, TOL, reveal=False)
    assert not public.ok and not hidden.ok
    assert "123.456" in public.message and "index [0, 1]" in public.message
    assert "123" not in hidden.message and "116" not in hidden.message
    assert "1 of 4 values differ" in hidden.message
    scalar = compare_outputs(t(98.765), t(1.0), TOL, reveal=False)
    assert not scalar.ok and "98" not in scalar.message


def test_tuples_are_compared_element_by_element_and_name_the_element() -> None:
    expected = (t([1.0]), t([[1.0, 2.0]]), t([3.0]))
    got = [t([1.0]), t([[2.0, 1.0]]), t([3.0])]  # a list is accepted for a tuple
    verdict = compare_outputs(expected, got, TOL, names=("dx", "dW", "db"))
    assert not verdict.ok
    assert verdict.message.startswith("element 1 (dW) of 3")
    assert compare_outputs(expected, tuple(e.clone() for e in expected), TOL).ok
    short = compare_outputs(expected, (t([1.0]),), TOL)
    assert not short.ok and "3 elements" in short.message


def test_only_plain_data_is_accepted() -> None:
    class Liar:
        def __eq__(self, other: object) -> bool:
            return True

    class TrueStr(str):
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = str.__hash__

    assert not compare_outputs(t([1.0]), Liar(), TOL).ok
    assert not compare_outputs("queen", Liar(), TOL).ok
    assert not compare_outputs("queen", TrueStr("king"), TOL).ok
    assert not compare_outputs(t([1.0]), torch.nn.Parameter(t([1.0])), TOL).ok
    assert not compare_outputs((t([1.0]),), Liar(), TOL).ok


def test_numpy_arrays_and_python_numbers_are_plain_data() -> None:
    assert compare_outputs(t([1.5, 2.0]), np.array([1.5, 2.0]), TOL).ok
    assert compare_outputs(t(2.5), 2.5, TOL).ok
    assert not compare_outputs(t([2.5]), 2.5, TOL).ok  # a number only stands for a 0-d tensor
    assert not compare_outputs(t(2.5), 2, TOL).ok  # int family against float


def test_strings_and_numbers() -> None:
    assert compare_outputs("queen", "queen", TOL).ok
    verdict = compare_outputs("queen", "king", TOL, reveal=False)
    assert not verdict.ok and "queen" not in verdict.message
    assert compare_outputs(1.0, 1.0 + 1e-9, TOL).ok
    assert not compare_outputs(True, 1, TOL).ok
    assert compare_outputs(None, None, TOL).ok and not compare_outputs(None, 0, TOL).ok


def test_binomial_consistency() -> None:
    assert binomial_consistent(300, 1000, 0.3)
    assert not binomial_consistent(500, 1000, 0.3)
    assert binomial_consistent(0, 1000, 0.0) and not binomial_consistent(5, 1000, 0.0)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_scalar_nan_or_inf_where_finite_expected(bad: float) -> None:
    assert not compare_outputs(t(1.0), t(bad), TOL).ok


def test_shown_values_include_the_first_difference() -> None:
    from grader.code.compare import describe, first_difference

    expected = torch.arange(40, dtype=torch.float64).reshape(4, 10)
    got = expected.clone()
    got[2, 7] = -1.0
    focus = first_difference(expected, got, TOL)
    assert focus == 27
    text = describe(got, focus=focus)
    assert "-1" in text and "from [2, 5]" in text  # the window starts two before the wrong value
    assert "-1" not in describe(got)  # without the focus the first 6 values are shown
    assert first_difference(expected, expected.clone(), TOL) is None
    assert describe(got, focus=3) == describe(got)  # already in the first values


def test_a_long_wrong_string_is_shown_where_it_differs() -> None:
    expected = "a" * 100 + "b" + "c" * 20
    got = "a" * 100 + "X" + "c" * 20
    verdict = compare_outputs(expected, got, TOL, reveal=False)
    assert not verdict.ok and "X" in verdict.message
