"""Section 2 of the concept sheet: optimizers, critical points and hand-written backprop.

Conventions: a linear layer is ``h = x @ W + b`` with ``x (N, D_in)``, ``W (D_in, D_out)``,
``b (D_out,)``. Backward functions take the upstream gradient ``dout`` and the forward inputs;
none of them uses autograd.
"""

from __future__ import annotations

import torch
from torch import Tensor

CRITICAL_POINT_KINDS: tuple[str, ...] = ("minimum", "maximum", "saddle", "degenerate")


def sgd_step(theta: Tensor, grads: Tensor, lr: float) -> Tensor:
    """Minibatch SGD: ``theta - lr * (1/b) sum_k grads[k]``; ``grads (b, *theta.shape)``."""
    return theta - lr * grads.mean(dim=0)


def momentum_step(theta: Tensor, velocity: Tensor, grad: Tensor, lr: float, momentum: float) -> tuple[Tensor, Tensor]:
    """SGD with momentum as ``torch.optim.SGD(momentum=mu, dampening=0)``: returns ``(theta, v)``.

    ``v = mu * v + grad``; ``theta = theta - lr * v``. Start from ``velocity = zeros``: the
    first step then gives ``v = grad``, exactly PyTorch's first-step buffer.
    """
    velocity = momentum * velocity + grad
    return theta - lr * velocity, velocity


def adam_step(
    param: Tensor, grad: Tensor, m: Tensor, v: Tensor, t: int,
    lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
) -> tuple[Tensor, Tensor, Tensor]:
    """Adam step ``t`` (1-based), as ``torch.optim.Adam``: returns ``(param, m, v)``.

    ``m = b1 m + (1-b1) g``; ``v = b2 v + (1-b2) g^2``; ``m_hat = m / (1-b1^t)``;
    ``v_hat = v / (1-b2^t)``; ``param = param - lr * m_hat / (sqrt(v_hat) + eps)``.
    """
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return param - lr * m_hat / (v_hat.sqrt() + eps), m, v


def classify_critical_point(hessian: Tensor, tol: float = 1e-8) -> str:
    """Classify a critical point by the eigenvalues of its symmetric Hessian ``(n, n)``.

    Eigenvalues with ``|lambda| <= tol * max(1, max|lambda|)`` count as zero. Both signs present
    -> ``"saddle"``; all positive -> ``"minimum"``; all negative -> ``"maximum"``; otherwise
    (some zero, the rest of one sign) -> ``"degenerate"`` (the second-order test is inconclusive).
    """
    eig = torch.linalg.eigvalsh(hessian)
    cutoff = tol * max(1.0, eig.abs().max().item())
    positive, negative = bool((eig > cutoff).any()), bool((eig < -cutoff).any())
    zero = bool((eig.abs() <= cutoff).any())
    if positive and negative:
        return "saddle"
    if zero:
        return "degenerate"
    return "minimum" if positive else "maximum"


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """Stable ``log softmax(x)`` along ``dim``: ``x - max - log sum exp(x - max)``."""
    shifted = x - x.amax(dim=dim, keepdim=True)
    return shifted - shifted.exp().sum(dim=dim, keepdim=True).log()


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """Stable softmax along ``dim``: ``exp(x - max) / sum exp(x - max)``."""
    e = (x - x.amax(dim=dim, keepdim=True)).exp()
    return e / e.sum(dim=dim, keepdim=True)


def softmax_cross_entropy(logits: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """Mean cross-entropy and its gradient: ``logits (N, C)``, integer labels ``y (N,)``.

    ``loss = -(1/N) sum_n log p[n, y_n]`` with ``p = softmax(logits)``;
    ``dlogits = (p - onehot(y)) / N`` of shape ``(N, C)``. Stable via log-sum-exp.
    """
    n, y = logits.shape[0], y.long()
    logp = log_softmax(logits, dim=1)
    rows = torch.arange(n)
    loss = -logp[rows, y].mean()
    dlogits = logp.exp()
    dlogits[rows, y] -= 1
    return loss, dlogits / n


def relu(x: Tensor) -> Tensor:
    """``max(x, 0)`` elementwise."""
    return torch.where(x > 0, x, torch.zeros_like(x))


def relu_backward(dout: Tensor, x: Tensor) -> Tensor:
    """``dx = dout * 1[x > 0]``: the gradient is 0 where ``x <= 0`` (including exactly 0)."""
    return torch.where(x > 0, dout, torch.zeros_like(dout))


def sigmoid(x: Tensor) -> Tensor:
    """Stable ``1 / (1 + exp(-x))``: uses ``z = exp(-|x|)`` so no exponent overflows."""
    z = (-x.abs()).exp()
    return torch.where(x >= 0, 1 / (1 + z), z / (1 + z))


def sigmoid_backward(dout: Tensor, x: Tensor) -> Tensor:
    """``dx = dout * s(x) (1 - s(x))`` for the pre-activation ``x``."""
    s = sigmoid(x)
    return dout * s * (1 - s)


def tanh_backward(dout: Tensor, x: Tensor) -> Tensor:
    """``dx = dout * (1 - tanh(x)^2)`` for the pre-activation ``x``."""
    return dout * (1 - x.tanh() ** 2)


def linear_backward(x: Tensor, W: Tensor, dout: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Gradients of ``h = x @ W + b`` (``x (N, D_in)``, ``W (D_in, D_out)``, ``dout (N, D_out)``).

    ``dx = dout W^T (N, D_in)``; ``dW = x^T dout (D_in, D_out)``; ``db = sum_n dout (D_out,)``.
    """
    return dout @ W.T, x.T @ dout, dout.sum(dim=0)


def mlp_forward(x: Tensor, W1: Tensor, b1: Tensor, W2: Tensor, b2: Tensor) -> tuple[Tensor, tuple[Tensor, ...]]:
    """Two-layer MLP ``scores = relu(x W1 + b1) W2 + b2``; returns ``(scores (N, C), cache)``."""
    h = x @ W1 + b1
    a = relu(h)
    return a @ W2 + b2, (x, W1, h, a, W2)


def mlp_backward(dscores: Tensor, cache: tuple[Tensor, ...]) -> dict[str, Tensor]:
    """Backprop through ``mlp_forward``: dict with ``dx, dW1, db1, dW2, db2``."""
    x, W1, h, a, W2 = cache
    da, dW2, db2 = linear_backward(a, W2, dscores)
    dx, dW1, db1 = linear_backward(x, W1, relu_backward(da, h))
    return {"dx": dx, "dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
