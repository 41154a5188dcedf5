"""Tests for reference.peft against a LoRA module built from nn.Linear layers and the
numel of torch modules."""

import pytest
import torch
import torch.nn as nn

from reference.peft import (
    adapter_param_count,
    full_finetune_param_count,
    lora_linear,
    lora_merge,
    lora_param_count,
    prompt_tuning_param_count,
    trainable_fraction,
)


class LoRALinear(nn.Module):
    """Frozen nn.Linear plus a trainable low-rank path B(A(x)) scaled by alpha / r."""

    def __init__(self, d_in, d_out, r, alpha, bias):
        super().__init__()
        self.base = nn.Linear(d_in, d_out, bias=bias)
        self.base.requires_grad_(False)
        self.down = nn.Linear(d_in, r, bias=False)  # A
        self.up = nn.Linear(r, d_out, bias=False)  # B
        self.scaling = alpha / r

    def forward(self, x):
        return self.base(x) + self.scaling * self.up(self.down(x))


def _numel(module, trainable_only=False):
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


CASES = [(1, 1, 1, 1.0), (6, 4, 2, 16.0), (8, 10, 4, 8.0), (5, 3, 5, 0.5)]  # (d_in, d_out, r, alpha)


@pytest.mark.parametrize("d_in,d_out,r,alpha", CASES)
@pytest.mark.parametrize("bias", [False, True])
def test_lora_linear_matches_module(d_in, d_out, r, alpha, bias):
    torch.manual_seed(d_in + d_out + r)
    layer = LoRALinear(d_in, d_out, r, alpha, bias).double()
    with torch.no_grad():
        layer.up.weight.normal_()  # B starts at 0 in LoRA; make it non-zero to test the path
    for shape in [(1, d_in), (3, d_in), (2, 4, d_in)]:
        x = torch.randn(*shape, dtype=torch.float64)
        with torch.no_grad():
            out = lora_linear(x, layer.base.weight, layer.down.weight, layer.up.weight, alpha,
                              bias=layer.base.bias if bias else None)
            torch.testing.assert_close(out, layer(x))
        assert out.shape == (*shape[:-1], d_out)


def test_lora_with_zero_b_is_the_frozen_layer():
    gen = torch.Generator().manual_seed(0)
    x, W, A = (torch.randn(*shape, generator=gen, dtype=torch.float64) for shape in [(3, 5), (4, 5), (2, 5)])
    B = torch.zeros(4, 2, dtype=torch.float64)
    torch.testing.assert_close(lora_linear(x, W, A, B, alpha=32.0), x @ W.T)
    torch.testing.assert_close(lora_merge(W, A, B, alpha=32.0), W)


def test_lora_scaling_by_hand():
    x = torch.tensor([[1.0, 2.0]], dtype=torch.float64)
    W = torch.zeros(1, 2, dtype=torch.float64)
    A = torch.tensor([[1.0, 1.0], [0.0, 1.0]], dtype=torch.float64)  # r = 2: A x = [3, 2]
    B = torch.tensor([[1.0, -1.0]], dtype=torch.float64)  # B A x = 1
    assert lora_linear(x, W, A, B, alpha=4.0).item() == pytest.approx(2.0)  # (4 / 2) * 1
    expected_merged = torch.tensor([[2.0, 0.0]], dtype=torch.float64)  # (4 / 2) * B A = 2 * [1, 0]
    torch.testing.assert_close(lora_merge(W, A, B, alpha=4.0), expected_merged)


@pytest.mark.parametrize("d_in,d_out,r,alpha", CASES)
def test_lora_merge_gives_the_same_outputs_as_the_module(d_in, d_out, r, alpha):
    torch.manual_seed(r * 7 + d_out)
    layer = LoRALinear(d_in, d_out, r, alpha, bias=True).double()
    with torch.no_grad():
        layer.up.weight.normal_()
        merged = nn.Linear(d_in, d_out).double()
        merged.weight.copy_(lora_merge(layer.base.weight, layer.down.weight, layer.up.weight, alpha))
        merged.bias.copy_(layer.base.bias)
        x = torch.randn(5, d_in, dtype=torch.float64)
        torch.testing.assert_close(merged(x), layer(x))


def test_lora_float32():
    gen = torch.Generator().manual_seed(2)
    x, W = torch.randn(2, 3, generator=gen), torch.randn(4, 3, generator=gen)
    A, B = torch.randn(2, 3, generator=gen), torch.randn(4, 2, generator=gen)
    out = lora_linear(x, W, A, B, 8.0)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, x @ lora_merge(W, A, B, 8.0).T)


@pytest.mark.parametrize("d_in,d_out,r", [(1, 1, 1), (768, 768, 8), (512, 2048, 4), (10, 3, 2)])
def test_lora_param_count_matches_trainable_numel(d_in, d_out, r):
    layer = LoRALinear(d_in, d_out, r, alpha=1.0, bias=True)
    assert lora_param_count(d_in, d_out, r) == _numel(layer, trainable_only=True)


def test_param_counts_by_hand():
    assert lora_param_count(4096, 4096, 8) == 65_536
    assert full_finetune_param_count(4096, 4096) == 4096 * 4096 + 4096
    assert full_finetune_param_count(4096, 4096, bias=False) == 16_777_216
    assert adapter_param_count(768, 64) == 2 * 768 * 64 + 64 + 768
    assert prompt_tuning_param_count(20, 768) == 15_360


@pytest.mark.parametrize("d_in,d_out", [(1, 1), (7, 3), (768, 3072)])
@pytest.mark.parametrize("bias", [True, False])
def test_full_finetune_param_count_matches_linear_numel(d_in, d_out, bias):
    assert full_finetune_param_count(d_in, d_out, bias) == _numel(nn.Linear(d_in, d_out, bias=bias))


@pytest.mark.parametrize("d_model,bottleneck", [(1, 1), (16, 4), (768, 64)])
@pytest.mark.parametrize("bias", [True, False])
def test_adapter_param_count_matches_bottleneck_module(d_model, bottleneck, bias):
    adapter = nn.Sequential(nn.Linear(d_model, bottleneck, bias=bias), nn.ReLU(),
                            nn.Linear(bottleneck, d_model, bias=bias))
    assert adapter_param_count(d_model, bottleneck, bias) == _numel(adapter)


@pytest.mark.parametrize("tokens,d_model", [(1, 1), (20, 768), (100, 4)])
def test_prompt_tuning_param_count_matches_embedding(tokens, d_model):
    assert prompt_tuning_param_count(tokens, d_model) == _numel(nn.Embedding(tokens, d_model))


def test_trainable_fraction_of_a_lora_layer():
    layer = LoRALinear(64, 32, 4, alpha=8.0, bias=True)
    expected = _numel(layer, trainable_only=True) / _numel(layer)
    total = full_finetune_param_count(64, 32) + lora_param_count(64, 32, 4)
    assert trainable_fraction(lora_param_count(64, 32, 4), total) == pytest.approx(expected)
    assert trainable_fraction(1, 4) == 0.25
    assert trainable_fraction(0, 5) == 0.0 and trainable_fraction(5, 5) == 1.0


@pytest.mark.parametrize("trainable,total", [(1, 0), (-1, 5), (6, 5)])
def test_trainable_fraction_errors(trainable, total):
    with pytest.raises(ValueError):
        trainable_fraction(trainable, total)
