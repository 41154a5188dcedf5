"""Code exercises of section 1: regularized loss (regularized_loss).

Each misconception is a self-contained buggy implementation (math, torch and F only).
"""

from __future__ import annotations

import numpy as np
import torch

from exercises.code._common import case, code_exercise, fixed, hidden, randn, rounded, size, tensor
from grader.code.exercise import CodeMisconception, TestCase
from reference import fundamentals


# --------------------------------------------------------------------- regularized_loss


def _reg_l2_not_squared(data_loss, weights, lam, kind="l2"):
    if kind == "l1":
        return data_loss + lam * sum(w.abs().sum() for w in weights)
    return data_loss + lam * sum(torch.sqrt((w * w).sum()) for w in weights)


def _reg_half_l2(data_loss, weights, lam, kind="l2"):
    if kind == "l1":
        return data_loss + lam * sum(w.abs().sum() for w in weights)
    return data_loss + 0.5 * lam * sum((w * w).sum() for w in weights)


def _reg_kind_ignored(data_loss, weights, lam, kind="l2"):
    return data_loss + lam * sum((w * w).sum() for w in weights)


def _regularized_hidden(rng: np.random.Generator) -> list[TestCase]:
    def weights(count: int) -> list[torch.Tensor]:
        shapes = [(size(rng, 1, 4), size(rng, 1, 4)), (size(rng, 1, 5),), (size(rng, 1, 3), 2, size(rng, 1, 3))]
        return [randn(rng, *shapes[int(rng.integers(len(shapes)))]) for _ in range(count)]

    def loss() -> torch.Tensor:
        return torch.tensor(float(rng.uniform(0.1, 3.0)), dtype=torch.float64)

    return [
        hidden("l2_several_weights", loss(), weights(size(rng, 2, 4)), float(rng.uniform(0.05, 1.0)), "l2"),
        hidden("l1_several_weights", loss(), weights(size(rng, 2, 4)), float(rng.uniform(0.05, 1.0)), "l1"),
        hidden("l2_by_default", loss(), weights(size(rng, 1, 3)), float(rng.uniform(0.05, 1.0))),
        hidden("l1_one_weight", loss(), weights(1), float(rng.uniform(0.05, 1.0)), kind="l1"),
        hidden("l2_one_weight", loss(), weights(1), float(rng.uniform(0.05, 1.0)), kind="l2"),
    ]


_P = fixed(101)
REGULARIZED_LOSS = code_exercise(
    (
        "def regularized_loss(data_loss: torch.Tensor, weights: list[torch.Tensor], lam: float, "
        'kind: str = "l2") -> torch.Tensor:'
    ),
    reference=fundamentals.regularized_loss,
    title="Regularized loss (L2 / L1)",
    section=1,
    docstring="""Data loss plus a weight penalty.

kind="l2": data_loss + lam * sum over W in weights of ||W||_F^2 (the sum of squared entries).
kind="l1": data_loss + lam * sum over W in weights of sum |W_ij|.
data_loss is a 0-d tensor, weights a list of tensors of any shapes, lam a float.
Returns a 0-d tensor.""",
    public=[
        case("l2_two_weights", tensor(0.5), [rounded(randn(_P, 2, 3)), rounded(randn(_P, 3))], 0.1, "l2"),
        case("l1_two_weights", tensor(1.25), [rounded(randn(_P, 2, 2)), rounded(randn(_P, 4))], 0.5, "l1"),
    ],
    hidden=_regularized_hidden,
    misconceptions=[
        CodeMisconception(
            "l2_not_squared",
            "The L2 penalty uses the squared Frobenius norm, sum of w**2, not the norm itself.",
            _reg_l2_not_squared,
        ),
        CodeMisconception(
            "half_l2",
            "This contract's L2 penalty is lam * sum ||W||^2, without the factor 1/2.",
            _reg_half_l2,
        ),
        CodeMisconception(
            "kind_ignored",
            'kind="l1" asks for the sum of absolute values, not of squares.',
            _reg_kind_ignored,
        ),
    ],
)


EXERCISES = [REGULARIZED_LOSS]
