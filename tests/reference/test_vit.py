"""Tests for reference.vit against an nn.Conv2d patch embedding, F.unfold / F.fold and
brute-force multiply-add counts of (windowed) attention."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from reference.vit import (
    global_attention_cost,
    msa_flops,
    num_patches,
    patch_embedding_param_count,
    patchify,
    vit_sequence_length,
    window_attention_cost,
    wmsa_flops,
)
from tests.strategies import seeds


def test_num_patches_by_hand_and_errors():
    assert num_patches(224, 224, 16) == 196
    assert num_patches(32, 48, 8) == 4 * 6
    assert num_patches(5, 5, 5) == 1
    for h, w, p in [(225, 224, 16), (224, 230, 16), (8, 8, 0)]:
        with pytest.raises(ValueError):
            num_patches(h, w, p)


def test_vit_sequence_length_by_hand():
    assert vit_sequence_length(224, 224, 16) == 197
    assert vit_sequence_length(224, 224, 16, cls_token=False) == 196
    assert vit_sequence_length(384, 384, 32) == 145


@pytest.mark.parametrize("n,c,h,w,p", [(1, 1, 4, 4, 2), (2, 3, 8, 12, 4), (1, 3, 6, 3, 3), (3, 2, 5, 5, 1)])
def test_patchify_matches_conv_patch_embedding(n, c, h, w, p):
    torch.manual_seed(n + c + h + w + p)
    d_model = 5
    conv = nn.Conv2d(c, d_model, kernel_size=p, stride=p).double()
    images = torch.randn(n, c, h, w, dtype=torch.float64)
    with torch.no_grad():
        expected = conv(images).flatten(2).transpose(1, 2)  # (N, tokens, D), row-major grid
        embedded = patchify(images, p) @ conv.weight.reshape(d_model, -1).T + conv.bias
    assert patchify(images, p).shape == (n, (h // p) * (w // p), c * p * p)
    torch.testing.assert_close(embedded, expected)


@pytest.mark.parametrize("n,c,h,w,p", [(1, 1, 2, 2, 1), (2, 3, 6, 4, 2)])
def test_patchify_matches_unfold_and_slicing(n, c, h, w, p):
    images = torch.randn(n, c, h, w, dtype=torch.float64)
    patches = patchify(images, p)
    torch.testing.assert_close(patches, F.unfold(images, p, stride=p).transpose(1, 2))
    cols = w // p
    for i in range(h // p):
        for j in range(cols):
            block = images[:, :, i * p:(i + 1) * p, j * p:(j + 1) * p]
            torch.testing.assert_close(patches[:, i * cols + j], block.reshape(n, -1))


def test_patchify_small_example_by_hand():
    image = torch.arange(16, dtype=torch.float64).reshape(1, 1, 4, 4)
    expected = torch.tensor([[0, 1, 4, 5], [2, 3, 6, 7], [8, 9, 12, 13], [10, 11, 14, 15]],
                            dtype=torch.float64)
    torch.testing.assert_close(patchify(image, 2), expected[None])
    assert patchify(image.float(), 2).dtype == torch.float32
    with pytest.raises(ValueError):
        patchify(image, 3)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 2), c=st.integers(1, 3), rows=st.integers(1, 3), cols=st.integers(1, 3),
       p=st.integers(1, 3), seed=seeds)
def test_patchify_then_inverse_reshape_returns_image(n, c, rows, cols, p, seed):
    gen = torch.Generator().manual_seed(seed)
    images = torch.randn(n, c, rows * p, cols * p, generator=gen, dtype=torch.float64)
    patches = patchify(images, p)
    grid = patches.reshape(n, rows, cols, c, p, p).permute(0, 3, 1, 4, 2, 5)
    assert torch.equal(grid.reshape(images.shape), images)
    folded = F.fold(patches.transpose(1, 2), (rows * p, cols * p), p, stride=p)
    assert torch.equal(folded, images)


@pytest.mark.parametrize("p,c,d", [(16, 3, 768), (4, 1, 8), (2, 5, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_patch_embedding_param_count_matches_conv_numel(p, c, d, bias):
    conv = nn.Conv2d(c, d, kernel_size=p, stride=p, bias=bias)
    assert patch_embedding_param_count(p, c, d, bias) == sum(t.numel() for t in conv.parameters())


def test_swin_formulas_written_independently():
    h = w = 56
    c, m = 96, 7
    assert msa_flops(h, w, c) == 4 * h * w * c**2 + 2 * (h * w) ** 2 * c
    assert wmsa_flops(h, w, c, m) == 4 * h * w * c**2 + 2 * m**2 * h * w * c
    assert msa_flops(h, w, c) == 2_003_828_736
    assert wmsa_flops(h, w, c, m) == 145_108_992
    assert global_attention_cost(h * w, c) == 2 * (h * w) ** 2 * c
    assert window_attention_cost(h * w, m, c) == 2 * m**2 * h * w * c


def _brute_force_multiply_adds(h, w, c, m=None):
    """Count multiply-adds of (window) self-attention on an h x w map, token by token."""
    tokens = [(i, j) for i in range(h) for j in range(w)]
    count = 0
    for _token in tokens:
        count += 4 * c * c  # q, k, v and output projections of this token: C x C each
    for qi, qj in tokens:
        for ki, kj in tokens:
            same_window = m is None or (qi // m, qj // m) == (ki // m, kj // m)
            if same_window:
                count += c  # score q . k
                count += c  # weight * v accumulated into the output
    return count


@pytest.mark.parametrize("h,w,c,m", [(1, 1, 1, 1), (2, 2, 3, 1), (4, 4, 2, 2), (2, 4, 1, 2), (6, 3, 2, 3)])
def test_swin_costs_match_brute_force_count(h, w, c, m):
    assert msa_flops(h, w, c) == _brute_force_multiply_adds(h, w, c)
    assert wmsa_flops(h, w, c, m) == _brute_force_multiply_adds(h, w, c, m)


def test_window_attention_is_cheaper_and_equal_for_one_window():
    assert wmsa_flops(8, 8, 4, 8) == msa_flops(8, 8, 4)
    assert wmsa_flops(8, 8, 4, 2) < msa_flops(8, 8, 4)
    assert window_attention_cost(16, 4, 3) == global_attention_cost(16, 3)


def test_window_cost_errors():
    with pytest.raises(ValueError):
        window_attention_cost(10, 2, 4)
    with pytest.raises(ValueError):
        wmsa_flops(8, 6, 4, 4)
