"""Section 1 of the concept sheet: overfitting, regularization and gradient problems."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

OVERFITTING = "overfitting"
UNDERFITTING = "underfitting"
GOOD_FIT = "good fit"

OVERFITTING_FIXES: tuple[str, ...] = (
    "data augmentation",
    "l2 regularization",
    "dropout",
    "early stopping",
)
UNDERFITTING_FIXES: tuple[str, ...] = ("bigger model", "train longer")

VANISHING_GRADIENT_FIXES: tuple[str, ...] = (
    "relu",
    "residual connections",
    "batch norm",
    "he initialization",
)
EXPLODING_GRADIENT_FIXES: tuple[str, ...] = ("gradient clipping", "residual connections")

REGULARIZER_KINDS: tuple[str, ...] = ("l1", "l2")


def l1_penalty(weights: Sequence[Tensor], lam: float) -> Tensor:
    """L1 penalty ``lam * sum_k sum |W^k|`` over tensors of any shape; a scalar tensor."""
    return lam * sum((w.abs().sum() for w in weights), torch.tensor(0.0, dtype=_dtype(weights)))


def l2_penalty(weights: Sequence[Tensor], lam: float) -> Tensor:
    """L2 penalty ``lam * sum_k ||W^k||_F^2`` over tensors of any shape; a scalar tensor."""
    return lam * sum((w.pow(2).sum() for w in weights), torch.tensor(0.0, dtype=_dtype(weights)))


def total_loss(data_loss: Tensor, weights: Sequence[Tensor], lam: float, kind: str = "l2") -> Tensor:
    """Total loss ``J = data_loss + Omega(theta)``, Omega the ``"l1"`` or ``"l2"`` penalty."""
    penalties = {"l1": l1_penalty, "l2": l2_penalty}
    if kind not in penalties:
        raise ValueError(f"kind must be one of {REGULARIZER_KINDS}, got {kind!r}")
    return data_loss + penalties[kind](weights, lam)


def regularized_loss(data_loss: Tensor, weights: Sequence[Tensor], lam: float, kind: str = "l2") -> Tensor:
    """Contract function: ``data_loss + lam * sum ||W||_F^2`` (``"l2"``) or ``+ lam * sum |W|`` (``"l1"``).

    ``data_loss`` is a scalar tensor, ``weights`` a list of tensors of any shape; returns a scalar.
    """
    return total_loss(data_loss, weights, lam, kind)


def diagnose_fit(train_acc: float, val_acc: float, *, good: float = 0.9, gap: float = 0.1) -> str:
    """Diagnose a model from its accuracies (fractions in [0, 1]).

    - ``"underfitting"`` when ``train_acc < good`` (the model does not even fit the training set);
    - ``"overfitting"`` when ``train_acc >= good`` and ``train_acc - val_acc > gap``;
    - ``"good fit"`` otherwise (high train accuracy, validation within ``gap`` of it).
    """
    if train_acc < good:
        return UNDERFITTING
    if train_acc - val_acc > gap:
        return OVERFITTING
    return GOOD_FIT


def fixes_for(diagnosis: str) -> tuple[str, ...]:
    """The sheet's fixes for a diagnosis: overfitting -> OVERFITTING_FIXES,
    underfitting -> UNDERFITTING_FIXES, good fit -> ()."""
    table = {OVERFITTING: OVERFITTING_FIXES, UNDERFITTING: UNDERFITTING_FIXES, GOOD_FIT: ()}
    if diagnosis not in table:
        raise ValueError(f"unknown diagnosis {diagnosis!r}")
    return table[diagnosis]


def gradient_problem_fixes(problem: str) -> tuple[str, ...]:
    """The sheet's fixes for ``"vanishing"`` (relu, residual connections, batch norm,
    he initialization) or ``"exploding"`` (gradient clipping, residual connections) gradients."""
    table = {"vanishing": VANISHING_GRADIENT_FIXES, "exploding": EXPLODING_GRADIENT_FIXES}
    if problem not in table:
        raise ValueError(f"problem must be 'vanishing' or 'exploding', got {problem!r}")
    return table[problem]


def _dtype(weights: Sequence[Tensor]) -> torch.dtype:
    return weights[0].dtype if len(weights) else torch.get_default_dtype()
