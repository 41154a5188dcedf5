"""Tests for the section 1 answer exercises: keys computed by hand, full marks for the key,
misconceptions recognised from hand-computed wrong answers, and generation over many seeds."""

from __future__ import annotations

import math

import pytest

from exercises.answer import s01_fundamentals as s01
from grader.grading import grade_answer
from grader.selftest import assert_grades, variant_for


# --- regularized loss ----------------------------------------------------------------------

W1 = [[1.0, -2.0], [0.5, 1.5], [2.0, -0.5]]  # 2 inputs -> 3 hidden units
W2 = [[-1.0, 2.0, 0.5]]  # 3 hidden units -> 1 output
L2_PARAMS = {"kind": "l2", "data_loss": 0.5, "lam": 0.1, "w1": W1, "w2": W2}
L1_PARAMS = {"kind": "l1", "data_loss": 1.0, "lam": 0.2, "w1": W1, "w2": W2}
SQUARES = (1 + 4 + 0.25 + 2.25 + 4 + 0.25) + (1 + 4 + 0.25)  # 17.0
ABSOLUTES = (1 + 2 + 0.5 + 1.5 + 2 + 0.5) + (1 + 2 + 0.5)  # 11.0


def test_l2_total_loss_by_hand():
    assert s01.REGULARIZED_LOSS.solve(L2_PARAMS) == pytest.approx(0.5 + 0.1 * SQUARES)  # 2.2


def test_l1_total_loss_by_hand():
    assert s01.REGULARIZED_LOSS.solve(L1_PARAMS) == pytest.approx(1.0 + 0.2 * ABSOLUTES)  # 3.2


def test_l2_total_loss_grading():
    assert_grades(
        s01.REGULARIZED_LOSS,
        L2_PARAMS,
        2.2,
        {
            "forgot_lambda": 17.5,
            "mixed_up_l1_l2": 1.6,
            "norm_not_squared": 0.5 + 0.1 * (math.sqrt(11.75) + math.sqrt(5.25)),
            "forgot_data_loss": 1.7,
        },
    )


def test_l1_total_loss_grading():
    signed = (1 - 2 + 0.5 + 1.5 + 2 - 0.5) + (-1 + 2 + 0.5)  # 4.0
    assert_grades(
        s01.REGULARIZED_LOSS,
        L1_PARAMS,
        "3.2",
        {"forgot_abs": 1.0 + 0.2 * signed, "mixed_up_l1_l2": 4.4, "forgot_lambda": 12.0, "forgot_data_loss": 2.2},
    )


def test_norm_and_abs_mistakes_only_apply_to_their_penalty():
    assert s01._norm_not_squared(L1_PARAMS) is None
    assert s01._forgot_abs(L2_PARAMS) is None


# --- diagnosing the fit --------------------------------------------------------------------

FIT_OPTIONS = ["A good fit", "Overfitting", "Underfitting"]


def test_overfitting_diagnosis():
    params = {"train_acc": 97, "val_acc": 70, "options": FIT_OPTIONS}
    assert s01.DIAGNOSE_FIT.solve(params) == "B"
    assert_grades(s01.DIAGNOSE_FIT, params, "b", {"judged_by_train_only": "A", "swapped_over_under": "Underfitting"})


def test_underfitting_diagnosis():
    params = {"train_acc": 65, "val_acc": 60, "options": FIT_OPTIONS}
    assert s01.DIAGNOSE_FIT.solve(params) == "C"
    assert_grades(s01.DIAGNOSE_FIT, params, "C", {"swapped_over_under": "B"})


def test_good_fit_diagnosis():
    params = {"train_acc": 95, "val_acc": 92, "options": FIT_OPTIONS}
    assert s01.DIAGNOSE_FIT.solve(params) == "A"
    assert_grades(s01.DIAGNOSE_FIT, params, "A", {"any_gap_is_overfitting": "B"})


# --- remedies ------------------------------------------------------------------------------

REMEDY_OPTIONS = [
    "Dropout",  # A
    "Training for more epochs",  # B
    "Gradient clipping",  # C
    "Early stopping",  # D
    "A bigger model (more layers or units)",  # E
    "L2 regularization (weight decay)",  # F
    "Data augmentation",  # G
]


def test_remedies_for_overfitting():
    params = {"train_acc": 99, "val_acc": 75, "options": REMEDY_OPTIONS}
    assert s01.FIT_REMEDIES.solve(params) == ("A", "D", "F", "G")
    assert_grades(
        s01.FIT_REMEDIES,
        params,
        ["G", "F", "D", "A"],
        {"fixes_of_other_problem": ["B", "E"], "ticked_everything": "ABCDEFG"},
    )


def test_remedies_for_underfitting():
    params = {"train_acc": 70, "val_acc": 66, "options": REMEDY_OPTIONS}
    assert s01.FIT_REMEDIES.solve(params) == ("B", "E")
    assert_grades(
        s01.FIT_REMEDIES,
        params,
        "B, E",
        {"fixes_of_other_problem": ["A", "D", "F", "G"], "more_data_for_underfitting": ["B", "E", "G"]},
    )


def test_partial_credit_for_remedies():
    params = {"train_acc": 99, "val_acc": 75, "options": REMEDY_OPTIONS}
    variant = variant_for(s01.FIT_REMEDIES, params)
    assert grade_answer(s01.FIT_REMEDIES, variant, ["A", "D"]).score == pytest.approx(0.5)


GRADIENT_OPTIONS = [
    "Gradient clipping",  # A
    "He initialization",  # B
    "Sigmoid activations in every layer",  # C
    "Residual (skip) connections",  # D
    "ReLU activations",  # E
    "Batch normalization",  # F
    "Removing the skip connections",  # G
]


def test_vanishing_gradient_fixes():
    params = {"problem": "vanishing", "options": GRADIENT_OPTIONS}
    assert s01.GRADIENT_FIXES.solve(params) == ("B", "D", "E", "F")
    assert_grades(
        s01.GRADIENT_FIXES,
        params,
        ["B", "D", "E", "F"],
        {"other_problems_fix": ["A", "B", "D", "E", "F"], "missed_residual_connections": ["B", "E", "F"]},
    )


def test_exploding_gradient_fixes():
    options = ["A larger learning rate", "Residual (skip) connections", "ReLU activations", "Gradient clipping",
               "Removing the skip connections"]
    params = {"problem": "exploding", "options": options}
    assert s01.GRADIENT_FIXES.solve(params) == ("B", "D")
    assert_grades(
        s01.GRADIENT_FIXES, params, ["D", "B"], {"other_problems_fix": ["B", "C", "D"], "missed_residual_connections": ["D"]}
    )


# --- true/false statements -----------------------------------------------------------------


def test_false_statement_about_l2_sparsity():
    index = 1
    params = {"statement_index": index, "statement": s01.REGULARIZER_STATEMENTS[index][0]}
    assert "L2" in params["statement"] and "zero" in params["statement"]
    assert s01.REGULARIZER_STATEMENT.solve(params) is False
    assert_grades(s01.REGULARIZER_STATEMENT, params, "false", {"l1_l2_swapped": True})


def test_true_statement_about_lambda():
    index = 4
    params = {"statement_index": index, "statement": s01.REGULARIZER_STATEMENTS[index][0]}
    assert "Increasing lambda" in params["statement"]
    assert s01.REGULARIZER_STATEMENT.solve(params) is True
    assert_grades(s01.REGULARIZER_STATEMENT, params, True, {"lambda_direction": "no"})
