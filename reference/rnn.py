"""Section 6 of the concept sheet: RNN and LSTM cells, parameter counts and topologies.

Weights follow PyTorch: ``x (N, I)``, ``h (N, H)``, ``weight_ih (G*H, I)``,
``weight_hh (G*H, H)``, biases ``(G*H,)``, with ``G = 1`` (RNN) or ``4`` (LSTM, gate rows in
the order i, f, g, o). Biases may be ``None`` (``bias=False`` in PyTorch).
"""

from __future__ import annotations

import torch
from torch import Tensor

from reference.optimization import sigmoid

MANY_TO_ONE = "many-to-one"
ONE_TO_MANY = "one-to-many"
MANY_TO_MANY = "many-to-many"

TASK_TOPOLOGIES: dict[str, str] = {
    "sentiment classification": MANY_TO_ONE,
    "text classification": MANY_TO_ONE,
    "spam detection": MANY_TO_ONE,
    "video classification": MANY_TO_ONE,
    "image captioning": ONE_TO_MANY,
    "music generation": ONE_TO_MANY,
    "machine translation": MANY_TO_MANY,
    "speech recognition": MANY_TO_MANY,
    "part-of-speech tagging": MANY_TO_MANY,
    "named entity recognition": MANY_TO_MANY,
}


def _affine(x: Tensor, h: Tensor, weight_ih: Tensor, weight_hh: Tensor,
            bias_ih: Tensor | None, bias_hh: Tensor | None) -> Tensor:
    """``x W_ih^T + b_ih + h W_hh^T + b_hh`` of shape ``(N, G*H)``."""
    out = x @ weight_ih.T + h @ weight_hh.T
    for bias in (bias_ih, bias_hh):
        if bias is not None:
            out = out + bias
    return out


def rnn_cell(x: Tensor, h_prev: Tensor, weight_ih: Tensor, weight_hh: Tensor,
             bias_ih: Tensor | None = None, bias_hh: Tensor | None = None) -> Tensor:
    """Elman RNN step as ``nn.RNNCell`` (tanh): ``h = tanh(x W_ih^T + b_ih + h_prev W_hh^T + b_hh)``."""
    return torch.tanh(_affine(x, h_prev, weight_ih, weight_hh, bias_ih, bias_hh))


def lstm_cell_from_gates(i: Tensor, f: Tensor, g: Tensor, o: Tensor, c_prev: Tensor) -> tuple[Tensor, Tensor]:
    """LSTM update from gate values: ``c = f * c_prev + i * g``; ``h = o * tanh(c)``; returns ``(h, c)``."""
    c = f * c_prev + i * g
    return o * torch.tanh(c), c


def lstm_cell(x: Tensor, h_prev: Tensor, c_prev: Tensor, weight_ih: Tensor, weight_hh: Tensor,
              bias_ih: Tensor | None = None, bias_hh: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """LSTM step as ``nn.LSTMCell``: returns ``(h, c)``, each ``(N, H)``.

    ``[a_i, a_f, a_g, a_o] = x W_ih^T + b_ih + h_prev W_hh^T + b_hh`` (four ``H``-wide blocks);
    ``i, f, o = sigmoid(a_i, a_f, a_o)``, ``g = tanh(a_g)``; then ``lstm_cell_from_gates``.
    """
    a_i, a_f, a_g, a_o = _affine(x, h_prev, weight_ih, weight_hh, bias_ih, bias_hh).chunk(4, dim=-1)
    return lstm_cell_from_gates(sigmoid(a_i), sigmoid(a_f), torch.tanh(a_g), sigmoid(a_o), c_prev)


def _recurrent_param_count(gates: int, input_size: int, hidden_size: int, bias: bool,
                           num_layers: int, bidirectional: bool) -> int:
    directions = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        layer_input = input_size if layer == 0 else hidden_size * directions
        per_direction = gates * hidden_size * (layer_input + hidden_size + (2 if bias else 0))
        total += directions * per_direction
    return total


def lstm_param_count(input_size: int, hidden_size: int, bias: bool = True, num_layers: int = 1,
                     bidirectional: bool = False) -> int:
    """Parameters of ``nn.LSTM``: per layer and direction ``4H (I_l + H) + 8H`` (two bias
    vectors, as PyTorch), with ``I_0 = input_size`` and ``I_l = H * directions`` above."""
    return _recurrent_param_count(4, input_size, hidden_size, bias, num_layers, bidirectional)


def rnn_param_count(input_size: int, hidden_size: int, bias: bool = True, num_layers: int = 1,
                    bidirectional: bool = False) -> int:
    """Parameters of ``nn.RNN``: per layer and direction ``H (I_l + H) + 2H``, as ``lstm_param_count``."""
    return _recurrent_param_count(1, input_size, hidden_size, bias, num_layers, bidirectional)


def topology_for(task: str) -> str:
    """RNN topology of a task (case-insensitive), from ``TASK_TOPOLOGIES``:

    many-to-one: sentiment classification, text classification, spam detection, video
    classification; one-to-many: image captioning, music generation; many-to-many: machine
    translation, speech recognition, part-of-speech tagging, named entity recognition.
    ValueError for other tasks.
    """
    key = task.strip().lower()
    if key not in TASK_TOPOLOGIES:
        raise ValueError(f"unknown task {task!r}; known: {sorted(TASK_TOPOLOGIES)}")
    return TASK_TOPOLOGIES[key]
