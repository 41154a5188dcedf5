"""Section 11 - parameter-efficient fine-tuning: LoRA, adapters, prompt tuning."""

from __future__ import annotations

import torch


def lora_linear(
    x: torch.Tensor,
    weight: torch.Tensor,
    lora_a: torch.Tensor,
    lora_b: torch.Tensor,
    alpha: float,
    bias: torch.Tensor | None = None,
) -> torch.Tensor:
    """LoRA layer x W^T + (alpha / r) x A^T B^T (+ bias).

    x (..., in), weight W (out, in) frozen, A (r, in), B (out, r), bias (out,) optional;
    returns (..., out).
    """
    rank = lora_a.shape[0]
    frozen = x @ weight.T if bias is None else x @ weight.T + bias
    return frozen + (alpha / rank) * ((x @ lora_a.T) @ lora_b.T)


def lora_merge(
    weight: torch.Tensor, lora_a: torch.Tensor, lora_b: torch.Tensor, alpha: float
) -> torch.Tensor:
    """Merged weight W + (alpha / r) B A, shape (out, in): no extra inference cost."""
    rank = lora_a.shape[0]
    return weight + (alpha / rank) * (lora_b @ lora_a)


def lora_param_count(d_in: int, d_out: int, r: int) -> int:
    """Trainable LoRA parameters of one d_in -> d_out layer: A (r, d_in) + B (d_out, r)."""
    return r * (d_in + d_out)


def full_finetune_param_count(d_in: int, d_out: int, bias: bool = True) -> int:
    """Trainable parameters of fully fine-tuning one linear layer: d_in d_out (+ d_out)."""
    return d_in * d_out + (d_out if bias else 0)


def adapter_param_count(d_model: int, bottleneck: int, bias: bool = True) -> int:
    """Bottleneck adapter (down d -> b, up b -> d): 2 d b weights + (b + d) biases if bias."""
    return 2 * d_model * bottleneck + (bottleneck + d_model if bias else 0)


def prompt_tuning_param_count(num_prompt_tokens: int, d_model: int) -> int:
    """Learnable soft-prompt vectors prepended to the input: num_prompt_tokens * d_model."""
    return num_prompt_tokens * d_model


def trainable_fraction(trainable: int, total: int) -> float:
    """trainable / total, a float in [0, 1]; ValueError unless 0 <= trainable <= total, total > 0."""
    if total <= 0 or not 0 <= trainable <= total:
        raise ValueError(f"need 0 <= trainable <= total and total > 0, got {trainable}/{total}")
    return trainable / total
