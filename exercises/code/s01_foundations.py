"""Code exercises of sections 1-3: regularized loss, softmax cross-entropy and the
backward passes of ReLU and a linear layer, an Adam step, batch norm and dropout.

Each misconception is a self-contained buggy implementation (math, torch and F only).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from exercises.code._common import (
    AUTOGRAD,
    AUTOGRAD_OPS,
    DROPOUT_OPS,
    DROPOUTS,
    NORMALIZATION_OPS,
    NORMALIZATIONS,
    case,
    code_exercise,
    fixed,
    hidden,
    integers,
    nonzero,
    randn,
    rounded,
    size,
    tensor,
    uniform,
)
from grader.kit.compare import compare_dropout, dropout_arguments, dropout_pattern
from grader.code.exercise import CodeMisconception, TestCase, Tolerance, Verdict

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
    "regularized_loss",
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
    "softmax_cross_entropy",
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
    "relu_backward",
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
    "linear_backward",
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
    "adam_step",
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
    "batchnorm_forward",
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
    "dropout",
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

EXERCISES = [
    REGULARIZED_LOSS,
    SOFTMAX_CROSS_ENTROPY,
    RELU_BACKWARD,
    LINEAR_BACKWARD,
    ADAM_STEP,
    BATCHNORM_FORWARD,
    DROPOUT,
]
