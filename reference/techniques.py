"""Section 3 of the concept sheet: initialization, batch norm, dropout and data augmentation.

Batch norm works on ``x (N, D)`` (one feature per column); images are ``(N, C, H, W)``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

RELU_GAIN = math.sqrt(2.0)


def he_std(fan_in: int) -> float:
    """He (Kaiming) normal std for ReLU: ``sqrt(2 / fan_in)``, as ``nn.init.kaiming_normal_``."""
    return RELU_GAIN / math.sqrt(fan_in)


def he_uniform_bound(fan_in: int) -> float:
    """He uniform bound for ReLU: ``sqrt(6 / fan_in)``; ``kaiming_uniform_`` draws from U(-b, b)."""
    return RELU_GAIN * math.sqrt(3.0 / fan_in)


def xavier_std(fan_in: int, fan_out: int, gain: float = 1.0) -> float:
    """Xavier/Glorot normal std: ``gain * sqrt(2 / (fan_in + fan_out))``, as ``xavier_normal_``."""
    return gain * math.sqrt(2.0 / (fan_in + fan_out))


def xavier_uniform_bound(fan_in: int, fan_out: int, gain: float = 1.0) -> float:
    """Xavier/Glorot uniform bound: ``gain * sqrt(6 / (fan_in + fan_out))``, as ``xavier_uniform_``."""
    return gain * math.sqrt(6.0 / (fan_in + fan_out))


def batchnorm_forward(x: Tensor, gamma: Tensor, beta: Tensor, eps: float = 1e-5) -> Tensor:
    """Training-mode batch norm of ``x (N, D)``: ``gamma * (x - mu) / sqrt(var + eps) + beta``.

    ``mu`` and ``var`` are the per-column batch mean and biased (divide by N) variance;
    ``gamma, beta (D,)``.
    """
    mu = x.mean(dim=0)
    var = ((x - mu) ** 2).mean(dim=0)
    return gamma * (x - mu) / torch.sqrt(var + eps) + beta


def batchnorm_forward_train(
    x: Tensor, gamma: Tensor, beta: Tensor, running_mean: Tensor, running_var: Tensor,
    momentum: float = 0.1, eps: float = 1e-5,
) -> tuple[Tensor, Tensor, Tensor]:
    """Training-mode batch norm that also returns the updated running statistics.

    Returns ``(y, (1 - m) running_mean + m mu, (1 - m) running_var + m var_unbiased)``: as in
    PyTorch, ``y`` uses the biased variance and the running variance the unbiased one
    (divide by N - 1). Raises ValueError when N < 2, as PyTorch does.
    """
    n = x.shape[0]
    if n < 2:
        raise ValueError(f"batch norm in training needs more than 1 value per feature, got N={n}")
    mu = x.mean(dim=0)
    var_unbiased = ((x - mu) ** 2).sum(dim=0) / (n - 1)
    new_mean = (1 - momentum) * running_mean + momentum * mu
    new_var = (1 - momentum) * running_var + momentum * var_unbiased
    return batchnorm_forward(x, gamma, beta, eps), new_mean, new_var


def batchnorm_forward_eval(
    x: Tensor, gamma: Tensor, beta: Tensor, running_mean: Tensor, running_var: Tensor, eps: float = 1e-5,
) -> Tensor:
    """Eval-mode batch norm: ``gamma * (x - running_mean) / sqrt(running_var + eps) + beta``."""
    return gamma * (x - running_mean) / torch.sqrt(running_var + eps) + beta


def batchnorm_backward(dout: Tensor, x: Tensor, gamma: Tensor, eps: float = 1e-5) -> tuple[Tensor, Tensor, Tensor]:
    """Gradients of training-mode ``batchnorm_forward``: ``(dx (N, D), dgamma (D,), dbeta (D,))``.

    With ``xhat = (x - mu) / s``, ``s = sqrt(var + eps)`` and ``g = dout * gamma``:
    ``dx = (g - mean_n g - xhat * mean_n(g * xhat)) / s``; ``dgamma = sum_n dout * xhat``;
    ``dbeta = sum_n dout``.
    """
    mu = x.mean(dim=0)
    s = torch.sqrt(((x - mu) ** 2).mean(dim=0) + eps)
    xhat = (x - mu) / s
    g = dout * gamma
    dx = (g - g.mean(dim=0) - xhat * (g * xhat).mean(dim=0)) / s
    return dx, (dout * xhat).sum(dim=0), dout.sum(dim=0)


def dropout(x: Tensor, p: float, training: bool, generator: torch.Generator | None = None) -> Tensor:
    """Inverted dropout: when training, zero each element with probability ``p`` and scale
    the survivors by ``1 / (1 - p)`` (so the expectation is ``x``); ``p = 1`` gives zeros.
    Not training (or ``p = 0``): returns ``x`` itself.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return torch.zeros_like(x)
    keep = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device) >= p
    return x * keep / (1.0 - p)


def horizontal_flip(images: Tensor) -> Tensor:
    """Mirror images ``(N, C, H, W)`` left-right: ``out[..., j] = images[..., W - 1 - j]``."""
    return images.flip(dims=(-1,))


def center_crop(images: Tensor, size: int | tuple[int, int]) -> Tensor:
    """Central ``(h, w)`` crop of ``(N, C, H, W)`` images; top = (H - h) // 2, left = (W - w) // 2."""
    h, w = _pair(size)
    H, W = images.shape[-2:]
    if h > H or w > W:
        raise ValueError(f"crop {(h, w)} larger than image {(H, W)}")
    top, left = (H - h) // 2, (W - w) // 2
    return images[..., top:top + h, left:left + w]


def random_crop(
    images: Tensor, size: int | tuple[int, int], padding: int = 0, generator: torch.Generator | None = None,
) -> Tensor:
    """Random ``(h, w)`` crop of each image of ``(N, C, H, W)`` after zero-padding every side by
    ``padding``; each image gets its own offset, uniform over all valid positions."""
    h, w = _pair(size)
    padded = F.pad(images, (padding, padding, padding, padding))
    H, W = padded.shape[-2:]
    if h > H or w > W:
        raise ValueError(f"crop {(h, w)} larger than padded image {(H, W)}")
    tops = torch.randint(0, H - h + 1, (images.shape[0],), generator=generator).tolist()
    lefts = torch.randint(0, W - w + 1, (images.shape[0],), generator=generator).tolist()
    return torch.stack([img[:, t:t + h, l:l + w] for img, t, l in zip(padded, tops, lefts)])


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(value, (tuple, list)):
        return int(value[0]), int(value[1])
    return int(value), int(value)
