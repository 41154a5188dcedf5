"""Section 9 - transformer: scaled dot-product and multi-head attention, positional
encoding, layer norm, the post-norm encoder block, and parameter / cost counts.

Conventions: projections are right-multiplications `x @ w` with w (d_in, d_out); boolean
masks use True = "may attend" (the opposite of torch's boolean `attn_mask` in
nn.MultiheadAttention / nn.TransformerEncoderLayer).
"""

from __future__ import annotations

import math
from typing import Mapping

import torch

from reference._numerics import _masked_softmax, _softmax


def scaled_dot_product_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """softmax(q k^T / sqrt(d_k)) v, returning (out, weights).

    q (..., L_q, d_k), k (..., L_kv, d_k), v (..., L_kv, d_v); mask boolean, broadcastable to
    (..., L_q, L_kv), True = may attend. out (..., L_q, d_v), weights (..., L_q, L_kv).
    A query row with no allowed key gets all-zero weights and a zero output (NaN-free; this
    matches F.scaled_dot_product_attention in torch 2.13; some older versions return NaN).
    """
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    weights = _softmax(scores, -1) if mask is None else _masked_softmax(scores, mask, -1)
    return weights @ v, weights


def causal_mask(length: int) -> torch.Tensor:
    """Boolean (L, L) lower-triangular mask: position i may attend to positions j <= i."""
    return torch.ones(length, length, dtype=torch.bool).tril()


def _split_heads(x: torch.Tensor, num_heads: int) -> torch.Tensor:
    """(..., L, d_model) -> (..., h, L, d_model / h); head i owns features [i*d_h, (i+1)*d_h)."""
    *lead, length, d_model = x.shape
    return x.reshape(*lead, length, num_heads, d_model // num_heads).transpose(-3, -2)


def _merge_heads(x: torch.Tensor) -> torch.Tensor:
    """(..., h, L, d_h) -> (..., L, h * d_h), concatenating the heads."""
    *lead, num_heads, length, d_head = x.shape
    return x.transpose(-3, -2).reshape(*lead, length, num_heads * d_head)


def _affine(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
    """x @ w (+ b)."""
    return x @ w if b is None else x @ w + b


def multi_head_attention(
    x_q: torch.Tensor,
    x_kv: torch.Tensor,
    w_q: torch.Tensor,
    w_k: torch.Tensor,
    w_v: torch.Tensor,
    w_o: torch.Tensor,
    num_heads: int,
    mask: torch.Tensor | None = None,
    *,
    b_q: torch.Tensor | None = None,
    b_k: torch.Tensor | None = None,
    b_v: torch.Tensor | None = None,
    b_o: torch.Tensor | None = None,
) -> torch.Tensor:
    """Multi-head attention concat_h(attention(x_q W_q^h, x_kv W_k^h, x_kv W_v^h)) W_o.

    x_q (N, L_q, d_model), x_kv (N, L_kv, d_model) (self-attention when they are the same);
    w_* (d_model, d_model) applied as x @ w, optional biases b_* (d_model,); mask boolean
    (L_q, L_kv) or (N, L_q, L_kv), True = may attend, shared by all heads.
    Returns (N, L_q, d_model). Equals nn.MultiheadAttention(batch_first=True) with
    in_proj_weight = cat(w_q.T, w_k.T, w_v.T), out_proj.weight = w_o.T, attn_mask = ~mask.
    """
    d_model = x_q.shape[-1]
    if d_model % num_heads:
        raise ValueError(f"d_model={d_model} is not divisible by num_heads={num_heads}")
    q = _split_heads(_affine(x_q, w_q, b_q), num_heads)
    k = _split_heads(_affine(x_kv, w_k, b_k), num_heads)
    v = _split_heads(_affine(x_kv, w_v, b_v), num_heads)
    if mask is not None and mask.dim() > 2:
        mask = mask.unsqueeze(-3)
    heads, _ = scaled_dot_product_attention(q, k, v, mask)
    return _affine(_merge_heads(heads), w_o, b_o)


def sinusoidal_positional_encoding(
    seq_len: int, d_model: int, dtype: torch.dtype = torch.float64
) -> torch.Tensor:
    """(seq_len, d_model): PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(same).

    An odd d_model has one more sin column than cos columns (the last column is a sin).
    """
    positions = torch.arange(seq_len, dtype=torch.float64)[:, None]
    even_columns = torch.arange(0, d_model, 2, dtype=torch.float64)
    angles = positions / 10000.0 ** (even_columns / d_model)
    pe = torch.zeros(seq_len, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angles)
    pe[:, 1::2] = torch.cos(angles[:, : d_model // 2])
    return pe.to(dtype)


def layer_norm(
    x: torch.Tensor, gamma: torch.Tensor | None, beta: torch.Tensor | None, eps: float = 1e-5
) -> torch.Tensor:
    """gamma * (x - mean) / sqrt(var + eps) + beta over the last dim (biased variance).

    x (..., d), gamma and beta (d,) (None: no scale / no shift); same shape as x.
    """
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    y = (x - mean) / torch.sqrt(var + eps)
    if gamma is not None:
        y = y * gamma
    return y if beta is None else y + beta


def feed_forward(
    x: torch.Tensor,
    W1: torch.Tensor,
    b1: torch.Tensor | None,
    W2: torch.Tensor,
    b2: torch.Tensor | None,
) -> torch.Tensor:
    """Position-wise FFN relu(x W1 + b1) W2 + b2.

    x (..., d_model), W1 (d_model, d_ff), b1 (d_ff,), W2 (d_ff, d_model), b2 (d_model,);
    biases may be None. Returns (..., d_model).
    """
    return _affine(torch.relu(_affine(x, W1, b1)), W2, b2)


def encoder_block(
    x: torch.Tensor,
    params: Mapping[str, torch.Tensor | None],
    num_heads: int,
    mask: torch.Tensor | None = None,
    eps: float = 1e-5,
) -> torch.Tensor:
    """Post-norm encoder block: x = LN1(x + MHA(x)); x = LN2(x + FFN(x)). (N, L, d) -> (N, L, d).

    params keys: w_q, w_k, w_v, w_o (d, d) and W1 (d, d_ff), W2 (d_ff, d) as x @ w;
    gamma1, gamma2 (d,); optional (missing or None = no bias): b_q, b_k, b_v, b_o, b1 (d_ff,),
    b2, beta1, beta2 (d,). mask as in `multi_head_attention` (True = may attend).
    Equals nn.TransformerEncoderLayer(norm_first=False, dropout=0, activation="relu",
    batch_first=True) with the same weights (transposed) and src_mask = ~mask.
    """
    p = dict(params)
    attended = multi_head_attention(
        x, x, p["w_q"], p["w_k"], p["w_v"], p["w_o"], num_heads, mask,
        b_q=p.get("b_q"), b_k=p.get("b_k"), b_v=p.get("b_v"), b_o=p.get("b_o"),
    )
    x = layer_norm(x + attended, p["gamma1"], p.get("beta1"), eps)
    transformed = feed_forward(x, p["W1"], p.get("b1"), p["W2"], p.get("b2"))
    return layer_norm(x + transformed, p["gamma2"], p.get("beta2"), eps)


def mha_param_count(d_model: int, bias: bool = True) -> int:
    """Parameters of multi-head attention: 4 d^2 weights (Q, K, V, O) + 4 d biases if bias.

    Independent of the number of heads (the heads split d_model).
    """
    return 4 * d_model * d_model + (4 * d_model if bias else 0)


def ffn_param_count(d_model: int, d_ff: int, bias: bool = True) -> int:
    """Parameters of the FFN: 2 d d_ff weights + (d_ff + d) biases if bias."""
    return 2 * d_model * d_ff + (d_ff + d_model if bias else 0)


def layer_norm_param_count(d_model: int, bias: bool = True) -> int:
    """Parameters of a layer norm: gamma (d) + beta (d) if bias."""
    return 2 * d_model if bias else d_model


def encoder_block_param_count(d_model: int, d_ff: int, bias: bool = True) -> int:
    """Parameters of an encoder block: MHA + FFN + 2 layer norms.

    bias=False drops every bias, including the layer norms' beta (as torch's bias=False).
    """
    return (
        mha_param_count(d_model, bias)
        + ffn_param_count(d_model, d_ff, bias)
        + 2 * layer_norm_param_count(d_model, bias)
    )


def attention_score_count(l_q: int, l_kv: int, num_heads: int = 1) -> int:
    """Entries of the attention score matrices: num_heads * L_q * L_kv (quadratic in L)."""
    return num_heads * l_q * l_kv


def attention_flops(length: int, d: int) -> int:
    """Multiply-adds of self-attention's pairwise part: Q K^T (L^2 d) plus weights @ V (L^2 d).

    Projections excluded; = 2 L^2 d, the quadratic term the Swin paper writes 2 (hw)^2 C.
    """
    return 2 * length * length * d
