"""Code exercises of section 2: softmax cross-entropy, the backward passes of ReLU and a linear layer,
an Adam step (softmax_cross_entropy, relu_backward, linear_backward, adam_step).

Each misconception is a self-contained buggy implementation (math, torch and F only).
"""

from __future__ import annotations

import numpy as np
import torch

from exercises.code._common import (
    AUTOGRAD,
    AUTOGRAD_OPS,
    case,
    code_exercise,
    fixed,
    hidden,
    integers,
    randn,
    rounded,
    size,
    tensor,
    uniform,
)
from grader.code.exercise import CodeMisconception, TestCase
from reference import optimization


# ---------------------------------------------------------------- softmax_cross_entropy


def _ce_grad_not_divided(logits, y):
    n = logits.shape[0]
    shifted = logits - logits.max(dim=1, keepdim=True).values
    log_probs = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
    rows = torch.arange(n)
    loss = -log_probs[rows, y].mean()
    grad = torch.exp(log_probs)
    grad[rows, y] -= 1.0
    return loss, grad


def _ce_summed(logits, y):
    n = logits.shape[0]
    shifted = logits - logits.max(dim=1, keepdim=True).values
    log_probs = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
    rows = torch.arange(n)
    loss = -log_probs[rows, y].sum()
    grad = torch.exp(log_probs)
    grad[rows, y] -= 1.0
    return loss, grad


def _ce_no_max_shift(logits, y):
    n = logits.shape[0]
    exp = torch.exp(logits)
    probs = exp / exp.sum(dim=1, keepdim=True)
    rows = torch.arange(n)
    loss = -torch.log(probs[rows, y]).mean()
    grad = probs.clone()
    grad[rows, y] -= 1.0
    return loss, grad / n


def _ce_gradient_sign(logits, y):
    n = logits.shape[0]
    shifted = logits - logits.max(dim=1, keepdim=True).values
    log_probs = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
    rows = torch.arange(n)
    loss = -log_probs[rows, y].mean()
    grad = -torch.exp(log_probs)
    grad[rows, y] += 1.0
    return loss, grad / n


def _ce_hidden(rng: np.random.Generator) -> list[TestCase]:
    def batch(n: int, c: int, scale: float) -> tuple[torch.Tensor, torch.Tensor]:
        return randn(rng, n, c, scale=scale), integers(rng, 0, c, n)

    return [
        hidden("batch", *batch(size(rng, 3, 8), size(rng, 2, 6), 2.0)),
        hidden("batch_of_one", *batch(1, size(rng, 2, 6), 2.0)),
        hidden("many_classes", *batch(size(rng, 2, 4), size(rng, 8, 12), 1.0)),
        hidden("logits_1e4", *batch(size(rng, 2, 5), size(rng, 3, 6), 1e4)),
        hidden("logits_minus_1e4", randn(rng, 3, 4, scale=5.0) - 1e4, integers(rng, 0, 4, 3)),
    ]


_P = fixed(102)
SOFTMAX_CROSS_ENTROPY = code_exercise(
    "def softmax_cross_entropy(logits: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:",
    reference=optimization.softmax_cross_entropy,
    title="Softmax cross-entropy and its gradient",
    section=2,
    docstring="""Mean softmax cross-entropy over the batch and its gradient with respect to the logits.

logits (N, C) floats, y (N,) integer class indices.
Returns (loss, dlogits): loss is a 0-d tensor equal to F.cross_entropy(logits, y);
dlogits (N, C) is (softmax(logits) - onehot(y)) / N.
Must stay finite for logits of magnitude 1e4 (subtract the row max before exp).
Not allowed: F.cross_entropy, F.log_softmax, autograd (.backward, torch.autograd.grad).""",
    public=[
        case("two_samples", tensor([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]]), tensor([0, 2], torch.int64)),
        case("one_sample", rounded(randn(_P, 1, 4)), tensor([3], torch.int64)),
        case("large_logits", tensor([[1e4, 0.0, -1e4], [5e3, 1e4, 0.0]]), tensor([1, 1], torch.int64)),
    ],
    hidden=_ce_hidden,
    forbidden=(
        "torch.nn.functional.cross_entropy",
        "torch.nn.CrossEntropyLoss",
        "torch.nn.functional.log_softmax",
        "torch.log_softmax",
        "torch.Tensor.log_softmax",
        "torch.special.log_softmax",
        "torch.nn.LogSoftmax",
        "torch.sparse.log_softmax",
        "torch.masked.log_softmax",
        "torch.nn.AdaptiveLogSoftmaxWithLoss",
        "torch.nn.functional.linear_cross_entropy",
        "torch.nn.LinearCrossEntropyLoss",
        *AUTOGRAD,
    ),
    forbidden_ops=("aten::_log_softmax", "aten::_log_softmax_backward_data", "aten::_softmax_backward_data", *AUTOGRAD_OPS),
    outputs=("loss", "dlogits"),
    misconceptions=[
        CodeMisconception(
            "grad_not_divided_by_n",
            "The loss is a mean over the batch, so its gradient is (p - onehot(y)) / N: divide by N.",
            _ce_grad_not_divided,
        ),
        CodeMisconception(
            "loss_summed",
            "The loss is the mean over the batch, not the sum (and its gradient is divided by N).",
            _ce_summed,
        ),
        CodeMisconception(
            "no_max_shift",
            "exp overflows for large logits: subtract each row's max before exponentiating (log-sum-exp).",
            _ce_no_max_shift,
        ),
        CodeMisconception(
            "gradient_sign_flipped",
            "The gradient of the cross-entropy with respect to the logits is p - onehot(y), not onehot(y) - p.",
            _ce_gradient_sign,
        ),
    ],
)

# ------------------------------------------------------------------------ relu_backward


def _relu_grad_one_at_zero(dout, x):
    return torch.where(x >= 0, dout, torch.zeros_like(dout))


def _relu_mask_by_dout(dout, x):
    return torch.where(dout > 0, dout, torch.zeros_like(dout))


def _relu_mask_only(dout, x):
    return (x > 0).to(dout.dtype)


def _with_zeros(rng: np.random.Generator, *shape: int) -> torch.Tensor:
    x = randn(rng, *shape)
    x[torch.from_numpy(rng.random(shape) < 0.25)] = 0.0
    x.view(-1)[0] = 0.0
    return x


def _relu_hidden(rng: np.random.Generator) -> list[TestCase]:
    def pair(*shape: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = _with_zeros(rng, *shape)
        return randn(rng, *shape), x

    return [
        hidden("matrix_with_exact_zeros", *pair(size(rng, 2, 6), size(rng, 2, 6))),
        hidden("batch_of_one", *pair(1, size(rng, 3, 8))),
        hidden("vector", *pair(size(rng, 4, 10))),
        hidden("three_dims", *pair(size(rng, 1, 3), size(rng, 2, 4), size(rng, 2, 4))),
    ]


RELU_BACKWARD = code_exercise(
    "def relu_backward(dout: torch.Tensor, x: torch.Tensor) -> torch.Tensor:",
    reference=optimization.relu_backward,
    title="Backward pass of ReLU",
    section=2,
    docstring="""Gradient of relu(x) given the upstream gradient dout (same shape as x).

dx = dout where x > 0, and 0 where x <= 0 (the derivative at exactly 0 is 0, as in PyTorch).
Returns dx, same shape as x. Not allowed: autograd.""",
    public=[
        case("matrix", tensor([[0.5, -1.0, 2.0], [-0.3, 0.7, -2.0]]), tensor([[-1.0, 0.0, 2.0], [3.0, -0.5, 0.0]])),
        case("vector", tensor([1.0, 2.0, 3.0, 4.0]), tensor([0.0, 1.0, -1.0, 0.0])),
    ],
    hidden=_relu_hidden,
    forbidden=AUTOGRAD,
    forbidden_ops=("aten::threshold_backward", *AUTOGRAD_OPS),
    misconceptions=[
        CodeMisconception(
            "grad_one_at_zero",
            "ReLU's derivative is 0 at x == 0 (PyTorch's choice): use x > 0, not x >= 0.",
            _relu_grad_one_at_zero,
        ),
        CodeMisconception(
            "mask_from_dout",
            "The mask comes from the forward input x (x > 0), not from the upstream gradient.",
            _relu_mask_by_dout,
        ),
        CodeMisconception(
            "mask_without_dout",
            "Multiply the mask 1[x > 0] by the upstream gradient dout (chain rule).",
            _relu_mask_only,
        ),
    ],
)

# ---------------------------------------------------------------------- linear_backward


def _linear_dw_transposed(x, W, dout):
    return dout @ W.T, dout.T @ x, dout.sum(dim=0)


def _linear_dx_not_transposed(x, W, dout):
    return dout @ W, x.T @ dout, dout.sum(dim=0)


def _linear_db_mean(x, W, dout):
    return dout @ W.T, x.T @ dout, dout.mean(dim=0)


def _linear_hidden(rng: np.random.Generator) -> list[TestCase]:
    def triple(n: int, d_in: int, d_out: int) -> tuple[torch.Tensor, ...]:
        return randn(rng, n, d_in), randn(rng, d_in, d_out), randn(rng, n, d_out)

    d = size(rng, 2, 5)
    d_in = size(rng, 2, 5)
    return [
        hidden("non_square", *triple(size(rng, 2, 6), d_in, d_in + size(rng, 1, 3))),
        hidden("square", *triple(size(rng, 2, 6), d, d)),
        hidden("batch_of_one_square", *triple(1, d, d)),
        hidden("batch_of_one_wide", *triple(1, size(rng, 2, 4), size(rng, 5, 7))),
        hidden("tall", *triple(size(rng, 3, 6), size(rng, 5, 7), size(rng, 1, 3))),
    ]


LINEAR_BACKWARD = code_exercise(
    (
        "def linear_backward(x: torch.Tensor, W: torch.Tensor, dout: torch.Tensor) -> tuple[torch.Tensor, "
        "torch.Tensor, torch.Tensor]:"
    ),
    reference=optimization.linear_backward,
    title="Backward pass of a linear layer",
    section=2,
    docstring="""Gradients of h = x @ W + b, with W of shape (D_in, D_out).

x (N, D_in), W (D_in, D_out), dout (N, D_out) = dL/dh.
Returns (dx, dW, db): dx = dout @ W^T (N, D_in), dW = x^T @ dout (D_in, D_out),
db = dout summed over the batch (D_out,). Not allowed: autograd.""",
    public=[
        case(
            "two_samples",
            tensor([[1.0, 2.0, 0.0], [0.5, -1.0, 1.0]]),
            tensor([[1.0, 0.0], [0.0, 1.0], [2.0, -1.0]]),
            tensor([[1.0, -2.0], [0.5, 0.5]]),
        ),
        case("one_sample_square", tensor([[1.0, -1.0]]), tensor([[2.0, 1.0], [0.0, 3.0]]), tensor([[0.5, 1.0]])),
    ],
    hidden=_linear_hidden,
    forbidden=AUTOGRAD,
    forbidden_ops=AUTOGRAD_OPS,
    outputs=("dx", "dW", "db"),
    excludes=("optimization_linear_dw",),  # the docstring states dW = x^T @ dout
    misconceptions=[
        CodeMisconception(
            "dw_transposed",
            "dW = x^T @ dout has W's shape (D_in, D_out); dout^T @ x is its transpose.",
            _linear_dw_transposed,
        ),
        CodeMisconception(
            "dx_not_transposed",
            "dx = dout @ W^T: the weight matrix is transposed in the backward pass.",
            _linear_dx_not_transposed,
        ),
        CodeMisconception(
            "db_mean",
            "db sums dout over the batch (each sample adds b once); it is not the mean.",
            _linear_db_mean,
        ),
    ],
)

# ---------------------------------------------------------------------------- adam_step


def _adam_no_bias_correction(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    return param - lr * m / (torch.sqrt(v) + eps), m, v


def _adam_step_off_by_one(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    m_hat = m / (1 - beta1 ** (t + 1))
    v_hat = v / (1 - beta2 ** (t + 1))
    return param - lr * m_hat / (torch.sqrt(v_hat) + eps), m, v


def _adam_eps_inside_sqrt(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return param - lr * m_hat / torch.sqrt(v_hat + eps), m, v


def _adam_hidden(rng: np.random.Generator) -> list[TestCase]:
    def state(*shape: int, grad_scale: float = 1.0, fresh: bool = False) -> tuple[torch.Tensor, ...]:
        param, grad = randn(rng, *shape), randn(rng, *shape, scale=grad_scale)
        if fresh:
            return param, grad, torch.zeros(shape, dtype=torch.float64), torch.zeros(shape, dtype=torch.float64)
        return param, grad, randn(rng, *shape, scale=0.1 * grad_scale), uniform(rng, 0.0, 0.01, *shape) * grad_scale**2

    return [
        hidden("first_step", *state(size(rng, 2, 6), fresh=True), 1),
        hidden("later_step", *state(size(rng, 2, 4), size(rng, 2, 4)), size(rng, 2, 20)),
        hidden(
            "custom_hyperparameters",
            *state(size(rng, 3, 6)),
            size(rng, 2, 10),
            lr=float(rng.uniform(0.01, 0.1)),
            beta1=float(rng.uniform(0.5, 0.8)),
            beta2=float(rng.uniform(0.9, 0.99)),
            eps=float(rng.uniform(1e-4, 1e-2)),
        ),
        hidden("tiny_gradients", *state(size(rng, 3, 6), grad_scale=1e-6, fresh=True), 1),
        hidden("one_parameter", *state(1), size(rng, 2, 5), 0.01),
    ]


_P = fixed(105)
ADAM_STEP = code_exercise(
    (
        "def adam_step(param: torch.Tensor, grad: torch.Tensor, m: torch.Tensor, v: torch.Tensor, t: int, "
        "lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, "
        "eps: float = 1e-8) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:"
    ),
    reference=optimization.adam_step,
    title="One Adam step",
    section=2,
    docstring="""One Adam update at step t (1-based), as torch.optim.Adam (no weight decay).

m = beta1 * m + (1 - beta1) * grad;  v = beta2 * v + (1 - beta2) * grad**2
m_hat = m / (1 - beta1**t);  v_hat = v / (1 - beta2**t)
param = param - lr * m_hat / (sqrt(v_hat) + eps)
Returns the new (param, m, v), each of param's shape. Not allowed: torch.optim.""",
    public=[
        case("first_step", tensor([1.0, -2.0, 0.5]), tensor([0.1, -0.2, 0.3]), torch.zeros(3, dtype=torch.float64),
             torch.zeros(3, dtype=torch.float64), 1),
        case("third_step", rounded(randn(_P, 2, 2)), rounded(randn(_P, 2, 2)), rounded(randn(_P, 2, 2), 3) / 10,
             tensor([[0.01, 0.02], [0.005, 0.03]]), 3, lr=0.01),
    ],
    hidden=_adam_hidden,
    forbidden=(
        "torch.optim.Adam",
        "torch.optim.AdamW",
        "torch.optim.NAdam",
        "torch.optim.RAdam",
        "torch.optim.Adamax",
        "torch.optim.SGD",
        "torch.optim._functional.adam",
        "torch.optim",
    ),
    forbidden_ops=("aten::_fused_adam_", "aten::_fused_adamw_"),
    outputs=("param", "m", "v"),
    misconceptions=[
        CodeMisconception(
            "no_bias_correction",
            "Divide m by (1 - beta1**t) and v by (1 - beta2**t): without bias correction early steps are too small.",
            _adam_no_bias_correction,
        ),
        CodeMisconception(
            "step_off_by_one",
            "t is 1-based: the first step uses beta**1 in the bias correction, not beta**2.",
            _adam_step_off_by_one,
        ),
        CodeMisconception(
            "eps_inside_sqrt",
            "eps is added after the square root: sqrt(v_hat) + eps, not sqrt(v_hat + eps).",
            _adam_eps_inside_sqrt,
        ),
    ],
)


EXERCISES = [SOFTMAX_CROSS_ENTROPY, RELU_BACKWARD, LINEAR_BACKWARD, ADAM_STEP]
