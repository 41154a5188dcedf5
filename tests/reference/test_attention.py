"""Tests for reference.attention (seq2seq attention) against PyTorch ops and hand values."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from reference.attention import (
    additive_attention_context,
    additive_scores,
    attention_context,
    attention_weights,
    dot_product_scores,
)
from tests.strategies import randn_from

SHAPES = [(1, 1), (1, 4), (5, 3), (9, 8)]  # (T, d)


@pytest.mark.parametrize("T,d", SHAPES)
def test_dot_product_scores_match_per_key_dot(T, d):
    gen = torch.Generator().manual_seed(T * 10 + d)
    q, H = randn_from(gen, d), randn_from(gen, T, d)
    expected = torch.stack([torch.dot(q, H[i]) for i in range(T)])
    torch.testing.assert_close(dot_product_scores(q, H), expected)


def test_dot_product_scores_with_batch_dims():
    gen = torch.Generator().manual_seed(3)
    q, H = randn_from(gen, 2, 4), randn_from(gen, 2, 5, 4)
    expected = torch.einsum("bd,btd->bt", q, H)
    torch.testing.assert_close(dot_product_scores(q, H), expected)


@pytest.mark.parametrize("T,d_q,d_k,d_a", [(1, 1, 1, 1), (4, 3, 5, 6), (7, 8, 8, 2)])
def test_additive_scores_match_linear_layers(T, d_q, d_k, d_a):
    torch.manual_seed(T + d_q + d_k + d_a)
    proj_q = nn.Linear(d_q, d_a, bias=False).double()
    proj_k = nn.Linear(d_k, d_a, bias=False).double()
    proj_v = nn.Linear(d_a, 1, bias=False).double()
    q, H = torch.randn(d_q, dtype=torch.float64), torch.randn(T, d_k, dtype=torch.float64)
    with torch.no_grad():
        expected = torch.stack([proj_v(torch.tanh(proj_q(q) + proj_k(H[i])))[0] for i in range(T)])
        scores = additive_scores(q, H, proj_q.weight, proj_k.weight, proj_v.weight[0])
    assert scores.shape == (T,)
    torch.testing.assert_close(scores, expected)


def test_attention_weights_match_softmax_and_survive_huge_logits():
    gen = torch.Generator().manual_seed(0)
    scores = randn_from(gen, 3, 7)
    torch.testing.assert_close(attention_weights(scores), torch.softmax(scores, -1))
    huge = torch.tensor([1e4, -1e4, 1e4 - 1.0], dtype=torch.float64)
    weights = attention_weights(huge)
    assert torch.isfinite(weights).all()
    expected_top = 1 / (1 + torch.exp(torch.tensor(-1.0, dtype=torch.float64)))
    zero = torch.zeros((), dtype=torch.float64)
    torch.testing.assert_close(weights, torch.stack([expected_top, zero, 1 - expected_top]))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-1e4, 1e4, allow_nan=False), min_size=1, max_size=20))
def test_attention_weights_are_a_distribution(values):
    weights = attention_weights(torch.tensor(values, dtype=torch.float64))
    assert (weights >= 0).all()
    assert weights.sum().item() == pytest.approx(1.0)


@pytest.mark.parametrize("T,d", SHAPES)
def test_attention_context_matches_unscaled_sdpa(T, d):
    gen = torch.Generator().manual_seed(T + 31 * d)
    q, H = randn_from(gen, d), randn_from(gen, T, d)
    alpha, context = attention_context(q, H)
    expected = F.scaled_dot_product_attention(q[None], H, H, scale=1.0)[0]
    torch.testing.assert_close(context, expected)
    torch.testing.assert_close(alpha, torch.softmax(H @ q, 0))
    assert alpha.shape == (T,) and context.shape == (d,)


def test_attention_context_by_hand():
    H = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 0.0]], dtype=torch.float64)
    alpha, context = attention_context(torch.zeros(2, dtype=torch.float64), H)
    torch.testing.assert_close(alpha, torch.full((3,), 1 / 3, dtype=torch.float64))
    torch.testing.assert_close(context, torch.tensor([3.0, 2.0], dtype=torch.float64))
    # A query aligned hugely with one state puts all its weight there.
    alpha, context = attention_context(torch.tensor([1e4, 0.0], dtype=torch.float64), H)
    torch.testing.assert_close(alpha, torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64))
    torch.testing.assert_close(context, H[2])


def test_attention_context_float32():
    gen = torch.Generator().manual_seed(5)
    q, H = torch.randn(4, generator=gen), torch.randn(6, 4, generator=gen)
    alpha, context = attention_context(q, H)
    assert context.dtype == torch.float32
    torch.testing.assert_close(context, F.scaled_dot_product_attention(q[None], H, H, scale=1.0)[0])


@pytest.mark.parametrize("T,d,d_a", [(1, 2, 3), (6, 4, 5)])
def test_additive_attention_context_is_weighted_sum(T, d, d_a):
    gen = torch.Generator().manual_seed(T * d * d_a)
    q, H = randn_from(gen, d), randn_from(gen, T, d)
    W_q, W_k, v = randn_from(gen, d_a, d), randn_from(gen, d_a, d), randn_from(gen, d_a)
    alpha, context = additive_attention_context(q, H, W_q, W_k, v)
    scores = torch.stack([v @ torch.tanh(W_q @ q + W_k @ H[i]) for i in range(T)])
    expected_alpha = torch.softmax(scores, 0)
    torch.testing.assert_close(alpha, expected_alpha)
    torch.testing.assert_close(context, sum(expected_alpha[i] * H[i] for i in range(T)))
