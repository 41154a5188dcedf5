"""Section 8 - seq2seq attention: a decoder query looks back at all encoder states.

Shapes: query (..., d), encoder states / keys (..., T, d); scores and weights (..., T);
context (..., d). Leading batch dimensions broadcast.
"""

from __future__ import annotations

import torch

from reference._numerics import _softmax


def dot_product_scores(query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    """Luong dot scores score_i = q . h_i; query (..., d), keys (..., T, d) -> (..., T)."""
    return (keys @ query.unsqueeze(-1)).squeeze(-1)


def additive_scores(
    query: torch.Tensor,
    keys: torch.Tensor,
    W_q: torch.Tensor,
    W_k: torch.Tensor,
    v: torch.Tensor,
) -> torch.Tensor:
    """Bahdanau scores score_i = v^T tanh(W_q q + W_k h_i).

    query (..., d_q), keys (..., T, d_k), W_q (d_a, d_q), W_k (d_a, d_k), v (d_a,) -> (..., T).
    """
    hidden = torch.tanh((query @ W_q.T).unsqueeze(-2) + keys @ W_k.T)
    return hidden @ v


def attention_weights(scores: torch.Tensor) -> torch.Tensor:
    """alpha = softmax(scores) over the last (key) dimension; same shape as `scores`."""
    return _softmax(scores, dim=-1)


def _context(alpha: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """c = sum_i alpha_i h_i; alpha (..., T), values (..., T, d) -> (..., d)."""
    return (alpha.unsqueeze(-2) @ values).squeeze(-2)


def attention_context(
    query: torch.Tensor, encoder_states: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Dot-product attention: alpha = softmax(H q), context = alpha @ H.

    query (d,) and encoder_states H (T, d) (or with matching leading batch dims)
    -> (alpha (T,), context (d,)).
    """
    alpha = attention_weights(dot_product_scores(query, encoder_states))
    return alpha, _context(alpha, encoder_states)


def additive_attention_context(
    query: torch.Tensor,
    encoder_states: torch.Tensor,
    W_q: torch.Tensor,
    W_k: torch.Tensor,
    v: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Bahdanau attention: alpha = softmax(v^T tanh(W_q q + W_k h_i)), context = alpha @ H.

    Shapes as in `additive_scores`; returns (alpha (..., T), context (..., d_k)).
    """
    alpha = attention_weights(additive_scores(query, encoder_states, W_q, W_k, v))
    return alpha, _context(alpha, encoder_states)
