"""The student-facing code contract (docs/design.md): the 28 function names, each mapped to its
reference implementation (`CONTRACT`) and to the `def` line students implement
(`SIGNATURES`, parameter names and defaults exactly as in docs/design.md, with type hints).

Hidden tests take their expected outputs from `CONTRACT`; `grader check` compares a
student's parameter names and defaults with `SIGNATURES`.
"""

from __future__ import annotations

from typing import Callable

from reference import (
    adversarial,
    attention,
    cnn,
    fundamentals,
    generative,
    optimization,
    peft,
    rnn,
    techniques,
    transformer,
    vit,
    word2vec,
)

CONTRACT: dict[str, Callable] = {
    "regularized_loss": fundamentals.regularized_loss,
    "softmax_cross_entropy": optimization.softmax_cross_entropy,
    "relu_backward": optimization.relu_backward,
    "linear_backward": optimization.linear_backward,
    "adam_step": optimization.adam_step,
    "batchnorm_forward": techniques.batchnorm_forward,
    "dropout": techniques.dropout,
    "conv2d": cnn.conv2d,
    "max_pool2d": cnn.max_pool2d,
    "global_avg_pool": cnn.global_avg_pool,
    "fgsm": adversarial.fgsm,
    "project_linf": adversarial.project_linf,
    "lstm_cell": rnn.lstm_cell,
    "skipgram_pairs": word2vec.skipgram_pairs,
    "negative_sampling_loss": word2vec.negative_sampling_loss,
    "analogy": word2vec.analogy,
    "attention_context": attention.attention_context,
    "scaled_dot_product_attention": transformer.scaled_dot_product_attention,
    "multi_head_attention": transformer.multi_head_attention,
    "sinusoidal_positional_encoding": transformer.sinusoidal_positional_encoding,
    "layer_norm": transformer.layer_norm,
    "patchify": vit.patchify,
    "lora_linear": peft.lora_linear,
    "lora_merge": peft.lora_merge,
    "gan_discriminator_loss": generative.gan_discriminator_loss,
    "gan_generator_loss": generative.gan_generator_loss,
    "diffusion_q_sample": generative.diffusion_q_sample,
    "diffusion_loss": generative.diffusion_loss,
}

_T = "torch.Tensor"

SIGNATURES: dict[str, str] = {
    "regularized_loss": f'def regularized_loss(data_loss: {_T}, weights: list[{_T}], lam: float, kind: str = "l2") -> {_T}:',
    "softmax_cross_entropy": f"def softmax_cross_entropy(logits: {_T}, y: {_T}) -> tuple[{_T}, {_T}]:",
    "relu_backward": f"def relu_backward(dout: {_T}, x: {_T}) -> {_T}:",
    "linear_backward": f"def linear_backward(x: {_T}, W: {_T}, dout: {_T}) -> tuple[{_T}, {_T}, {_T}]:",
    "adam_step": (
        f"def adam_step(param: {_T}, grad: {_T}, m: {_T}, v: {_T}, t: int, lr: float = 1e-3, "
        f"beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> tuple[{_T}, {_T}, {_T}]:"
    ),
    "batchnorm_forward": f"def batchnorm_forward(x: {_T}, gamma: {_T}, beta: {_T}, eps: float = 1e-5) -> {_T}:",
    "dropout": f"def dropout(x: {_T}, p: float, training: bool) -> {_T}:",
    "conv2d": (
        f"def conv2d(x: {_T}, weight: {_T}, bias: {_T} | None = None, stride: int = 1, "
        f"padding: int = 0) -> {_T}:"
    ),
    "max_pool2d": f"def max_pool2d(x: {_T}, kernel_size: int, stride: int) -> {_T}:",
    "global_avg_pool": f"def global_avg_pool(x: {_T}) -> {_T}:",
    "fgsm": (
        f"def fgsm(model: torch.nn.Module, x: {_T}, y: {_T}, eps: float, "
        f"targeted: bool = False) -> {_T}:"
    ),
    "project_linf": f"def project_linf(x_adv: {_T}, x: {_T}, eps: float) -> {_T}:",
    "lstm_cell": (
        f"def lstm_cell(x: {_T}, h_prev: {_T}, c_prev: {_T}, weight_ih: {_T}, weight_hh: {_T}, "
        f"bias_ih: {_T}, bias_hh: {_T}) -> tuple[{_T}, {_T}]:"
    ),
    "skipgram_pairs": "def skipgram_pairs(tokens: list[str], window: int) -> list[tuple[str, str]]:",
    "negative_sampling_loss": f"def negative_sampling_loss(v_c: {_T}, u_o: {_T}, u_neg: {_T}) -> {_T}:",
    "analogy": f"def analogy(embeddings: {_T}, vocab: list[str], a: str, b: str, c: str) -> str:",
    "attention_context": f"def attention_context(query: {_T}, encoder_states: {_T}) -> tuple[{_T}, {_T}]:",
    "scaled_dot_product_attention": (
        f"def scaled_dot_product_attention(q: {_T}, k: {_T}, v: {_T}, "
        f"mask: {_T} | None = None) -> tuple[{_T}, {_T}]:"
    ),
    "multi_head_attention": (
        f"def multi_head_attention(x_q: {_T}, x_kv: {_T}, w_q: {_T}, w_k: {_T}, w_v: {_T}, "
        f"w_o: {_T}, num_heads: int, mask: {_T} | None = None) -> {_T}:"
    ),
    "sinusoidal_positional_encoding": f"def sinusoidal_positional_encoding(seq_len: int, d_model: int) -> {_T}:",
    "layer_norm": f"def layer_norm(x: {_T}, gamma: {_T}, beta: {_T}, eps: float = 1e-5) -> {_T}:",
    "patchify": f"def patchify(images: {_T}, patch_size: int) -> {_T}:",
    "lora_linear": (
        f"def lora_linear(x: {_T}, weight: {_T}, lora_a: {_T}, lora_b: {_T}, alpha: float) -> {_T}:"
    ),
    "lora_merge": f"def lora_merge(weight: {_T}, lora_a: {_T}, lora_b: {_T}, alpha: float) -> {_T}:",
    "gan_discriminator_loss": f"def gan_discriminator_loss(d_real: {_T}, d_fake: {_T}) -> {_T}:",
    "gan_generator_loss": f"def gan_generator_loss(d_fake: {_T}, non_saturating: bool = True) -> {_T}:",
    "diffusion_q_sample": (
        f"def diffusion_q_sample(x0: {_T}, t: {_T}, noise: {_T}, alpha_bar: {_T}) -> {_T}:"
    ),
    "diffusion_loss": f"def diffusion_loss(eps_pred: {_T}, eps: {_T}) -> {_T}:",
}

if set(CONTRACT) != set(SIGNATURES):  # pragma: no cover - a broken edit of this file
    raise RuntimeError("CONTRACT and SIGNATURES must name the same functions")
