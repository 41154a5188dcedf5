"""Tests for reference.transformer against F.scaled_dot_product_attention,
nn.MultiheadAttention, F.layer_norm, nn.TransformerEncoderLayer and hand values."""

import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from reference.transformer import (
    attention_flops,
    attention_score_count,
    causal_mask,
    encoder_block,
    encoder_block_param_count,
    feed_forward,
    ffn_param_count,
    layer_norm,
    layer_norm_param_count,
    mha_param_count,
    multi_head_attention,
    scaled_dot_product_attention,
    sinusoidal_positional_encoding,
)
from tests.strategies import randn_from, seeds

F64 = torch.float64


def _random_mask(gen, *shape):
    """Random boolean mask with at least one allowed key per query row."""
    mask = torch.rand(*shape, generator=gen) < 0.5
    mask[..., 0] |= ~mask.any(-1)
    return mask


def _reference_weights(q, k, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, -1)


SDPA_SHAPES = [  # (batch dims, L_q, L_kv, d_k, d_v)
    ((1,), 1, 1, 1, 1),
    ((1, 1), 3, 3, 4, 4),
    ((2, 3), 4, 6, 5, 2),
    ((), 5, 2, 3, 7),
]


@pytest.mark.parametrize("lead,l_q,l_kv,d_k,d_v", SDPA_SHAPES)
def test_sdpa_matches_torch_without_mask(lead, l_q, l_kv, d_k, d_v):
    gen = torch.Generator().manual_seed(l_q * 100 + l_kv * 10 + d_k)
    q, k, v = randn_from(gen, *lead, l_q, d_k), randn_from(gen, *lead, l_kv, d_k), randn_from(gen, *lead, l_kv, d_v)
    out, weights = scaled_dot_product_attention(q, k, v)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v))
    torch.testing.assert_close(weights, _reference_weights(q, k))


@pytest.mark.parametrize("lead,l_q,l_kv,d_k,d_v", SDPA_SHAPES)
def test_sdpa_matches_torch_with_boolean_and_additive_masks(lead, l_q, l_kv, d_k, d_v):
    gen = torch.Generator().manual_seed(l_q + l_kv + d_v)
    q, k, v = randn_from(gen, *lead, l_q, d_k), randn_from(gen, *lead, l_kv, d_k), randn_from(gen, *lead, l_kv, d_v)
    mask = _random_mask(gen, l_q, l_kv)
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask))
    additive = torch.zeros(l_q, l_kv, dtype=F64).masked_fill(~mask, float("-inf"))
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=additive))
    torch.testing.assert_close(weights, _reference_weights(q, k, mask))
    assert (weights[..., ~mask] == 0).all()


def test_sdpa_causal_mask_matches_is_causal():
    gen = torch.Generator().manual_seed(11)
    q, k, v = randn_from(gen, 2, 2, 5, 3), randn_from(gen, 2, 2, 5, 3), randn_from(gen, 2, 2, 5, 4)
    out, weights = scaled_dot_product_attention(q, k, v, causal_mask(5))
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, is_causal=True))
    assert (weights.triu(1) == 0).all()
    torch.testing.assert_close(out[..., 0, :], v[..., 0, :])  # the first token sees only itself


def test_causal_mask_by_hand():
    assert causal_mask(3).tolist() == [[True, False, False], [True, True, False], [True, True, True]]
    assert causal_mask(1).dtype == torch.bool


def test_sdpa_single_allowed_key_gets_weight_one():
    gen = torch.Generator().manual_seed(2)
    q, k, v = randn_from(gen, 3, 4), randn_from(gen, 5, 4), randn_from(gen, 5, 2)
    mask = torch.zeros(3, 5, dtype=torch.bool)
    mask[0, 2] = mask[1, 0] = mask[2, 4] = True
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    torch.testing.assert_close(weights, mask.to(F64))
    torch.testing.assert_close(out, v[[2, 0, 4]])


def test_sdpa_fully_masked_row_is_zero_not_nan():
    gen = torch.Generator().manual_seed(4)
    q, k, v = randn_from(gen, 3, 4), randn_from(gen, 5, 4), randn_from(gen, 5, 2)
    mask = _random_mask(gen, 3, 5)
    mask[1] = False
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    assert torch.isfinite(out).all() and torch.isfinite(weights).all()
    assert (weights[1] == 0).all() and (out[1] == 0).all()
    torch.testing.assert_close(weights[[0, 2]], _reference_weights(q, k, mask)[[0, 2]])


def test_sdpa_huge_logits_are_stable():
    q = torch.tensor([[100.0, 0.0], [0.0, 100.0]], dtype=F64)
    big = 100.0 * math.sqrt(2)
    k = torch.tensor([[big, -big], [0.0, -big], [0.0, 0.0]], dtype=F64)
    v = torch.tensor([[1.0], [2.0], [3.0]], dtype=F64)
    out, weights = scaled_dot_product_attention(q, k, v)  # scores of magnitude 1e4
    assert torch.isfinite(weights).all()
    torch.testing.assert_close(weights, torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], dtype=F64))
    torch.testing.assert_close(out, torch.tensor([[1.0], [3.0]], dtype=F64))


def test_sdpa_float32():
    gen = torch.Generator().manual_seed(8)
    q, k, v = (torch.randn(2, 4, 3, generator=gen) for _ in range(3))
    out, _ = scaled_dot_product_attention(q, k, v)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v))


@settings(max_examples=40, deadline=None)
@given(l_q=st.integers(1, 5), l_kv=st.integers(1, 5), d=st.integers(1, 4),
       scale=st.sampled_from([1.0, 100.0]), seed=seeds)
def test_sdpa_weights_are_distributions(l_q, l_kv, d, scale, seed):
    gen = torch.Generator().manual_seed(seed)
    q, k, v = scale * randn_from(gen, l_q, d), scale * randn_from(gen, l_kv, d), randn_from(gen, l_kv, 2)
    mask = torch.rand(l_q, l_kv, generator=gen) < 0.6
    _, weights = scaled_dot_product_attention(q, k, v, mask)
    assert (weights >= 0).all() and (weights[~mask] == 0).all()
    row_sums = weights.sum(-1)
    torch.testing.assert_close(row_sums, mask.any(-1).to(F64))


def _torch_mha(w_q, w_k, w_v, w_o, num_heads, biases=None):
    d = w_q.shape[0]
    mha = nn.MultiheadAttention(d, num_heads, bias=biases is not None, batch_first=True).double()
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([w_q.T, w_k.T, w_v.T]))
        mha.out_proj.weight.copy_(w_o.T)
        if biases is not None:
            mha.in_proj_bias.copy_(torch.cat([biases["b_q"], biases["b_k"], biases["b_v"]]))
            mha.out_proj.bias.copy_(biases["b_o"])
    return mha.eval()


MHA_CASES = [  # (N, L_q, L_kv, d_model, heads, self_attention)
    (1, 1, 1, 2, 1, True),
    (2, 5, 5, 8, 2, True),
    (3, 4, 4, 12, 4, True),
    (2, 3, 6, 8, 4, False),
    (1, 7, 2, 6, 3, False),
]


@pytest.mark.parametrize("n,l_q,l_kv,d,heads,is_self", MHA_CASES)
@pytest.mark.parametrize("with_bias", [False, True])
def test_mha_matches_nn_multihead_attention(n, l_q, l_kv, d, heads, is_self, with_bias):
    gen = torch.Generator().manual_seed(n * 1000 + l_q * 100 + d + heads)
    x_q = randn_from(gen, n, l_q, d)
    x_kv = x_q if is_self else randn_from(gen, n, l_kv, d)
    w_q, w_k, w_v, w_o = (randn_from(gen, d, d) / math.sqrt(d) for _ in range(4))
    biases = {name: randn_from(gen, d) for name in ("b_q", "b_k", "b_v", "b_o")} if with_bias else None
    mha = _torch_mha(w_q, w_k, w_v, w_o, heads, biases)
    with torch.no_grad():
        expected, _ = mha(x_q, x_kv, x_kv, need_weights=False)
    out = multi_head_attention(x_q, x_kv, w_q, w_k, w_v, w_o, heads, **(biases or {}))
    assert out.shape == (n, l_q, d)
    torch.testing.assert_close(out, expected)


@pytest.mark.parametrize("n,l_q,l_kv,d,heads,is_self", MHA_CASES)
def test_mha_masks_match_nn_multihead_attention(n, l_q, l_kv, d, heads, is_self):
    gen = torch.Generator().manual_seed(n + l_q + l_kv + d + heads)
    x_q = randn_from(gen, n, l_q, d)
    x_kv = x_q if is_self else randn_from(gen, n, l_kv, d)
    w_q, w_k, w_v, w_o = (randn_from(gen, d, d) / math.sqrt(d) for _ in range(4))
    mha = _torch_mha(w_q, w_k, w_v, w_o, heads)
    shared = _random_mask(gen, l_q, l_kv)
    per_sample = _random_mask(gen, n, l_q, l_kv)
    with torch.no_grad():
        expected_shared, _ = mha(x_q, x_kv, x_kv, attn_mask=~shared, need_weights=False)
        expected_per_sample, _ = mha(x_q, x_kv, x_kv, attn_mask=~per_sample.repeat_interleave(heads, 0),
                                     need_weights=False)
    torch.testing.assert_close(multi_head_attention(x_q, x_kv, w_q, w_k, w_v, w_o, heads, shared),
                               expected_shared)
    torch.testing.assert_close(multi_head_attention(x_q, x_kv, w_q, w_k, w_v, w_o, heads, per_sample),
                               expected_per_sample)


def test_mha_one_head_is_projected_sdpa_and_bad_heads_raise():
    gen = torch.Generator().manual_seed(6)
    x = randn_from(gen, 2, 3, 4)
    w_q, w_k, w_v, w_o = (randn_from(gen, 4, 4) for _ in range(4))
    expected = F.scaled_dot_product_attention(x @ w_q, x @ w_k, x @ w_v) @ w_o
    torch.testing.assert_close(multi_head_attention(x, x, w_q, w_k, w_v, w_o, 1), expected)
    with pytest.raises(ValueError):
        multi_head_attention(x, x, w_q, w_k, w_v, w_o, 3)


def test_positional_encoding_first_rows_by_hand():
    pe = sinusoidal_positional_encoding(3, 6)
    assert pe.shape == (3, 6) and pe.dtype == F64
    torch.testing.assert_close(pe[0], torch.tensor([0.0, 1.0, 0.0, 1.0, 0.0, 1.0], dtype=F64))
    assert pe[1, 0].item() == pytest.approx(math.sin(1.0))
    assert pe[1, 1].item() == pytest.approx(math.cos(1.0))
    assert pe[2, 2].item() == pytest.approx(math.sin(2 / 10000 ** (2 / 6)))
    assert pe[2, 5].item() == pytest.approx(math.cos(2 / 10000 ** (4 / 6)))


@pytest.mark.parametrize("seq_len,d_model", [(1, 1), (4, 5), (10, 8), (7, 3)])
def test_positional_encoding_matches_elementwise_formula(seq_len, d_model):
    pe = sinusoidal_positional_encoding(seq_len, d_model)
    for pos in range(seq_len):
        for col in range(d_model):
            angle = pos / 10000 ** ((col - col % 2) / d_model)
            expected = math.sin(angle) if col % 2 == 0 else math.cos(angle)
            assert pe[pos, col].item() == pytest.approx(expected, abs=1e-12)
    assert sinusoidal_positional_encoding(seq_len, d_model, dtype=torch.float32).dtype == torch.float32


@pytest.mark.parametrize("shape", [(3,), (1, 5), (2, 4, 6)])
@pytest.mark.parametrize("dtype", [F64, torch.float32])
def test_layer_norm_matches_f_layer_norm(shape, dtype):
    gen = torch.Generator().manual_seed(len(shape))
    x = 3 * randn_from(gen, *shape, dtype=dtype) + 1
    gamma, beta = randn_from(gen, shape[-1], dtype=dtype), randn_from(gen, shape[-1], dtype=dtype)
    torch.testing.assert_close(layer_norm(x, gamma, beta), F.layer_norm(x, shape[-1:], gamma, beta))
    torch.testing.assert_close(layer_norm(x, gamma, beta, eps=0.5),
                               F.layer_norm(x, shape[-1:], gamma, beta, eps=0.5))
    torch.testing.assert_close(layer_norm(x, None, None), F.layer_norm(x, shape[-1:]))


def test_layer_norm_normalises_each_row():
    gen = torch.Generator().manual_seed(9)
    x = 5 * randn_from(gen, 4, 10) - 2
    y = layer_norm(x, torch.ones(10, dtype=F64), torch.zeros(10, dtype=F64), eps=0.0)
    torch.testing.assert_close(y.mean(-1), torch.zeros(4, dtype=F64))
    torch.testing.assert_close(y.var(-1, unbiased=False), torch.ones(4, dtype=F64))


@pytest.mark.parametrize("bias", [True, False])
def test_feed_forward_matches_linear_relu_linear(bias):
    torch.manual_seed(3)
    ffn = nn.Sequential(nn.Linear(4, 7, bias=bias), nn.ReLU(), nn.Linear(7, 4, bias=bias)).double()
    x = torch.randn(2, 3, 4, dtype=F64)
    b1 = ffn[0].bias if bias else None
    b2 = ffn[2].bias if bias else None
    with torch.no_grad():
        torch.testing.assert_close(feed_forward(x, ffn[0].weight.T, b1, ffn[2].weight.T, b2), ffn(x))


def _encoder_params(layer, bias):
    d = layer.self_attn.embed_dim
    w_q, w_k, w_v = layer.self_attn.in_proj_weight.detach().split(d)
    params = {
        "w_q": w_q.T, "w_k": w_k.T, "w_v": w_v.T, "w_o": layer.self_attn.out_proj.weight.detach().T,
        "W1": layer.linear1.weight.detach().T, "W2": layer.linear2.weight.detach().T,
        "gamma1": layer.norm1.weight.detach(), "gamma2": layer.norm2.weight.detach(),
    }
    if bias:
        b_q, b_k, b_v = layer.self_attn.in_proj_bias.detach().split(d)
        params.update(
            b_q=b_q, b_k=b_k, b_v=b_v, b_o=layer.self_attn.out_proj.bias.detach(),
            b1=layer.linear1.bias.detach(), b2=layer.linear2.bias.detach(),
            beta1=layer.norm1.bias.detach(), beta2=layer.norm2.bias.detach(),
        )
    return params


@pytest.mark.parametrize("n,length,d,heads,d_ff", [(1, 1, 4, 1, 8), (2, 5, 8, 2, 16), (3, 4, 12, 4, 6)])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("causal", [False, True])
def test_encoder_block_matches_transformer_encoder_layer(n, length, d, heads, d_ff, bias, causal):
    torch.manual_seed(n + length + d + heads)
    layer = nn.TransformerEncoderLayer(d, heads, d_ff, dropout=0.0, activation="relu",
                                       batch_first=True, norm_first=False, bias=bias).double().eval()
    with torch.no_grad():  # non-trivial norm parameters, so gamma / beta mistakes show
        for norm in (layer.norm1, layer.norm2):
            norm.weight.uniform_(0.5, 1.5)
            if bias:
                norm.bias.normal_()
    x = torch.randn(n, length, d, dtype=F64)
    mask = causal_mask(length) if causal else None
    with torch.no_grad():
        expected = layer(x, src_mask=None if mask is None else ~mask)
    out = encoder_block(x, _encoder_params(layer, bias), heads, mask)
    torch.testing.assert_close(out, expected)


@pytest.mark.parametrize("d,heads,d_ff", [(4, 1, 8), (8, 2, 32), (64, 8, 256), (6, 3, 5)])
@pytest.mark.parametrize("bias", [True, False])
def test_param_counts_match_torch_numel(d, heads, d_ff, bias):
    def numel(module):
        return sum(p.numel() for p in module.parameters())

    assert mha_param_count(d, bias) == numel(nn.MultiheadAttention(d, heads, bias=bias))
    assert ffn_param_count(d, d_ff, bias) == numel(nn.Sequential(nn.Linear(d, d_ff, bias=bias),
                                                                 nn.Linear(d_ff, d, bias=bias)))
    assert layer_norm_param_count(d, bias) == numel(nn.LayerNorm(d, bias=bias))
    layer = nn.TransformerEncoderLayer(d, heads, d_ff, bias=bias)
    assert encoder_block_param_count(d, d_ff, bias) == numel(layer)


def test_param_counts_by_hand():
    assert mha_param_count(512) == 4 * 512 * 512 + 4 * 512 == 1_050_624
    assert ffn_param_count(512, 2048) == 2_099_712
    assert ffn_param_count(512, 2048, bias=False) == 2 * 512 * 2048
    assert layer_norm_param_count(512) == 1024
    assert encoder_block_param_count(512, 2048) == 1_050_624 + 2_099_712 + 2048
    assert isinstance(encoder_block_param_count(512, 2048), int)


def test_attention_score_count_matches_weight_tensor():
    gen = torch.Generator().manual_seed(1)
    q, k = randn_from(gen, 3, 5, 4), randn_from(gen, 3, 7, 4)
    _, weights = scaled_dot_product_attention(q, k, k)
    assert attention_score_count(5, 7, num_heads=3) == weights.numel()
    assert attention_score_count(10, 10) == 100


@pytest.mark.parametrize("length,d", [(1, 1), (2, 3), (4, 2), (5, 5)])
def test_attention_flops_matches_brute_force_count(length, d):
    multiply_adds = 0
    for _query in range(length):
        for _key in range(length):
            multiply_adds += d  # one score q_i . k_j
            multiply_adds += d  # weight_ij * v_j accumulated into out_i
    assert attention_flops(length, d) == multiply_adds
