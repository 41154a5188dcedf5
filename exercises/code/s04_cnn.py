"""Code exercises of section 4: conv2d, max pooling and global average pooling (conv2d, max_pool2d,
global_avg_pool).

Each misconception is a self-contained buggy implementation (math, torch and F only).
"""

from __future__ import annotations

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
    randn,
    rounded,
    size,
    tensor,
)
from grader.code.exercise import CodeMisconception, TestCase
from reference import cnn


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
    (
        "def conv2d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None, "
        "stride: int = 1, padding: int = 0) -> torch.Tensor:"
    ),
    reference=cnn.conv2d,
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
    "def max_pool2d(x: torch.Tensor, kernel_size: int, stride: int) -> torch.Tensor:",
    reference=cnn.max_pool2d,
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
    "def global_avg_pool(x: torch.Tensor) -> torch.Tensor:",
    reference=cnn.global_avg_pool,
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


EXERCISES = [CONV2D, MAX_POOL2D, GLOBAL_AVG_POOL]
