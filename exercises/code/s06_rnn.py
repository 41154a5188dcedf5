"""Code exercises of section 6: an LSTM cell (lstm_cell).

Each misconception is a self-contained buggy implementation (math, torch and F only).
"""

from __future__ import annotations

import numpy as np
import torch

from exercises.code._common import case, code_exercise, fixed, hidden, randn, rounded, size
from grader.code.exercise import CodeMisconception, TestCase
from reference import rnn


# ---------------------------------------------------------------------------- lstm_cell


def _lstm_gate_order_ifog(x, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    gates = x @ weight_ih.T + bias_ih + h_prev @ weight_hh.T + bias_hh
    i, f, o, g = gates.chunk(4, dim=1)
    c = torch.sigmoid(f) * c_prev + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def _lstm_gate_order_figo(x, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    gates = x @ weight_ih.T + bias_ih + h_prev @ weight_hh.T + bias_hh
    f, i, g, o = gates.chunk(4, dim=1)
    c = torch.sigmoid(f) * c_prev + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def _lstm_no_tanh_on_cell(x, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    gates = x @ weight_ih.T + bias_ih + h_prev @ weight_hh.T + bias_hh
    i, f, g, o = gates.chunk(4, dim=1)
    c = torch.sigmoid(f) * c_prev + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * c, c


def _lstm_one_bias(x, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    gates = x @ weight_ih.T + bias_ih + h_prev @ weight_hh.T
    i, f, g, o = gates.chunk(4, dim=1)
    c = torch.sigmoid(f) * c_prev + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def _lstm_inputs(rng: np.random.Generator, n: int, i: int, h: int) -> tuple[torch.Tensor, ...]:
    return (
        randn(rng, n, i),
        randn(rng, n, h, scale=0.5),
        randn(rng, n, h),
        randn(rng, 4 * h, i, scale=0.6),
        randn(rng, 4 * h, h, scale=0.6),
        randn(rng, 4 * h, scale=0.5),
        randn(rng, 4 * h, scale=0.5),
    )


def _lstm_hidden(rng: np.random.Generator) -> list[TestCase]:
    return [
        hidden("batch", *_lstm_inputs(rng, size(rng, 2, 5), size(rng, 2, 5), size(rng, 2, 4))),
        hidden("batch_of_one", *_lstm_inputs(rng, 1, size(rng, 2, 5), size(rng, 2, 4))),
        hidden("hidden_size_one", *_lstm_inputs(rng, size(rng, 2, 4), size(rng, 1, 3), 1)),
        hidden("input_size_one", *_lstm_inputs(rng, size(rng, 1, 3), 1, size(rng, 2, 5))),
        hidden("wide", *_lstm_inputs(rng, size(rng, 2, 3), size(rng, 6, 8), size(rng, 5, 7))),
    ]


LSTM_CELL = code_exercise(
    (
        "def lstm_cell(x: torch.Tensor, h_prev: torch.Tensor, c_prev: torch.Tensor, weight_ih: torch.Tensor, "
        "weight_hh: torch.Tensor, bias_ih: torch.Tensor, bias_hh: torch.Tensor) -> tuple[torch.Tensor, "
        "torch.Tensor]:"
    ),
    reference=rnn.lstm_cell,
    title="One LSTM cell step",
    section=6,
    docstring="""One LSTM step, as nn.LSTMCell.

x (N, I), h_prev and c_prev (N, H), weight_ih (4H, I), weight_hh (4H, H),
bias_ih and bias_hh (4H,). The pre-activations x W_ih^T + b_ih + h_prev W_hh^T + b_hh
are four H-wide blocks in the order i, f, g, o (as in PyTorch):
i, f, o = sigmoid(...), g = tanh(...); c = f * c_prev + i * g; h = o * tanh(c).
Returns (h, c), each (N, H). Not allowed: nn.LSTM, nn.LSTMCell, torch.lstm_cell.""",
    public=[
        case("one_sample", *(rounded(t) for t in _lstm_inputs(fixed(109), 1, 2, 2))),
        case("two_samples", *(rounded(t) for t in _lstm_inputs(fixed(110), 2, 3, 2))),
    ],
    hidden=_lstm_hidden,
    forbidden=("torch.nn.LSTM", "torch.nn.LSTMCell", "torch.lstm_cell", "torch.lstm", "torch.quantized_lstm_cell"),
    # On CPU lstm_cell decomposes into mm, sigmoid and tanh: only the fused kernels are visible.
    forbidden_ops=("aten::_thnn_fused_lstm_cell", "aten::quantized_lstm_cell"),
    outputs=("h", "c"),
    misconceptions=[
        CodeMisconception(
            "gate_order_ifog",
            "PyTorch stacks the gates in the order i, f, g, o (the cell candidate g is third, not last).",
            _lstm_gate_order_ifog,
        ),
        CodeMisconception(
            "gate_order_figo",
            "PyTorch stacks the gates in the order i, f, g, o: the input gate comes first.",
            _lstm_gate_order_figo,
        ),
        CodeMisconception("h_without_tanh", "The hidden state is h = o * tanh(c), not o * c.", _lstm_no_tanh_on_cell),
        CodeMisconception("forgot_hidden_bias", "Add both biases, b_ih and b_hh, to the pre-activations.", _lstm_one_bias),
    ],
)


EXERCISES = [LSTM_CELL]
