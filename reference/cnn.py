"""Section 4 of the concept sheet: convolution, pooling, receptive fields and residual blocks.

Images are ``(N, C, H, W)``; conv weights ``(C_out, C_in, kH, kW)``. Sizes, strides and
paddings may be an int (same for height and width) or an ``(h, w)`` pair.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from reference.optimization import relu

IntPair = int | tuple[int, int]


def conv_output_size(w_in: int, f: int, p: int = 0, s: int = 1) -> int:
    """``W_out = floor((W_in - F + 2P) / S) + 1``; ValueError when that is not positive."""
    if f < 1 or s < 1 or p < 0:
        raise ValueError(f"need f >= 1, s >= 1, p >= 0; got f={f}, s={s}, p={p}")
    w_out = (w_in - f + 2 * p) // s + 1
    if w_out <= 0:
        raise ValueError(f"filter {f} with padding {p} does not fit input size {w_in}")
    return w_out


def pool_output_size(w_in: int, f: int, s: int) -> int:
    """Pooling output size (no padding, floor mode): ``floor((W_in - F) / S) + 1``."""
    return conv_output_size(w_in, f, 0, s)


def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntPair = 1, padding: IntPair = 0) -> Tensor:
    """Cross-correlation as ``F.conv2d``: ``out[n, o, i, j] = b[o] +
    sum_{c, u, v} w[o, c, u, v] * xpad[n, c, i*sH + u, j*sW + v]``.

    ``x (N, C_in, H, W)``, ``weight (C_out, C_in, kH, kW)`` -> ``(N, C_out, H_out, W_out)``
    with ``H_out = conv_output_size(H, kH, pH, sH)`` (same for W); zero padding.
    """
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    kh, kw = weight.shape[-2:]
    conv_output_size(x.shape[2], kh, ph, sh)  # raises ValueError when the kernel does not fit
    conv_output_size(x.shape[3], kw, pw, sw)
    patches = F.pad(x, (pw, pw, ph, ph)).unfold(2, kh, sh).unfold(3, kw, sw)
    out = torch.einsum("nchwuv,ocuv->nohw", patches, weight)
    return out if bias is None else out + bias.view(1, -1, 1, 1)


def max_pool2d(x: Tensor, kernel_size: IntPair, stride: IntPair | None = None) -> Tensor:
    """Max over each ``kH x kW`` window, windows ``stride`` apart (default ``kernel_size``),
    no padding, floor mode, as ``F.max_pool2d``: ``(N, C, H, W) -> (N, C, H_out, W_out)``."""
    (kh, kw) = _pair(kernel_size)
    (sh, sw) = _pair(kernel_size if stride is None else stride)
    pool_output_size(x.shape[2], kh, sh)  # raises ValueError when the window does not fit
    pool_output_size(x.shape[3], kw, sw)
    return x.unfold(2, kh, sh).unfold(3, kw, sw).amax(dim=(-2, -1))


def global_avg_pool(x: Tensor) -> Tensor:
    """Global average pooling: the mean of each channel, ``(N, C, H, W) -> (N, C)``."""
    return x.mean(dim=(2, 3))


def conv_param_count(c_in: int, c_out: int, k: IntPair, bias: bool = True) -> int:
    """Parameters of a conv layer: ``c_out * c_in * kH * kW`` weights plus ``c_out`` biases."""
    kh, kw = _pair(k)
    return c_out * c_in * kh * kw + (c_out if bias else 0)


def conv_mult_adds(c_in: int, c_out: int, k: IntPair, h_out: int, w_out: int) -> int:
    """Multiply-adds of a conv layer: each of ``c_out * h_out * w_out`` outputs costs
    ``c_in * kH * kW`` of them."""
    kh, kw = _pair(k)
    return c_out * h_out * w_out * c_in * kh * kw


def receptive_field(layers: Sequence[tuple[int, int]]) -> int:
    """Receptive field (in input pixels, along one axis) of a unit after a stack of
    ``(kernel, stride)`` layers: ``r = 1 + sum_l (k_l - 1) * prod_{m < l} s_m``."""
    r, jump = 1, 1
    for kernel, stride in layers:
        r += (kernel - 1) * jump
        jump *= stride
    return r


def needs_projection(in_channels: int, out_channels: int, stride: int) -> bool:
    """A residual skip needs a 1x1 conv iff the shape changes: ``stride != 1`` or channels differ."""
    return stride != 1 or in_channels != out_channels


def residual_output_shape(in_shape: Sequence[int], out_channels: int, stride: int) -> tuple[int, ...]:
    """Output shape of a residual block (3x3 convs, padding 1, first conv strided) for an
    input ``(C, H, W)`` or ``(N, C, H, W)``: spatial sizes ``floor((H - 1) / stride) + 1``."""
    *lead, _, h, w = in_shape
    return (*lead, out_channels, conv_output_size(h, 3, 1, stride), conv_output_size(w, 3, 1, stride))


def residual_block_forward(
    x: Tensor, w1: Tensor, w2: Tensor, w_proj: Tensor | None = None, stride: int = 1,
) -> Tensor:
    """Basic residual block without batch norm or biases:
    ``relu(conv3x3(relu(conv3x3_s(x, w1)), w2) + skip(x))``, both convs padding 1, the first with
    ``stride``; ``skip(x) = x``, or ``conv1x1_s(x, w_proj)`` (``(C_out, C_in, 1, 1)``) when given.
    ValueError if the shape changes and no projection is given.
    """
    if w_proj is None and needs_projection(x.shape[1], w1.shape[0], stride):
        raise ValueError("shape changes (stride or channels): a 1x1 projection w_proj is needed")
    main = conv2d(relu(conv2d(x, w1, stride=stride, padding=1)), w2, padding=1)
    skip = x if w_proj is None else conv2d(x, w_proj, stride=stride)
    return relu(main + skip)


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(value, (tuple, list)):
        return int(value[0]), int(value[1])
    return int(value), int(value)
