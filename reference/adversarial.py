"""Section 5 of the concept sheet: FGSM and PGD attacks under an L-infinity budget.

The loss is the mean cross-entropy ``CE(model(x), y)``; inputs are never clamped to a pixel
range. Gradients come from ``torch.autograd.grad`` on a detached copy of ``x``, so nothing
is accumulated into the caller's tensors or the model's ``.grad`` fields.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

Model = Callable[[Tensor], Tensor]


def input_gradient(model: Model, x: Tensor, y: Tensor) -> Tensor:
    """``grad_x CE(model(x), y)``, same shape as ``x``; ``model(x)`` gives logits ``(N, K)``."""
    x_var = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        loss = F.cross_entropy(model(x_var), y)
        (grad,) = torch.autograd.grad(loss, x_var)
    return grad


def fgsm(model: Model, x: Tensor, y: Tensor, eps: float, targeted: bool = False) -> Tensor:
    """Fast gradient sign method: ``x + eps * sign(grad_x CE(model(x), y))`` (untargeted, ``y``
    the true labels) or ``x - eps * sign(...)`` (targeted, ``y`` the target labels). No clamping."""
    step = eps * input_gradient(model, x, y).sign()
    return x.detach() - step if targeted else x.detach() + step


def project_linf(x_adv: Tensor, x: Tensor, eps: float) -> Tensor:
    """Clip ``x_adv`` elementwise into ``[x - eps, x + eps]``, the L-infinity ball around ``x``."""
    return torch.maximum(torch.minimum(x_adv, x + eps), x - eps)


def pgd(
    model: Model, x: Tensor, y: Tensor, eps: float, step_size: float, steps: int, targeted: bool = False,
) -> Tensor:
    """Projected gradient descent: starting from ``x`` (no random start), ``steps`` times do an
    FGSM step of size ``step_size`` from the current point, then ``project_linf`` onto the
    ``eps`` ball around the original ``x``."""
    x_adv = x.detach()
    for _ in range(steps):
        x_adv = project_linf(fgsm(model, x_adv, y, step_size, targeted), x.detach(), eps)
    return x_adv
