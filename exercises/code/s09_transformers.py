"""Code exercises of section 9: scaled dot-product and multi-head attention, sinusoidal positional
encodings and layer norm (scaled_dot_product_attention, multi_head_attention,
sinusoidal_positional_encoding, layer_norm).

Each misconception is a self-contained buggy implementation (math, torch and F only).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from exercises.code._common import (
    ATTENTION,
    ATTENTION_OPS,
    NORMALIZATION_OPS,
    NORMALIZATIONS,
    case,
    code_exercise,
    fixed,
    hidden,
    randn,
    rounded,
    size,
    tensor,
    uniform,
)
from grader.code.exercise import CodeMisconception, TestCase, Tolerance
from reference import transformer


# --------------------------------------------------------- scaled_dot_product_attention


def _sdpa_no_scaling(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights


def _sdpa_scaled_by_dk(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / q.shape[-1]
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights


def _sdpa_softmax_over_queries(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-2)
    return weights @ v, weights


def _sdpa_inverted_mask(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights


def _one_key_mask(rng: np.random.Generator, *lead: int, l_q: int, l_kv: int) -> torch.Tensor:
    """Each query may attend to exactly one (random) key."""
    chosen = torch.from_numpy(rng.integers(0, l_kv, (*lead, l_q)))
    return torch.nn.functional.one_hot(chosen, l_kv).bool()


def _causal(length: int) -> torch.Tensor:
    return torch.ones(length, length, dtype=torch.bool).tril()


def _sdpa_hidden(rng: np.random.Generator) -> list[TestCase]:
    def qkv(*lead: int, l_q: int, l_kv: int, d_k: int, d_v: int) -> tuple[torch.Tensor, ...]:
        return randn(rng, *lead, l_q, d_k), randn(rng, *lead, l_kv, d_k), randn(rng, *lead, l_kv, d_v)

    length = size(rng, 3, 6)
    n, l_q, l_kv = size(rng, 1, 3), size(rng, 2, 4), size(rng, 5, 7)
    return [
        hidden("unbatched", *qkv(l_q=size(rng, 2, 5), l_kv=size(rng, 2, 5), d_k=size(rng, 2, 6), d_v=size(rng, 2, 6))),
        hidden("batch_of_one", *qkv(1, l_q=size(rng, 2, 5), l_kv=size(rng, 2, 5), d_k=size(rng, 3, 6), d_v=size(rng, 1, 4))),
        hidden("several_heads", *qkv(size(rng, 1, 2), size(rng, 2, 4), l_q=length, l_kv=length, d_k=4, d_v=4)),
        hidden("cross_attention", *qkv(size(rng, 2, 3), l_q=size(rng, 2, 3), l_kv=size(rng, 5, 7), d_k=size(rng, 2, 5), d_v=3)),
        hidden("causal_mask", *qkv(size(rng, 1, 3), l_q=length, l_kv=length, d_k=size(rng, 2, 5), d_v=size(rng, 2, 4)),
               _causal(length)),
        hidden("one_key_allowed", *qkv(n, l_q=l_q, l_kv=l_kv, d_k=size(rng, 2, 5), d_v=2),
               mask=_one_key_mask(rng, n, l_q=l_q, l_kv=l_kv)),
    ]


_P = fixed(114)
SCALED_DOT_PRODUCT_ATTENTION = code_exercise(
    (
        "def scaled_dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, "
        "mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:"
    ),
    reference=transformer.scaled_dot_product_attention,
    title="Scaled dot-product attention",
    section=9,
    docstring="""Scaled dot-product attention, as F.scaled_dot_product_attention, also returning the weights.

q (..., L_q, d_k), k (..., L_kv, d_k), v (..., L_kv, d_v), with any leading batch/head dims.
weights = softmax(q k^T / sqrt(d_k)) over the keys (the last dim), out = weights @ v.
mask: None, or boolean broadcastable to (..., L_q, L_kv) with True = may attend
(masked scores are -inf before the softmax). Every query row allows at least one key.
Returns (out (..., L_q, d_v), weights (..., L_q, L_kv)).
Not allowed: F.scaled_dot_product_attention, nn.MultiheadAttention.""",
    excludes=("transformers_sdpa_weights",),  # the docstring states the scaling by sqrt(d_k)
    public=[
        case("two_queries", tensor([[1.0, 0.0], [0.0, 1.0]]), tensor([[1.0, 1.0], [0.0, 2.0], [1.0, -1.0]]),
             tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])),
        case("causal", rounded(randn(_P, 1, 3, 2)), rounded(randn(_P, 1, 3, 2)), rounded(randn(_P, 1, 3, 2)),
             _causal(3)),
    ],
    hidden=_sdpa_hidden,
    forbidden=ATTENTION,
    forbidden_ops=ATTENTION_OPS,
    outputs=("out", "weights"),
    misconceptions=[
        CodeMisconception(
            "no_scaling",
            "Divide the scores by sqrt(d_k) before the softmax (no 1/sqrt(d_k) here).",
            _sdpa_no_scaling,
        ),
        CodeMisconception("scaled_by_dk", "Scale the scores by 1/sqrt(d_k), not 1/d_k.", _sdpa_scaled_by_dk),
        CodeMisconception(
            "softmax_over_queries",
            "The softmax runs over the keys (the last dim): each query's weights sum to 1.",
            _sdpa_softmax_over_queries,
        ),
        CodeMisconception(
            "inverted_mask",
            "In this contract mask True means 'may attend': fill -inf where the mask is False.",
            _sdpa_inverted_mask,
        ),
    ],
)

# ----------------------------------------------------------------- multi_head_attention


def _mha_no_scaling(x_q, x_kv, w_q, w_k, w_v, w_o, num_heads, mask=None):
    n, l_q, d_model = x_q.shape
    d_head = d_model // num_heads
    l_kv = x_kv.shape[1]
    q = (x_q @ w_q).reshape(n, l_q, num_heads, d_head).transpose(1, 2)
    k = (x_kv @ w_k).reshape(n, l_kv, num_heads, d_head).transpose(1, 2)
    v = (x_kv @ w_v).reshape(n, l_kv, num_heads, d_head).transpose(1, 2)
    scores = q @ k.transpose(-2, -1)
    if mask is not None:
        scores = scores.masked_fill(~(mask if mask.dim() == 2 else mask.unsqueeze(1)), float("-inf"))
    heads = torch.softmax(scores, dim=-1) @ v
    return heads.transpose(1, 2).reshape(n, l_q, d_model) @ w_o


def _mha_scaled_by_d_model(x_q, x_kv, w_q, w_k, w_v, w_o, num_heads, mask=None):
    n, l_q, d_model = x_q.shape
    d_head = d_model // num_heads
    l_kv = x_kv.shape[1]
    q = (x_q @ w_q).reshape(n, l_q, num_heads, d_head).transpose(1, 2)
    k = (x_kv @ w_k).reshape(n, l_kv, num_heads, d_head).transpose(1, 2)
    v = (x_kv @ w_v).reshape(n, l_kv, num_heads, d_head).transpose(1, 2)
    scores = q @ k.transpose(-2, -1) / math.sqrt(d_model)
    if mask is not None:
        scores = scores.masked_fill(~(mask if mask.dim() == 2 else mask.unsqueeze(1)), float("-inf"))
    heads = torch.softmax(scores, dim=-1) @ v
    return heads.transpose(1, 2).reshape(n, l_q, d_model) @ w_o


def _mha_wrong_head_split(x_q, x_kv, w_q, w_k, w_v, w_o, num_heads, mask=None):
    n, l_q, d_model = x_q.shape
    d_head = d_model // num_heads
    l_kv = x_kv.shape[1]
    q = (x_q @ w_q).reshape(n, num_heads, l_q, d_head)
    k = (x_kv @ w_k).reshape(n, num_heads, l_kv, d_head)
    v = (x_kv @ w_v).reshape(n, num_heads, l_kv, d_head)
    scores = q @ k.transpose(-2, -1) / math.sqrt(d_head)
    if mask is not None:
        scores = scores.masked_fill(~(mask if mask.dim() == 2 else mask.unsqueeze(1)), float("-inf"))
    heads = torch.softmax(scores, dim=-1) @ v
    return heads.reshape(n, l_q, d_model) @ w_o


def _mha_no_output_projection(x_q, x_kv, w_q, w_k, w_v, w_o, num_heads, mask=None):
    n, l_q, d_model = x_q.shape
    d_head = d_model // num_heads
    l_kv = x_kv.shape[1]
    q = (x_q @ w_q).reshape(n, l_q, num_heads, d_head).transpose(1, 2)
    k = (x_kv @ w_k).reshape(n, l_kv, num_heads, d_head).transpose(1, 2)
    v = (x_kv @ w_v).reshape(n, l_kv, num_heads, d_head).transpose(1, 2)
    scores = q @ k.transpose(-2, -1) / math.sqrt(d_head)
    if mask is not None:
        scores = scores.masked_fill(~(mask if mask.dim() == 2 else mask.unsqueeze(1)), float("-inf"))
    heads = torch.softmax(scores, dim=-1) @ v
    return heads.transpose(1, 2).reshape(n, l_q, d_model)


def _projections(rng: np.random.Generator, d_model: int) -> tuple[torch.Tensor, ...]:
    return tuple(randn(rng, d_model, d_model, scale=1.0 / math.sqrt(d_model)) for _ in range(4))


def _mha_hidden(rng: np.random.Generator) -> list[TestCase]:
    def model(heads: int) -> tuple[int, tuple[torch.Tensor, ...]]:
        d_model = heads * size(rng, 2, 3)
        return d_model, _projections(rng, d_model)

    d1, w1 = model(2)
    x1 = randn(rng, size(rng, 2, 3), size(rng, 3, 5), d1)
    heads2 = size(rng, 2, 3)
    d2, w2 = model(heads2)
    n2, l2q, l2kv = size(rng, 1, 3), size(rng, 1, 3), size(rng, 4, 6)
    d3, w3 = model(4)
    x3 = randn(rng, 1, size(rng, 3, 5), d3)
    d4, w4 = model(2)
    length = size(rng, 3, 5)
    x4 = randn(rng, size(rng, 1, 2), length, d4)
    heads5 = size(rng, 2, 3)
    d5, w5 = model(heads5)
    n5, l5q, l5kv = size(rng, 1, 3), size(rng, 2, 4), size(rng, 3, 5)
    d6, w6 = model(1)
    x6 = randn(rng, size(rng, 1, 3), size(rng, 2, 4), d6)
    return [
        hidden("self_attention", x1, x1, *w1, 2),
        hidden("cross_attention", randn(rng, n2, l2q, d2), randn(rng, n2, l2kv, d2), *w2, heads2),
        hidden("four_heads_batch_of_one", x3, x3, *w3, 4),
        hidden("causal_mask", x4, x4, *w4, 2, _causal(length)),
        hidden("batch_mask_cross", randn(rng, n5, l5q, d5), randn(rng, n5, l5kv, d5), *w5, heads5,
               mask=_one_key_mask(rng, n5, l_q=l5q, l_kv=l5kv)),
        hidden("one_head", x6, x6, *w6, 1),
    ]


_P = fixed(115)
_MHA_X = rounded(randn(_P, 1, 2, 4))
MULTI_HEAD_ATTENTION = code_exercise(
    (
        "def multi_head_attention(x_q: torch.Tensor, x_kv: torch.Tensor, w_q: torch.Tensor, "
        "w_k: torch.Tensor, w_v: torch.Tensor, w_o: torch.Tensor, num_heads: int, "
        "mask: torch.Tensor | None = None) -> torch.Tensor:"
    ),
    reference=transformer.multi_head_attention,
    title="Multi-head attention",
    section=9,
    docstring="""Multi-head attention without biases, as nn.MultiheadAttention(bias=False, batch_first=True).

x_q (N, L_q, d_model) queries; x_kv (N, L_kv, d_model) keys and values (the same tensor
for self-attention, another one for cross-attention). w_q, w_k, w_v, w_o (d_model, d_model),
applied as x @ w. Split the projected d_model into num_heads heads of d_head = d_model /
num_heads consecutive columns; per head, softmax(q k^T / sqrt(d_head)) v; concatenate the
heads and multiply by w_o. mask: None, boolean (L_q, L_kv) or (N, L_q, L_kv), True = may
attend, shared by all heads. Returns (N, L_q, d_model).
Not allowed: nn.MultiheadAttention, F.multi_head_attention_forward, F.scaled_dot_product_attention.""",
    public=[
        case("self_attention_two_heads", _MHA_X, _MHA_X, *(rounded(w) for w in _projections(_P, 4)), 2),
        case("cross_attention", rounded(randn(_P, 1, 1, 4)), rounded(randn(_P, 1, 3, 4)),
             *(rounded(w) for w in _projections(_P, 4)), 2),
    ],
    hidden=_mha_hidden,
    forbidden=ATTENTION,
    forbidden_ops=ATTENTION_OPS,
    misconceptions=[
        CodeMisconception(
            "no_scaling",
            "Scale each head's scores by 1/sqrt(d_head) before the softmax.",
            _mha_no_scaling,
        ),
        CodeMisconception(
            "scaled_by_d_model",
            "Each head scales by 1/sqrt(d_head) = 1/sqrt(d_model / num_heads), not 1/sqrt(d_model).",
            _mha_scaled_by_d_model,
        ),
        CodeMisconception(
            "wrong_head_split",
            "Split heads with reshape(N, L, heads, d_head).transpose(1, 2); reshaping straight to (N, heads, L, d_head) mixes positions.",
            _mha_wrong_head_split,
        ),
        CodeMisconception(
            "no_output_projection",
            "After concatenating the heads, multiply by the output projection w_o.",
            _mha_no_output_projection,
        ),
    ],
)

# ------------------------------------------------------- sinusoidal_positional_encoding


def _pe_cos_on_even(seq_len, d_model):
    pe = torch.zeros(seq_len, d_model, dtype=torch.float64)
    pos = torch.arange(seq_len, dtype=torch.float64)[:, None]
    angle = pos / 10000 ** (torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    pe[:, 0::2] = torch.cos(angle)
    pe[:, 1::2] = torch.sin(angle[:, : d_model // 2])
    return pe


def _pe_i_over_d(seq_len, d_model):
    pe = torch.zeros(seq_len, d_model, dtype=torch.float64)
    pos = torch.arange(seq_len, dtype=torch.float64)[:, None]
    angle = pos / 10000 ** (torch.arange(0, (d_model + 1) // 2, dtype=torch.float64) / d_model)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle[:, : d_model // 2])
    return pe


def _pe_column_index(seq_len, d_model):
    pos = torch.arange(seq_len, dtype=torch.float64)[:, None]
    column = torch.arange(d_model, dtype=torch.float64)
    angle = pos / 10000 ** (column / d_model)
    return torch.where(column.long() % 2 == 0, torch.sin(angle), torch.cos(angle))


def _pe_halves(seq_len, d_model):
    pos = torch.arange(seq_len, dtype=torch.float64)[:, None]
    angle = pos / 10000 ** (torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    return torch.cat([torch.sin(angle), torch.cos(angle[:, : d_model // 2])], dim=1)


def _pe_hidden(rng: np.random.Generator) -> list[TestCase]:
    return [
        hidden("small", size(rng, 3, 8), 2 * size(rng, 2, 4)),
        hidden("long", size(rng, 20, 32), 2 * size(rng, 4, 8)),
        hidden("odd_width", size(rng, 4, 10), 2 * size(rng, 2, 5) + 1),
        hidden("one_position", 1, 2 * size(rng, 1, 4)),
        hidden("two_columns", size(rng, 5, 12), 2),
    ]


SINUSOIDAL_POSITIONAL_ENCODING = code_exercise(
    "def sinusoidal_positional_encoding(seq_len: int, d_model: int) -> torch.Tensor:",
    reference=transformer.sinusoidal_positional_encoding,
    title="Sinusoidal positional encoding",
    section=9,
    docstring="""Sinusoidal positional encodings of "Attention is all you need".

Returns a (seq_len, d_model) float tensor with, for pos in [0, seq_len) and column pairs
(2i, 2i + 1): PE[pos, 2i] = sin(pos / 10000^(2i / d_model)),
PE[pos, 2i + 1] = cos(pos / 10000^(2i / d_model)). With an odd d_model the last
column is a sine. float32 or float64 are both accepted.""",
    public=[case("four_by_four", 4, 4), case("three_by_six", 3, 6)],
    hidden=_pe_hidden,
    tolerance=Tolerance(rtol=1e-4, atol=1e-4),
    misconceptions=[
        CodeMisconception("cos_on_even", "Even columns (0, 2, ...) hold the sine, odd columns the cosine.", _pe_cos_on_even),
        CodeMisconception(
            "exponent_i_over_d",
            "The frequency of pair i is 1 / 10000^(2i / d_model): the exponent uses 2i (the even column index), not i.",
            _pe_i_over_d,
        ),
        CodeMisconception(
            "exponent_column_index",
            "Both columns of a pair share one frequency 10000^(2i / d_model); the cosine column does not use 2i + 1.",
            _pe_column_index,
        ),
        CodeMisconception(
            "sin_cos_halves",
            "Sines and cosines are interleaved (even / odd columns), not stacked as two halves.",
            _pe_halves,
        ),
    ],
)

# ---------------------------------------------------------------------------- layer_norm


def _ln_unbiased(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=-1, keepdim=True)
    var = x.var(dim=-1, keepdim=True, unbiased=True)
    return gamma * (x - mean) / torch.sqrt(var + eps) + beta


def _ln_over_batch(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=0, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=0, keepdim=True)
    return gamma * (x - mean) / torch.sqrt(var + eps) + beta


def _ln_eps_outside(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=-1, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
    return gamma * (x - mean) / (torch.sqrt(var) + eps) + beta


def _ln_hidden(rng: np.random.Generator) -> list[TestCase]:
    def affine(d: int) -> tuple[torch.Tensor, torch.Tensor]:
        return uniform(rng, 0.5, 2.0, d), randn(rng, d)

    d1, d2, d3, d4 = size(rng, 3, 8), size(rng, 2, 6), size(rng, 3, 6), size(rng, 2, 5)
    small = randn(rng, size(rng, 2, 4), d4)
    small[0] = small[0] * 1e-3 + 2.0
    return [
        hidden("rows", randn(rng, size(rng, 2, 6), d1, scale=2.0) + 1.0, *affine(d1)),
        hidden("sequence_batch", randn(rng, size(rng, 2, 3), size(rng, 2, 5), d2), *affine(d2)),
        hidden("batch_of_one", randn(rng, 1, d3), *affine(d3)),
        hidden("custom_eps", randn(rng, size(rng, 2, 5), d3), *affine(d3), eps=float(rng.uniform(0.05, 0.5))),
        hidden("small_variance_row", small, *affine(d4)),
    ]


_P = fixed(116)
LAYER_NORM = code_exercise(
    "def layer_norm(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:",
    reference=transformer.layer_norm,
    title="Layer normalization",
    section=9,
    docstring="""Layer normalization over the last dimension, as F.layer_norm(x, (D,), gamma, beta, eps).

x (..., D); for each vector along the last dim: mean and *biased* variance over its D
features, x_hat = (x - mean) / sqrt(var + eps), y = gamma * x_hat + beta; gamma, beta (D,).
Returns y, same shape as x. Not allowed: F.layer_norm, nn.LayerNorm.""",
    public=[
        case("two_rows", tensor([[1.0, 2.0, 3.0], [2.0, 2.0, 8.0]]), torch.ones(3, dtype=torch.float64),
             torch.zeros(3, dtype=torch.float64)),
        case("affine", rounded(randn(_P, 1, 4)), tensor([1.0, 2.0, 0.5, 1.5]), tensor([0.0, 0.1, -0.1, 1.0])),
    ],
    hidden=_ln_hidden,
    forbidden=NORMALIZATIONS,
    forbidden_ops=NORMALIZATION_OPS,
    misconceptions=[
        CodeMisconception(
            "unbiased_variance",
            "Layer norm uses the biased variance (divide by D, not D - 1).",
            _ln_unbiased,
        ),
        CodeMisconception(
            "normalized_over_batch",
            "Layer norm normalizes each sample over its features (last dim), not each feature over the batch.",
            _ln_over_batch,
        ),
        CodeMisconception("eps_outside_sqrt", "eps goes inside the square root: sqrt(var + eps).", _ln_eps_outside),
    ],
)


EXERCISES = [SCALED_DOT_PRODUCT_ATTENTION, MULTI_HEAD_ATTENTION, SINUSOIDAL_POSITIONAL_ENCODING, LAYER_NORM]
