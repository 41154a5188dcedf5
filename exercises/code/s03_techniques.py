"""Code exercises of section 3: batch norm and dropout (batchnorm_forward, dropout).

Each misconception is a self-contained buggy implementation (math, torch and F only).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from exercises.code._common import (
    DROPOUT_OPS,
    DROPOUTS,
    NORMALIZATION_OPS,
    NORMALIZATIONS,
    case,
    code_exercise,
    fixed,
    hidden,
    nonzero,
    randn,
    rounded,
    size,
    tensor,
    uniform,
)
from grader.code.exercise import CodeMisconception, TestCase, Tolerance, Verdict
from grader.kit.compare import compare_dropout, dropout_arguments, dropout_pattern
from reference import techniques


# -------------------------------------------------------------------- batchnorm_forward


def _bn_unbiased(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=0)
    var = x.var(dim=0, unbiased=True)
    return gamma * (x - mean) / torch.sqrt(var + eps) + beta


def _bn_wrong_axis(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=1, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=1, keepdim=True)
    return gamma * (x - mean) / torch.sqrt(var + eps) + beta


def _bn_eps_outside_sqrt(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=0)
    var = ((x - mean) ** 2).mean(dim=0)
    return gamma * (x - mean) / (torch.sqrt(var) + eps) + beta


def _bn_hidden(rng: np.random.Generator) -> list[TestCase]:
    def with_affine(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        d = x.shape[1]
        return x, uniform(rng, 0.5, 2.0, d), randn(rng, d)

    small_var = randn(rng, size(rng, 4, 8), size(rng, 2, 5))
    small_var[:, 0] = small_var[:, 0] * 1e-3 + 3.0
    return [
        hidden("batch", *with_affine(randn(rng, size(rng, 5, 16), size(rng, 2, 5), scale=2.0) + 1.0)),
        hidden("batch_of_two", *with_affine(randn(rng, 2, size(rng, 2, 5)))),
        hidden("batch_of_one", *with_affine(randn(rng, 1, size(rng, 2, 5)))),
        hidden("small_variance_feature", *with_affine(small_var)),
        hidden("custom_eps", *with_affine(randn(rng, size(rng, 3, 8), size(rng, 1, 4))), eps=float(rng.uniform(0.05, 0.5))),
        hidden("large_offset", *with_affine(randn(rng, size(rng, 4, 10), 3, scale=3.0) + 100.0)),
    ]


_P = fixed(106)
BATCHNORM_FORWARD = code_exercise(
    (
        "def batchnorm_forward(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, "
        "eps: float = 1e-5) -> torch.Tensor:"
    ),
    reference=techniques.batchnorm_forward,
    title="Batch normalization (training mode)",
    section=3,
    docstring="""Batch normalization in training mode for x of shape (N, D).

For each feature (column): mean and *biased* variance over the batch (dim 0),
x_hat = (x - mean) / sqrt(var + eps), y = gamma * x_hat + beta; gamma, beta (D,).
Returns y (N, D), as F.batch_norm(x, None, None, gamma, beta, training=True, eps=eps).
Not allowed: F.batch_norm, nn.BatchNorm1d/2d/3d.""",
    public=[
        case("four_samples", tensor([[1.0, 2.0, 3.0], [2.0, 0.0, 3.0], [3.0, 1.0, 0.0], [4.0, 1.0, 2.0]]),
             torch.ones(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64)),
        case("affine", rounded(randn(_P, 3, 2)), tensor([2.0, 0.5]), tensor([0.1, -1.0])),
    ],
    hidden=_bn_hidden,
    forbidden=NORMALIZATIONS,
    forbidden_ops=NORMALIZATION_OPS,
    misconceptions=[
        CodeMisconception(
            "unbiased_variance",
            "Batch norm normalizes with the biased batch variance (divide by N, not N - 1).",
            _bn_unbiased,
        ),
        CodeMisconception(
            "normalized_over_features",
            "Batch norm averages over the batch (dim 0) for each feature, not over the features of each sample.",
            _bn_wrong_axis,
        ),
        CodeMisconception(
            "eps_outside_sqrt",
            "eps goes inside the square root: (x - mean) / sqrt(var + eps).",
            _bn_eps_outside_sqrt,
        ),
    ],
)

# ------------------------------------------------------------------------------ dropout


def _dropout_non_inverted(x, p, training):
    if not training:
        return x
    keep = (torch.rand(x.shape) >= p).to(x.dtype)
    return x * keep


def _dropout_keep_probability(x, p, training):
    if not training:
        return x
    keep = (torch.rand(x.shape) < p).to(x.dtype)
    return x * keep / p


def _dropout_in_eval(x, p, training):
    keep = (torch.rand(x.shape) >= p).to(x.dtype)
    return x * keep / (1 - p)


def _dropout_args(test: TestCase) -> tuple[torch.Tensor, float, bool]:
    return dropout_arguments(test)


def _dropout_pattern(x: torch.Tensor, got: Any, drop: float, scale: float, tol: Tolerance) -> Verdict:
    """Is `got` x with each element zeroed with probability `drop` and the others times `scale`?"""
    return dropout_pattern(x, got, drop, scale, tol)


def _matches_non_inverted(test: TestCase, got: Any, tol: Tolerance) -> bool:
    x, p, training = _dropout_args(test)
    return training and 0.0 < p < 1.0 and _dropout_pattern(x, got, p, 1.0, tol).ok


def _matches_keep_probability(test: TestCase, got: Any, tol: Tolerance) -> bool:
    x, p, training = _dropout_args(test)
    if not (training and 0.0 < p < 1.0 and p != 0.5):
        return False
    return _dropout_pattern(x, got, 1.0 - p, 1.0 / p, tol).ok or _dropout_pattern(x, got, 1.0 - p, 1.0 / (1.0 - p), tol).ok


def _matches_in_eval(test: TestCase, got: Any, tol: Tolerance) -> bool:
    x, p, training = _dropout_args(test)
    return not training and 0.0 < p < 1.0 and _dropout_pattern(x, got, p, 1.0 / (1.0 - p), tol).ok


def _dropout_hidden(rng: np.random.Generator) -> list[TestCase]:
    return [
        hidden("not_training", nonzero(rng, size(rng, 1, 4), size(rng, 5, 50)), float(rng.uniform(0.2, 0.8)), False),
        hidden("p_zero", nonzero(rng, size(rng, 2, 5), 10), 0.0, True),
        hidden("training_p_low", nonzero(rng, size(rng, 20, 40), 100), float(rng.uniform(0.1, 0.3)), True),
        hidden("training_p_high", nonzero(rng, 1, 4000), float(rng.uniform(0.65, 0.9)), True),
        hidden("training_three_dims", nonzero(rng, 2, 30, 50), float(rng.choice([0.3, 0.4, 0.6])), True),
    ]


DROPOUT = code_exercise(
    "def dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:",
    reference=techniques.dropout,
    title="Inverted dropout",
    section=3,
    docstring="""Inverted dropout.

When training is False, return x unchanged. Otherwise zero each element independently
with probability p and scale the survivors by 1 / (1 - p), so the expectation is x.
Same shape as x. The output is random: tests check that survivors equal x / (1 - p)
and that about a fraction p of the elements is zeroed.
Not allowed: F.dropout, nn.Dropout.""",
    public=[
        case("not_training", tensor([[1.0, -2.0, 3.0], [0.5, 0.25, -1.0]]), 0.5, False),
        case("training", torch.arange(1, 2001, dtype=torch.float64).reshape(40, 50) / 100, 0.25, True),
    ],
    hidden=_dropout_hidden,
    forbidden=DROPOUTS,
    forbidden_ops=DROPOUT_OPS,
    compare=compare_dropout,
    deterministic=False,
    misconceptions=[
        CodeMisconception(
            "non_inverted",
            "Inverted dropout scales the surviving activations by 1 / (1 - p) at training time.",
            _dropout_non_inverted,
            matches=_matches_non_inverted,
        ),
        CodeMisconception(
            "keep_probability_confused",
            "p is the probability of dropping an element, not of keeping it.",
            _dropout_keep_probability,
            matches=_matches_keep_probability,
        ),
        CodeMisconception(
            "dropout_at_eval",
            "At test time (training=False) dropout does nothing: return x unchanged.",
            _dropout_in_eval,
            matches=_matches_in_eval,
        ),
    ],
)


EXERCISES = [BATCHNORM_FORWARD, DROPOUT]
