"""Answer exercises for section 4 of the concept sheet: output sizes and shapes of convolution
and pooling layers, parameter and multiply-add counts, receptive fields, residual projections
and global average pooling."""

from __future__ import annotations

import math

import numpy as np

from grader.answers import Integer, MultipleChoice, Shape
from grader.exercise import AnswerExercise, Misconception
from reference.cnn import (
    conv_mult_adds,
    conv_output_size,
    conv_param_count,
    needs_projection,
    pool_output_size,
    receptive_field,
)
from exercises.answer._common import Params


def _ceil_size(w_in: int, f: int, p: int, s: int) -> int:
    """The size with ceil instead of floor (PyTorch's ceil_mode=True)."""
    return math.ceil((w_in - f + 2 * p) / s) + 1


# --- convolution output size ---------------------------------------------------------------


def generate_conv_output_size(rng: np.random.Generator) -> Params:
    while True:
        f = int(rng.choice([3, 5, 7, 11]))
        s = int(rng.choice([1, 2, 2, 3, 4]))
        p = int(rng.integers(0, f // 2 + 1))
        w = int(rng.integers(f + 4, 230))
        if s == 1 or (w - f + 2 * p) % s != 0:  # strides > 1: make ceil and floor differ
            return {"w": w, "f": f, "p": p, "s": s}


def solve_conv_output_size(p: Params) -> int:
    return conv_output_size(p["w"], p["f"], p["p"], p["s"])


def _without_collisions(key: int, answers: dict[str, int | None]) -> dict[str, int | None]:
    """Keep each mistake's answer unless it equals the key or an earlier (commoner) mistake's.

    With floor division two mistakes often land on the same size; that size keeps the tag
    of the commoner mistake and the other does not apply, so the generator's draws are never
    rejected for it and stay uniform."""
    seen = {key}
    kept: dict[str, int | None] = {}
    for tag, answer in answers.items():
        kept[tag] = None if answer in seen else answer
        seen.add(answer)
    return kept


def _conv_size_mistakes(p: Params) -> dict[str, int | None]:
    """Each mistake's answer, commonest mistake first."""
    w, f, pad, s = p["w"], p["f"], p["p"], p["s"]
    answers = {
        "forgot_plus_one": conv_output_size(w, f, pad, s) - 1,
        "used_ceil": _ceil_size(w, f, pad, s),
        "forgot_padding": conv_output_size(w, f, 0, s),
        "padded_one_side": (w - f + pad) // s + 1,
    }
    return _without_collisions(solve_conv_output_size(p), answers)


def _conv_size_mistake(tag: str):
    return lambda p: _conv_size_mistakes(p)[tag]


CONV_OUTPUT_SIZE = AnswerExercise(
    id="cnn_conv_output_size",
    title="Output width of a convolution",
    section=4,
    generate=generate_conv_output_size,
    prompt=r"""
A convolutional layer with {{ f }} x {{ f }} filters, stride {{ s }} and zero padding {{ p }}
(on each side) is applied to an input of width $W_{in} = {{ w }}$.

What is the output width $W_{out}$? A filter position that would run past the padded input is
not counted (round down, as PyTorch does). Give an integer.
""",
    solve=solve_conv_output_size,
    check=Integer(),
    misconceptions=(
        Misconception(
            "forgot_plus_one",
            "The output size is floor((W - F + 2P) / S) + 1: the + 1 counts the filter's first position.",
            _conv_size_mistake("forgot_plus_one"),
        ),
        Misconception(
            "used_ceil",
            "A filter position that would run past the padded input does not count: round (W - F + 2P) / S down.",
            _conv_size_mistake("used_ceil"),
        ),
        Misconception(
            "forgot_padding",
            "The filter slides over the padded input: include + 2P in (W - F + 2P) / S.",
            _conv_size_mistake("forgot_padding"),
        ),
        Misconception(
            "padded_one_side",
            "Padding P is added on both sides, so the padded width is W + 2P.",
            _conv_size_mistake("padded_one_side"),
        ),
    ),
)


# --- pooling output size -------------------------------------------------------------------


def generate_pool_output_size(rng: np.random.Generator) -> Params:
    f, s = (int(v) for v in [(2, 2), (3, 2), (3, 3), (3, 1), (4, 2)][int(rng.integers(5))])
    return {"w": int(rng.integers(7, 120)), "f": f, "s": s}


def _pool_size_mistakes(p: Params) -> dict[str, int | None]:
    """Each mistake's answer, commonest mistake first."""
    w, f, s = p["w"], p["f"], p["s"]
    answers = {
        "forgot_plus_one": pool_output_size(w, f, s) - 1,
        "used_ceil": _ceil_size(w, f, 0, s),
        "divided_by_stride": w // s,
    }
    return _without_collisions(pool_output_size(w, f, s), answers)


POOL_OUTPUT_SIZE = AnswerExercise(
    id="cnn_pool_output_size",
    title="Output width of a max-pooling layer",
    section=4,
    generate=generate_pool_output_size,
    prompt=r"""
A max-pooling layer `nn.MaxPool2d(kernel_size={{ f }}, stride={{ s }})` (no padding, PyTorch's
default floor mode) is applied to a feature map of width {{ w }}.

What is the output width? Give an integer.
""",
    solve=lambda p: pool_output_size(p["w"], p["f"], p["s"]),
    check=Integer(),
    misconceptions=(
        Misconception(
            "forgot_plus_one",
            "Pooling follows the convolution formula floor((W - F) / S) + 1, including the + 1.",
            lambda p: _pool_size_mistakes(p)["forgot_plus_one"],
        ),
        Misconception(
            "used_ceil",
            "In floor mode a window that would run past the input is dropped: round (W - F) / S down.",
            lambda p: _pool_size_mistakes(p)["used_ceil"],
        ),
        Misconception(
            "divided_by_stride",
            "Dividing the width by the stride ignores the window size: use floor((W - F) / S) + 1.",
            lambda p: _pool_size_mistakes(p)["divided_by_stride"],
        ),
    ),
)


# --- output shape of a convolution ---------------------------------------------------------


def generate_conv_output_shape(rng: np.random.Generator) -> Params:
    k = int(rng.choice([1, 3, 5, 7]))
    height, width = (int(v) for v in rng.choice([28, 32, 56, 64, 96, 112, 224], size=2, replace=False))
    return {
        "c_in": int(rng.choice([3, 16, 32, 64])),
        "c_out": int(rng.choice([8, 24, 48, 128])),
        "k": k,
        "stride": int(rng.choice([1, 2])),
        "padding": int(rng.integers(0, k // 2 + 1)),
        "height": height,
        "width": width,
    }


def _conv_shape(p: Params, channels: int, padding: int, plus: int = 0) -> tuple:
    h = conv_output_size(p["height"], p["k"], padding, p["stride"]) + plus
    w = conv_output_size(p["width"], p["k"], padding, p["stride"]) + plus
    return ("N", channels, h, w)


def solve_conv_output_shape(p: Params) -> tuple:
    return _conv_shape(p, p["c_out"], p["padding"])


CONV_OUTPUT_SHAPE = AnswerExercise(
    id="cnn_conv_output_shape",
    title="Output shape of a convolutional layer",
    section=4,
    generate=generate_conv_output_shape,
    prompt=r"""
A batch of images of shape $(N, {{ c_in }}, {{ height }}, {{ width }})$ (PyTorch's
$(N, C, H, W)$ layout, $N$ unknown) goes through
`nn.Conv2d({{ c_in }}, {{ c_out }}, kernel_size={{ k }}, stride={{ stride }}, padding={{ padding }})`.

What is the shape of the output? Write it as `"(N, C, H, W)"` with numbers for $C$, $H$, $W$.
""",
    solve=solve_conv_output_shape,
    check=Shape(),
    misconceptions=(
        Misconception(
            "kept_input_channels",
            "A convolution outputs one channel per filter: C_out channels, whatever C_in is.",
            lambda p: _conv_shape(p, p["c_in"], p["padding"]),
        ),
        Misconception(
            "forgot_plus_one",
            "Each spatial size is floor((W - F + 2P) / S) + 1, including the + 1.",
            lambda p: _conv_shape(p, p["c_out"], p["padding"], plus=-1),
        ),
        Misconception(
            "forgot_padding",
            "The kernel slides over the padded input: include + 2P in each spatial size.",
            lambda p: None if p["padding"] == 0 else _conv_shape(p, p["c_out"], 0),
        ),
    ),
)


# --- parameters of a convolutional layer ---------------------------------------------------


def generate_conv_param_count(rng: np.random.Generator) -> Params:
    return {
        "c_in": int(rng.choice([3, 16, 32, 64, 128])),
        "c_out": int(rng.choice([16, 32, 64, 96, 256])),
        "k": int(rng.choice([3, 5, 7])),
    }


def _conv_params(p: Params, c_in: int, kernel_area: int, bias: bool = True) -> int:
    """Parameters with `kernel_area` weights per filter and input channel (a kernel_area x 1 kernel)."""
    return conv_param_count(c_in, p["c_out"], (kernel_area, 1), bias)


CONV_PARAM_COUNT = AnswerExercise(
    id="cnn_conv_param_count",
    title="Parameters of a convolutional layer",
    section=4,
    generate=generate_conv_param_count,
    prompt=r"""
How many learnable parameters (weights and biases) does
`nn.Conv2d({{ c_in }}, {{ c_out }}, kernel_size={{ k }})` have? (It has a bias, PyTorch's default.)

Give an integer.
""",
    solve=lambda p: conv_param_count(p["c_in"], p["c_out"], p["k"]),
    check=Integer(),
    misconceptions=(
        Misconception(
            "forgot_bias",
            "Each of the C_out filters also has one bias: add C_out.",
            lambda p: _conv_params(p, p["c_in"], p["k"] ** 2, bias=False),
        ),
        Misconception(
            "forgot_c_in",
            "Each filter spans all C_in input channels: it has C_in * k * k weights.",
            lambda p: _conv_params(p, 1, p["k"] ** 2),
        ),
        Misconception(
            "kernel_not_squared",
            "A k x k filter has k * k weights per input channel, not k.",
            lambda p: _conv_params(p, p["c_in"], p["k"]),
        ),
    ),
)


# --- multiply-adds of a convolutional layer ------------------------------------------------


def generate_conv_mult_adds(rng: np.random.Generator) -> Params:
    return {
        "c_in": int(rng.choice([3, 8, 16, 32])),
        "c_out": int(rng.choice([8, 16, 32, 64])),
        "k": 3,
        "size": int(rng.choice([8, 16, 32, 56])),
        "stride": 2,
    }


def _output_side(p: Params) -> int:
    return conv_output_size(p["size"], p["k"], 1, p["stride"])


def solve_conv_mult_adds(p: Params) -> int:
    side = _output_side(p)
    return conv_mult_adds(p["c_in"], p["c_out"], p["k"], side, side)


CONV_MULT_ADDS = AnswerExercise(
    id="cnn_conv_mult_adds",
    title="Multiply-adds of a convolutional layer",
    section=4,
    generate=generate_conv_mult_adds,
    prompt=r"""
`nn.Conv2d({{ c_in }}, {{ c_out }}, kernel_size={{ k }}, stride={{ stride }}, padding=1)` is
applied to one image of shape $({{ c_in }}, {{ size }}, {{ size }})$.

How many multiply-add operations does it perform (one per weight per output value; ignore the
bias additions)? Give an integer.
""",
    solve=solve_conv_mult_adds,
    check=Integer(),
    misconceptions=(
        Misconception(
            "used_input_size",
            "Count one filter application per output position: the output is smaller than the input when the stride is 2.",
            lambda p: conv_mult_adds(p["c_in"], p["c_out"], p["k"], p["size"], p["size"]),
        ),
        Misconception(
            "forgot_c_in",
            "Each output value sums over all C_in input channels: it costs C_in * k * k multiply-adds.",
            lambda p: conv_mult_adds(1, p["c_out"], p["k"], _output_side(p), _output_side(p)),
        ),
        Misconception(
            "counted_parameters",
            "The weights are reused at every output position: multiply the weight count by H_out * W_out.",
            lambda p: conv_param_count(p["c_in"], p["c_out"], p["k"], bias=False),
        ),
    ),
)


# --- receptive field -----------------------------------------------------------------------


def generate_receptive_field(rng: np.random.Generator) -> Params:
    while True:
        depth = int(rng.integers(2, 5))
        layers = [[int(rng.choice([2, 3, 3, 5, 7])), int(rng.choice([1, 1, 2]))] for _ in range(depth)]
        if any(stride > 1 for _, stride in layers[:-1]):  # strides below the top layer matter
            return {"layers": layers}


def _receptive_field_ignoring_strides(p: Params) -> int:
    return receptive_field([(k, 1) for k, _ in p["layers"]])


RECEPTIVE_FIELD = AnswerExercise(
    id="cnn_receptive_field",
    title="Receptive field of a stack of layers",
    section=4,
    generate=generate_receptive_field,
    prompt=r"""
A network applies, in this order, the following layers (no dilation; padding does not matter here):

{% for k, s in layers %}
{{ loop.index }}. {{ k | a }}x{{ k }} window (convolution or pooling) with stride {{ s }}
{% endfor %}

How many input pixels wide is the receptive field of one unit of the last layer's output
(along one axis)? Give an integer.
""",
    solve=lambda p: receptive_field([tuple(layer) for layer in p["layers"]]),
    check=Integer(),
    misconceptions=(
        Misconception(
            "summed_kernel_sizes",
            "Stacked windows overlap: each layer adds (k - 1) times the product of the earlier strides, so r = 1 + sum (k_l - 1) * prod s.",
            lambda p: sum(k for k, _ in p["layers"]),
        ),
        Misconception(
            "ignored_strides",
            "A stride spreads the next layer's window over the input: layer l adds (k_l - 1) times the product of the strides below it.",
            _receptive_field_ignoring_strides,
        ),
    ),
)


# --- when a residual block needs a 1x1 projection ------------------------------------------


def _block_text(c_in: int, c_out: int, stride: int) -> str:
    return f"{c_in} input channels, {c_out} output channels, stride {stride}"


def generate_residual_projection(rng: np.random.Generator) -> Params:
    base = int(rng.choice([16, 32, 64, 128]))
    blocks = [
        (base, base, 1),  # identity skip
        (base, base, 2),  # stride only
        (base, 2 * base, 1),  # channels only
        (base, 2 * base, 2),  # both
        (2 * base, 2 * base, 1),
        (2 * base, 2 * base, 2),
    ]
    chosen = [blocks[1], blocks[2]] + [blocks[i] for i in rng.choice([0, 3, 4, 5], size=2, replace=False)]
    order = [int(i) for i in rng.permutation(4)]
    blocks = [[int(v) for v in chosen[i]] for i in order]
    return {"blocks": blocks, "options": [_block_text(*block) for block in blocks]}


def _letters_where(p: Params, rule) -> tuple[str, ...]:
    return tuple("ABCD"[i] for i, block in enumerate(p["blocks"]) if rule(*block))


RESIDUAL_PROJECTION = AnswerExercise(
    id="cnn_residual_projection",
    title="When does a skip connection need a 1x1 convolution?",
    section=4,
    generate=generate_residual_projection,
    prompt=r"""
A ResNet basic block computes $\mathrm{ReLU}(\mathrm{MainPath}(x) + \mathrm{skip}(x))$, where the
main path is two 3x3 convolutions with padding 1 (the first one has the block's stride).
The skip is the identity $x$ unless a 1x1 convolution is required.

Select **every** block below whose skip connection needs a 1x1 convolution:

{% for letter, option in zip(letters(options | length), options) %}
- **{{ letter }}.** {{ option }}
{% endfor %}

Answer with a list of letters, e.g. `["A", "C"]`.
""",
    solve=lambda p: _letters_where(p, needs_projection),
    check=lambda p: MultipleChoice(p["options"]),
    misconceptions=(
        Misconception(
            "only_channel_changes",
            "A stride of 2 halves the height and width, so x no longer matches the main path's shape either: it needs a 1x1 conv with stride 2.",
            lambda p: _letters_where(p, lambda c_in, c_out, stride: c_in != c_out),
        ),
        Misconception(
            "only_stride_changes",
            "A different number of channels also makes x and the main path's output incompatible: a 1x1 conv maps C_in to C_out.",
            lambda p: _letters_where(p, lambda c_in, c_out, stride: stride != 1),
        ),
    ),
)


# --- global average pooling head -----------------------------------------------------------


def generate_gap_head_params(rng: np.random.Generator) -> Params:
    return {
        "channels": int(rng.choice([64, 128, 256, 512])),
        "side": int(rng.choice([4, 7, 8, 14])),
        "classes": int(rng.choice([10, 20, 100, 200])),
    }


def _linear_params(in_features: int, out_features: int, bias: bool = True) -> int:
    # A linear layer has the parameters of a 1x1 convolution.
    return conv_param_count(in_features, out_features, 1, bias)


GAP_HEAD_PARAMS = AnswerExercise(
    id="cnn_gap_head_params",
    title="Parameters of a classifier head after global average pooling",
    section=4,
    generate=generate_gap_head_params,
    prompt=r"""
The last convolutional block of a CNN outputs feature maps of shape
$({{ channels }}, {{ side }}, {{ side }})$ per image. The classifier head is
**global average pooling** followed by one fully connected layer (with bias) to
{{ classes }} classes.

How many learnable parameters does this head have? Give an integer.
""",
    solve=lambda p: _linear_params(p["channels"], p["classes"]),
    check=Integer(),
    misconceptions=(
        Misconception(
            "flattened_instead",
            "GAP averages each channel to one number, so the FC layer sees C inputs, not C * H * W as after flatten.",
            lambda p: _linear_params(p["channels"] * p["side"] ** 2, p["classes"]),
        ),
        Misconception(
            "forgot_bias",
            "The fully connected layer has one bias per class besides its C x K weights.",
            lambda p: _linear_params(p["channels"], p["classes"], bias=False),
        ),
        Misconception(
            "averaged_over_channels",
            "GAP averages over the spatial positions of each channel ([C, H, W] -> [C]), not over the channels.",
            lambda p: _linear_params(p["side"] ** 2, p["classes"]),
        ),
    ),
)

EXERCISES = [
    CONV_OUTPUT_SIZE,
    POOL_OUTPUT_SIZE,
    CONV_OUTPUT_SHAPE,
    CONV_PARAM_COUNT,
    CONV_MULT_ADDS,
    RECEPTIVE_FIELD,
    RESIDUAL_PROJECTION,
    GAP_HEAD_PARAMS,
]
