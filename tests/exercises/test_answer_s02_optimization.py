"""Tests for the section 2 answer exercises: keys computed by hand (written-out arithmetic),
full marks for the key, misconceptions recognised from hand-computed wrong answers, and
generation over many seeds."""

from __future__ import annotations

import math

import pytest
import torch

from exercises.answer import s02_optimization as s02
from grader.answers import evaluate, parse_expression
from grader.variant import make_variant
from grader.selftest import assert_grades
from reference.optimization import sigmoid_backward, tanh_backward


# --- SGD -----------------------------------------------------------------------------------

SGD_PARAMS = {"theta": [0.5, -0.2], "grads": [[1, -2], [3, 0], [2, 4]], "lr": 0.1}
# mean gradient: [(1 + 3 + 2) / 3, (-2 + 0 + 4) / 3] = [2, 2/3]


def test_sgd_step_by_hand():
    assert s02.SGD_STEP.solve(SGD_PARAMS) == pytest.approx([0.5 - 0.1 * 2, -0.2 - 0.1 * 2 / 3])


def test_sgd_step_grading():
    assert_grades(
        s02.SGD_STEP,
        SGD_PARAMS,
        [0.3, -0.2667],
        {
            "summed_gradients": [0.5 - 0.6, -0.2 - 0.2],
            "added_gradient": [0.7, -0.1333],
            "forgot_learning_rate": [-1.5, -0.8667],
        },
    )


# --- momentum ------------------------------------------------------------------------------

MOMENTUM_PARAMS = {"theta": [1.0, -0.5], "velocity": [0.4, -1.0], "grad": [2.0, 0.5], "lr": 0.1, "momentum": 0.9}
# v_new = [0.9 * 0.4 + 2, 0.9 * -1 + 0.5] = [2.36, -0.4]


def test_momentum_step_by_hand():
    assert s02.MOMENTUM_STEP.solve(MOMENTUM_PARAMS) == pytest.approx([1 - 0.236, -0.5 + 0.04])


def test_momentum_step_grading():
    assert_grades(
        s02.MOMENTUM_STEP,
        MOMENTUM_PARAMS,
        "[0.764, -0.46]",
        {
            "forgot_momentum": [0.8, -0.55],
            "averaged_velocity": [1 - 0.1 * (0.36 + 0.2), -0.5 - 0.1 * (-0.9 + 0.05)],
            "added_step": [1.236, -0.54],
        },
    )


# --- Adam ----------------------------------------------------------------------------------


def test_adam_first_step_by_hand():
    # m = 0.1 * 2 = 0.2, v = 0.001 * 4; m_hat = 2, v_hat = 4: the step is lr * 2 / 2.
    params = {"theta": 0.5, "grads": [2.0], "lr": 0.1}
    assert s02.ADAM_STEPS.solve(params) == pytest.approx(0.5 - 0.1 * 2 / (2 + 1e-8))
    assert_grades(
        s02.ADAM_STEPS,
        params,
        0.4,
        {
            "forgot_bias_correction": 0.5 - 0.1 * 0.2 / math.sqrt(0.004),  # 0.18377
            "forgot_sqrt": 0.5 - 0.1 * 2 / 4,
            "added_update": 0.6,
        },
    )


def test_adam_second_step_by_hand():
    params = {"theta": 0.5, "grads": [2.0, -1.0], "lr": 0.1}
    m2 = 0.9 * 0.2 + 0.1 * -1.0  # 0.08
    v2 = 0.999 * 0.004 + 0.001 * 1.0  # 0.004996
    m_hat, v_hat = m2 / (1 - 0.9**2), v2 / (1 - 0.999**2)
    expected = 0.4 - 0.1 * m_hat / math.sqrt(v_hat)  # 0.37337
    assert s02.ADAM_STEPS.solve(params) == pytest.approx(expected, rel=1e-6)
    no_correction = 0.5 - 0.1 * 0.2 / math.sqrt(0.004) - 0.1 * m2 / math.sqrt(v2)
    no_sqrt = 0.5 - 0.1 * 2 / 4 - 0.1 * m_hat / v_hat
    assert_grades(
        s02.ADAM_STEPS,
        params,
        round(expected, 4),
        {"forgot_bias_correction": no_correction, "forgot_sqrt": no_sqrt, "added_update": 1.0 - expected},
    )


def test_adam_key_matches_torch_optim():
    param = torch.tensor([0.3], dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.Adam([param], lr=0.1)
    for grad in (3.0, -0.5):
        param.grad = torch.tensor([grad], dtype=torch.float64)
        optimizer.step()
    params = {"theta": 0.3, "grads": [3.0, -0.5], "lr": 0.1}
    assert s02.ADAM_STEPS.solve(params) == pytest.approx(param.item(), rel=1e-12)


# --- critical points -----------------------------------------------------------------------

POINT_OPTIONS = [
    "A local minimum",
    "A local maximum",
    "A saddle point",
    "The Hessian cannot tell (the second-order test is inconclusive)",
]


def test_saddle_with_positive_trace():
    # eigenvalues of [[1, 3], [3, 1]]: 1 + 3 = 4 and 1 - 3 = -2, of both signs.
    params = {"hessian": [[1, 3], [3, 1]], "options": POINT_OPTIONS}
    assert s02.CRITICAL_POINT.solve(params) == "C"
    assert s02._judged_by_determinant_only(params) is None  # det = -8 < 0 gives "saddle" too
    assert_grades(s02.CRITICAL_POINT, params, "C", {"judged_by_trace": "A"})


def test_maximum_with_positive_determinant():
    # det = 6 - 1 = 5 > 0 and trace = -5 < 0: both eigenvalues negative.
    params = {"hessian": [[-2, 1], [1, -3]], "options": POINT_OPTIONS}
    assert s02.CRITICAL_POINT.solve(params) == "B"
    assert_grades(s02.CRITICAL_POINT, params, "b", {"judged_by_determinant_only": "A"})


def test_minimum():
    params = {"hessian": [[2, 1], [1, 3]], "options": POINT_OPTIONS}
    assert s02.CRITICAL_POINT.solve(params) == "A"


# --- softmax + cross-entropy ---------------------------------------------------------------

CE_PARAMS = {"logits": [[1.0, 2.0, 0.0], [0.5, 0.5, -1.0]], "labels": [1, 2]}


def _hand_softmax(row: list[float]) -> list[float]:
    exps = [math.exp(v) for v in row]
    return [e / sum(exps) for e in exps]


def test_softmax_ce_gradient_by_hand():
    p1, p2 = _hand_softmax([1.0, 2.0, 0.0]), _hand_softmax([0.5, 0.5, -1.0])
    expected = [[p1[0] / 2, (p1[1] - 1) / 2, p1[2] / 2], [p2[0] / 2, p2[1] / 2, (p2[2] - 1) / 2]]
    key = s02.SOFTMAX_CE_GRAD.solve(CE_PARAMS)
    assert key == [pytest.approx(row) for row in expected]
    assert key[0] == pytest.approx([0.122364, -0.167380, 0.045015], abs=1e-6)


def test_softmax_ce_gradient_grading():
    p1, p2 = _hand_softmax([1.0, 2.0, 0.0]), _hand_softmax([0.5, 0.5, -1.0])
    assert_grades(
        s02.SOFTMAX_CE_GRAD,
        CE_PARAMS,
        [[0.1224, -0.1674, 0.0450], [0.2249, 0.2249, -0.4498]],
        {
            "forgot_one_hot": [[v / 2 for v in p1], [v / 2 for v in p2]],
            "forgot_batch_mean": [[p1[0], p1[1] - 1, p1[2]], [p2[0], p2[1], p2[2] - 1]],
            "onehot_minus_p": [[-0.1224, 0.1674, -0.0450], [-0.2249, -0.2249, 0.4498]],
        },
    )


# --- ReLU backward -------------------------------------------------------------------------

RELU_PARAMS = {"x": [0, -2, 3, 1, -1], "dout": [1.5, -1.0, 2.0, -0.5, 2.5]}


def test_relu_backward_by_hand():
    assert s02.RELU_BACKWARD.solve(RELU_PARAMS) == [0.0, 0.0, 2.0, -0.5, 0.0]


def test_relu_backward_grading():
    assert_grades(
        s02.RELU_BACKWARD,
        RELU_PARAMS,
        [0, 0, 2, -0.5, 0],
        {
            "zero_input_passes": [1.5, 0, 2, -0.5, 0],
            "forgot_upstream": [0, 0, 1, 1, 0],
            "gated_by_upstream_sign": [1.5, 0, 2, 0, 2.5],
        },
    )


# --- linear dW -----------------------------------------------------------------------------

LINEAR_PARAMS = {"x": [[1, 2, 0], [-1, 3, 2]], "dout": [[1, -2], [2, 1]]}
# dW[d] = sum_n x[n, d] * dout[n]: [1*(1,-2) - 1*(2,1), 2*(1,-2) + 3*(2,1), 0 + 2*(2,1)]
LINEAR_DW = [[-1, -3], [8, -1], [4, 2]]


def test_linear_dw_by_hand():
    assert s02.LINEAR_DW.solve(LINEAR_PARAMS) == LINEAR_DW


def test_linear_dw_grading():
    assert_grades(
        s02.LINEAR_DW,
        LINEAR_PARAMS,
        LINEAR_DW,
        {
            "transposed": [[-1, 8, 4], [-3, -1, 2]],
            "forgot_upstream": [[0, 0], [5, 5], [2, 2]],
            "divided_by_batch": [[-0.5, -1.5], [4, -0.5], [2, 1]],
        },
    )


# --- sigmoid / tanh backward ---------------------------------------------------------------


def test_sigmoid_backward_expression():
    params = {"activation": "sigmoid"}
    assert_grades(
        s02.ACTIVATION_BACKWARD,
        params,
        "u*s - u*s^2",
        {"forgot_upstream": "s*(1-s)", "other_activations_derivative": "u*(1-s^2)", "wrong_form": "u*s*(1+s)"},
    )


def test_tanh_backward_expression():
    params = {"activation": "tanh"}
    assert_grades(
        s02.ACTIVATION_BACKWARD,
        params,
        "u*(1-s)*(1+s)",
        {"forgot_upstream": "1 - s^2", "other_activations_derivative": "u*s*(1-s)", "wrong_form": "u*(1-s)^2"},
    )


@pytest.mark.parametrize("activation, backward, forward", [
    ("sigmoid", sigmoid_backward, torch.sigmoid),
    ("tanh", tanh_backward, torch.tanh),
])
def test_activation_keys_agree_with_reference(activation, backward, forward):
    key = parse_expression(s02.ACTIVATION_BACKWARD.solve({"activation": activation}), ("s", "u"))
    for h, u in [(-1.3, 0.7), (0.2, -2.0), (2.5, 1.5)]:
        s = forward(torch.tensor(h, dtype=torch.float64)).item()
        expected = backward(torch.tensor(u, dtype=torch.float64), torch.tensor(h, dtype=torch.float64)).item()
        assert evaluate(key, {"s": s, "u": u}) == pytest.approx(expected, rel=1e-12)


def test_relu_inputs_always_contain_an_exact_zero():
    for seed in range(40):
        assert 0 in make_variant(s02.RELU_BACKWARD, seed).params["x"]
