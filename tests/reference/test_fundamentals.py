"""Tests for reference.fundamentals (section 1) against torch.linalg norms and the sheet."""

import pytest
import torch

from reference.fundamentals import (
    EXPLODING_GRADIENT_FIXES,
    OVERFITTING_FIXES,
    UNDERFITTING_FIXES,
    VANISHING_GRADIENT_FIXES,
    diagnose_fit,
    fixes_for,
    gradient_problem_fixes,
    l1_penalty,
    l2_penalty,
    regularized_loss,
    total_loss,
)

SHAPES = [[(3, 4)], [(1, 1)], [(5, 2), (2,), (3, 1, 2)], [(7, 3), (3, 7)]]


def _weights(shapes, dtype=torch.float64):
    g = torch.Generator().manual_seed(len(shapes))
    return [torch.randn(s, generator=g, dtype=dtype) for s in shapes]


@pytest.mark.parametrize("shapes", SHAPES)
def test_l2_penalty_is_lam_times_sum_of_squared_frobenius_norms(shapes):
    ws = _weights(shapes)
    expected = 0.3 * sum(torch.linalg.vector_norm(w) ** 2 for w in ws)
    torch.testing.assert_close(l2_penalty(ws, 0.3), expected)


@pytest.mark.parametrize("shapes", SHAPES)
def test_l1_penalty_is_lam_times_sum_of_absolute_values(shapes):
    ws = _weights(shapes)
    expected = 0.3 * sum(torch.linalg.vector_norm(w, ord=1) for w in ws)
    torch.testing.assert_close(l1_penalty(ws, 0.3), expected)


def test_penalties_by_hand():
    w = [torch.tensor([[1.0, -2.0], [0.0, 3.0]], dtype=torch.float64), torch.tensor([-1.0], dtype=torch.float64)]
    assert l2_penalty(w, 0.5).item() == pytest.approx(0.5 * (1 + 4 + 9 + 1))
    assert l1_penalty(w, 0.5).item() == pytest.approx(0.5 * (1 + 2 + 3 + 1))


@pytest.mark.parametrize("kind", ["l1", "l2"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_regularized_loss_matches_weight_decay_gradient_and_value(kind, dtype):
    ws = [w.requires_grad_() for w in _weights([(4, 3), (3,)], dtype)]
    data_loss = torch.tensor(1.25, dtype=dtype)
    loss = regularized_loss(data_loss, ws, 0.1, kind)
    assert loss.dim() == 0 and loss.dtype == dtype
    loss.backward()
    for w in ws:
        expected_grad = 0.1 * (2 * w if kind == "l2" else w.sign())
        torch.testing.assert_close(w.grad, expected_grad.detach())
    ord_ = 1 if kind == "l1" else 2
    power = 1 if kind == "l1" else 2
    expected = 1.25 + 0.1 * sum(torch.linalg.vector_norm(w.detach(), ord=ord_) ** power for w in ws)
    torch.testing.assert_close(loss.detach(), expected)


def test_total_loss_equals_regularized_loss_and_rejects_unknown_kind():
    ws = _weights([(2, 2)])
    d = torch.tensor(0.5, dtype=torch.float64)
    torch.testing.assert_close(total_loss(d, ws, 0.2, "l1"), regularized_loss(d, ws, 0.2, "l1"))
    with pytest.raises(ValueError):
        total_loss(d, ws, 0.2, "l3")


def test_zero_lambda_and_empty_weights_leave_data_loss():
    d = torch.tensor(2.0, dtype=torch.float64)
    assert regularized_loss(d, _weights([(3, 3)]), 0.0).item() == 2.0
    assert regularized_loss(d, [], 0.7, "l1").item() == 2.0


@pytest.mark.parametrize(
    "train, val, expected",
    [
        (0.99, 0.60, "overfitting"),
        (0.95, 0.93, "good fit"),
        (0.55, 0.52, "underfitting"),
        (0.60, 0.20, "underfitting"),
        (0.90, 0.85, "good fit"),
        (0.90, 0.75, "overfitting"),
    ],
)
def test_diagnose_fit(train, val, expected):
    assert diagnose_fit(train, val) == expected


def test_diagnose_fit_thresholds_are_parameters():
    assert diagnose_fit(0.8, 0.5, good=0.7, gap=0.2) == "overfitting"
    assert diagnose_fit(0.8, 0.7, good=0.85) == "underfitting"
    assert diagnose_fit(0.875, 0.75, good=0.5, gap=0.125) == "good fit"  # gap exactly at threshold
    assert diagnose_fit(0.5, 0.0, good=0.5) == "overfitting"  # train exactly at `good` counts as high


def test_fixes_follow_the_sheet():
    assert set(fixes_for("overfitting")) == {"data augmentation", "l2 regularization", "dropout", "early stopping"}
    assert set(fixes_for("underfitting")) == {"bigger model", "train longer"}
    assert fixes_for("good fit") == ()
    assert set(gradient_problem_fixes("vanishing")) == {"relu", "residual connections", "batch norm", "he initialization"}
    assert set(gradient_problem_fixes("exploding")) == {"gradient clipping", "residual connections"}
    for fixes in (OVERFITTING_FIXES, UNDERFITTING_FIXES, VANISHING_GRADIENT_FIXES, EXPLODING_GRADIENT_FIXES):
        assert isinstance(fixes, tuple) and all(f == f.lower() for f in fixes)


def test_unknown_names_raise():
    with pytest.raises(ValueError):
        fixes_for("overfit")
    with pytest.raises(ValueError):
        gradient_problem_fixes("dying")
