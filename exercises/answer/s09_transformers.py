"""Answer exercises for section 9 of the concept sheet (transformers): scaled dot-product
attention weights with and without a causal mask, the shapes inside multi-head attention,
sinusoidal positional encodings, layer norm, the parameter count of an encoder block, and
where cross-attention takes its queries, keys and values from."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from grader.answers import Integer, Matrix, Real, Shape, shuffle_options
from grader.exercise import AnswerExercise, Misconception
from reference.transformer import (
    causal_mask,
    encoder_block_param_count,
    ffn_param_count,
    layer_norm,
    layer_norm_param_count,
    mha_param_count,
    scaled_dot_product_attention,
    sinusoidal_positional_encoding,
)
from exercises.answer._common import Params, choice_exercise, tensor


def _int_matrix(rng: np.random.Generator, rows: int, cols: int, low: int = -1, high: int = 2) -> list[list[int]]:
    """Small integer entries in [low, high], no all-zero row."""
    while True:
        matrix = [[int(v) for v in row] for row in rng.integers(low, high + 1, size=(rows, cols))]
        if all(any(row) for row in matrix):
            return matrix


def _weights(q: Any, k: Any, mask: torch.Tensor | None = None) -> list[list[float]]:
    """Attention weights softmax(q k^T / sqrt(d_k)) from the reference (v plays no part)."""
    keys = tensor(k)
    return scaled_dot_product_attention(tensor(q), keys, keys, mask)[1].tolist()


def _weights_scaled_by(q: Any, k: Any, divisor: float, mask: torch.Tensor | None = None) -> list[list[float]]:
    """The reference weights with scores q k^T / divisor instead of / sqrt(d_k): scaling q by
    sqrt(d_k) / divisor before the reference divides by sqrt(d_k)."""
    queries = tensor(q)
    return _weights(queries * math.sqrt(queries.shape[-1]) / divisor, k, mask)


# --- scaled dot-product attention weights ----------------------------------------------------


def generate_sdpa_weights(rng: np.random.Generator) -> Params:
    d_k = int(rng.choice([2, 3, 4]))
    return {"d_k": d_k, "q": _int_matrix(rng, 2, d_k), "k": _int_matrix(rng, 3, d_k)}


def solve_sdpa_weights(p: Params) -> list[list[float]]:
    return _weights(p["q"], p["k"])


def _no_scaling(p: Params) -> list[list[float]]:
    return _weights_scaled_by(p["q"], p["k"], 1.0)


def _divided_by_d_k(p: Params) -> list[list[float]]:
    return _weights_scaled_by(p["q"], p["k"], float(p["d_k"]))


def _softmax_over_queries(p: Params) -> list[list[float]]:
    # softmax over the queries = the reference with the roles of q and k exchanged, transposed
    return tensor(_weights(p["k"], p["q"])).T.tolist()


SDPA_WEIGHTS = AnswerExercise(
    id="transformers_sdpa_weights",
    title="Scaled dot-product attention weights",
    section=9,
    generate=generate_sdpa_weights,
    prompt=r"""
In scaled dot-product attention, two queries (the rows of $Q$) attend to three keys (the rows
of $K$), with $d_k = {{ d_k }}$:

$$Q = {{ q | latex_matrix }}, \qquad K = {{ k | latex_matrix }}.$$

Compute the attention weight matrix $A$ of $\operatorname{Attention}(Q, K, V) = A V$ (no mask):
a $2 \times 3$ matrix, row $i$ for query $i$. Give each entry to 4 significant figures, as
`[[a, b, c], [d, e, f]]`.
""",
    solve=solve_sdpa_weights,
    check=Matrix(),
    misconceptions=(
        Misconception(
            "no_scaling",
            "The scores are divided by sqrt(d_k) before the softmax: A = softmax(Q K^T / sqrt(d_k)).",
            _no_scaling,
        ),
        Misconception(
            "divided_by_d_k",
            "The scores are divided by the square root of d_k, not by d_k itself.",
            _divided_by_d_k,
        ),
        Misconception(
            "softmax_over_queries",
            "The softmax runs over the keys (along each row), so that every query's weights sum to 1.",
            _softmax_over_queries,
        ),
    ),
)


# --- causal (masked) self-attention weights --------------------------------------------------


CAUSAL_MASK = causal_mask(3)


def generate_causal_weights(rng: np.random.Generator) -> Params:
    return {"q": _int_matrix(rng, 3, 2, -2, 2), "k": _int_matrix(rng, 3, 2, -2, 2)}


def solve_causal_weights(p: Params) -> list[list[float]]:
    return _weights(p["q"], p["k"], CAUSAL_MASK)


def _inverted_mask(p: Params) -> list[list[float]]:
    return _weights(p["q"], p["k"], CAUSAL_MASK.T)


def _forgot_mask(p: Params) -> list[list[float]]:
    return _weights(p["q"], p["k"])


def _causal_no_scaling(p: Params) -> list[list[float]]:
    return _weights_scaled_by(p["q"], p["k"], 1.0, CAUSAL_MASK)


CAUSAL_WEIGHTS = AnswerExercise(
    id="transformers_causal_attention_weights",
    title="Masked (causal) self-attention weights",
    section=9,
    generate=generate_causal_weights,
    prompt=r"""
A decoder's masked self-attention runs over a sequence of 3 positions (0, 1, 2). After the
projections, the queries and keys are the rows of

$$Q = {{ q | latex_matrix }}, \qquad K = {{ k | latex_matrix }}, \qquad d_k = 2.$$

With the causal mask (a position may not attend to later positions), compute the $3 \times 3$
attention weight matrix $A$ of $\operatorname{softmax}(QK^\top / \sqrt{d_k})$, row $i$ for
query position $i$ (masked entries are 0). Give each entry to 4 significant figures, as
`[[..], [..], [..]]`.
""",
    solve=solve_causal_weights,
    check=Matrix(),
    misconceptions=(
        Misconception(
            "inverted_mask",
            "The causal mask lets position i attend to positions j <= i (the past and itself) and blocks the future j > i.",
            _inverted_mask,
        ),
        Misconception(
            "forgot_mask",
            "In masked self-attention the scores of later positions are set to -infinity before the softmax, so their weights are 0.",
            _forgot_mask,
        ),
        Misconception(
            "no_scaling",
            "The scores are divided by sqrt(d_k) before masking and the softmax.",
            _causal_no_scaling,
        ),
    ),
)


# --- shapes inside multi-head cross-attention ------------------------------------------------


def generate_mha_shapes(rng: np.random.Generator) -> Params:
    heads = int(rng.choice([2, 4, 8]))
    d_model = heads * int(rng.choice([8, 16, 32, 64]))
    l_q, l_kv = (int(v) for v in rng.choice(np.arange(5, 40), size=2, replace=False))
    return {"heads": heads, "d_model": d_model, "l_q": l_q, "l_kv": l_kv}


def solve_attention_weights_shape(p: Params) -> tuple[Any, ...]:
    # one (L_q, L_kv) weight matrix per head and batch element, as scaled_dot_product_attention
    # returns for per-head inputs (N, h, L, d_model / h)
    return ("N", p["heads"], p["l_q"], p["l_kv"])


def _forgot_head_dimension(p: Params) -> tuple[Any, ...]:
    return ("N", p["l_q"], p["l_kv"])


def _swapped_lengths(p: Params) -> tuple[Any, ...]:
    return ("N", p["heads"], p["l_kv"], p["l_q"])


def _used_head_features(p: Params) -> tuple[Any, ...]:
    return ("N", p["heads"], p["l_q"], p["d_model"] // p["heads"])


# The setting both multi-head shape questions share.
MHA_SETUP = r"""
A transformer decoder's cross-attention has $h = {{ heads }}$ heads and
$d_\text{model} = {{ d_model }}$. For a batch of $N$ pairs, the decoder input has
{{ l_q }} positions and the encoder output {{ l_kv }} positions.
"""


ATTENTION_WEIGHTS_SHAPE = AnswerExercise(
    id="transformers_mha_weights_shape",
    title="Shape of the attention weights in multi-head cross-attention",
    section=9,
    generate=generate_mha_shapes,
    prompt=MHA_SETUP + r"""
What is the shape of the tensor of attention weights (the softmax output, all heads, in
PyTorch's batch-first layout)? Write the batch size as `N`, e.g. `"(N, 3, 5, 7)"`.
""",
    solve=solve_attention_weights_shape,
    check=Shape(),
    misconceptions=(
        Misconception(
            "forgot_head_dimension",
            "Each head computes its own attention weights, so the tensor has a heads dimension: (N, h, L_q, L_kv).",
            _forgot_head_dimension,
        ),
        Misconception(
            "swapped_lengths",
            "Rows of the weights are queries (decoder positions) and columns are keys (encoder positions): (N, h, L_q, L_kv).",
            _swapped_lengths,
        ),
        Misconception(
            "used_head_features",
            "The weights pair every query with every key, so the last dimension is the number of keys, not the per-head feature size d_model / h.",
            _used_head_features,
        ),
    ),
)


def solve_key_head_shape(p: Params) -> tuple[Any, ...]:
    # split_heads: (N, L_kv, d_model) -> (N, h, L_kv, d_model / h)
    return ("N", p["heads"], p["l_kv"], p["d_model"] // p["heads"])


def _did_not_split_d_model(p: Params) -> tuple[Any, ...]:
    return ("N", p["heads"], p["l_kv"], p["d_model"])


def _keys_from_decoder(p: Params) -> tuple[Any, ...]:
    return ("N", p["heads"], p["l_q"], p["d_model"] // p["heads"])


KEY_HEAD_SHAPE = AnswerExercise(
    id="transformers_mha_key_shape",
    title="Shape of the keys after splitting into heads",
    section=9,
    generate=generate_mha_shapes,
    prompt=MHA_SETUP + r"""
The keys are projected with $W_K$ ($d_\text{model} \times d_\text{model}$) and then split into
heads. What is the shape of the key tensor after the split, in the layout
(batch, heads, positions, features per head)? Write the batch size as `N`, e.g.
`"(N, 3, 5, 7)"`.
""",
    solve=solve_key_head_shape,
    check=Shape(),
    misconceptions=(
        Misconception(
            "did_not_split_d_model",
            "The heads split d_model: each head gets d_model / h features, so the total cost stays that of one full-width head.",
            _did_not_split_d_model,
        ),
        Misconception(
            "keys_from_decoder",
            "In cross-attention the keys (and values) come from the encoder output, so they have the encoder's length.",
            _keys_from_decoder,
        ),
    ),
)


# --- sinusoidal positional encoding ----------------------------------------------------------


def _angle(p: Params) -> float:
    pair = p["column"] // 2
    return p["pos"] / 10000 ** (2 * pair / p["d_model"])


def generate_positional_encoding(rng: np.random.Generator) -> Params:
    while True:
        d_model = int(rng.choice([8, 16, 32]))
        p = {"pos": int(rng.integers(1, 30)), "d_model": d_model, "column": int(rng.integers(2, d_model // 2))}
        value = math.sin(_angle(p)) if p["column"] % 2 == 0 else math.cos(_angle(p))
        if abs(value) >= 0.05:
            return p


def _encoding(seq_len: int, d_model: int) -> torch.Tensor:
    return sinusoidal_positional_encoding(seq_len, d_model)


def solve_positional_encoding(p: Params) -> float:
    return _encoding(p["pos"] + 1, p["d_model"])[p["pos"], p["column"]].item()


def _swapped_sin_cos(p: Params) -> float:
    partner = p["column"] ^ 1  # the other column of the same (sin, cos) pair: same angle
    return _encoding(p["pos"] + 1, p["d_model"])[p["pos"], partner].item()


def _exponent_i_over_d(p: Params) -> float:
    # pos / 10000^(i/d) is the reference's angle of pair i in a table of width 2d
    return _encoding(p["pos"] + 1, 2 * p["d_model"])[p["pos"], p["column"]].item()


def _exponent_column_over_d(p: Params) -> float | None:
    if p["column"] % 2 == 0:
        return None  # for a sin column 2i the column index already is 2i
    # pos / 10000^(k/d) with k = 2i+1 is the reference's cos angle of pair k in a table of width 2d
    return _encoding(p["pos"] + 1, 2 * p["d_model"])[p["pos"], 2 * p["column"] + 1].item()


def _calculator_in_degrees(p: Params) -> float:
    trig = math.sin if p["column"] % 2 == 0 else math.cos
    return trig(math.radians(_angle(p)))


POSITIONAL_ENCODING = AnswerExercise(
    id="transformers_positional_encoding",
    title="A sinusoidal positional-encoding value",
    section=9,
    generate=generate_positional_encoding,
    prompt=r"""
The transformer adds the sinusoidal positional encoding
$$PE_{(pos,\,2i)} = \sin\!\left(\frac{pos}{10000^{2i/d_\text{model}}}\right), \qquad
PE_{(pos,\,2i+1)} = \cos\!\left(\frac{pos}{10000^{2i/d_\text{model}}}\right)$$
to the token embeddings, with $d_\text{model} = {{ d_model }}$ (columns numbered from 0).

Compute $PE_{({{ pos }},\,{{ column }})}$, the entry of position {{ pos }} in column
{{ column }} (angles in radians). Give it to 4 significant figures.
""",
    solve=solve_positional_encoding,
    check=Real(),
    misconceptions=(
        Misconception(
            "swapped_sin_cos",
            "Even columns 2i use sin and odd columns 2i+1 use cos, both with the same angle pos / 10000^(2i/d_model).",
            _swapped_sin_cos,
        ),
        Misconception(
            "exponent_i_over_d",
            "The exponent is 2i/d_model, where i is the index of the (sin, cos) pair, column // 2; you used i/d_model.",
            _exponent_i_over_d,
        ),
        Misconception(
            "exponent_column_over_d",
            "Both columns of a pair share the angle: column 2i+1 uses the exponent 2i/d_model, not (2i+1)/d_model.",
            _exponent_column_over_d,
        ),
        Misconception(
            "calculator_in_degrees",
            "The angle pos / 10000^(2i/d_model) is in radians: set your calculator to radians.",
            _calculator_in_degrees,
        ),
    ),
)


# --- layer norm ------------------------------------------------------------------------------


def generate_layer_norm(rng: np.random.Generator) -> Params:
    while True:
        x = [[int(v) for v in row] for row in rng.integers(-3, 4, size=(2, 3))]
        if all(len(set(row)) > 1 for row in x):
            break
    return {
        "x": x,
        "gamma": [float(v) for v in rng.choice([0.5, 1.0, 2.0], size=3)],
        "beta": [float(v) for v in rng.choice([-1.0, 0.0, 0.5, 1.0], size=3)],
    }


def solve_layer_norm(p: Params) -> list[list[float]]:
    return layer_norm(tensor(p["x"]), tensor(p["gamma"]), tensor(p["beta"])).tolist()


def _unbiased_variance(p: Params) -> list[list[float]]:
    # the unbiased standard deviation is sqrt(d / (d - 1)) times the biased one (d = 3)
    return layer_norm(tensor(p["x"]), tensor(p["gamma"]) * math.sqrt(2 / 3), tensor(p["beta"])).tolist()


def _normalized_over_batch(p: Params) -> list[list[float]]:
    per_feature = layer_norm(tensor(p["x"]).T, None, None).T
    return (per_feature * tensor(p["gamma"]) + tensor(p["beta"])).tolist()


def _forgot_affine(p: Params) -> list[list[float]]:
    return layer_norm(tensor(p["x"]), None, None).tolist()


LAYER_NORM = AnswerExercise(
    id="transformers_layer_norm",
    title="Layer normalization of two tokens",
    section=9,
    generate=generate_layer_norm,
    prompt=r"""
A layer norm with $\gamma = {{ gamma | latex_matrix }}$, $\beta = {{ beta | latex_matrix }}$ and
$\epsilon = 10^{-5}$ is applied to a batch of two token vectors with 3 features each, the rows of
$$X = {{ x | latex_matrix }}.$$

Compute the output (same shape as $X$), using the biased variance (divide by the number of
values averaged). Give each entry to 4 significant figures, as `[[a, b, c], [d, e, f]]`.
""",
    solve=solve_layer_norm,
    check=Matrix(),
    misconceptions=(
        Misconception(
            "unbiased_variance",
            "Layer norm uses the biased variance, the mean of the squared deviations (divide by d, not d - 1).",
            _unbiased_variance,
        ),
        Misconception(
            "normalized_over_batch",
            "Layer norm normalizes each token over its features (each row); normalizing each feature over the batch is batch norm.",
            _normalized_over_batch,
        ),
        Misconception(
            "forgot_affine",
            "After normalizing, layer norm scales by gamma and shifts by beta, feature by feature.",
            _forgot_affine,
        ),
    ),
)


# --- parameters of an encoder block ----------------------------------------------------------


def generate_encoder_params(rng: np.random.Generator) -> Params:
    d_model = int(rng.choice([64, 128, 256, 512, 768]))
    return {
        "d_model": d_model,
        "d_ff": d_model * int(rng.choice([2, 4])),
        "heads": int(rng.choice([4, 8])),
    }


def solve_encoder_params(p: Params) -> int:
    return encoder_block_param_count(p["d_model"], p["d_ff"])


def _forgot_linear_biases(p: Params) -> int:
    d, d_ff = p["d_model"], p["d_ff"]
    return mha_param_count(d, bias=False) + ffn_param_count(d, d_ff, bias=False) + 2 * layer_norm_param_count(d)


def _forgot_layer_norms(p: Params) -> int:
    return mha_param_count(p["d_model"]) + ffn_param_count(p["d_model"], p["d_ff"])


def _projections_per_head(p: Params) -> int:
    return solve_encoder_params(p) + (p["heads"] - 1) * mha_param_count(p["d_model"])


ENCODER_PARAMS = AnswerExercise(
    id="transformers_encoder_block_params",
    title="Parameters of a transformer encoder block",
    section=9,
    generate=generate_encoder_params,
    prompt=r"""
A transformer encoder block `[MHA -> Add & Norm -> FFN -> Add & Norm]` has
$d_\text{model} = {{ d_model }}$, $h = {{ heads }}$ heads and a feed-forward hidden size
$d_\text{ff} = {{ d_ff }}$. Every linear layer has a bias: the query, key, value and output
projections of the attention, and the two layers of the FFN
($d_\text{model} \to d_\text{ff} \to d_\text{model}$). Each layer norm has a scale $\gamma$ and a
shift $\beta$.

How many trainable parameters does the block have? Answer with an integer.
""",
    solve=solve_encoder_params,
    check=Integer(),
    misconceptions=(
        Misconception(
            "forgot_linear_biases",
            "Each of the six linear layers (Q, K, V, output, and the two FFN layers) also has a bias vector of its output size.",
            _forgot_linear_biases,
        ),
        Misconception(
            "forgot_layer_norms",
            "The two layer norms have parameters too: a gamma and a beta of size d_model each.",
            _forgot_layer_norms,
        ),
        Misconception(
            "projections_per_head",
            "The heads split d_model into h slices of d_model / h, so the attention has 4 d_model^2 weights (+ 4 d_model biases) whatever h is.",
            _projections_per_head,
        ),
    ),
)


# --- cross-attention: where Q, K and V come from ---------------------------------------------

CROSS_CORRECT = "Q from the decoder; K and V from the encoder output."
CROSS_DISTRACTORS = {
    "swapped_query_source": "Q from the encoder output; K and V from the decoder.",
    "confused_with_self_attention": "Q, K and V all from the decoder.",
    "keys_from_decoder": "Q and K from the decoder; V from the encoder output.",
}
CROSS_FEEDBACK = {
    "swapped_query_source": "The decoder asks the questions: its states give the queries, and it looks up the encoder output (keys and values).",
    "confused_with_self_attention": "Taking Q, K and V from the same sequence is self-attention; cross-attention reads the encoder output through K and V.",
    "keys_from_decoder": "Keys and values come in pairs from the same source, the encoder output: each key indexes the value at its position.",
}


def generate_cross_attention(rng: np.random.Generator) -> Params:
    options, _ = shuffle_options(rng, CROSS_CORRECT, list(CROSS_DISTRACTORS.values()))
    task = str(rng.choice(["English to German", "French to English", "speech to text", "Spanish to Italian"]))
    return {"task": task, "options": options}


CROSS_ATTENTION = choice_exercise(
    id="transformers_cross_attention_sources",
    title="Where cross-attention takes Q, K and V from",
    section=9,
    generate=generate_cross_attention,
    prompt=r"""
An encoder-decoder transformer is trained for {{ task }}. Each decoder block has a
cross-attention sub-layer after its masked self-attention. Where do the queries, keys and
values of the **cross-attention** come from?

{% for letter, option in zip(letters(options | length), options) %}
- **{{ letter }}.** {{ option }}
{% endfor %}

Answer with one letter.
""",
    correct=CROSS_CORRECT,
    distractors=CROSS_DISTRACTORS,
    feedback=CROSS_FEEDBACK,
)


EXERCISES = [
    SDPA_WEIGHTS,
    CAUSAL_WEIGHTS,
    ATTENTION_WEIGHTS_SHAPE,
    KEY_HEAD_SHAPE,
    POSITIONAL_ENCODING,
    LAYER_NORM,
    ENCODER_PARAMS,
    CROSS_ATTENTION,
]
