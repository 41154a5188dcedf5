"""Answer exercises for section 10 of the concept sheet (vision transformers): the token
sequence of an image, the patch embedding's parameters and output shape, the cost of windowed
attention in Swin, and why ViT needs so much data."""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.answers import Integer, Shape, shuffle_options
from grader.exercise import AnswerExercise, Misconception
from reference.vit import (
    global_attention_cost,
    num_patches,
    patch_embedding_param_count,
    vit_sequence_length,
    window_attention_cost,
)
from exercises.answer._common import Params, choice_exercise


def _image_size(rng: np.random.Generator) -> dict[str, int]:
    """A patch size and an image whose sides are whole multiples of it, often not square."""
    patch = int(rng.choice([4, 8, 14, 16, 32]))
    rows, cols = (int(v) for v in rng.integers(2, 17, size=2))
    return {"patch": patch, "height": patch * rows, "width": patch * cols}


# --- sequence length with the [CLS] token --------------------------------------------------


def generate_sequence_length(rng: np.random.Generator) -> Params:
    return {**_image_size(rng), "channels": int(rng.choice([1, 3]))}


def solve_sequence_length(p: Params) -> int:
    return vit_sequence_length(p["height"], p["width"], p["patch"])


def _forgot_cls_token(p: Params) -> int:
    return vit_sequence_length(p["height"], p["width"], p["patch"], cls_token=False)


def _divided_one_side(p: Params) -> int:
    return p["height"] * p["width"] // p["patch"] + 1


def _assumed_square(p: Params) -> int | None:
    if p["height"] == p["width"]:
        return None
    return vit_sequence_length(p["height"], p["height"], p["patch"])


SEQUENCE_LENGTH = AnswerExercise(
    id="vit_sequence_length",
    title="Sequence length of a vision transformer",
    section=10,
    generate=generate_sequence_length,
    prompt=r"""
A Vision Transformer cuts {{ channels | a }}-channel image of height {{ height }} and width
{{ width }} pixels into non-overlapping {{ patch }}x{{ patch }} patches, embeds each patch
linearly, and prepends a learnable `[CLS]` token before adding position embeddings.

How many tokens enter the transformer encoder for one image? Answer with an integer.
""",
    solve=solve_sequence_length,
    check=Integer(),
    misconceptions=(
        Misconception(
            "forgot_cls_token",
            "The [CLS] token is prepended to the patch tokens, so the sequence has one more token than there are patches.",
            _forgot_cls_token,
        ),
        Misconception(
            "divided_one_side",
            "A PxP patch covers P^2 pixels: there are (H/P)(W/P) patches, not HW/P.",
            _divided_one_side,
        ),
        Misconception(
            "assumed_square",
            "The patch grid has H/P rows and W/P columns; for a non-square image these differ.",
            _assumed_square,
        ),
    ),
)


# --- parameters of the patch embedding -----------------------------------------------------


def generate_patch_embedding_params(rng: np.random.Generator) -> Params:
    return {
        **_image_size(rng),
        "channels": int(rng.choice([1, 3, 4])),
        "d_model": int(rng.choice([192, 384, 512, 768, 1024])),
    }


def solve_patch_embedding_params(p: Params) -> int:
    return patch_embedding_param_count(p["patch"], p["channels"], p["d_model"])


def _forgot_channels(p: Params) -> int | None:
    if p["channels"] == 1:
        return None
    return patch_embedding_param_count(p["patch"], 1, p["d_model"])


def _forgot_bias(p: Params) -> int:
    return patch_embedding_param_count(p["patch"], p["channels"], p["d_model"], bias=False)


def _separate_weights_per_patch(p: Params) -> int:
    return num_patches(p["height"], p["width"], p["patch"]) * solve_patch_embedding_params(p)


PATCH_EMBEDDING_PARAMS = AnswerExercise(
    id="vit_patch_embedding_params",
    title="Parameters of the patch embedding",
    section=10,
    generate=generate_patch_embedding_params,
    prompt=r"""
A Vision Transformer takes {{ channels }}-channel images of {{ height }}x{{ width }} pixels,
cuts them into {{ patch }}x{{ patch }} patches, flattens every patch and maps it with one linear
layer (weight and bias) to a token of dimension $D = {{ d_model }}$.

How many trainable parameters does this patch-embedding layer have (not counting the `[CLS]`
token or the position embeddings)? Answer with an integer.
""",
    solve=solve_patch_embedding_params,
    check=Integer(),
    misconceptions=(
        Misconception(
            "forgot_channels",
            "A flattened patch has C * P * P values (every channel of every pixel), so the weight is (C P^2) x D.",
            _forgot_channels,
        ),
        Misconception(
            "forgot_bias",
            "The linear embedding also has a bias: one value per output dimension, D in all.",
            _forgot_bias,
        ),
        Misconception(
            "separate_weights_per_patch",
            "All patches share the same linear embedding, so its size does not depend on the number of patches.",
            _separate_weights_per_patch,
        ),
    ),
)


# --- shape of the patchified batch ---------------------------------------------------------


def generate_patchify_shape(rng: np.random.Generator) -> Params:
    return {**_image_size(rng), "channels": int(rng.choice([3, 4]))}


def solve_patchify_shape(p: Params) -> tuple[Any, ...]:
    return ("N", num_patches(p["height"], p["width"], p["patch"]), p["channels"] * p["patch"] ** 2)


def _forgot_patch_channels(p: Params) -> tuple[Any, ...]:
    return ("N", num_patches(p["height"], p["width"], p["patch"]), p["patch"] ** 2)


def _kept_patch_grid(p: Params) -> tuple[Any, ...]:
    return ("N", p["height"] // p["patch"], p["width"] // p["patch"], p["channels"] * p["patch"] ** 2)


def _patch_side_not_area(p: Params) -> tuple[Any, ...]:
    return ("N", num_patches(p["height"], p["width"], p["patch"]), p["channels"] * p["patch"])


PATCHIFY_SHAPE = AnswerExercise(
    id="vit_patchify_shape",
    title="Shape of a batch of images cut into patches",
    section=10,
    generate=generate_patchify_shape,
    prompt=r"""
A batch of images of shape $(N, {{ channels }}, {{ height }}, {{ width }})$ (PyTorch layout
(batch, channels, height, width)) is cut into non-overlapping {{ patch }}x{{ patch }} patches,
and every patch is flattened into one vector (all its channels and pixels), giving a sequence
of patch vectors per image.

What is the shape of the result, (batch, patches, values per patch)? Write the batch size as
`N`, e.g. `"(N, 10, 20)"`.
""",
    solve=solve_patchify_shape,
    check=Shape(),
    misconceptions=(
        Misconception(
            "forgot_patch_channels",
            "A flattened patch holds every channel of its P x P pixels: C * P^2 values.",
            _forgot_patch_channels,
        ),
        Misconception(
            "kept_patch_grid",
            "The patches form one sequence: the (H/P) x (W/P) grid is flattened into (H/P)(W/P) tokens, row by row.",
            _kept_patch_grid,
        ),
        Misconception(
            "patch_side_not_area",
            "A P x P patch has P^2 pixels per channel, so C * P^2 values, not C * P.",
            _patch_side_not_area,
        ),
    ),
)


# --- windowed attention cost in Swin -------------------------------------------------------


def generate_window_attention_cost(rng: np.random.Generator) -> Params:
    window = int(rng.choice([2, 4, 7, 8]))
    rows, cols = (int(v) for v in rng.integers(2, 9, size=2))
    return {
        "height": window * rows,
        "width": window * cols,
        "window": window,
        "channels": int(rng.choice([32, 48, 64, 96, 128])),
    }


def _tokens(p: Params) -> int:
    return p["height"] * p["width"]


def solve_window_attention_cost(p: Params) -> int:
    return window_attention_cost(_tokens(p), p["window"], p["channels"])


def _global_attention(p: Params) -> int:
    return global_attention_cost(_tokens(p), p["channels"])


def _counted_one_window(p: Params) -> int:
    window_tokens = p["window"] ** 2
    return window_attention_cost(window_tokens, p["window"], p["channels"])


def _window_side_not_area(p: Params) -> int:
    # M tokens per window instead of M^2: (n / M) windows * 2 M^2 C
    return 2 * p["window"] * _tokens(p) * p["channels"]


def _counted_only_scores(p: Params) -> int:
    return solve_window_attention_cost(p) // 2


WINDOW_ATTENTION_COST = AnswerExercise(
    id="vit_window_attention_cost",
    title="Cost of windowed self-attention (Swin)",
    section=10,
    generate=generate_window_attention_cost,
    prompt=r"""
A Swin Transformer stage works on a map of {{ height }}x{{ width }} tokens with $C = {{ channels }}$
channels and uses window attention (W-MSA) with non-overlapping {{ window }}x{{ window }} windows:
each token attends only to the tokens of its own window (one head, $d = C$).

Count the multiply-adds of the two attention products, summed over all windows: the scores
$QK^\top$ (one dot product of length $C$ per query-key pair) and the weighted sums $AV$ (for
every query, a weighted sum of its window's value vectors of length $C$). Ignore the Q/K/V/output
projections and the softmax. Answer with an integer.
""",
    solve=solve_window_attention_cost,
    check=Integer(),
    misconceptions=(
        Misconception(
            "global_attention",
            "In W-MSA a token attends only within its M x M window, so the cost is 2 M^2 hw C, linear in the number of tokens, not 2 (hw)^2 C.",
            _global_attention,
        ),
        Misconception(
            "counted_one_window",
            "The cost 2 (M^2)^2 C of one window is paid by every one of the hw / M^2 windows.",
            _counted_one_window,
        ),
        Misconception(
            "window_side_not_area",
            "An M x M window holds M^2 tokens, and each of them is paired with all M^2 tokens of its window.",
            _window_side_not_area,
        ),
        Misconception(
            "counted_only_scores",
            "Both products count: Q K^T and A V each take (M^2)^2 C multiply-adds per window.",
            _counted_only_scores,
        ),
    ),
)


# --- why ViT is data-hungry ----------------------------------------------------------------

DATA_HUNGRY_CORRECT = (
    "It lacks the inductive biases built into convolutions (locality, translation "
    "equivariance), so it has to learn them from the data."
)
DATA_HUNGRY_DISTRACTORS = {
    "thinks_more_parameters": "It always has many more parameters than any CNN, and more parameters always need more data.",
    "thinks_attention_is_local": "Self-attention only sees neighbouring patches, so it needs many examples to relate distant parts of an image.",
    "thinks_patches_lose_information": "Cutting the image into patches throws away pixel information that extra data has to make up for.",
}
DATA_HUNGRY_FEEDBACK = {
    "thinks_more_parameters": "Size alone is not the reason (ViTs and CNNs of similar size are compared): ViT lacks the CNN's built-in locality and translation equivariance.",
    "thinks_attention_is_local": "Self-attention is global: every patch attends to every other from the first layer; the missing locality prior is what must be learned.",
    "thinks_patches_lose_information": "The patch embedding keeps every pixel (it is a linear map of the whole patch); the issue is the missing convolutional inductive bias.",
}


def generate_data_hungry(rng: np.random.Generator) -> Params:
    options, _ = shuffle_options(rng, DATA_HUNGRY_CORRECT, list(DATA_HUNGRY_DISTRACTORS.values()))
    dataset = str(rng.choice(["ImageNet-1k (1.3M images)", "CIFAR-100 (50k images)", "a 100k-image medical dataset"]))
    return {"dataset": dataset, "options": options}


DATA_HUNGRY = choice_exercise(
    id="vit_data_hungry",
    title="Why ViT needs massive pre-training",
    section=10,
    generate=generate_data_hungry,
    prompt=r"""
Trained from scratch on {{ dataset }}, a Vision Transformer does worse than a ResNet of
similar size; after pre-training on hundreds of millions of images it does better. What is the
main reason ViT needs so much more data?

{% for letter, option in zip(letters(options | length), options) %}
- **{{ letter }}.** {{ option }}
{% endfor %}

Answer with one letter.
""",
    correct=DATA_HUNGRY_CORRECT,
    distractors=DATA_HUNGRY_DISTRACTORS,
    feedback=DATA_HUNGRY_FEEDBACK,
)


EXERCISES = [
    SEQUENCE_LENGTH,
    PATCH_EMBEDDING_PARAMS,
    PATCHIFY_SHAPE,
    WINDOW_ATTENTION_COST,
    DATA_HUNGRY,
]
