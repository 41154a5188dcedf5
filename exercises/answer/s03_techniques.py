"""Answer exercises for section 3 of the concept sheet: He and Xavier initialization, batch
norm in training and evaluation mode, inverted dropout, and random-crop augmentation."""

from __future__ import annotations


import numpy as np
import torch

from grader.answers import Integer, Real, SingleChoice, shuffle_options
from grader.exercise import AnswerExercise, Misconception
from reference.cnn import conv_output_size
from reference.techniques import (
    batchnorm_forward,
    batchnorm_forward_eval,
    he_std,
    he_uniform_bound,
    xavier_std,
    xavier_uniform_bound,
)
from exercises.answer._common import FOUR_DECIMALS_MATRIX, Params, tensor


def _column(values: list[float]) -> torch.Tensor:
    """A batch of N values of one feature, shape (N, 1)."""
    return tensor(values).reshape(-1, 1)


# --- He and Xavier initialization ----------------------------------------------------------

SCHEME_FOR = {"relu": "he", "tanh": "xavier"}


def generate_init_scale(rng: np.random.Generator) -> Params:
    layer = str(rng.choice(["linear", "conv"]))
    if layer == "linear":
        c_in, c_out = (int(v) for v in rng.choice([64, 100, 128, 200, 256, 400, 512], size=2, replace=False))
        kernel = 1
    else:
        c_in = int(rng.choice([3, 16, 32, 64]))
        c_out = int(rng.choice([16, 32, 64, 128]))
        kernel = int(rng.choice([3, 5]))
    return {
        "layer": layer,
        "c_in": c_in,
        "c_out": c_out,
        "kernel": kernel,
        "activation": str(rng.choice(["relu", "tanh"])),
        "distribution": str(rng.choice(["normal", "uniform"])),
    }


def _fans(p: Params, *, with_kernel: bool = True) -> tuple[int, int]:
    area = p["kernel"] ** 2 if with_kernel else 1
    return p["c_in"] * area, p["c_out"] * area


def _init_scale(scheme: str, distribution: str, fan_in: int, fan_out: int) -> float:
    if scheme == "he":
        return he_std(fan_in) if distribution == "normal" else he_uniform_bound(fan_in)
    return xavier_std(fan_in, fan_out) if distribution == "normal" else xavier_uniform_bound(fan_in, fan_out)


def solve_init_scale(p: Params) -> float:
    return _init_scale(SCHEME_FOR[p["activation"]], p["distribution"], *_fans(p))


def _wrong_scheme(p: Params) -> float:
    other = "xavier" if SCHEME_FOR[p["activation"]] == "he" else "he"
    return _init_scale(other, p["distribution"], *_fans(p))


def _used_fan_out(p: Params) -> float | None:
    if SCHEME_FOR[p["activation"]] != "he":
        return None
    fan_in, fan_out = _fans(p)
    return _init_scale("he", p["distribution"], fan_out, fan_in)


def _forgot_sqrt(p: Params) -> float:
    return solve_init_scale(p) ** 2


def _std_bound_mixup(p: Params) -> float:
    other = "uniform" if p["distribution"] == "normal" else "normal"
    return _init_scale(SCHEME_FOR[p["activation"]], other, *_fans(p))


def _forgot_kernel_in_fan(p: Params) -> float | None:
    if p["layer"] != "conv":
        return None
    return _init_scale(SCHEME_FOR[p["activation"]], p["distribution"], *_fans(p, with_kernel=False))


INIT_SCALE = AnswerExercise(
    id="techniques_init_scale",
    title="He or Xavier initialization scale",
    section=3,
    generate=generate_init_scale,
    prompt=r"""
{% if layer == "linear" %}
A fully connected layer `nn.Linear({{ c_in }}, {{ c_out }})`
{% else %}
A convolutional layer `nn.Conv2d({{ c_in }}, {{ c_out }}, kernel_size={{ kernel }})`
{% endif %}
is followed by a **{{ "ReLU" if activation == "relu" else "tanh" }}** activation. Its weights are
initialized with the scheme the course recommends for this activation (He/Kaiming in PyTorch's
default `fan_in` mode, or Xavier/Glorot with gain 1), drawn from
{% if distribution == "normal" %}
a normal distribution $\mathcal{N}(0, \sigma^2)$.

Give the standard deviation $\sigma$ to 4 significant figures.
{% else %}
a uniform distribution $U(-b, b)$.

Give the bound $b$ to 4 significant figures.
{% endif %}
""",
    solve=solve_init_scale,
    check=Real(),
    misconceptions=(
        Misconception(
            "wrong_scheme",
            "He initialization (variance 2 / fan_in) is for ReLU; Xavier (variance 2 / (fan_in + fan_out)) is for tanh.",
            _wrong_scheme,
        ),
        Misconception(
            "used_fan_out",
            "He initialization in fan_in mode scales by the number of inputs of each unit, fan_in, not fan_out.",
            _used_fan_out,
        ),
        Misconception(
            "forgot_sqrt",
            "The formulas give the variance; the standard deviation (or the uniform bound) is its square root.",
            _forgot_sqrt,
        ),
        Misconception(
            "std_bound_mixup",
            "A uniform U(-b, b) has variance b^2 / 3, so its bound is sqrt(3) times the normal standard deviation.",
            _std_bound_mixup,
        ),
        Misconception(
            "forgot_kernel_in_fan",
            "For a convolution, fan_in = C_in * k * k and fan_out = C_out * k * k: every kernel tap is an input.",
            _forgot_kernel_in_fan,
        ),
    ),
)


# --- batch norm, training mode -------------------------------------------------------------


def generate_batchnorm_train(rng: np.random.Generator) -> Params:
    while True:
        x = [int(v) for v in rng.integers(-4, 7, size=4)]
        if len(set(x)) > 1:
            break
    return {
        "x": x,
        "gamma": float(rng.choice([0.5, 1.5, 2.0, 2.5, 3.0])),
        "beta": float(rng.choice([-1.0, -0.5, 0.5, 1.0, 2.0])),
    }


def solve_batchnorm_train(p: Params) -> list[float]:
    out = batchnorm_forward(_column(p["x"]), tensor([p["gamma"]]), tensor([p["beta"]]), eps=0.0)
    return out.flatten().tolist()


def _normalized_by(p: Params, scale_of: str, *, affine: bool = True) -> list[float]:
    """Batch norm written out with the spread measure `scale_of`: "std" (the right one,
    biased), "unbiased_std" or "variance"."""
    x = tensor(p["x"])
    if scale_of == "variance":
        scale = x.var(correction=0)
    else:
        scale = x.std(correction=1 if scale_of == "unbiased_std" else 0)
    x_hat = (x - x.mean()) / scale
    return (p["gamma"] * x_hat + p["beta"] if affine else x_hat).tolist()


BATCHNORM_TRAIN = AnswerExercise(
    id="techniques_batchnorm_train",
    title="Batch norm output in training mode",
    section=3,
    generate=generate_batchnorm_train,
    prompt=r"""
A batch-norm layer in **training mode** receives a batch of $N = 4$ values of one feature:
$x = {{ x | latex_matrix }}$. It normalizes with the batch mean $\mu_B$ and the **biased**
batch variance $\sigma_B^2 = \frac{1}{N}\sum_n (x_n - \mu_B)^2$, then applies its affine
parameters $\gamma = {{ gamma | num }}$ and $\beta = {{ beta | num }}$:
$$\hat x_n = \frac{x_n - \mu_B}{\sigma_B}, \qquad y_n = \gamma \hat x_n + \beta.$$
Take $\epsilon = 0$.

Give the outputs $y$ as a vector of 4 numbers `[..]` to 4 decimal places.
""",
    solve=solve_batchnorm_train,
    check=FOUR_DECIMALS_MATRIX,
    misconceptions=(
        Misconception(
            "unbiased_variance",
            "Batch norm normalizes with the biased batch variance (divide by N, not N - 1).",
            lambda p: _normalized_by(p, "unbiased_std"),
        ),
        Misconception(
            "forgot_affine",
            "After normalizing, batch norm scales by gamma and shifts by beta: y = gamma * x_hat + beta.",
            lambda p: _normalized_by(p, "std", affine=False),
        ),
        Misconception(
            "divided_by_variance",
            "Normalize by the standard deviation sigma_B = sqrt(variance), not by the variance.",
            lambda p: _normalized_by(p, "variance"),
        ),
    ),
)


# --- batch norm, evaluation mode -----------------------------------------------------------


def generate_batchnorm_eval(rng: np.random.Generator) -> Params:
    return {
        "x": [float(v) for v in rng.integers(-20, 41, size=3) / 10],
        "running_mean": round(float(rng.uniform(-1, 2)), 1),
        "running_var": float(rng.choice([0.25, 0.64, 2.25, 4.0, 6.25])),
        "gamma": float(rng.choice([0.5, 1.5, 2.0, 3.0])),
        "beta": float(rng.choice([-1.0, -0.5, 0.5, 1.0])),
    }


def _bn_eval(p: Params, mean: float, var: float, gamma: float, beta: float) -> list[float]:
    out = batchnorm_forward_eval(_column(p["x"]), tensor([gamma]), tensor([beta]), tensor([mean]), tensor([var]), eps=0.0)
    return out.flatten().tolist()


def solve_batchnorm_eval(p: Params) -> list[float]:
    return _bn_eval(p, p["running_mean"], p["running_var"], p["gamma"], p["beta"])


def _used_batch_statistics(p: Params) -> list[float] | None:
    if len(set(p["x"])) == 1:
        return None
    out = batchnorm_forward(_column(p["x"]), tensor([p["gamma"]]), tensor([p["beta"]]), eps=0.0)
    return out.flatten().tolist()


def _eval_divided_by_variance(p: Params) -> list[float]:
    return _bn_eval(p, p["running_mean"], p["running_var"] ** 2, p["gamma"], p["beta"])


def _eval_forgot_affine(p: Params) -> list[float]:
    return _bn_eval(p, p["running_mean"], p["running_var"], 1.0, 0.0)


BATCHNORM_EVAL = AnswerExercise(
    id="techniques_batchnorm_eval",
    title="Batch norm output in evaluation mode",
    section=3,
    generate=generate_batchnorm_eval,
    prompt=r"""
During training, a batch-norm layer (one feature) collected the running statistics
mean $= {{ running_mean | num }}$ and variance $= {{ running_var | num }}$; its learned affine
parameters are $\gamma = {{ gamma | num }}$ and $\beta = {{ beta | num }}$.

The network is now in **evaluation mode** (`model.eval()`) and this layer receives the batch
$x = {{ x | latex_matrix }}$ of 3 values. Take $\epsilon = 0$.

Give the layer's outputs as a vector of 3 numbers `[..]` to 4 decimal places.
""",
    solve=solve_batchnorm_eval,
    check=FOUR_DECIMALS_MATRIX,
    misconceptions=(
        Misconception(
            "used_batch_statistics",
            "In evaluation mode batch norm uses the running mean and variance from training, not the statistics of the current batch.",
            _used_batch_statistics,
        ),
        Misconception(
            "divided_by_variance",
            "Normalize by the square root of the running variance (the standard deviation), not by the variance.",
            _eval_divided_by_variance,
        ),
        Misconception(
            "forgot_affine",
            "After normalizing, batch norm still applies its learned gamma and beta in evaluation mode.",
            _eval_forgot_affine,
        ),
    ),
)


# --- inverted dropout at training time -----------------------------------------------------


def generate_dropout_train(rng: np.random.Generator) -> Params:
    p = float(rng.choice([0.2, 0.25, 0.4, 0.5, 0.75]))
    while True:
        keep = [int(k) for k in rng.random(6) >= p]
        if 0 < sum(keep) < 6:
            break
    x = [float(v) for v in rng.choice([-3, -2, -1.5, -1, -0.5, 0.5, 1, 1.5, 2, 3, 4], size=6)]
    return {"x": x, "p": p, "keep": keep}


def _masked_scaled(p: Params, scale: float) -> list[float]:
    # + 0.0 turns the -0.0 of dropped negative inputs into 0.0 for display.
    return (tensor(p["x"]) * tensor(p["keep"]) * scale + 0.0).tolist()


def solve_dropout_train(p: Params) -> list[float]:
    # reference.techniques.dropout draws its own mask; this applies its rule (survivors
    # scaled by 1 / (1 - p)) to the mask the prompt gives. The tests check both agree.
    return _masked_scaled(p, 1.0 / (1.0 - p["p"]))


def _divided_by_p(p: Params) -> list[float] | None:
    return None if p["p"] == 0.5 else _masked_scaled(p, 1.0 / p["p"])


DROPOUT_TRAIN = AnswerExercise(
    id="techniques_dropout_train",
    title="Inverted dropout at training time",
    section=3,
    generate=generate_dropout_train,
    prompt=r"""
A dropout layer with drop probability $p = {{ p | num }}$ (inverted dropout, as PyTorch's
`nn.Dropout`) is in **training mode**. It receives
$x = {{ x | latex_matrix }}$ and draws the keep mask $m = {{ keep | latex_matrix }}$
($m_i = 0$: element $i$ is dropped; $m_i = 1$: it survives).

Give the layer's output as a vector of 6 numbers `[..]` to 4 decimal places.
""",
    solve=solve_dropout_train,
    check=FOUR_DECIMALS_MATRIX,
    misconceptions=(
        Misconception(
            "forgot_rescaling",
            "Inverted dropout scales the survivors by 1 / (1 - p) at training time so the expected output equals the input.",
            lambda p: _masked_scaled(p, 1.0),
        ),
        Misconception(
            "scaled_by_keep_prob",
            "Survivors are divided by the keep probability (1 - p), not multiplied by it.",
            lambda p: _masked_scaled(p, 1.0 - p["p"]),
        ),
        Misconception(
            "divided_by_p",
            "Survivors are scaled by 1 / (1 - p), one over the probability of being kept, not 1 / p.",
            _divided_by_p,
        ),
    ),
)


# --- dropout: training versus evaluation mode ----------------------------------------------


def _dropout_behaviours(p: float) -> dict[str, str]:
    keep = f"{1 - p:.4g}"
    return {
        "identity": "It returns $x$ unchanged.",
        "scale_all": f"It multiplies every element by $1 - p = {keep}$.",
        "inverted": f"It zeroes each element with probability $p$ and multiplies the survivors by $1/(1-p) = {1 / (1 - p):.4g}$.",
        "no_rescale": "It zeroes each element with probability $p$ and leaves the survivors unchanged.",
        "shrink_survivors": f"It zeroes each element with probability $p$ and multiplies the survivors by $1 - p = {keep}$.",
    }


# mode -> (the right behaviour, {misconception tag: the behaviour it leads to})
DROPOUT_MODE_ANSWERS = {
    "train": ("inverted", {"no_rescaling": "no_rescale", "scaled_by_keep_prob": "shrink_survivors"}),
    "eval": ("identity", {"scaled_at_test_time": "scale_all", "dropped_at_test_time": "inverted"}),
}


def generate_dropout_mode(rng: np.random.Generator) -> Params:
    p = float(rng.choice([0.1, 0.2, 0.25, 0.3, 0.5]))
    mode = str(rng.choice(["train", "eval"]))
    texts = _dropout_behaviours(p)
    right = DROPOUT_MODE_ANSWERS[mode][0]
    options, _ = shuffle_options(rng, texts[right], [t for k, t in texts.items() if k != right])
    return {"p": p, "mode": mode, "options": options}


def _behaviour_letter(p: Params, behaviour: str) -> str:
    return "ABCDE"[p["options"].index(_dropout_behaviours(p["p"])[behaviour])]


def solve_dropout_mode(p: Params) -> str:
    return _behaviour_letter(p, DROPOUT_MODE_ANSWERS[p["mode"]][0])


def _dropout_mistake(tag: str):
    def solve(p: Params) -> str | None:
        behaviour = DROPOUT_MODE_ANSWERS[p["mode"]][1].get(tag)
        return None if behaviour is None else _behaviour_letter(p, behaviour)

    return solve


DROPOUT_MODE = AnswerExercise(
    id="techniques_dropout_mode",
    title="What dropout does in training and evaluation mode",
    section=3,
    generate=generate_dropout_mode,
    prompt=r"""
A network contains `nn.Dropout(p={{ p | num }})` (PyTorch's inverted dropout) and is in
**{{ "training mode (`model.train()`)" if mode == "train" else "evaluation mode (`model.eval()`)" }}**.
What does the dropout layer do to its input $x$?

{% for letter, option in zip(letters(options | length), options) %}
- **{{ letter }}.** {{ option }}
{% endfor %}

Answer with one letter.
""",
    solve=solve_dropout_mode,
    check=lambda p: SingleChoice(p["options"]),
    misconceptions=(
        Misconception(
            "no_rescaling",
            "Inverted dropout rescales the survivors by 1 / (1 - p) during training, so nothing has to change at test time.",
            _dropout_mistake("no_rescaling"),
        ),
        Misconception(
            "scaled_by_keep_prob",
            "Survivors are divided by the keep probability (1 - p) during training, not multiplied by it.",
            _dropout_mistake("scaled_by_keep_prob"),
        ),
        Misconception(
            "scaled_at_test_time",
            "Scaling by (1 - p) at test time belongs to the original, non-inverted dropout; inverted dropout already rescaled during training and is the identity at test time.",
            _dropout_mistake("scaled_at_test_time"),
        ),
        Misconception(
            "dropped_at_test_time",
            "At test time all neurons are used: dropout is switched off in evaluation mode.",
            _dropout_mistake("dropped_at_test_time"),
        ),
    ),
)


# --- random crop with padding --------------------------------------------------------------


def generate_random_crop(rng: np.random.Generator) -> Params:
    height = int(rng.choice([24, 28, 32, 32, 40]))
    width = height if rng.random() < 0.6 else int(rng.choice([28, 32, 48]))
    padding = int(rng.choice([1, 2, 3, 4]))
    crop = int(min(height, width) - rng.integers(0, 5))
    return {"height": height, "width": width, "padding": padding, "crop": crop}


def _positions(p: Params, added_per_axis: int, *, plus_one: bool = True) -> int:
    """Crop positions when each axis grows by `added_per_axis` pixels of padding."""
    along = [
        conv_output_size(size + added_per_axis, p["crop"]) - (0 if plus_one else 1)
        for size in (p["height"], p["width"])
    ]
    return along[0] * along[1]


def solve_random_crop(p: Params) -> int:
    # Offsets along one axis = outputs of a crop-sized window sliding with stride 1.
    return conv_output_size(p["height"], p["crop"], p["padding"]) * conv_output_size(
        p["width"], p["crop"], p["padding"]
    )


RANDOM_CROP = AnswerExercise(
    id="techniques_random_crop_positions",
    title="How many different random crops?",
    section=3,
    generate=generate_random_crop,
    prompt=r"""
Data augmentation: each training image of size {{ height }} x {{ width }} (height x width) is
zero-padded by {{ padding }} pixels on **every** side, then a random {{ crop }} x {{ crop }}
crop is taken (as `torchvision.transforms.RandomCrop({{ crop }}, padding={{ padding }})`).
The crop must lie entirely inside the padded image, and its top-left corner is at a whole
pixel position.

How many different crop positions are there? Give an integer.
""",
    solve=solve_random_crop,
    check=Integer(),
    misconceptions=(
        Misconception(
            "forgot_plus_one",
            "Along an axis of length L a window of size s fits at L - s + 1 positions (offsets 0 to L - s).",
            lambda p: _positions(p, 2 * p["padding"], plus_one=False),
        ),
        Misconception(
            "padded_one_side",
            "Padding is added on both sides, so each axis grows by 2 * padding.",
            lambda p: _positions(p, p["padding"]),
        ),
        Misconception(
            "ignored_padding",
            "The crop is taken from the padded image, which is larger than the original.",
            lambda p: _positions(p, 0),
        ),
    ),
)

EXERCISES = [
    INIT_SCALE,
    BATCHNORM_TRAIN,
    BATCHNORM_EVAL,
    DROPOUT_TRAIN,
    DROPOUT_MODE,
    RANDOM_CROP,
]
