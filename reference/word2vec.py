"""Section 7 - word embeddings: skip-gram / CBOW training pairs, negative sampling, analogies."""

from __future__ import annotations

from typing import Hashable, Sequence, TypeVar

import torch

from reference._numerics import _softplus

Token = TypeVar("Token", bound=Hashable)


def _window_indices(n: int, i: int, window: int) -> list[int]:
    """Positions within `window` of position `i` (clipped to [0, n)), left to right, without `i`."""
    return [j for j in range(max(0, i - window), min(n, i + window + 1)) if j != i]


def _check_window(window: int) -> None:
    if window < 0:
        raise ValueError(f"window must be >= 0, got {window}")


def skipgram_pairs(tokens: Sequence[Token], window: int) -> list[tuple[Token, Token]]:
    """Skip-gram training pairs (center, context): the center predicts each context word.

    Centers in sentence order; for each center, the contexts at distance 1..window, left to
    right, skipping the center itself and clipped at the sentence ends.
    Example: tokens a b c, window 1 -> (a, b), (b, a), (b, c), (c, b).
    """
    _check_window(window)
    n = len(tokens)
    return [(tokens[i], tokens[j]) for i in range(n) for j in _window_indices(n, i, window)]


def cbow_contexts(tokens: Sequence[Token], window: int) -> list[tuple[list[Token], Token]]:
    """CBOW training examples (context_list, target): the context words predict the target.

    One example per position, in order; the context list holds the words within `window`
    left to right without the target (clipped at the ends). Positions with an empty context
    (a one-token sentence, or window 0) give no example.
    """
    _check_window(window)
    n = len(tokens)
    examples = []
    for i in range(n):
        context = [tokens[j] for j in _window_indices(n, i, window)]
        if context:
            examples.append((context, tokens[i]))
    return examples


def negative_sampling_loss(v_c: torch.Tensor, u_o: torch.Tensor, u_neg: torch.Tensor) -> torch.Tensor:
    """Skip-gram negative-sampling loss -log s(u_o . v_c) - sum_k log s(-u_k . v_c).

    v_c (d,) center vector, u_o (d,) true context vector, u_neg (K, d) negative samples;
    returns a scalar. Stable for large scores: -log s(x) = softplus(-x).
    """
    positive = u_o @ v_c
    negatives = u_neg @ v_c
    return _softplus(-positive) + _softplus(negatives).sum()


def negative_sampling_grads(
    v_c: torch.Tensor, u_o: torch.Tensor, u_neg: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Analytic gradients of `negative_sampling_loss`: (d_v_c (d,), d_u_o (d,), d_u_neg (K, d)).

    With s the sigmoid: d_v_c = (s(u_o.v_c) - 1) u_o + sum_k s(u_k.v_c) u_k,
    d_u_o = (s(u_o.v_c) - 1) v_c, d_u_k = s(u_k.v_c) v_c.
    """
    positive_coeff = torch.sigmoid(u_o @ v_c) - 1
    negative_coeffs = torch.sigmoid(u_neg @ v_c)
    d_v_c = positive_coeff * u_o + negative_coeffs @ u_neg
    d_u_o = positive_coeff * v_c
    d_u_neg = negative_coeffs[:, None] * v_c[None, :]
    return d_v_c, d_u_o, d_u_neg


def cosine_similarity(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """a . b / (|a| |b|) along the last dimension; (..., d) and (..., d) broadcast to (...).

    The norm product is clamped below by `eps`, so a zero vector has similarity 0.
    """
    dot = (a * b).sum(-1)
    return dot / (a.norm(dim=-1) * b.norm(dim=-1)).clamp_min(eps)


def analogy(embeddings: torch.Tensor, vocab: Sequence[str], a: str, b: str, c: str) -> str:
    """Solve "a is to b as c is to ?": the word w not in {a, b, c} maximising
    cosine(v_w, v_b - v_a + v_c). embeddings (V, d), row i is the vector of vocab[i].

    Ties go to the first word in vocab order. Raises KeyError for an unknown word and
    ValueError when no candidate word is left.
    """
    index = {word: i for i, word in enumerate(vocab)}
    for word in (a, b, c):
        if word not in index:
            raise KeyError(word)
    target = embeddings[index[b]] - embeddings[index[a]] + embeddings[index[c]]
    scores = cosine_similarity(embeddings, target)
    excluded = torch.tensor([word in (a, b, c) for word in vocab])
    if bool(excluded.all()):
        raise ValueError("no candidate word outside {a, b, c}")
    scores = scores.masked_fill(excluded, float("-inf"))
    return vocab[int(scores.argmax())]
