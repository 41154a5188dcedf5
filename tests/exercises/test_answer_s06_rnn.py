"""Tests for the section 6 answer exercises: keys computed by hand and checked against
PyTorch's recurrent layers, full marks for the key, misconceptions recognised from
hand-computed wrong answers, and generation over many seeds."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from exercises.answer import s06_rnn as s06
from grader.answers import evaluate, parse_expression
from grader.selftest import assert_grades
from reference.rnn import lstm_param_count


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


# --- LSTM update from gates ----------------------------------------------------------------

UPDATE_PARAMS = {"i": [0.5, 0.2], "f": [0.8, 0.6], "g": [0.4, -0.5], "o": [0.9, 0.3], "c_prev": [1.0, -2.0]}
# c = f * c_prev + i * g = [0.8 + 0.2, -1.2 - 0.1] = [1.0, -1.3]


def test_lstm_update_by_hand():
    expected = [[1.0, -1.3], [0.9 * math.tanh(1.0), 0.3 * math.tanh(-1.3)]]
    assert s06.LSTM_UPDATE.solve(UPDATE_PARAMS) == [pytest.approx(row) for row in expected]
    assert expected[1] == pytest.approx([0.685435, -0.258517], abs=1e-6)


def test_lstm_update_grading():
    assert_grades(
        s06.LSTM_UPDATE,
        UPDATE_PARAMS,
        [[1.0, -1.3], [0.6854, -0.2585]],
        {
            "no_tanh": [[1.0, -1.3], [0.9, -0.39]],
            "forgot_input_gate": [[1.2, -1.7], [0.9 * math.tanh(1.2), 0.3 * math.tanh(-1.7)]],
            "swapped_forget_input": [[0.82, -0.7], [0.9 * math.tanh(0.82), 0.3 * math.tanh(-0.7)]],
        },
    )


# --- LSTM step from pre-activations --------------------------------------------------------

PRE_PARAMS = {"z": [0.0, 1.0, 0.5, -1.0], "c_prev": 2.0}


def _h(i: float, f: float, g: float, o: float, c_prev: float = 2.0) -> float:
    return o * math.tanh(f * c_prev + i * g)


def test_lstm_preactivations_by_hand():
    # i = sigmoid(0) = 0.5, f = sigmoid(1), g = tanh(0.5), o = sigmoid(-1)
    expected = _h(0.5, sigmoid(1.0), math.tanh(0.5), sigmoid(-1.0))
    assert s06.LSTM_PREACTIVATIONS.solve(PRE_PARAMS) == pytest.approx(expected)


def test_lstm_preactivations_match_lstm_cell():
    cell = nn.LSTMCell(4, 1).double()
    with torch.no_grad():
        cell.weight_ih.copy_(torch.eye(4))
        cell.weight_hh.zero_()
        cell.bias_ih.zero_()
        cell.bias_hh.zero_()
        h, _ = cell(torch.tensor([PRE_PARAMS["z"]], dtype=torch.float64),
                    (torch.zeros(1, 1, dtype=torch.float64), torch.tensor([[2.0]], dtype=torch.float64)))
    assert s06.LSTM_PREACTIVATIONS.solve(PRE_PARAMS) == pytest.approx(h.item(), rel=1e-12)


def test_lstm_preactivations_grading():
    i, f, o = 0.5, sigmoid(1.0), sigmoid(-1.0)
    c = f * 2.0 + i * math.tanh(0.5)
    assert_grades(
        s06.LSTM_PREACTIVATIONS,
        PRE_PARAMS,
        round(_h(i, f, math.tanh(0.5), o), 4),
        {
            "gate_order_ifog": _h(i, f, math.tanh(-1.0), sigmoid(0.5)),
            "sigmoid_candidate": _h(i, f, sigmoid(0.5), o),
            "no_tanh": o * c,
        },
    )


# --- LSTM parameter count ------------------------------------------------------------------


def test_one_layer_lstm_param_count():
    # 4 gates * 64 units * (32 inputs + 64 recurrent) + two biases of 4 * 64
    params = {"input_size": 32, "hidden_size": 64, "num_layers": 1}
    assert s06.LSTM_PARAM_COUNT.solve(params) == 4 * 64 * 96 + 2 * 256 == 25088
    assert sum(t.numel() for t in nn.LSTM(32, 64).parameters()) == 25088
    assert_grades(
        s06.LSTM_PARAM_COUNT,
        params,
        25088,
        {"forgot_four_gates": 64 * 96 + 128, "one_bias_vector": 24832, "forgot_recurrent_weights": 4 * 64 * 32 + 512},
        absent=("upper_layer_input_is_x",),
    )


def test_two_layer_lstm_param_count():
    # layer 1: 25088; layer 2 reads the 64-dim hidden state: 4 * 64 * 128 + 512 = 33280
    params = {"input_size": 32, "hidden_size": 64, "num_layers": 2}
    assert s06.LSTM_PARAM_COUNT.solve(params) == 25088 + 33280
    assert sum(t.numel() for t in nn.LSTM(32, 64, num_layers=2).parameters()) == 58368
    assert_grades(
        s06.LSTM_PARAM_COUNT,
        params,
        "58368",
        {
            "forgot_four_gates": (64 * 96 + 128) + (64 * 128 + 128),
            "one_bias_vector": 58368 - 2 * 256,
            "upper_layer_input_is_x": 2 * 25088,
            "forgot_recurrent_weights": 58368 - 2 * 4 * 64 * 64,
        },
    )


# --- LSTM parameter formula ----------------------------------------------------------------


def test_pytorch_formula_grading():
    assert s06.LSTM_PARAM_EXPRESSION.solve({"biases": 2}) == "4*h*(x+h+2)"
    assert_grades(
        s06.LSTM_PARAM_EXPRESSION,
        {"biases": 2},
        "4*h^2 + 4*h*x + 8*h",
        {"forgot_four_gates": "h*(h+x+2)", "wrong_bias_count": "4*h*(h+x+1)", "forgot_recurrent_weights": "4*h*x + 8*h"},
    )


def test_textbook_formula_grading():
    assert_grades(
        s06.LSTM_PARAM_EXPRESSION,
        {"biases": 1},
        "4*(h*h + h*x + h)",
        {"forgot_four_gates": "h*(x+h+1)", "wrong_bias_count": "4*h*(x+h+2)", "forgot_recurrent_weights": "4*h*(x+1)"},
    )


@pytest.mark.parametrize("x, h", [(1, 1), (10, 20), (300, 128)])
def test_formulas_agree_with_reference_counts(x, h):
    two_biases = parse_expression(s06.LSTM_PARAM_EXPRESSION.solve({"biases": 2}), ("h", "x"))
    one_bias = parse_expression(s06.LSTM_PARAM_EXPRESSION.solve({"biases": 1}), ("h", "x"))
    assert evaluate(two_biases, {"h": h, "x": x}) == lstm_param_count(x, h)
    assert evaluate(one_bias, {"h": h, "x": x}) == lstm_param_count(x, h, bias=False) + 4 * h


# --- vanilla RNN step ----------------------------------------------------------------------

RNN_PARAMS = {
    "w_ih": [[1.0, 0.5], [-0.5, 0.0]],
    "w_hh": [[0.5, 0.0], [1.0, -1.0]],
    "b": [0.1, -0.2],
    "x": [1.0, 2.0],
    "h_prev": [0.4, -0.2],
}
# W_ih x = [2, -0.5]; W_hh h = [0.2, 0.6]; + b = [2.3, -0.1]


def test_rnn_step_by_hand():
    assert s06.RNN_STEP.solve(RNN_PARAMS) == pytest.approx([math.tanh(2.3), math.tanh(-0.1)])


def test_rnn_step_matches_rnn_cell():
    cell = nn.RNNCell(2, 2).double()
    with torch.no_grad():
        cell.weight_ih.copy_(torch.tensor(RNN_PARAMS["w_ih"], dtype=torch.float64))
        cell.weight_hh.copy_(torch.tensor(RNN_PARAMS["w_hh"], dtype=torch.float64))
        cell.bias_ih.copy_(torch.tensor(RNN_PARAMS["b"], dtype=torch.float64))
        cell.bias_hh.zero_()
        h = cell(torch.tensor([RNN_PARAMS["x"]], dtype=torch.float64),
                 torch.tensor([RNN_PARAMS["h_prev"]], dtype=torch.float64))
    assert s06.RNN_STEP.solve(RNN_PARAMS) == pytest.approx(h[0].tolist(), rel=1e-12)


def test_rnn_step_grading():
    # transposed: W_ih^T x = [1 - 1, 0.5]; W_hh^T h = [0.2 - 0.2, 0.2]; + b = [0.1, 0.5]
    assert_grades(
        s06.RNN_STEP,
        RNN_PARAMS,
        [0.9801, -0.0997],
        {
            "forgot_tanh": [2.3, -0.1],
            "forgot_recurrent_term": [math.tanh(2.1), math.tanh(-0.7)],
            "transposed_weights": [math.tanh(0.1), math.tanh(0.5)],
        },
    )


# --- topology ------------------------------------------------------------------------------

TOPOLOGY_OPTIONS = ["Many-to-one", "One-to-many", "Many-to-many", "One-to-one"]


def _topology_params(task: str) -> dict:
    return {"task": task, "description": s06.TASK_DESCRIPTIONS[task], "options": TOPOLOGY_OPTIONS}


def test_sentiment_is_many_to_one():
    params = _topology_params("sentiment classification")
    assert s06.TOPOLOGY.solve(params) == "A"
    assert_grades(s06.TOPOLOGY, params, "many-to-one", {"reversed_direction": "B"}, absent=("single_output",))


def test_captioning_is_one_to_many():
    params = _topology_params("image captioning")
    assert s06.TOPOLOGY.solve(params) == "B"
    assert_grades(s06.TOPOLOGY, params, "B", {"reversed_direction": "A", "single_output": "D"})


def test_translation_is_many_to_many():
    params = _topology_params("machine translation")
    assert s06.TOPOLOGY.solve(params) == "C"
    assert_grades(s06.TOPOLOGY, params, "c", {"single_output": "A"}, absent=("reversed_direction",))
