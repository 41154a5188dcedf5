"""Small numerically stable helpers shared by the reference modules of sections 7-12."""

from __future__ import annotations

import torch


def _softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Stable softmax: exp(x - max) / sum exp(x - max) along `dim`; same shape as `x`."""
    shifted = x - x.amax(dim=dim, keepdim=True)
    exps = shifted.exp()
    return exps / exps.sum(dim=dim, keepdim=True)


def _masked_softmax(x: torch.Tensor, allowed: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Softmax over the `allowed` entries of `x` (boolean, broadcastable), 0 elsewhere.

    A slice with no allowed entry gets all-zero weights instead of NaN.
    """
    filled = x.masked_fill(~allowed, float("-inf"))
    row_max = filled.amax(dim=dim, keepdim=True)
    row_max = torch.where(torch.isfinite(row_max), row_max, torch.zeros_like(row_max))
    exps = (filled - row_max).exp()
    total = exps.sum(dim=dim, keepdim=True)
    return exps / torch.where(total > 0, total, torch.ones_like(total))


def _softplus(x: torch.Tensor) -> torch.Tensor:
    """Stable softplus log(1 + e^x) = max(x, 0) + log1p(e^-|x|); note log s(x) = -softplus(-x)."""
    return x.clamp_min(0) + torch.log1p(torch.exp(-x.abs()))
