"""Code exercises of sections 4-5: conv2d, max pooling, global average pooling, FGSM and the
L-infinity projection.

Each misconception is a self-contained buggy implementation (math, torch and F only).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from exercises.code._common import (
    AVERAGE_POOLING,
    AVERAGE_POOLING_OPS,
    CONVOLUTION_OPS,
    CONVOLUTIONS,
    MAX_POOLING,
    MAX_POOLING_OPS,
    case,
    code_exercise,
    fixed,
    hidden,
    integers,
    randn,
    rounded,
    size,
    tensor,
)
from grader.code.exercise import CodeMisconception, TestCase
from grader.sandbox import ModelSpec

# ------------------------------------------------------------------------------- conv2d


def _conv_flipped_kernel(x, weight, bias=None, stride=1, padding=0):
    k_h, k_w = weight.shape[2], weight.shape[3]
    windows = F.pad(x, (padding, padding, padding, padding)).unfold(2, k_h, stride).unfold(3, k_w, stride)
    out = torch.einsum("nchwij,ocij->nohw", windows, weight.flip(2, 3))
    return out if bias is None else out + bias.view(1, -1, 1, 1)


def _conv_forgot_padding(x, weight, bias=None, stride=1, padding=0):
    k_h, k_w = weight.shape[2], weight.shape[3]
    windows = x.unfold(2, k_h, stride).unfold(3, k_w, stride)
    out = torch.einsum("nchwij,ocij->nohw", windows, weight)
    return out if bias is None else out + bias.view(1, -1, 1, 1)


def _conv_forgot_bias(x, weight, bias=None, stride=1, padding=0):
    k_h, k_w = weight.shape[2], weight.shape[3]
    windows = F.pad(x, (padding, padding, padding, padding)).unfold(2, k_h, stride).unfold(3, k_w, stride)
    return torch.einsum("nchwij,ocij->nohw", windows, weight)


def _conv_ignored_stride(x, weight, bias=None, stride=1, padding=0):
    k_h, k_w = weight.shape[2], weight.shape[3]
    windows = F.pad(x, (padding, padding, padding, padding)).unfold(2, k_h, 1).unfold(3, k_w, 1)
    out = torch.einsum("nchwij,ocij->nohw", windows, weight)
    return out if bias is None else out + bias.view(1, -1, 1, 1)


def _conv_hidden(rng: np.random.Generator) -> list[TestCase]:
    def layer(n: int, c_in: int, c_out: int, h: int, w: int, k_h: int, k_w: int) -> tuple[torch.Tensor, ...]:
        return randn(rng, n, c_in, h, w), randn(rng, c_out, c_in, k_h, k_w)

    c_out = size(rng, 2, 4)
    return [
        hidden("basic", *layer(size(rng, 2, 3), size(rng, 1, 3), size(rng, 1, 3), size(rng, 4, 7), size(rng, 4, 7), 3, 3)),
        hidden("batch_of_one_with_bias",
               *layer(1, size(rng, 1, 3), c_out, size(rng, 4, 6), size(rng, 4, 6), 2, 2), randn(rng, c_out)),
        hidden("stride_and_padding",
               *layer(size(rng, 1, 2), size(rng, 1, 3), c_out, size(rng, 5, 8), size(rng, 5, 8), 3, 3),
               randn(rng, c_out), stride=2, padding=1),
        hidden("padding_only", *layer(1, size(rng, 1, 2), size(rng, 1, 3), size(rng, 3, 5), size(rng, 3, 5), 3, 3),
               None, 1, 2),
        hidden("rectangular_kernel_stride",
               *layer(size(rng, 1, 2), 2, c_out, size(rng, 6, 9), size(rng, 5, 8), 2, 3), randn(rng, c_out), 3, 0),
        hidden("one_by_one_kernel", *layer(size(rng, 1, 3), size(rng, 2, 4), c_out, 3, 4, 1, 1), randn(rng, c_out)),
    ]


_P = fixed(104)
CONV2D = code_exercise(
    "conv2d",
    title="2-d convolution (cross-correlation)",
    section=4,
    docstring="""2-d convolution as F.conv2d (a cross-correlation: the kernel is not flipped).

x (N, C_in, H, W), weight (C_out, C_in, kH, kW), bias (C_out,) or None; stride and
padding are ints (zero padding on every side). Returns (N, C_out, H_out, W_out) with
H_out = (H + 2*padding - kH) // stride + 1 (likewise W_out).
Not allowed: F.conv2d, torch.conv2d, nn.Conv2d (F.pad and Tensor.unfold are fine).""",
    public=[
        case("no_bias", torch.arange(16, dtype=torch.float64).reshape(1, 1, 4, 4), tensor([[[[1.0, 0.0], [0.0, -1.0]]]])),
        case("stride_padding_bias", rounded(randn(_P, 1, 2, 5, 5)), rounded(randn(_P, 3, 2, 3, 3)),
             tensor([0.5, -1.0, 0.0]), 2, 1),
    ],
    hidden=_conv_hidden,
    forbidden=CONVOLUTIONS,
    forbidden_ops=CONVOLUTION_OPS,
    misconceptions=[
        CodeMisconception(
            "flipped_kernel",
            "Deep-learning convolution is a cross-correlation: do not flip the kernel.",
            _conv_flipped_kernel,
        ),
        CodeMisconception(
            "forgot_padding",
            "Zero-pad the input by `padding` on every side before sliding the kernel.",
            _conv_forgot_padding,
        ),
        CodeMisconception("forgot_bias", "Add bias[o] to every position of output channel o.", _conv_forgot_bias),
        CodeMisconception(
            "ignored_stride",
            "Move the kernel `stride` positions at a time: H_out = (H + 2P - kH) // S + 1.",
            _conv_ignored_stride,
        ),
    ],
)

# --------------------------------------------------------------------------- max_pool2d


def _pool_average(x, kernel_size, stride):
    return x.unfold(2, kernel_size, stride).unfold(3, kernel_size, stride).mean(dim=(-2, -1))


def _pool_stride_one(x, kernel_size, stride):
    return x.unfold(2, kernel_size, 1).unfold(3, kernel_size, 1).amax(dim=(-2, -1))


def _pool_stride_is_kernel(x, kernel_size, stride):
    return x.unfold(2, kernel_size, kernel_size).unfold(3, kernel_size, kernel_size).amax(dim=(-2, -1))


def _pool_hidden(rng: np.random.Generator) -> list[TestCase]:
    return [
        hidden("kernel_2_stride_2", randn(rng, size(rng, 2, 3), size(rng, 1, 3), 6, 8), 2, 2),
        hidden("overlapping_windows", randn(rng, 1, size(rng, 1, 3), size(rng, 6, 9), size(rng, 6, 9)), 3, 2),
        hidden("stride_larger_than_kernel", randn(rng, size(rng, 1, 2), 2, size(rng, 7, 10), size(rng, 7, 10)), 2, 3),
        hidden("batch_of_one_odd_size", randn(rng, 1, size(rng, 1, 4), 7, 5) - 5.0, 3, 2),
        hidden("stride_one", randn(rng, size(rng, 1, 3), 2, 5, 6), 2, 1),
    ]


MAX_POOL2D = code_exercise(
    "max_pool2d",
    title="Max pooling",
    section=4,
    docstring="""Max pooling as F.max_pool2d(x, kernel_size, stride) (no padding, floor mode).

x (N, C, H, W); kernel_size and stride are ints. Each output is the max of a
kernel_size x kernel_size window; windows start stride positions apart.
Returns (N, C, (H - k) // stride + 1, (W - k) // stride + 1).
Not allowed: F.max_pool2d, nn.MaxPool2d.""",
    public=[
        case("kernel_2_stride_2", torch.arange(16, dtype=torch.float64).reshape(1, 1, 4, 4), 2, 2),
        case("overlapping", rounded(randn(fixed(107), 1, 2, 5, 5)), 3, 2),
    ],
    hidden=_pool_hidden,
    forbidden=MAX_POOLING,
    forbidden_ops=MAX_POOLING_OPS,
    misconceptions=[
        CodeMisconception("average_pooling", "Max pooling keeps the largest value of each window, not the mean.", _pool_average),
        CodeMisconception(
            "stride_ignored",
            "Windows start `stride` positions apart; here they moved one position at a time.",
            _pool_stride_one,
        ),
        CodeMisconception(
            "stride_equals_kernel",
            "Use the given stride; it is not always equal to the kernel size.",
            _pool_stride_is_kernel,
        ),
    ],
)

# ---------------------------------------------------------------------- global_avg_pool


def _gap_sum(x):
    return x.sum(dim=(2, 3))


def _gap_max(x):
    return x.amax(dim=(2, 3))


def _gap_hidden(rng: np.random.Generator) -> list[TestCase]:
    return [
        hidden("batch", randn(rng, size(rng, 2, 4), size(rng, 2, 5), size(rng, 2, 5), size(rng, 2, 5))),
        hidden("batch_of_one", randn(rng, 1, size(rng, 2, 6), size(rng, 3, 6), size(rng, 3, 6))),
        hidden("non_square", randn(rng, size(rng, 1, 3), 3, 2, size(rng, 5, 8))),
        hidden("one_channel", randn(rng, size(rng, 2, 3), 1, 4, 4) + 2.0),
    ]


GLOBAL_AVG_POOL = code_exercise(
    "global_avg_pool",
    title="Global average pooling",
    section=4,
    docstring="""Global average pooling: the mean of each channel over its H x W positions.

x (N, C, H, W). Returns (N, C), equal to x.mean((2, 3)).
Not allowed: F.adaptive_avg_pool2d, nn.AdaptiveAvgPool2d, F.avg_pool2d.""",
    public=[
        case("small", torch.arange(8, dtype=torch.float64).reshape(1, 2, 2, 2)),
        case("batch", rounded(randn(fixed(108), 2, 3, 3, 4))),
    ],
    hidden=_gap_hidden,
    forbidden=AVERAGE_POOLING,
    forbidden_ops=AVERAGE_POOLING_OPS,
    misconceptions=[
        CodeMisconception("sum_instead_of_mean", "Average over the H x W positions: divide the sum by H * W.", _gap_sum),
        CodeMisconception("global_max", "Global *average* pooling takes the mean of each channel, not its max.", _gap_max),
    ],
)

# --------------------------------------------------------------------------------- fgsm


def _fgsm_targeted_sign(model, x, y, eps, targeted=False):
    x_var = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(F.cross_entropy(model(x_var), y), x_var)
    return x.detach() + eps * grad.sign()


def _fgsm_clamped(model, x, y, eps, targeted=False):
    x_var = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(F.cross_entropy(model(x_var), y), x_var)
    step = eps * grad.sign()
    return (x.detach() - step if targeted else x.detach() + step).clamp(0.0, 1.0)


def _fgsm_raw_gradient(model, x, y, eps, targeted=False):
    x_var = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(F.cross_entropy(model(x_var), y), x_var)
    return x.detach() - eps * grad if targeted else x.detach() + eps * grad


def _fgsm_directions_swapped(model, x, y, eps, targeted=False):
    x_var = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(F.cross_entropy(model(x_var), y), x_var)
    step = eps * grad.sign()
    return x.detach() + step if targeted else x.detach() - step


def _mlp(rng: np.random.Generator, d_in: int, d_hidden: int, k: int) -> ModelSpec:
    return ModelSpec(
        layers=(
            ("linear", randn(rng, d_hidden, d_in, scale=1.0 / math.sqrt(d_in)), randn(rng, d_hidden, scale=0.1)),
            ("relu",),
            ("linear", randn(rng, k, d_hidden, scale=1.0 / math.sqrt(d_hidden)), randn(rng, k, scale=0.1)),
        )
    )


def _mlp_input_gradient(spec: ModelSpec, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """grad_x of the mean cross-entropy of linear-relu-linear `spec`, by hand (no autograd:
    this runs for every variant; `reference.adversarial.input_gradient` gives the same)."""
    (_, w1, b1), _, (_, w2, b2) = spec.layers
    hidden = x @ w1.T + b1
    logits = torch.relu(hidden) @ w2.T + b2
    dlogits = torch.softmax(logits, dim=1)
    dlogits[torch.arange(len(y)), y] -= 1.0
    return ((dlogits / len(y)) @ w2 * (hidden > 0)) @ w1


def _attack_case(rng: np.random.Generator, n: int, d_in: int, k: int) -> tuple[ModelSpec, torch.Tensor, torch.Tensor]:
    """A model and inputs whose input gradient has no entry near 0 (so its sign is stable
    under any correct way of computing it)."""
    for _ in range(200):
        spec = _mlp(rng, d_in, size(rng, 4, 8), k)
        x = randn(rng, n, d_in, scale=1.5)
        y = integers(rng, 0, k, n)
        if float(_mlp_input_gradient(spec, x, y).abs().min()) > 1e-6:
            return spec, x, y
    raise RuntimeError("could not draw an FGSM test with a stable gradient sign")


def _fgsm_hidden(rng: np.random.Generator) -> list[TestCase]:
    def eps() -> float:
        return float(rng.uniform(0.05, 0.5))

    return [
        hidden("untargeted", *_attack_case(rng, size(rng, 2, 4), size(rng, 3, 6), size(rng, 2, 5)), eps()),
        hidden("targeted", *_attack_case(rng, size(rng, 2, 4), size(rng, 3, 6), size(rng, 2, 5)), eps(), True),
        hidden("batch_of_one", *_attack_case(rng, 1, size(rng, 3, 6), size(rng, 3, 5)), eps()),
        hidden("targeted_batch_of_one", *_attack_case(rng, 1, size(rng, 3, 6), size(rng, 3, 5)), eps(), targeted=True),
        hidden("explicit_untargeted", *_attack_case(rng, size(rng, 2, 5), 4, 3), eps(), targeted=False),
    ]


_PUBLIC_MODEL = ModelSpec(
    layers=(
        ("linear", tensor([[1.0, -1.0], [0.5, 2.0], [-1.5, 0.25]]), tensor([0.0, 0.1, -0.2])),
    )
)
FGSM = code_exercise(
    "fgsm",
    title="Fast gradient sign method",
    section=5,
    docstring="""One FGSM step (no clamping to a pixel range).

model maps x (N, D) to logits (N, K); y (N,) integer labels; eps a float.
g = gradient of the mean cross-entropy F.cross_entropy(model(x), y) with respect to x.
Untargeted (y = true labels): return x + eps * sign(g).
Targeted (y = target labels): return x - eps * sign(g).
Returns a tensor of x's shape. Autograd is allowed here.""",
    public=[
        case("untargeted", _PUBLIC_MODEL, tensor([[0.5, 1.0], [-1.0, 0.2]]), tensor([0, 2], torch.int64), 0.1),
        case("targeted", _PUBLIC_MODEL, tensor([[0.5, 1.0], [-1.0, 0.2]]), tensor([1, 1], torch.int64), 0.25, True),
    ],
    hidden=_fgsm_hidden,
    misconceptions=[
        CodeMisconception(
            "targeted_sign",
            "A targeted attack descends the loss towards the target class: x - eps * sign(g).",
            _fgsm_targeted_sign,
        ),
        CodeMisconception(
            "clamped_to_unit_range",
            "This contract does not clamp the result to [0, 1]: return x +/- eps * sign(g) as is.",
            _fgsm_clamped,
        ),
        CodeMisconception(
            "gradient_not_sign",
            "FGSM steps by eps times the *sign* of the gradient, not the gradient itself.",
            _fgsm_raw_gradient,
        ),
        CodeMisconception(
            "directions_swapped",
            "Untargeted FGSM ascends the loss of the true label (+), targeted descends the loss of the target (-).",
            _fgsm_directions_swapped,
        ),
    ],
)

# ------------------------------------------------------------------------- project_linf


def _project_clip_values(x_adv, x, eps):
    return x_adv.clamp(-eps, eps)


def _project_unit_range(x_adv, x, eps):
    return torch.minimum(torch.maximum(x_adv, x - eps), x + eps).clamp(0.0, 1.0)


def _project_sign(x_adv, x, eps):
    return x + eps * torch.sign(x_adv - x)


def _project_hidden(rng: np.random.Generator) -> list[TestCase]:
    def pair(*shape: int) -> tuple[torch.Tensor, torch.Tensor, float]:
        eps = float(rng.uniform(0.05, 0.3))
        x = randn(rng, *shape, scale=1.5)
        return x + randn(rng, *shape, scale=eps * 1.5), x, eps

    return [
        hidden("matrix", *pair(size(rng, 2, 5), size(rng, 2, 6))),
        hidden("batch_of_one", *pair(1, size(rng, 3, 8))),
        hidden("images", *pair(size(rng, 1, 3), 2, 4, 4)),
        hidden("vector", *pair(size(rng, 5, 12))),
    ]


PROJECT_LINF = code_exercise(
    "project_linf",
    title="Projection onto the L-infinity ball",
    section=5,
    docstring="""Project x_adv onto the L-infinity ball of radius eps around x.

Clip each element of x_adv into [x - eps, x + eps] (elementwise), so that
max |x_adv - x| <= eps. No clamping to a pixel range. Returns a tensor of x's shape.""",
    public=[
        case("vector", tensor([0.5, -0.05, -0.3, 0.1]), torch.zeros(4, dtype=torch.float64), 0.1),
        case("matrix", tensor([[1.5, 2.2], [0.0, -1.0]]), tensor([[1.0, 2.0], [0.1, -0.5]]), 0.25),
    ],
    hidden=_project_hidden,
    misconceptions=[
        CodeMisconception(
            "clipped_values",
            "Clip the perturbation x_adv - x into [-eps, eps], not the values of x_adv themselves.",
            _project_clip_values,
        ),
        CodeMisconception(
            "clamped_to_unit_range",
            "This contract does not clamp to [0, 1]: only the distance to x is limited.",
            _project_unit_range,
        ),
        CodeMisconception(
            "sign_step",
            "Projection keeps points already inside the ball: clip, do not move every element by exactly eps.",
            _project_sign,
        ),
    ],
)

EXERCISES = [CONV2D, MAX_POOL2D, GLOBAL_AVG_POOL, FGSM, PROJECT_LINF]
