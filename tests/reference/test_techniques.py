"""Tests for reference.techniques (section 3) against nn.init, F.batch_norm, F.dropout and autograd."""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from reference.techniques import (
    batchnorm_backward,
    batchnorm_forward,
    batchnorm_forward_eval,
    batchnorm_forward_train,
    center_crop,
    dropout,
    he_std,
    he_uniform_bound,
    horizontal_flip,
    random_crop,
    xavier_std,
    xavier_uniform_bound,
)
from tests.strategies import randn, seeds

F64 = torch.float64


# --- initialization -------------------------------------------------------------------------


@pytest.mark.parametrize("fan_in, fan_out", [(1, 1), (3, 7), (256, 64), (784, 10)])
def test_init_formulas_from_torch_docs(fan_in, fan_out):
    relu_gain = torch.nn.init.calculate_gain("relu")
    assert he_std(fan_in) == pytest.approx(relu_gain / math.sqrt(fan_in))
    assert he_uniform_bound(fan_in) == pytest.approx(relu_gain * math.sqrt(3 / fan_in))
    assert xavier_std(fan_in, fan_out) == pytest.approx(math.sqrt(2 / (fan_in + fan_out)))
    assert xavier_uniform_bound(fan_in, fan_out) == pytest.approx(math.sqrt(6 / (fan_in + fan_out)))


@pytest.mark.parametrize("shape", [(2000, 256), (512, 16, 3, 3)])
def test_he_matches_kaiming_init_statistics(shape):
    torch.manual_seed(0)
    fan_in = math.prod(shape[1:])
    w = torch.empty(shape, dtype=F64)
    torch.nn.init.kaiming_normal_(w, nonlinearity="relu")
    assert w.std().item() == pytest.approx(he_std(fan_in), rel=0.01)
    torch.nn.init.kaiming_uniform_(w, nonlinearity="relu")
    bound = he_uniform_bound(fan_in)
    assert w.abs().max().item() <= bound
    assert w.abs().max().item() == pytest.approx(bound, rel=0.01)
    assert w.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.01)  # std of U(-b, b)


@pytest.mark.parametrize("gain", [1.0, 5 / 3])
def test_xavier_matches_xavier_init_statistics(gain):
    torch.manual_seed(1)
    fan_out, fan_in = 300, 700
    w = torch.empty(fan_out, fan_in, dtype=F64)
    torch.nn.init.xavier_normal_(w, gain=gain)
    assert w.std().item() == pytest.approx(xavier_std(fan_in, fan_out, gain), rel=0.01)
    torch.nn.init.xavier_uniform_(w, gain=gain)
    bound = xavier_uniform_bound(fan_in, fan_out, gain)
    assert bound * 0.99 < w.abs().max().item() <= bound


# --- batch norm -----------------------------------------------------------------------------

BN_SHAPES = [(2, 1), (2, 3), (16, 5), (64, 4)]


def _bn_inputs(n, d, dtype=F64):
    x = 3 * randn(n, d, seed=n * d, dtype=dtype) + 1
    return x, randn(d, seed=1, dtype=dtype), randn(d, seed=2, dtype=dtype)


@pytest.mark.parametrize("n, d", BN_SHAPES)
@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_batchnorm_forward_matches_f_batch_norm_training(n, d, dtype):
    x, gamma, beta = _bn_inputs(n, d, dtype)
    expected = F.batch_norm(x, None, None, gamma, beta, training=True, eps=1e-5)
    torch.testing.assert_close(batchnorm_forward(x, gamma, beta), expected)
    torch.testing.assert_close(batchnorm_forward(x, gamma, beta, eps=0.1),
                               F.batch_norm(x, None, None, gamma, beta, training=True, eps=0.1))


def test_batchnorm_forward_output_statistics_and_batch_of_one():
    x, gamma, beta = _bn_inputs(32, 3)
    y = batchnorm_forward(x, torch.ones(3, dtype=F64), torch.zeros(3, dtype=F64), eps=0.0)
    torch.testing.assert_close(y.mean(0), torch.zeros(3, dtype=F64))
    torch.testing.assert_close(y.var(0, unbiased=False), torch.ones(3, dtype=F64))
    # a batch of one has zero variance: every x - mu is 0, so the output is beta
    torch.testing.assert_close(batchnorm_forward(x[:1], gamma, beta), beta.unsqueeze(0))


@pytest.mark.parametrize("n, d", BN_SHAPES)
@pytest.mark.parametrize("momentum", [0.1, 0.5])
def test_batchnorm_train_running_stats_match_pytorch_over_steps(n, d, momentum):
    _, gamma, beta = _bn_inputs(n, d)
    torch_mean, torch_var = torch.zeros(d, dtype=F64), torch.ones(d, dtype=F64)
    mean, var = torch_mean.clone(), torch_var.clone()
    for step in range(3):
        x = randn(n, d, seed=50 + step) * (step + 1)
        expected = F.batch_norm(x, torch_mean, torch_var, gamma, beta, training=True, momentum=momentum)
        y, mean, var = batchnorm_forward_train(x, gamma, beta, mean, var, momentum=momentum)
        torch.testing.assert_close(y, expected)
        torch.testing.assert_close(mean, torch_mean)
        torch.testing.assert_close(var, torch_var)


def test_batchnorm_train_running_var_is_unbiased_by_hand_and_rejects_batch_of_one():
    x = torch.tensor([[1.0], [3.0]], dtype=F64)  # mean 2, unbiased var 2, biased var 1
    one = torch.ones(1, dtype=F64)
    _, mean, var = batchnorm_forward_train(x, one, 0 * one, 0 * one, 0 * one, momentum=1.0)
    assert (mean.item(), var.item()) == (2.0, 2.0)
    with pytest.raises(ValueError):
        batchnorm_forward_train(x[:1], one, 0 * one, 0 * one, one)


@pytest.mark.parametrize("n, d", [(1, 3), (7, 2)])
def test_batchnorm_eval_matches_f_batch_norm_eval(n, d):
    x, gamma, beta = _bn_inputs(n, d)
    rm, rv = randn(d, seed=3), randn(d, seed=4).abs() + 0.1
    expected = F.batch_norm(x, rm, rv, gamma, beta, training=False, eps=1e-3)
    torch.testing.assert_close(batchnorm_forward_eval(x, gamma, beta, rm, rv, eps=1e-3), expected)


@pytest.mark.parametrize("n, d", BN_SHAPES)
def test_batchnorm_backward_matches_autograd(n, d):
    x, gamma, beta = _bn_inputs(n, d)
    dout = randn(n, d, seed=9)
    leaves = [t.clone().requires_grad_() for t in (x, gamma, beta)]
    F.batch_norm(leaves[0], None, None, leaves[1], leaves[2], training=True, eps=1e-5).backward(dout)
    for got, leaf in zip(batchnorm_backward(dout, x, gamma), leaves):
        torch.testing.assert_close(got, leaf.grad)


# --- dropout --------------------------------------------------------------------------------


def test_dropout_identity_cases_and_p_one():
    x = randn(4, 5)
    assert torch.equal(dropout(x, 0.5, training=False), x)
    assert torch.equal(dropout(x, 0.0, training=True), x)
    assert torch.equal(dropout(x, 1.0, training=True), torch.zeros_like(x))
    with pytest.raises(ValueError):
        dropout(x, 1.5, training=True)


@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_dropout_survivors_are_scaled_and_match_f_dropout_statistics(p):
    x = randn(200, 250, seed=5) + 2.0
    g = torch.Generator().manual_seed(7)
    y = dropout(x, p, training=True, generator=g)
    kept = y != 0
    torch.testing.assert_close(y[kept], x[kept] / (1 - p))
    torch.manual_seed(7)
    reference_kept = (F.dropout(x, p, training=True) != 0).double().mean().item()
    sigma = math.sqrt(p * (1 - p) / x.numel())
    assert abs(kept.double().mean().item() - (1 - p)) < 5 * sigma
    assert abs(kept.double().mean().item() - reference_kept) < 7 * sigma


@settings(max_examples=25, deadline=None)
@given(p=st.floats(0.01, 0.99), seed=seeds)
def test_dropout_keeps_the_expectation(p, seed):
    x = torch.ones(40_000, dtype=F64)
    y = dropout(x, p, training=True, generator=torch.Generator().manual_seed(seed))
    # mean of y has std sqrt(p / (1 - p) / n)
    assert abs(y.mean().item() - 1.0) < 5 * math.sqrt(p / (1 - p) / x.numel())


def test_dropout_generator_makes_it_reproducible():
    x = randn(10, 10)
    a = dropout(x, 0.3, True, torch.Generator().manual_seed(3))
    b = dropout(x, 0.3, True, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


# --- augmentation ---------------------------------------------------------------------------


def test_horizontal_flip_by_hand():
    img = torch.arange(12, dtype=F64).view(1, 1, 3, 4)
    out = horizontal_flip(img)
    assert out[0, 0].tolist() == [[3, 2, 1, 0], [7, 6, 5, 4], [11, 10, 9, 8]]
    batch = randn(2, 3, 5, 4)
    assert torch.equal(horizontal_flip(horizontal_flip(batch)), batch)


def test_center_crop_by_hand_even_and_odd():
    img = torch.arange(25, dtype=F64).view(1, 1, 5, 5)
    assert center_crop(img, 3)[0, 0].tolist() == [[6, 7, 8], [11, 12, 13], [16, 17, 18]]
    assert center_crop(img, (2, 4))[0, 0].tolist() == [[5, 6, 7, 8], [10, 11, 12, 13]]  # top = (5-2)//2
    assert torch.equal(center_crop(img, 5), img)
    with pytest.raises(ValueError):
        center_crop(img, 6)


def _is_window_of(crop, padded):
    h, w = crop.shape[-2:]
    H, W = padded.shape[-2:]
    return any(torch.equal(crop, padded[:, i:i + h, j:j + w]) for i in range(H - h + 1) for j in range(W - w + 1))


@pytest.mark.parametrize("size, padding", [(3, 0), ((2, 4), 1), (6, 2)])
def test_random_crop_returns_windows_of_the_padded_images(size, padding):
    images = randn(4, 2, 5, 6) + 10  # nonzero, so padding is recognisable
    out = random_crop(images, size, padding, torch.Generator().manual_seed(0))
    h, w = (size, size) if isinstance(size, int) else size
    assert out.shape == (4, 2, h, w)
    padded = F.pad(images, (padding,) * 4)
    assert all(_is_window_of(c, p) for c, p in zip(out, padded))


def test_random_crop_visits_every_offset():
    images = torch.arange(9, dtype=F64).view(1, 1, 3, 3).repeat(200, 1, 1, 1)
    out = random_crop(images, 2, generator=torch.Generator().manual_seed(1))
    corners = {c[0, 0, 0].item() for c in out}
    assert corners == {0.0, 1.0, 3.0, 4.0}
    assert torch.equal(random_crop(images[:1], 3), images[:1])
