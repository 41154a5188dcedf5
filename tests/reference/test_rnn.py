"""Tests for reference.rnn (section 6) against nn.RNNCell, nn.LSTMCell, nn.LSTM and nn.RNN."""

import itertools

import pytest
import torch

from reference.rnn import (
    TASK_TOPOLOGIES,
    lstm_cell,
    lstm_cell_from_gates,
    lstm_param_count,
    rnn_cell,
    rnn_param_count,
    topology_for,
)
from tests.strategies import randn

F64 = torch.float64
SIZES = [(1, 1, 1), (1, 3, 5), (4, 6, 2), (7, 4, 4)]  # (N, input_size, hidden_size)


def _params(cell):
    return [p.detach() for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)]


@pytest.mark.parametrize("n, d, h", SIZES)
@pytest.mark.parametrize("bias", [True, False])
def test_rnn_cell_matches_nn_rnncell(n, d, h, bias):
    torch.manual_seed(n + d + h)
    cell = torch.nn.RNNCell(d, h, bias=bias).double()
    x, h_prev = randn(n, d, seed=1), randn(n, h, seed=2)
    w_ih, w_hh = cell.weight_ih.detach(), cell.weight_hh.detach()
    biases = _params(cell)[2:] if bias else []
    with torch.no_grad():
        torch.testing.assert_close(rnn_cell(x, h_prev, w_ih, w_hh, *biases), cell(x, h_prev))


@pytest.mark.parametrize("n, d, h", SIZES)
@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_lstm_cell_matches_nn_lstmcell_over_several_steps(n, d, h, dtype):
    torch.manual_seed(n * d * h)
    cell = torch.nn.LSTMCell(d, h).to(dtype)
    state = (randn(n, h, seed=3, dtype=dtype), randn(n, h, seed=4, dtype=dtype))
    expected = state
    for t in range(4):
        x = 2 * randn(n, d, seed=10 + t, dtype=dtype)
        state = lstm_cell(x, *state, *_params(cell))
        with torch.no_grad():
            expected = cell(x, expected)
        torch.testing.assert_close(state[0], expected[0])
        torch.testing.assert_close(state[1], expected[1])


def test_lstm_cell_without_bias_matches_nn_lstmcell():
    torch.manual_seed(0)
    cell = torch.nn.LSTMCell(3, 4, bias=False).double()
    x, h0, c0 = randn(2, 3, seed=1), randn(2, 4, seed=2), randn(2, 4, seed=3)
    with torch.no_grad():
        expected = cell(x, (h0, c0))
    got = lstm_cell(x, h0, c0, cell.weight_ih.detach(), cell.weight_hh.detach(), None, None)
    torch.testing.assert_close(got, expected)


def test_unrolled_lstm_cell_matches_nn_lstm_sequence():
    torch.manual_seed(1)
    lstm = torch.nn.LSTM(3, 5, batch_first=True).double()
    xs = randn(2, 6, 3, seed=5)
    with torch.no_grad():
        outputs, (h_n, c_n) = lstm(xs)
    params = [p.detach() for p in (lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0)]
    h, c = torch.zeros(2, 5, dtype=F64), torch.zeros(2, 5, dtype=F64)
    for t in range(6):
        h, c = lstm_cell(xs[:, t], h, c, *params)
        torch.testing.assert_close(h, outputs[:, t])
    torch.testing.assert_close((h, c), (h_n[0], c_n[0]))


def test_lstm_cell_from_gates_by_hand():
    c_prev = torch.tensor([2.0, -1.0], dtype=F64)
    g = torch.tensor([0.5, 0.25], dtype=F64)
    one, zero = torch.ones(2, dtype=F64), torch.zeros(2, dtype=F64)
    h, c = lstm_cell_from_gates(one, zero, g, one, c_prev)  # forget everything, write g
    torch.testing.assert_close(c, g)
    torch.testing.assert_close(h, torch.tanh(g))
    h, c = lstm_cell_from_gates(zero, one, g, zero, c_prev)  # keep memory, hide output
    torch.testing.assert_close(c, c_prev)
    torch.testing.assert_close(h, zero)
    half = 0.5 * one
    h, c = lstm_cell_from_gates(half, half, g, half, c_prev)
    torch.testing.assert_close(c, torch.tensor([1.25, -0.375], dtype=F64))
    torch.testing.assert_close(h, 0.5 * torch.tanh(torch.tensor([1.25, -0.375], dtype=F64)))


GRID = list(itertools.product([1, 10], [1, 7], [True, False], [1, 3], [False, True]))


@pytest.mark.parametrize("input_size, hidden, bias, layers, bidirectional", GRID)
def test_param_counts_match_nn_lstm_and_nn_rnn(input_size, hidden, bias, layers, bidirectional):
    kwargs = dict(bias=bias, num_layers=layers, bidirectional=bidirectional)
    lstm = torch.nn.LSTM(input_size, hidden, **kwargs)
    rnn = torch.nn.RNN(input_size, hidden, **kwargs)
    assert lstm_param_count(input_size, hidden, **kwargs) == sum(p.numel() for p in lstm.parameters())
    assert rnn_param_count(input_size, hidden, **kwargs) == sum(p.numel() for p in rnn.parameters())


def test_param_counts_by_hand():
    assert lstm_param_count(10, 20) == 4 * 20 * (10 + 20) + 8 * 20
    assert rnn_param_count(10, 20, bias=False) == 20 * (10 + 20)
    assert isinstance(lstm_param_count(3, 4, num_layers=2), int)


@pytest.mark.parametrize(
    "task, expected",
    [("sentiment classification", "many-to-one"), ("image captioning", "one-to-many"),
     ("machine translation", "many-to-many"), ("  Machine Translation ", "many-to-many")],
)
def test_topology_for_the_sheet_examples(task, expected):
    assert topology_for(task) == expected


def test_topology_table_uses_only_the_three_topologies_and_rejects_unknown_tasks():
    assert set(TASK_TOPOLOGIES.values()) == {"many-to-one", "one-to-many", "many-to-many"}
    with pytest.raises(ValueError):
        topology_for("image generation from nothing")
