"""Tests for reference.adversarial (section 5) against an independent autograd computation."""

import pytest
import torch
import torch.nn.functional as F

from reference.adversarial import fgsm, input_gradient, pgd, project_linf
from tests.strategies import randn

F64 = torch.float64


def _mlp(d_in, k, seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(d_in, 16), torch.nn.Tanh(),
                               torch.nn.Linear(16, k)).double()


def _cnn(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                               torch.nn.Linear(3 * 4 * 4, 5)).double()


def _grad_sign(model, x, y):
    x = x.clone().requires_grad_()
    F.cross_entropy(model(x), y).backward()
    return x.grad.sign()


CASES = [  # (model factory, x shape, classes)
    (lambda: _mlp(4, 3), (1, 4), 3),
    (lambda: _mlp(6, 4), (8, 6), 4),
    (lambda: _cnn(), (1, 2, 6, 6), 5),
    (lambda: _cnn(), (3, 2, 6, 6), 5),
]


@pytest.mark.parametrize("make_model, shape, k", CASES)
@pytest.mark.parametrize("targeted", [False, True])
def test_fgsm_matches_autograd_sign_step(make_model, shape, k, targeted):
    model, x = make_model(), randn(*shape, seed=1)
    y = torch.randint(0, k, (shape[0],), generator=torch.Generator().manual_seed(2))
    sign = _grad_sign(model, x, y)
    expected = x - 0.03 * sign if targeted else x + 0.03 * sign
    torch.testing.assert_close(fgsm(model, x, y, 0.03, targeted=targeted), expected)


def test_fgsm_by_hand_on_a_linear_model():
    # logits = x W^T; dCE/dx = (p - onehot) W / N. With W = [[1, -2], [0, 0]] and equal
    # logits at x = 0, p = (1/2, 1/2): for y = 0 the gradient is (-1/2) * [1, -2] = [-1/2, 1].
    model = torch.nn.Linear(2, 2, bias=False).double()
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, -2.0], [0.0, 0.0]]))
    x, y = torch.zeros(1, 2, dtype=F64), torch.tensor([0])
    assert fgsm(model, x, y, 0.1).tolist() == [[-0.1, 0.1]]
    assert fgsm(model, x, y, 0.1, targeted=True).tolist() == [[0.1, -0.1]]


def test_fgsm_leaves_no_gradients_behind_and_works_under_no_grad():
    model = _mlp(4, 3)
    x = randn(5, 4, seed=3).requires_grad_()
    y = torch.tensor([0, 1, 2, 0, 1])
    with torch.no_grad():
        x_adv = fgsm(model, x, y, 0.1)
    assert x.grad is None and all(p.grad is None for p in model.parameters())
    assert not x_adv.requires_grad
    torch.testing.assert_close(x_adv, x.detach() + 0.1 * _grad_sign(model, x.detach(), y))


def test_fgsm_untargeted_raises_loss_and_targeted_lowers_target_loss():
    model, x = _mlp(6, 4), randn(16, 6, seed=4)
    y = torch.randint(0, 4, (16,), generator=torch.Generator().manual_seed(5))
    loss = F.cross_entropy(model(x), y).item()
    with torch.no_grad():
        assert F.cross_entropy(model(fgsm(model, x, y, 0.01)), y).item() > loss
        assert F.cross_entropy(model(fgsm(model, x, y, 0.01, targeted=True)), y).item() < loss
    assert (fgsm(model, x, y, 0.01) - x).abs().max().item() == pytest.approx(0.01)


def test_input_gradient_matches_autograd():
    model, x, y = _cnn(), randn(2, 2, 6, 6, seed=6), torch.tensor([1, 4])
    leaf = x.clone().requires_grad_()
    F.cross_entropy(model(leaf), y).backward()
    torch.testing.assert_close(input_gradient(model, x, y), leaf.grad)


def test_project_linf_by_hand_and_properties():
    x = torch.tensor([0.0, 1.0, -1.0, 0.5], dtype=F64)
    x_adv = torch.tensor([0.3, 0.95, -2.0, 0.5], dtype=F64)
    assert project_linf(x_adv, x, 0.1).tolist() == pytest.approx([0.1, 0.95, -1.1, 0.5])
    big = x + randn(4, seed=7) * 3
    projected = project_linf(big, x, 0.2)
    assert (projected - x).abs().max().item() <= 0.2 + 1e-12
    assert torch.equal(project_linf(projected, x, 0.2), projected)


def _pgd_by_autograd(model, x, y, eps, alpha, steps, targeted):
    x_adv = x.clone()
    for _ in range(steps):
        step = alpha * _grad_sign(model, x_adv, y)
        x_adv = x_adv - step if targeted else x_adv + step
        x_adv = torch.clamp(x_adv, x - eps, x + eps)
    return x_adv


@pytest.mark.parametrize("make_model, shape, k", CASES)
@pytest.mark.parametrize("targeted", [False, True])
def test_pgd_matches_autograd_loop_and_stays_in_ball(make_model, shape, k, targeted):
    model, x = make_model(), randn(*shape, seed=8)
    y = torch.randint(0, k, (shape[0],), generator=torch.Generator().manual_seed(9))
    x_adv = pgd(model, x, y, eps=0.05, step_size=0.02, steps=5, targeted=targeted)
    torch.testing.assert_close(x_adv, _pgd_by_autograd(model, x, y, 0.05, 0.02, 5, targeted))
    assert (x_adv - x).abs().max().item() <= 0.05 + 1e-12


def test_pgd_with_one_full_step_is_fgsm_and_zero_steps_is_identity():
    model, x, y = _mlp(4, 3), randn(3, 4, seed=10), torch.tensor([0, 1, 2])
    torch.testing.assert_close(pgd(model, x, y, 0.1, 0.1, 1), fgsm(model, x, y, 0.1))
    assert torch.equal(pgd(model, x, y, 0.1, 0.1, 0), x)
