"""Shared helpers of the code exercise declarations: the declaration factory, seeded float64
test data, and the groups of not-allowed names (qualified names of the real torch objects,
aliases included)."""

from __future__ import annotations

import re
from typing import Any, Callable, Sequence

import numpy as np
import torch

from grader.code.exercise import CodeExercise, CodeMisconception, TestCase, Tolerance
from grader.exercise import DeclarationError

AUTOGRAD: tuple[str, ...] = (
    "torch.Tensor.backward",
    "torch.Tensor.grad",
    "torch.Tensor.grad_fn",
    "torch.Tensor.requires_grad_",
    "torch.Tensor.retain_grad",
    "torch.Tensor.register_hook",
    "torch.autograd.grad",
    "torch.autograd.backward",
    "torch.autograd.functional",
    "torch.autograd.functional.vjp",
    "torch.autograd.functional.jacobian",
    "torch.autograd.graph",
    "torch.autograd.forward_ad",
    "torch.autograd.Function",
    "torch.func.grad",
    "torch.func.grad_and_value",
    "torch.func.vjp",
    "torch.func.jvp",
    "torch.func.jacrev",
    "torch.func.jacfwd",
    "torch.func.hessian",
    "torch.func.linearize",
)
"""Autograd by any public route; private ones (`torch.autograd.graph._engine_run_backward`,
`Variable._execution_engine`) are dynamic access for `grader.code.dynamic`."""

AUTOGRAD_OPS: tuple[str, ...] = ("autograd::engine",)
"""Any ATen op run by the autograd engine (a backward pass) while the function runs."""

CONVOLUTIONS: tuple[str, ...] = (
    *(f"torch.nn.functional.{n}" for n in ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                                            "conv_transpose3d", "conv_tbc")),
    *(f"torch.{n}" for n in ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
                             "conv_tbc", "convolution", "_convolution", "mkldnn_convolution", "cudnn_convolution",
                             "cudnn_convolution_transpose", "cudnn_convolution_relu", "cudnn_convolution_add_relu",
                             "miopen_convolution", "miopen_convolution_transpose", "miopen_depthwise_convolution",
                             "miopen_convolution_relu", "miopen_convolution_add_relu")),
    *(f"torch.nn.{n}" for n in ("Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
                                "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d",
                                "LazyConvTranspose3d")),
    "torch.nn.grad",
)
CONVOLUTION_OPS: tuple[str, ...] = tuple(
    f"aten::{n}"
    for n in ("convolution", "_convolution", "mkldnn_convolution", "conv_tbc", "_slow_conv2d_forward", "thnn_conv2d",
              "slow_conv_transpose2d", "slow_conv3d_forward", "slow_conv_dilated2d", "slow_conv_dilated3d",
              "_nnpack_spatial_convolution", "conv_depthwise3d", "convolution_overrideable", "_convolution_mode")
)

MAX_POOLING: tuple[str, ...] = (
    *(f"torch.nn.functional.{n}" for n in ("max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices",
                                            "max_pool2d_with_indices", "max_pool3d_with_indices", "adaptive_max_pool1d",
                                            "adaptive_max_pool2d", "adaptive_max_pool3d",
                                            "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
                                            "adaptive_max_pool3d_with_indices", "fractional_max_pool2d",
                                            "fractional_max_pool3d", "fractional_max_pool2d_with_indices",
                                            "fractional_max_pool3d_with_indices")),
    *(f"torch.{n}" for n in ("max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices", "adaptive_max_pool1d",
                             "mkldnn_max_pool2d", "mkldnn_max_pool3d", "quantized_max_pool1d", "quantized_max_pool2d",
                             "quantized_max_pool3d")),
    *(f"torch.nn.{n}" for n in ("MaxPool1d", "MaxPool2d", "MaxPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
                                "AdaptiveMaxPool3d", "FractionalMaxPool2d", "FractionalMaxPool3d")),
)
MAX_POOLING_OPS: tuple[str, ...] = tuple(
    f"aten::{n}"
    for n in ("max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices", "max_pool2d_with_indices",
              "max_pool3d_with_indices", "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
              "fractional_max_pool2d", "fractional_max_pool3d", "mkldnn_max_pool2d", "quantized_max_pool2d")
)

AVERAGE_POOLING: tuple[str, ...] = (
    *(f"torch.nn.functional.{n}" for n in ("adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
                                            "avg_pool1d", "avg_pool2d", "avg_pool3d", "lp_pool1d", "lp_pool2d",
                                            "lp_pool3d")),
    *(f"torch.{n}" for n in ("adaptive_avg_pool1d", "avg_pool1d", "mkldnn_adaptive_avg_pool2d")),
    *(f"torch.nn.{n}" for n in ("AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AvgPool1d", "AvgPool2d",
                                "AvgPool3d", "LPPool1d", "LPPool2d", "LPPool3d")),
)
AVERAGE_POOLING_OPS: tuple[str, ...] = tuple(
    f"aten::{n}"
    for n in ("avg_pool1d", "avg_pool2d", "avg_pool3d", "_adaptive_avg_pool2d", "_adaptive_avg_pool3d",
              "mkldnn_adaptive_avg_pool2d")
)

DROPOUTS: tuple[str, ...] = (
    *(f"torch.nn.functional.{n}" for n in ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
                                            "feature_alpha_dropout")),
    *(f"torch.{n}" for n in ("dropout", "dropout_", "feature_dropout", "feature_dropout_", "alpha_dropout",
                             "alpha_dropout_", "feature_alpha_dropout", "feature_alpha_dropout_", "native_dropout")),
    *(f"torch.nn.{n}" for n in ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout")),
)
DROPOUT_OPS: tuple[str, ...] = ("aten::native_dropout",)
"""F.dropout runs `bernoulli_` like an honest mask does: at the ATen level only the fused
kernel can be told apart."""

NORMALIZATIONS: tuple[str, ...] = (
    *(f"torch.nn.functional.{n}" for n in ("batch_norm", "instance_norm", "layer_norm", "group_norm", "rms_norm")),
    *(f"torch.{n}" for n in ("batch_norm", "instance_norm", "layer_norm", "group_norm", "rms_norm", "native_batch_norm",
                             "native_layer_norm", "native_group_norm", "batch_norm_elemt", "batch_norm_stats",
                             "batch_norm_gather_stats", "batch_norm_gather_stats_with_counts",
                             "batch_norm_update_stats", "cudnn_batch_norm", "miopen_batch_norm",
                             "quantized_batch_norm")),
    *(f"torch.nn.{n}" for n in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LazyBatchNorm1d", "LazyBatchNorm2d",
                                "LazyBatchNorm3d", "SyncBatchNorm", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d",
                                "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d", "LayerNorm",
                                "GroupNorm", "RMSNorm")),
)
"""Each of these normalizes over some axes, and a transpose or reshape turns one into another."""
NORMALIZATION_OPS: tuple[str, ...] = tuple(
    f"aten::{n}"
    for n in ("native_layer_norm", "native_batch_norm", "_native_batch_norm_legit",
              "_native_batch_norm_legit_no_training", "_native_batch_norm_legit_functional", "native_group_norm",
              "_fused_rms_norm", "_batch_norm_with_update", "_batch_norm_no_update")
)

ATTENTION: tuple[str, ...] = (
    "torch.nn.functional.scaled_dot_product_attention",
    "torch.nn.functional.multi_head_attention_forward",
    "torch.nn.MultiheadAttention",
    "torch.nn.attention",
    "torch.nn.Transformer",
    "torch.nn.TransformerEncoder",
    "torch.nn.TransformerEncoderLayer",
    "torch.nn.TransformerDecoder",
    "torch.nn.TransformerDecoderLayer",
)
ATTENTION_OPS: tuple[str, ...] = tuple(
    f"aten::{n}"
    for n in ("_safe_softmax", "_scaled_dot_product_flash_attention_for_cpu", "_scaled_dot_product_efficient_attention",
              "_scaled_dot_product_fused_attention_overrideable", "_native_multi_head_attention")
)
"""SDPA's math path is plain bmm and softmax at the ATen level; its `_safe_softmax` gives it away."""


_DEF_NAME = re.compile(r"^def\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def code_exercise(
    signature: str,
    *,
    reference: Callable[..., Any],
    title: str,
    section: int,
    docstring: str,
    public: Sequence[TestCase],
    hidden: Callable[[np.random.Generator], list[TestCase]],
    forbidden: Sequence[str] = (),
    forbidden_ops: Sequence[str] = (),
    misconceptions: Sequence[CodeMisconception] = (),
    tolerance: Tolerance | None = None,
    outputs: Sequence[str] = (),
    compare: Any = None,
    deterministic: bool = True,
    excludes: Sequence[str] = (),
) -> CodeExercise:
    """A `CodeExercise` of the student code contract: `signature` is the `def` line students
    implement (parameter names and defaults as in docs/design.md, with type hints), which
    names the function; the id is `code_<function>`; `reference` computes every expected
    output.  The bank's order of code exercises (section, then declaration order within the
    section's module) is the contract's order."""
    match = _DEF_NAME.match(signature.strip())
    if match is None:
        raise DeclarationError(f"code exercise signature must be a def line, got {signature!r}")
    function = match.group(1)
    return CodeExercise(
        id=f"code_{function}",
        title=title,
        section=section,
        function=function,
        signature=signature,
        docstring=docstring,
        reference=reference,
        public_tests=tuple(public),
        hidden_tests=hidden,
        forbidden=tuple(forbidden),
        forbidden_ops=tuple(forbidden_ops),
        misconceptions=tuple(misconceptions),
        tolerance=tolerance or Tolerance(),
        outputs=tuple(outputs),
        compare=compare,
        excludes=tuple(excludes),
        deterministic=deterministic,
    )


def case(name: str, *args: Any, **kwargs: Any) -> TestCase:
    """A public test: `function(*args, **kwargs)`."""
    return TestCase(name, args, kwargs)


def hidden(name: str, *args: Any, **kwargs: Any) -> TestCase:
    """A hidden test: `function(*args, **kwargs)`."""
    return TestCase(name, args, kwargs, hidden=True)


def tensor(values: Any, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """A tensor from nested lists (float64 unless said otherwise)."""
    return torch.tensor(values, dtype=dtype)


def randn(rng: np.random.Generator, *shape: int, scale: float = 1.0) -> torch.Tensor:
    """float64 standard normal values times `scale`."""
    return torch.from_numpy(rng.standard_normal(shape) * scale)


def uniform(rng: np.random.Generator, low: float, high: float, *shape: int) -> torch.Tensor:
    """float64 values uniform in [low, high)."""
    return torch.from_numpy(rng.uniform(low, high, shape))


def integers(rng: np.random.Generator, low: int, high: int, *shape: int) -> torch.Tensor:
    """int64 values in [low, high)."""
    return torch.from_numpy(rng.integers(low, high, shape).astype(np.int64))


def nonzero(rng: np.random.Generator, *shape: int) -> torch.Tensor:
    """float64 values with |value| in [0.5, 2) and a random sign: never 0."""
    magnitude = rng.uniform(0.5, 2.0, shape)
    return torch.from_numpy(magnitude * rng.choice([-1.0, 1.0], shape))


def size(rng: np.random.Generator, low: int, high: int) -> int:
    """An int in [low, high]."""
    return int(rng.integers(low, high + 1))


def fixed(seed: int) -> np.random.Generator:
    """The generator of a public test's fixed inputs."""
    return np.random.default_rng(seed)


def rounded(values: torch.Tensor, decimals: int = 2) -> torch.Tensor:
    """Values rounded for readable public tests."""
    return torch.round(values * 10**decimals) / 10**decimals
