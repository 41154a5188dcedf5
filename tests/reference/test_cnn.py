"""Tests for reference.cnn (section 4) against F.conv2d, F.max_pool2d, nn.Conv2d and autograd."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

from reference.cnn import (
    conv2d,
    conv_mult_adds,
    conv_output_size,
    conv_param_count,
    global_avg_pool,
    max_pool2d,
    needs_projection,
    pool_output_size,
    receptive_field,
    residual_block_forward,
    residual_output_shape,
)
from tests.strategies import randn

F64 = torch.float64


# --- sizes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "w, f, p, s, expected",
    [(32, 5, 0, 1, 28), (32, 3, 1, 1, 32), (227, 11, 0, 4, 55), (7, 3, 0, 2, 3), (6, 3, 0, 2, 2),
     (5, 3, 1, 2, 3), (4, 4, 0, 3, 1), (1, 1, 0, 1, 1)],
)
def test_conv_output_size_by_hand(w, f, p, s, expected):
    assert conv_output_size(w, f, p, s) == expected


@pytest.mark.parametrize("w, f, p, s", [(2, 5, 0, 1), (2, 3, 0, 2), (3, 3, 0, 0), (4, 0, 0, 1)])
def test_conv_output_size_rejects_impossible_layers(w, f, p, s):
    with pytest.raises(ValueError):
        conv_output_size(w, f, p, s)


@settings(max_examples=100, deadline=None)
@given(w=st.integers(1, 30), f=st.integers(1, 7), p=st.integers(0, 3), s=st.integers(1, 5))
def test_conv_output_size_agrees_with_f_conv2d(w, f, p, s):
    x, weight = torch.zeros(1, 1, w, 1), torch.zeros(1, 1, f, 1)
    try:
        expected = F.conv2d(x, weight, stride=(s, 1), padding=(p, 0)).shape[2]
    except RuntimeError:
        expected = None
    if expected is None or expected <= 0:
        with pytest.raises(ValueError):
            conv_output_size(w, f, p, s)
    else:
        assert conv_output_size(w, f, p, s) == expected


@settings(max_examples=60, deadline=None)
@given(w=st.integers(1, 30), f=st.integers(1, 7), s=st.integers(1, 5))
def test_pool_output_size_agrees_with_f_max_pool2d(w, f, s):
    if f > w:
        with pytest.raises(ValueError):
            pool_output_size(w, f, s)
    else:
        assert pool_output_size(w, f, s) == F.max_pool2d(torch.zeros(1, 1, w, f), f, s).shape[2]


# --- conv2d and pooling ---------------------------------------------------------------------

CONV_CASES = [
    # (N, C_in, H, W), (C_out, kH, kW), stride, padding
    ((1, 1, 5, 5), (1, 3, 3), 1, 0),
    ((2, 3, 7, 6), (4, 3, 3), 2, 1),
    ((1, 2, 8, 9), (3, 2, 4), (2, 3), (1, 2)),
    ((3, 4, 6, 6), (2, 1, 1), 1, 0),
    ((2, 1, 7, 7), (5, 5, 5), 3, 2),
    ((1, 3, 4, 11), (2, 4, 1), (1, 2), 0),
]


@pytest.mark.parametrize("x_shape, w_shape, stride, padding", CONV_CASES)
@pytest.mark.parametrize("with_bias", [False, True])
@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_conv2d_matches_f_conv2d(x_shape, w_shape, stride, padding, with_bias, dtype):
    x = randn(*x_shape, seed=1, dtype=dtype)
    weight = randn(w_shape[0], x_shape[1], *w_shape[1:], seed=2, dtype=dtype)
    bias = randn(w_shape[0], seed=3, dtype=dtype) if with_bias else None
    expected = F.conv2d(x, weight, bias, stride=stride, padding=padding)
    torch.testing.assert_close(conv2d(x, weight, bias, stride=stride, padding=padding), expected)


def test_conv2d_by_hand_is_cross_correlation():
    x = torch.arange(9, dtype=F64).view(1, 1, 3, 3)
    weight = torch.tensor([[[[1.0, 0.0], [0.0, -1.0]]]], dtype=F64)  # x[i, j] - x[i+1, j+1]
    assert conv2d(x, weight).flatten().tolist() == [-4.0, -4.0, -4.0, -4.0]


def test_conv2d_rejects_kernel_larger_than_padded_input():
    with pytest.raises(ValueError):
        conv2d(randn(1, 1, 3, 3), randn(1, 1, 5, 5), padding=0)


@pytest.mark.parametrize(
    "shape, kernel, stride",
    [((1, 1, 4, 4), 2, 2), ((2, 3, 7, 5), 2, 2), ((1, 2, 9, 9), 3, 2), ((3, 1, 5, 8), (2, 3), (1, 2)),
     ((2, 2, 6, 6), 3, None)],
)
def test_max_pool2d_matches_f_max_pool2d(shape, kernel, stride):
    x = randn(*shape, seed=4)
    torch.testing.assert_close(max_pool2d(x, kernel, stride), F.max_pool2d(x, kernel, stride))


@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (2, 3, 4, 5), (1, 8, 7, 3)])
def test_global_avg_pool_matches_adaptive_avg_pool(shape):
    x = randn(*shape, seed=5)
    out = global_avg_pool(x)
    assert out.shape == shape[:2]
    torch.testing.assert_close(out, F.adaptive_avg_pool2d(x, 1).flatten(1))


# --- counts ---------------------------------------------------------------------------------


@pytest.mark.parametrize("c_in, c_out, k", [(1, 1, 1), (3, 64, 3), (64, 128, (1, 3)), (5, 7, (4, 2))])
@pytest.mark.parametrize("bias", [True, False])
def test_conv_param_count_matches_nn_conv2d(c_in, c_out, k, bias):
    conv = torch.nn.Conv2d(c_in, c_out, k, bias=bias)
    assert conv_param_count(c_in, c_out, k, bias) == sum(p.numel() for p in conv.parameters())


@pytest.mark.parametrize("c_in, c_out, k, hw, stride, padding", [(3, 8, 3, 10, 1, 1), (2, 5, (3, 1), 9, 2, 0)])
def test_conv_mult_adds_matches_torch_flop_counter(c_in, c_out, k, hw, stride, padding):
    conv = torch.nn.Conv2d(c_in, c_out, k, stride=stride, padding=padding, bias=False)
    x = torch.zeros(1, c_in, hw, hw)
    with FlopCounterMode(display=False) as counter:
        out = conv(x)
    h_out, w_out = out.shape[-2:]
    assert 2 * conv_mult_adds(c_in, c_out, k, h_out, w_out) == counter.get_total_flops()


# --- receptive field ------------------------------------------------------------------------


def test_receptive_field_by_hand():
    assert receptive_field([]) == 1
    assert receptive_field([(3, 1), (3, 1)]) == 5  # two 3x3 convs see 5x5
    assert receptive_field([(3, 1)] * 3) == 7
    assert receptive_field([(7, 2), (3, 2)]) == 7 + 2 * 2
    assert receptive_field([(2, 2), (3, 1)]) == 2 + 2 * 2


def _measured_receptive_field(layers, length=400):
    x = torch.zeros(1, 1, length, 1, dtype=F64, requires_grad=True)
    h = x
    for kernel, stride in layers:
        h = F.conv2d(h, torch.ones(1, 1, kernel, 1, dtype=F64), stride=(stride, 1))
    h[0, 0, 0, 0].backward()
    nonzero = (x.grad[0, 0, :, 0] != 0).nonzero().flatten()
    return int(nonzero.max() - nonzero.min() + 1)


@settings(max_examples=40, deadline=None)
@given(layers=st.lists(st.tuples(st.integers(1, 5), st.integers(1, 3)), min_size=1, max_size=4))
def test_receptive_field_matches_gradient_measurement(layers):
    assert receptive_field(layers) == _measured_receptive_field(layers)


# --- residual blocks ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "c_in, c_out, stride, expected",
    [(64, 64, 1, False), (64, 128, 1, True), (64, 64, 2, True), (64, 128, 2, True)],
)
def test_needs_projection(c_in, c_out, stride, expected):
    assert needs_projection(c_in, c_out, stride) is expected


def _torch_block(x, w1, w2, w_proj, stride):
    main = F.conv2d(F.relu(F.conv2d(x, w1, stride=stride, padding=1)), w2, padding=1)
    skip = x if w_proj is None else F.conv2d(x, w_proj, stride=stride)
    return F.relu(main + skip)


@pytest.mark.parametrize("n, c_in, c_out, hw, stride", [(1, 3, 3, 5, 1), (2, 3, 6, 8, 2), (1, 4, 4, 7, 2),
                                                         (2, 2, 5, 6, 1)])
def test_residual_block_matches_f_conv2d_block_and_shape(n, c_in, c_out, hw, stride):
    x = randn(n, c_in, hw, hw, seed=6)
    w1, w2 = randn(c_out, c_in, 3, 3, seed=7), randn(c_out, c_out, 3, 3, seed=8)
    w_proj = randn(c_out, c_in, 1, 1, seed=9) if needs_projection(c_in, c_out, stride) else None
    out = residual_block_forward(x, w1, w2, w_proj, stride)
    torch.testing.assert_close(out, _torch_block(x, w1, w2, w_proj, stride))
    assert out.shape == residual_output_shape(x.shape, c_out, stride)
    assert out.shape[1:] == residual_output_shape(x.shape[1:], c_out, stride)


def test_residual_output_shape_by_hand_and_missing_projection():
    assert residual_output_shape((8, 64, 56, 56), 128, 2) == (8, 128, 28, 28)
    assert residual_output_shape((64, 7, 7), 64, 2) == (64, 4, 4)
    with pytest.raises(ValueError):
        residual_block_forward(randn(1, 2, 4, 4), randn(3, 2, 3, 3), randn(3, 3, 3, 3))


def test_identity_block_passes_input_when_main_path_is_zero():
    x = randn(2, 3, 5, 5).abs()
    zero = torch.zeros(3, 3, 3, 3, dtype=F64)
    torch.testing.assert_close(residual_block_forward(x, zero, zero), x)
