"""Tests for the section 5 answer exercises: keys computed by hand, full marks for the key,
misconceptions recognised from hand-computed wrong answers, and generation over many seeds."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from exercises.answer import s05_adversarial as s05
from grader.variant import make_variant
from grader.selftest import assert_grades, variant_for


# --- FGSM ----------------------------------------------------------------------------------

X = [0.2, 0.5, 0.8, 0.4]
GRAD = [0.5, -1.5, 0.2, -0.3]


def test_untargeted_fgsm_by_hand():
    params = {"x": X, "grad": GRAD, "eps": 0.05, "targeted": False}
    assert s05.FGSM_STEP.solve(params) == pytest.approx([0.25, 0.45, 0.85, 0.35])
    assert_grades(
        s05.FGSM_STEP,
        params,
        [0.25, 0.45, 0.85, 0.35],
        {
            "wrong_direction": [0.15, 0.55, 0.75, 0.45],
            "used_raw_gradient": [0.225, 0.425, 0.81, 0.385],
            "forgot_eps": [1.2, -0.5, 1.8, -0.6],
        },
    )


def test_targeted_fgsm_by_hand():
    params = {"x": X, "grad": GRAD, "eps": 0.05, "targeted": True}
    assert s05.FGSM_STEP.solve(params) == pytest.approx([0.15, 0.55, 0.75, 0.45])
    assert_grades(
        s05.FGSM_STEP,
        params,
        "[0.15, 0.55, 0.75, 0.45]",
        {
            "wrong_direction": [0.25, 0.45, 0.85, 0.35],
            "used_raw_gradient": [0.175, 0.575, 0.79, 0.415],
            "forgot_eps": [-0.8, 1.5, -0.2, 1.4],
        },
    )


def test_surrogate_model_has_the_given_gradient_direction():
    direction = torch.tensor(GRAD, dtype=torch.float64)
    model = s05._model_with_input_gradient(direction)
    x = torch.tensor([X], dtype=torch.float64, requires_grad=True)
    F.cross_entropy(model(x), torch.tensor([0])).backward()
    ratio = x.grad[0] / direction
    assert torch.all(ratio > 0) and torch.allclose(ratio, ratio[0].expand(4))


# --- projection ----------------------------------------------------------------------------

PROJECT_PARAMS = {"x": [0.5, 0.3, 0.6, 0.4], "x_adv": [0.6, 0.2, 0.62, 0.37], "eps": 0.05}
# changes: +0.1, -0.1, +0.02, -0.03


def test_project_linf_by_hand():
    assert s05.PROJECT_LINF.solve(PROJECT_PARAMS) == pytest.approx([0.55, 0.25, 0.62, 0.37])


def test_project_linf_grading():
    assert_grades(
        s05.PROJECT_LINF,
        PROJECT_PARAMS,
        [0.55, 0.25, 0.62, 0.37],
        {
            "returned_perturbation": [0.05, -0.05, 0.02, -0.03],
            "rescaled_perturbation": [0.55, 0.25, 0.61, 0.385],
            "clipped_above_only": [0.55, 0.2, 0.62, 0.37],
        },
    )


# --- within the budget? --------------------------------------------------------------------


def _budget_params(delta: list[int], eps: int) -> dict:
    x = [50, 40, 60, 30]
    return {
        "x": [v / 100 for v in x],
        "x_adv": [(v + d) / 100 for v, d in zip(x, delta)],
        "eps": eps / 100,
        "delta_hundredths": delta,
        "eps_hundredths": eps,
    }


def test_within_budget_on_the_boundary():
    # max |change| = 0.03 = eps: allowed; the L2 norm sqrt(0.0017) > 0.03 is not what counts
    params = _budget_params([3, -2, 2, 0], 3)
    assert s05.WITHIN_BUDGET.solve(params) is True
    assert_grades(s05.WITHIN_BUDGET, params, "true", {"used_l2_norm": False}, absent=("ignored_sign", "used_mean_change"))


def test_negative_change_breaks_the_budget():
    params = _budget_params([-5, -4, 1, 2], 3)
    assert s05.WITHIN_BUDGET.solve(params) is False
    assert_grades(s05.WITHIN_BUDGET, params, False, {"ignored_sign": "yes"}, absent=("used_l2_norm", "used_mean_change"))


def test_one_large_change_breaks_the_budget():
    # mean |change| = 7 / 4 hundredths is within eps = 4 hundredths, the maximum 5 is not
    params = _budget_params([5, 1, 0, -1], 4)
    assert s05.WITHIN_BUDGET.solve(params) is False
    assert_grades(s05.WITHIN_BUDGET, params, "f", {"used_mean_change": True}, absent=("ignored_sign", "used_l2_norm"))


def test_generated_budget_params_are_consistent():
    for seed in range(40):
        p = make_variant(s05.WITHIN_BUDGET, seed).params
        changes = [round((a - x) * 100) for a, x in zip(p["x_adv"], p["x"])]
        assert changes == p["delta_hundredths"]
        assert s05.WITHIN_BUDGET.solve(p) == (max(abs(d) for d in changes) <= p["eps_hundredths"])


# --- L-infinity distance -------------------------------------------------------------------


def test_linf_distance_by_hand():
    # changes -0.09, +0.02, +0.05, -0.03
    params = {"x": [0.5, 0.4, 0.3, 0.6], "x_adv": [0.41, 0.42, 0.35, 0.57]}
    assert s05.LINF_DISTANCE.solve(params) == pytest.approx(0.09)
    assert_grades(
        s05.LINF_DISTANCE,
        params,
        0.09,
        {"ignored_abs": 0.05, "used_l2_norm": (0.0081 + 0.0004 + 0.0025 + 0.0009) ** 0.5, "used_l1_norm": 0.19},
    )


def test_ignored_abs_does_not_apply_when_the_largest_change_is_positive():
    params = {"x": [0.5, 0.4, 0.3, 0.6], "x_adv": [0.47, 0.49, 0.35, 0.52]}
    assert s05.LINF_DISTANCE.solve(params) == pytest.approx(0.09)
    assert "ignored_abs" not in variant_for(s05.LINF_DISTANCE, params).misconceptions


# --- attack objective ----------------------------------------------------------------------

OBJECTIVE_OPTIONS = list(s05.OBJECTIVES.values())  # max true, min target, min true, max target


def test_untargeted_objective():
    params = {"kind": "untargeted", "scenario": s05.SCENARIOS["untargeted"][0], "options": OBJECTIVE_OPTIONS}
    assert s05.ATTACK_OBJECTIVE.solve(params) == "A"
    assert_grades(s05.ATTACK_OBJECTIVE, params, "A", {"swapped_min_max": "C", "other_attack_type": "B"})


def test_targeted_objective():
    params = {"kind": "targeted", "scenario": s05.SCENARIOS["targeted"][1], "options": OBJECTIVE_OPTIONS}
    assert s05.ATTACK_OBJECTIVE.solve(params) == "B"
    assert_grades(s05.ATTACK_OBJECTIVE, params, "(B)", {"swapped_min_max": "D", "other_attack_type": "A"})
