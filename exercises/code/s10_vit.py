"""Code exercises of section 10: ViT patches (patchify).

Each misconception is a self-contained buggy implementation (math, torch and F only).
"""

from __future__ import annotations

import numpy as np
import torch

from exercises.code._common import case, code_exercise, hidden, randn, size
from grader.code.exercise import CodeMisconception, TestCase
from reference import vit


# ------------------------------------------------------------------------------ patchify


def _patchify_channels_last(images, patch_size):
    n, c, h, w = images.shape
    p = patch_size
    x = images.reshape(n, c, h // p, p, w // p, p).permute(0, 2, 4, 3, 5, 1)
    return x.reshape(n, (h // p) * (w // p), p * p * c)


def _patchify_column_major(images, patch_size):
    n, c, h, w = images.shape
    p = patch_size
    x = images.reshape(n, c, h // p, p, w // p, p).permute(0, 4, 2, 1, 3, 5)
    return x.reshape(n, (h // p) * (w // p), c * p * p)


def _patchify_plain_reshape(images, patch_size):
    n, c, h, w = images.shape
    return images.reshape(n, (h // patch_size) * (w // patch_size), c * patch_size * patch_size)


def _patchify_hidden(rng: np.random.Generator) -> list[TestCase]:
    def images(n: int, c: int, grid_h: int, grid_w: int, p: int) -> tuple[torch.Tensor, int]:
        return randn(rng, n, c, grid_h * p, grid_w * p), p

    return [
        hidden("rgb", *images(size(rng, 2, 3), 3, size(rng, 2, 3), size(rng, 2, 3), 2)),
        hidden("batch_of_one", *images(1, size(rng, 2, 3), size(rng, 2, 3), size(rng, 2, 3), size(rng, 2, 3))),
        hidden("non_square_grid", *images(size(rng, 1, 2), 2, 2, size(rng, 3, 4), 2)),
        hidden("one_channel", *images(size(rng, 1, 3), 1, 3, 2, size(rng, 2, 4))),
        hidden("one_patch", *images(size(rng, 1, 2), 2, 1, 1, 3)),
    ]


PATCHIFY = code_exercise(
    "def patchify(images: torch.Tensor, patch_size: int) -> torch.Tensor:",
    reference=vit.patchify,
    title="ViT patches",
    section=10,
    docstring="""Cut images into non-overlapping P x P patches and flatten each, as a ViT does.

images (N, C, H, W), H and W divisible by P = patch_size.
Returns (N, (H/P) * (W/P), C * P * P): patches in row-major order (left to right, then
top to bottom); each patch flattened in (C, P, P) order (channel first, then rows, then columns).""",
    public=[
        case("one_channel", torch.arange(16, dtype=torch.float64).reshape(1, 1, 4, 4), 2),
        case("two_channels", torch.arange(48, dtype=torch.float64).reshape(1, 2, 4, 6), 2),
    ],
    hidden=_patchify_hidden,
    misconceptions=[
        CodeMisconception(
            "channels_last_flatten",
            "Flatten each patch in (C, P, P) order: all of channel 0's pixels first.",
            _patchify_channels_last,
        ),
        CodeMisconception(
            "column_major_patches",
            "Patches go in row-major order: left to right along the top row of patches first.",
            _patchify_column_major,
        ),
        CodeMisconception(
            "reshape_without_permute",
            "A plain reshape does not gather a patch's pixels: split H and W into (H/P, P) and (W/P, P) and permute.",
            _patchify_plain_reshape,
        ),
    ],
)


EXERCISES = [PATCHIFY]
