"""Code exercises of section 11: LoRA (forward and merge) (lora_linear, lora_merge).

Each misconception is a self-contained buggy implementation (math, torch and F only).
"""

from __future__ import annotations

import numpy as np
import torch

from exercises.code._common import case, code_exercise, fixed, hidden, randn, rounded, size, tensor
from grader.code.exercise import CodeMisconception, TestCase
from reference import peft


# --------------------------------------------------------------------------- lora_linear


def _lora_alpha_not_divided(x, weight, lora_a, lora_b, alpha):
    return x @ weight.T + alpha * (x @ lora_a.T @ lora_b.T)


def _lora_r_over_alpha(x, weight, lora_a, lora_b, alpha):
    return x @ weight.T + (lora_a.shape[0] / alpha) * (x @ lora_a.T @ lora_b.T)


def _lora_forgot_frozen(x, weight, lora_a, lora_b, alpha):
    return (alpha / lora_a.shape[0]) * (x @ lora_a.T @ lora_b.T)


def _lora_parts(rng: np.random.Generator, d_in: int, d_out: int, r: int) -> tuple[torch.Tensor, ...]:
    return randn(rng, d_out, d_in), randn(rng, r, d_in, scale=0.5), randn(rng, d_out, r, scale=0.5)


def _alpha(rng: np.random.Generator) -> float:
    return float(rng.choice([1.0, 4.0, 8.0, 16.0, 32.0]))


def _lora_hidden(rng: np.random.Generator) -> list[TestCase]:
    d_in, d_out = size(rng, 3, 6), size(rng, 2, 5)
    return [
        hidden("batch", randn(rng, size(rng, 2, 5), d_in), *_lora_parts(rng, d_in, d_out, size(rng, 2, 3)), _alpha(rng)),
        hidden("batch_of_one", randn(rng, 1, d_in), *_lora_parts(rng, d_in, d_out, size(rng, 2, 4)), _alpha(rng)),
        hidden("sequence_batch", randn(rng, size(rng, 1, 3), size(rng, 2, 4), d_in),
               *_lora_parts(rng, d_in, d_in, size(rng, 2, 3)), _alpha(rng)),
        hidden("rank_one", randn(rng, size(rng, 2, 4), d_in), *_lora_parts(rng, d_in, d_out, 1), 2.0),
        hidden("alpha_four_rank_two", randn(rng, 3, d_in), *_lora_parts(rng, d_in, d_out, 2), 4.0),
    ]


_P = fixed(117)
LORA_LINEAR = code_exercise(
    (
        "def lora_linear(x: torch.Tensor, weight: torch.Tensor, lora_a: torch.Tensor, lora_b: torch.Tensor, "
        "alpha: float) -> torch.Tensor:"
    ),
    reference=peft.lora_linear,
    title="LoRA linear layer",
    section=11,
    docstring="""A frozen linear layer (no bias) with a LoRA update.

x (..., in), weight W (out, in), lora_a A (r, in), lora_b B (out, r), alpha a float.
Returns x W^T + (alpha / r) * x A^T B^T, of shape (..., out); r = A.shape[0].""",
    public=[
        case("rank_one", tensor([[1.0, 0.0, 2.0], [0.5, 1.0, -1.0]]), tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]]),
             tensor([[1.0, 1.0, 0.0]]), tensor([[0.5], [-1.0]]), 2.0),
        case("rank_two", rounded(randn(_P, 1, 4)), *(rounded(t) for t in _lora_parts(_P, 4, 3, 2)), 8.0),
    ],
    hidden=_lora_hidden,
    misconceptions=[
        CodeMisconception(
            "alpha_not_divided_by_r",
            "LoRA scales the update by alpha / r (r = A.shape[0]), not by alpha.",
            _lora_alpha_not_divided,
        ),
        CodeMisconception("r_over_alpha", "The LoRA scale is alpha / r, not r / alpha.", _lora_r_over_alpha),
        CodeMisconception(
            "forgot_frozen_weight",
            "LoRA adds its update to the frozen layer: x W^T + (alpha / r) x A^T B^T.",
            _lora_forgot_frozen,
        ),
    ],
)

# ---------------------------------------------------------------------------- lora_merge


def _merge_alpha_not_divided(weight, lora_a, lora_b, alpha):
    return weight + alpha * (lora_b @ lora_a)


def _merge_no_scaling(weight, lora_a, lora_b, alpha):
    return weight + lora_b @ lora_a


def _merge_transposed(weight, lora_a, lora_b, alpha):
    return weight + (alpha / lora_a.shape[0]) * (lora_b @ lora_a).T


def _merge_hidden(rng: np.random.Generator) -> list[TestCase]:
    d = size(rng, 3, 5)
    return [
        hidden("rectangular", *_lora_parts(rng, size(rng, 3, 6), size(rng, 2, 5), size(rng, 2, 3)), _alpha(rng)),
        hidden("square", *_lora_parts(rng, d, d, size(rng, 2, 3)), _alpha(rng)),
        hidden("rank_one", *_lora_parts(rng, size(rng, 2, 5), size(rng, 2, 5), 1), 3.0),
        hidden("rank_four", *_lora_parts(rng, size(rng, 4, 6), size(rng, 4, 6), 4), 16.0),
    ]


_P = fixed(118)
LORA_MERGE = code_exercise(
    "def lora_merge(weight: torch.Tensor, lora_a: torch.Tensor, lora_b: torch.Tensor, alpha: float) -> torch.Tensor:",
    reference=peft.lora_merge,
    title="Merging a LoRA update",
    section=11,
    docstring="""The merged weight of a LoRA layer, so inference costs nothing extra.

weight W (out, in), lora_a A (r, in), lora_b B (out, r), alpha a float.
Returns W + (alpha / r) * B A, of shape (out, in); r = A.shape[0].""",
    public=[
        case("rank_one", tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]]), tensor([[1.0, 1.0, 0.0]]), tensor([[0.5], [-1.0]]), 2.0),
        case("square_rank_two", *(rounded(t) for t in _lora_parts(_P, 3, 3, 2)), 8.0),
    ],
    hidden=_merge_hidden,
    misconceptions=[
        CodeMisconception(
            "alpha_not_divided_by_r",
            "LoRA scales B A by alpha / r (r = A.shape[0]), not by alpha.",
            _merge_alpha_not_divided,
        ),
        CodeMisconception("no_scaling", "The merged update is (alpha / r) B A: do not forget the scale.", _merge_no_scaling),
        CodeMisconception(
            "update_transposed",
            "B A already has W's shape (out, in): add it without transposing.",
            _merge_transposed,
        ),
    ],
)


EXERCISES = [LORA_LINEAR, LORA_MERGE]
