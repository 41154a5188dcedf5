"""Code exercises of section 8: dot-product attention over encoder states (attention_context).

Each misconception is a self-contained buggy implementation (math, torch and F only).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from exercises.code._common import case, code_exercise, fixed, hidden, randn, rounded, size, tensor
from grader.code.exercise import CodeMisconception, TestCase
from reference import attention


# -------------------------------------------------------------------- attention_context


def _context_scaled(query, encoder_states):
    scores = encoder_states @ query / math.sqrt(query.shape[0])
    alpha = torch.softmax(scores, dim=0)
    return alpha, alpha @ encoder_states


def _context_no_softmax(query, encoder_states):
    alpha = encoder_states @ query
    return alpha, alpha @ encoder_states


def _context_unstable(query, encoder_states):
    exp = torch.exp(encoder_states @ query)
    alpha = exp / exp.sum()
    return alpha, alpha @ encoder_states


def _context_hidden(rng: np.random.Generator) -> list[TestCase]:
    def pair(d: int, t: int, scale: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        return randn(rng, d, scale=scale), randn(rng, t, d, scale=scale)

    return [
        hidden("several_states", *pair(size(rng, 2, 6), size(rng, 3, 7))),
        hidden("one_state", *pair(size(rng, 2, 5), 1)),
        hidden("long_vectors", *pair(size(rng, 8, 12), size(rng, 2, 4), 0.5)),
        hidden("large_scores", *_large_scores(rng, size(rng, 2, 4), size(rng, 3, 5))),
    ]


def _large_scores(rng: np.random.Generator, d: int, t: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A query whose best score is 1500, far past where exp overflows (about 709)."""
    states = randn(rng, t, d)
    best = int(rng.integers(t))
    return 1500.0 * states[best] / states[best].dot(states[best]), states


ATTENTION_CONTEXT = code_exercise(
    "def attention_context(query: torch.Tensor, encoder_states: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:",
    reference=attention.attention_context,
    title="Attention context vector",
    section=8,
    docstring="""Dot-product attention of one decoder query over the encoder states.

query q (d,), encoder_states H (T, d). Scores H q (T,), weights alpha = softmax(H q)
(no scaling), context = alpha @ H (d,). Returns (alpha, context).
Must stay finite for large scores (subtract the max before exp).""",
    public=[
        case("three_states", tensor([1.0, 0.5]), tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])),
        case("random", rounded(randn(fixed(112), 3)), rounded(randn(fixed(113), 4, 3))),
    ],
    hidden=_context_hidden,
    outputs=("alpha", "context"),
    misconceptions=[
        CodeMisconception(
            "scaled_scores",
            "This attention uses the raw dot products H q; the 1/sqrt(d) scaling belongs to the Transformer.",
            _context_scaled,
        ),
        CodeMisconception(
            "no_softmax",
            "The attention weights are softmax(H q): they are positive and sum to 1.",
            _context_no_softmax,
        ),
        CodeMisconception(
            "unstable_softmax",
            "exp overflows for large scores: subtract the max score before exponentiating.",
            _context_unstable,
        ),
    ],
)


EXERCISES = [ATTENTION_CONTEXT]
