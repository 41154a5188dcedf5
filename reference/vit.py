"""Section 10 - vision transformer: patches as tokens, and global vs windowed attention cost."""

from __future__ import annotations

import torch


def _grid(h: int, w: int, patch_size: int) -> tuple[int, int]:
    """Patch grid (H/P, W/P); ValueError when P does not divide H and W."""
    if patch_size <= 0 or h % patch_size or w % patch_size:
        raise ValueError(f"image {h}x{w} is not divisible into {patch_size}x{patch_size} patches")
    return h // patch_size, w // patch_size


def num_patches(h: int, w: int, patch_size: int) -> int:
    """Number of patches (H/P)(W/P); ValueError when P does not divide H and W."""
    rows, cols = _grid(h, w, patch_size)
    return rows * cols


def patchify(images: torch.Tensor, patch_size: int) -> torch.Tensor:
    """Split images into flattened patches: (N, C, H, W) -> (N, (H/P)(W/P), C*P*P).

    Patches in row-major order over the grid; each flattened in (C, P, P) order, so that a
    conv patch embedding (kernel = stride = P) equals patchify(x) @ weight.reshape(D, -1).T + b.
    """
    n, c, h, w = images.shape
    rows, cols = _grid(h, w, patch_size)
    p = patch_size
    grid = images.reshape(n, c, rows, p, cols, p).permute(0, 2, 4, 1, 3, 5)
    return grid.reshape(n, rows * cols, c * p * p)


def patch_embedding_param_count(
    patch_size: int, channels: int, d_model: int, bias: bool = True
) -> int:
    """Parameters of the linear patch embedding: (C P^2) D weights + D biases if bias."""
    return channels * patch_size * patch_size * d_model + (d_model if bias else 0)


def vit_sequence_length(h: int, w: int, patch_size: int, cls_token: bool = True) -> int:
    """Tokens entering the encoder: (H/P)(W/P) patches (+1 for the [CLS] token)."""
    return num_patches(h, w, patch_size) + (1 if cls_token else 0)


def global_attention_cost(num_tokens: int, d: int) -> int:
    """Multiply-adds of global attention's pairwise part (Q K^T and weights @ V): 2 n^2 d."""
    return 2 * num_tokens * num_tokens * d


def window_attention_cost(num_tokens: int, window_size: int, d: int) -> int:
    """Pairwise multiply-adds when attention stays inside M x M windows of M^2 tokens:
    (n / M^2) windows * 2 (M^2)^2 d = 2 M^2 n d (linear in n). ValueError if M^2 does not divide n.
    """
    tokens_per_window = window_size * window_size
    if window_size <= 0 or num_tokens % tokens_per_window:
        raise ValueError(f"{num_tokens} tokens do not split into windows of {tokens_per_window}")
    return 2 * tokens_per_window * num_tokens * d


def msa_flops(h: int, w: int, c: int) -> int:
    """Swin paper, global MSA on an h x w token map of C channels: 4 hw C^2 + 2 (hw)^2 C."""
    return 4 * h * w * c * c + global_attention_cost(h * w, c)


def wmsa_flops(h: int, w: int, c: int, m: int) -> int:
    """Swin paper, window MSA with M x M windows: 4 hw C^2 + 2 M^2 hw C.

    ValueError when M does not divide h and w.
    """
    _grid(h, w, m)
    return 4 * h * w * c * c + window_attention_cost(h * w, m, c)
