"""Answer exercises for section 12 of the concept sheet (generative models): the GAN value
function, the optimal discriminator and the value at equilibrium, the discriminator and
generator losses, mode collapse, and DDPM diffusion (the forward sample, the noise-prediction
loss and one reverse step)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from grader.answers import Real, shuffle_options
from grader.exercise import AnswerExercise, Misconception
from grader.wording import with_article
from reference.generative import (
    alphas_cumprod,
    ddpm_reverse_step,
    diffusion_loss,
    diffusion_q_sample,
    gan_discriminator_loss,
    gan_generator_loss,
    gan_value,
    gan_value_with_optimal_d,
    linear_beta_schedule,
    optimal_discriminator,
)
from exercises.answer._common import Params, choice_exercise, tensor

LN10 = math.log(10.0)


def _probabilities(rng: np.random.Generator, low: float, high: float, count: int) -> list[float]:
    """Discriminator outputs with two decimals in [low, high]."""
    return [round(float(v), 2) for v in rng.uniform(low, high, size=count)]


def _one_decimal(rng: np.random.Generator, count: int, bound: float = 2.0) -> list[float]:
    """Values with one decimal in [-bound, bound], none of them 0."""
    values = rng.choice([v for v in np.arange(-bound, bound + 0.05, 0.1).round(1) if v != 0], size=count)
    return [float(v) for v in values]


# --- the GAN value function ----------------------------------------------------------------


def generate_gan_value(rng: np.random.Generator) -> Params:
    return {"d_real": _probabilities(rng, 0.55, 0.95, 2), "d_fake": _probabilities(rng, 0.05, 0.45, 3)}


def solve_gan_value(p: Params) -> float:
    return gan_value(tensor(p["d_real"]), tensor(p["d_fake"])).item()


def _value_log_d_fake(p: Params) -> float:
    # log(1 - (1 - D(G(z)))) = log D(G(z)): the mistake through the reference value
    return gan_value(tensor(p["d_real"]), 1 - tensor(p["d_fake"])).item()


def _summed_not_mean(p: Params) -> float:
    return (torch.log(tensor(p["d_real"])).sum() + torch.log1p(-tensor(p["d_fake"])).sum()).item()


def _log_base_10(p: Params) -> float:
    return solve_gan_value(p) / LN10


GAN_VALUE = AnswerExercise(
    id="generative_gan_value_function",
    title="The GAN value function on a minibatch",
    section=12,
    generate=generate_gan_value,
    prompt=r"""
A GAN plays the minimax game
$\min_G \max_D V(D, G) = \mathbb{E}_{x \sim p_d}[\log D(x)] + \mathbb{E}_{z \sim p_z}[\log(1 - D(G(z)))]$.
On a minibatch, the discriminator outputs (probabilities of "real") are
{{ d_real | join(", ") }} on the {{ d_real | length }} real images and
{{ d_fake | join(", ") }} on the {{ d_fake | length }} generated images $G(z)$.

Estimate $V(D, G)$ on this minibatch (each expectation as the mean over its samples, natural
logarithm), to 4 significant figures.
""",
    solve=solve_gan_value,
    check=Real(),
    misconceptions=(
        Misconception(
            "log_d_fake",
            "The fake term is log(1 - D(G(z))): D wants D(G(z)) close to 0, which makes this term close to 0 (its maximum).",
            _value_log_d_fake,
        ),
        Misconception(
            "summed_not_mean",
            "Each expectation is estimated by the mean over its samples, not the sum.",
            _summed_not_mean,
        ),
        Misconception(
            "log_base_10",
            "The value function uses the natural logarithm (ln), not log base 10.",
            _log_base_10,
        ),
    ),
)


# --- the optimal discriminator -------------------------------------------------------------


def generate_optimal_discriminator(rng: np.random.Generator) -> Params:
    p_data, p_gen = (float(v) for v in rng.choice(np.arange(1, 10) / 10, size=2, replace=False))
    return {"x": round(float(rng.uniform(-3, 3)), 1), "p_data": p_data, "p_gen": p_gen}


def solve_optimal_discriminator(p: Params) -> float:
    return optimal_discriminator(tensor(p["p_data"]), tensor(p["p_gen"])).item()


def _swapped_densities(p: Params) -> float:
    return optimal_discriminator(tensor(p["p_gen"]), tensor(p["p_data"])).item()


def _answered_one_half(p: Params) -> float:
    return 0.5


def _ratio_of_densities(p: Params) -> float:
    return p["p_data"] / p["p_gen"]


OPTIMAL_DISCRIMINATOR = AnswerExercise(
    id="generative_gan_optimal_discriminator",
    title="The optimal discriminator",
    section=12,
    generate=generate_optimal_discriminator,
    prompt=r"""
The generator $G$ of a GAN is held fixed, and the discriminator $D$ is trained to optimality
for the value function
$V(D, G) = \mathbb{E}_{x \sim p_d}[\log D(x)] + \mathbb{E}_{z \sim p_z}[\log(1 - D(G(z)))]$.
At the point $x = {{ x | num }}$ the data density is $p_d(x) = {{ p_data }}$ and the generator's
density is $p_g(x) = {{ p_gen }}$.

What is $D^*(x)$, the optimal discriminator's output at this point? Give it to 4 significant
figures.
""",
    solve=solve_optimal_discriminator,
    check=Real(),
    misconceptions=(
        Misconception(
            "swapped_densities",
            "D outputs the probability of 'real': D*(x) = p_d(x) / (p_d(x) + p_g(x)), with the data density on top.",
            _swapped_densities,
        ),
        Misconception(
            "answered_one_half",
            "D*(x) = 1/2 only at equilibrium, when p_g = p_d; for a fixed G it is p_d(x) / (p_d(x) + p_g(x)).",
            _answered_one_half,
        ),
        Misconception(
            "ratio_of_densities",
            "D* is a probability: p_d(x) / (p_d(x) + p_g(x)), the data density divided by the sum of both densities.",
            _ratio_of_densities,
        ),
    ),
)


# --- the value at equilibrium --------------------------------------------------------------


def generate_equilibrium_value(rng: np.random.Generator) -> Params:
    while True:
        first, second = (int(v) for v in rng.integers(1, 9, size=2))
        if first + second < 10:
            return {"p": [first / 10, second / 10, round((10 - first - second) / 10, 1)]}


def solve_equilibrium_value(p: Params) -> float:
    return gan_value_with_optimal_d(tensor(p["p"]), tensor(p["p"])).item()


def _positive_log_4(p: Params) -> float:
    return -solve_equilibrium_value(p)


def _minus_log_2(p: Params) -> float:
    return solve_equilibrium_value(p) / 2


def _equilibrium_log_base_10(p: Params) -> float:
    return solve_equilibrium_value(p) / LN10


EQUILIBRIUM_VALUE = AnswerExercise(
    id="generative_gan_equilibrium_value",
    title="The GAN value at equilibrium",
    section=12,
    generate=generate_equilibrium_value,
    prompt=r"""
A GAN generates samples on three points $\{x_1, x_2, x_3\}$. Training has reached the Nash
equilibrium: the generator's distribution equals the data distribution,
$p_g = p_d = ({{ p[0] }}, {{ p[1] }}, {{ p[2] }})$, and the discriminator is optimal.

What is the value $V(D, G) = \mathbb{E}_{x \sim p_d}[\log D(x)] + \mathbb{E}_{x \sim p_g}[\log(1 - D(x))]$
at this point (natural logarithm)? Give it to 4 significant figures.
""",
    solve=solve_equilibrium_value,
    check=Real(),
    misconceptions=(
        Misconception(
            "positive_log_4",
            "At equilibrium D = 1/2 everywhere and both terms are log(1/2) < 0, so V = 2 log(1/2) = -log 4.",
            _positive_log_4,
        ),
        Misconception(
            "minus_log_2",
            "Both expectations contribute log(1/2): the real term and the fake term, so V = -2 log 2 = -log 4.",
            _minus_log_2,
        ),
        Misconception(
            "log_base_10",
            "The value function uses the natural logarithm: V = -ln 4.",
            _equilibrium_log_base_10,
        ),
    ),
)


# --- the discriminator loss ----------------------------------------------------------------


def generate_discriminator_loss(rng: np.random.Generator) -> Params:
    return {"d_real": _probabilities(rng, 0.5, 0.95, 2), "d_fake": _probabilities(rng, 0.05, 0.5, 2)}


def solve_discriminator_loss(p: Params) -> float:
    return gan_discriminator_loss(tensor(p["d_real"]), tensor(p["d_fake"])).item()


def _forgot_minus_sign(p: Params) -> float:
    return gan_value(tensor(p["d_real"]), tensor(p["d_fake"])).item()


def _swapped_labels(p: Params) -> float:
    return gan_discriminator_loss(tensor(p["d_fake"]), tensor(p["d_real"])).item()


def _loss_log_d_fake(p: Params) -> float:
    return gan_discriminator_loss(tensor(p["d_real"]), 1 - tensor(p["d_fake"])).item()


DISCRIMINATOR_LOSS = AnswerExercise(
    id="generative_gan_discriminator_loss",
    title="The discriminator's loss",
    section=12,
    generate=generate_discriminator_loss,
    prompt=r"""
The discriminator of a GAN maximizes
$V(D, G) = \mathbb{E}_{x}[\log D(x)] + \mathbb{E}_{z}[\log(1 - D(G(z)))]$; in practice it
minimizes a loss: binary cross-entropy with label 1 for real and 0 for generated images.
On a minibatch, $D$ outputs {{ d_real | join(", ") }} on two real images and
{{ d_fake | join(", ") }} on two generated images.

Compute the discriminator's loss on this minibatch: the mean binary cross-entropy over the two
real images **plus** the mean over the two generated images (a sum of two means, i.e. $-V$;
natural logarithm). Give it to 4 significant figures.
""",
    solve=solve_discriminator_loss,
    check=Real(),
    misconceptions=(
        Misconception(
            "forgot_minus_sign",
            "Maximizing V is minimizing -V: the loss is -(mean log D(x) + mean log(1 - D(G(z)))), a positive number.",
            _forgot_minus_sign,
        ),
        Misconception(
            "swapped_labels",
            "Real images have label 1 (term log D(x)) and generated images label 0 (term log(1 - D(G(z)))).",
            _swapped_labels,
        ),
        Misconception(
            "log_d_fake",
            "For generated images the target is 0, so their term is log(1 - D(G(z))), not log D(G(z)).",
            _loss_log_d_fake,
        ),
    ),
)


# --- the generator loss: minimax or non-saturating -----------------------------------------


def generate_generator_loss(rng: np.random.Generator) -> Params:
    return {"non_saturating": bool(rng.integers(0, 2)), "d_fake": _probabilities(rng, 0.05, 0.6, 3)}


def solve_generator_loss(p: Params) -> float:
    return gan_generator_loss(tensor(p["d_fake"]), p["non_saturating"]).item()


def _used_other_form(p: Params) -> float:
    return gan_generator_loss(tensor(p["d_fake"]), not p["non_saturating"]).item()


def _generator_sign_flipped(p: Params) -> float:
    return -solve_generator_loss(p)


GENERATOR_LOSS = AnswerExercise(
    id="generative_gan_generator_loss",
    title="The generator's loss",
    section=12,
    generate=generate_generator_loss,
    prompt=r"""
The discriminator of a GAN outputs {{ d_fake | join(", ") }} on three generated images $G(z)$.
The generator is trained to **minimize** the
{% if non_saturating %}
**non-saturating** loss, which replaces the minimax term by $-\log D(G(z))$.
{% else %}
**minimax** loss, its term of the value function $\log(1 - D(G(z)))$.
{% endif %}

Compute the generator's loss on these three images (mean over the samples, natural logarithm),
to 4 significant figures.
""",
    solve=solve_generator_loss,
    check=Real(),
    misconceptions=(
        Misconception(
            "used_other_form",
            "The minimax generator loss is mean log(1 - D(G(z))); the non-saturating one is -mean log D(G(z)): you used the other one.",
            _used_other_form,
        ),
        Misconception(
            "sign_flipped",
            "G minimizes mean log(1 - D(G(z))) (minimax) or -mean log D(G(z)) (non-saturating): mind the sign.",
            _generator_sign_flipped,
        ),
    ),
)


# --- mode collapse -------------------------------------------------------------------------

COLLAPSE_SYMPTOMS = (
    ("handwritten digits (MNIST)", "almost every sample is {a_thing}", ["0", "1", "3", "7", "8"]),
    ("photos of ten animal classes", "nearly every sample shows {a_thing}", ["cat", "horse", "frog", "bird"]),
    ("faces of thousands of people", "nearly all samples show the same {thing}", ["smiling young woman", "bearded man", "child"]),
)
COLLAPSE_CORRECT = "Mode collapse: G maps many different z to the same few outputs, covering only a few modes of the data."
COLLAPSE_DISTRACTORS = {
    "confused_with_vanishing_gradients": "Vanishing gradients: D rejects every fake so confidently that G stops learning.",
    "confused_with_memorization": "Overfitting: G has memorized the training images and copies them.",
    "confused_with_equilibrium": "Nash equilibrium: p_g = p_d, so D outputs 1/2 everywhere.",
}
COLLAPSE_FEEDBACK = {
    "confused_with_vanishing_gradients": "Vanishing gradients give poor samples; realistic samples of only a few kinds are mode collapse.",
    "confused_with_memorization": "The samples are not copies of training images; they lack variety, covering only a few modes: mode collapse.",
    "confused_with_equilibrium": "At equilibrium p_g = p_d, so samples are as varied as the data; samples of only a few kinds are mode collapse.",
}


def generate_mode_collapse(rng: np.random.Generator) -> Params:
    dataset, symptom, things = COLLAPSE_SYMPTOMS[int(rng.integers(0, len(COLLAPSE_SYMPTOMS)))]
    options, _ = shuffle_options(rng, COLLAPSE_CORRECT, list(COLLAPSE_DISTRACTORS.values()))
    return {"dataset": dataset, "symptom": symptom.format(thing=(thing := str(rng.choice(things))), a_thing=with_article(thing)), "options": options}


MODE_COLLAPSE = choice_exercise(
    id="generative_gan_mode_collapse",
    title="Recognizing mode collapse",
    section=12,
    generator_version=2,
    generate=generate_mode_collapse,
    prompt=r"""
A GAN is trained on {{ dataset }}. Its samples look sharp and realistic, but {{ symptom }},
whatever noise vector $z$ is fed to the generator. Which failure is this?

{% for letter, option in zip(letters(options | length), options) %}
- **{{ letter }}.** {{ option }}
{% endfor %}

Answer with one letter.
""",
    correct=COLLAPSE_CORRECT,
    distractors=COLLAPSE_DISTRACTORS,
    feedback=COLLAPSE_FEEDBACK,
)


# --- diffusion: a linear noise schedule ----------------------------------------------------


def _draw_schedule(rng: np.random.Generator) -> dict[str, Any]:
    """A short linear beta schedule with two-decimal betas (kept small enough to read)."""
    steps = int(rng.integers(3, 6))
    start = float(rng.choice([0.02, 0.05, 0.1]))
    step = float(rng.choice([0.02, 0.05, 0.1]))
    betas = linear_beta_schedule(steps, start, start + (steps - 1) * step)
    return {"steps": steps, "betas": [round(b, 4) for b in betas.tolist()]}


def _alpha_bar(p: Params) -> torch.Tensor:
    return alphas_cumprod(tensor(p["betas"]))


# --- diffusion: the forward sample x_t ------------------------------------------------------


def generate_q_sample(rng: np.random.Generator) -> Params:
    schedule = _draw_schedule(rng)
    x0, noise = _one_decimal(rng, 2)
    return {**schedule, "t": int(rng.integers(2, schedule["steps"] + 1)), "x0": x0, "noise": noise}


def _q_sample(p: Params, alpha_bar: torch.Tensor, index: int) -> float:
    """x_t from the reference with 0-based step `index` of the given alpha-bar table."""
    return diffusion_q_sample(tensor([p["x0"]]), torch.tensor([index]), tensor([p["noise"]]), alpha_bar).item()


def solve_q_sample(p: Params) -> float:
    return _q_sample(p, _alpha_bar(p), p["t"] - 1)


def _used_alpha_not_alpha_bar(p: Params) -> float:
    return _q_sample(p, 1 - tensor(p["betas"]), p["t"] - 1)


def _forgot_sqrt(p: Params) -> float:
    alpha_bar = _alpha_bar(p)[p["t"] - 1].item()
    return alpha_bar * p["x0"] + (1 - alpha_bar) * p["noise"]


def _off_by_one_step(p: Params) -> float:
    return _q_sample(p, _alpha_bar(p), p["t"] - 2)


Q_SAMPLE = AnswerExercise(
    id="generative_diffusion_forward_sample",
    title="Sampling x_t in the forward diffusion process",
    section=12,
    generate=generate_q_sample,
    prompt=r"""
A diffusion model uses $T = {{ steps }}$ steps with the linear noise schedule
$\beta_1, \dots, \beta_{ {{- steps -}} } = {{ betas | join(", ") }}$. Let $\alpha_t = 1 - \beta_t$ and
$\bar\alpha_t = \prod_{s=1}^{t} \alpha_s$. The forward process can jump straight to step $t$:
$x_t = \sqrt{\bar\alpha_t}\, x_0 + \sqrt{1 - \bar\alpha_t}\, \epsilon$.

For the (one-pixel) image $x_0 = {{ x0 | num }}$ and the noise draw $\epsilon = {{ noise | num }}$, compute
$x_{ {{- t -}} }$ to 4 significant figures.
""",
    solve=solve_q_sample,
    check=Real(),
    misconceptions=(
        Misconception(
            "used_alpha_not_alpha_bar",
            "Jumping to step t uses the cumulative product alpha_bar_t = alpha_1 ... alpha_t, not alpha_t of the last step alone.",
            _used_alpha_not_alpha_bar,
        ),
        Misconception(
            "forgot_sqrt",
            "The coefficients are square roots: sqrt(alpha_bar_t) for x_0 and sqrt(1 - alpha_bar_t) for the noise, so that the variance stays 1.",
            _forgot_sqrt,
        ),
        Misconception(
            "off_by_one_step",
            "alpha_bar_t multiplies the alphas of steps 1 to t, including step t itself.",
            _off_by_one_step,
        ),
    ),
)


# --- diffusion: the noise-prediction loss ---------------------------------------------------


def generate_noise_loss(rng: np.random.Generator) -> Params:
    return {"x0": _one_decimal(rng, 4, 1.0), "noise": _one_decimal(rng, 4), "predicted": _one_decimal(rng, 4)}


def solve_noise_loss(p: Params) -> float:
    return diffusion_loss(tensor(p["predicted"]), tensor(p["noise"])).item()


def _predicted_x0(p: Params) -> float:
    return diffusion_loss(tensor(p["predicted"]), tensor(p["x0"])).item()


def _summed_squared_errors(p: Params) -> float:
    return len(p["noise"]) * solve_noise_loss(p)


def _absolute_error(p: Params) -> float:
    return (tensor(p["predicted"]) - tensor(p["noise"])).abs().mean().item()


NOISE_LOSS = AnswerExercise(
    id="generative_diffusion_noise_loss",
    title="The noise-prediction loss of a diffusion model",
    section=12,
    generate=generate_noise_loss,
    prompt=r"""
A DDPM is trained on a 4-pixel image $x_0 = {{ x0 | latex_matrix }}$. The forward process mixes it
with the noise $\epsilon = {{ noise | latex_matrix }}$ into $x_t$, and the U-Net
$\epsilon_\theta(x_t, t)$ outputs ${{ predicted | latex_matrix }}$.

Compute the simplified DDPM training loss for this example (the mean over the pixels), to 4
significant figures.
""",
    solve=solve_noise_loss,
    check=Real(),
    misconceptions=(
        Misconception(
            "predicted_x0",
            "The U-Net predicts the noise that was added: the loss compares its output with epsilon, not with the clean image x_0.",
            _predicted_x0,
        ),
        Misconception(
            "summed_squared_errors",
            "The loss is the mean squared error: divide the sum of squared errors by the number of pixels.",
            _summed_squared_errors,
        ),
        Misconception(
            "absolute_error",
            "The loss squares the errors: ||eps_theta(x_t, t) - eps||^2, averaged over the pixels.",
            _absolute_error,
        ),
    ),
)


# --- diffusion: one reverse (denoising) step ------------------------------------------------


def generate_reverse_step(rng: np.random.Generator) -> Params:
    schedule = _draw_schedule(rng)
    x_t, predicted, z = _one_decimal(rng, 3)
    return {**schedule, "t": int(rng.integers(2, schedule["steps"] + 1)), "x_t": x_t, "predicted": predicted, "z": z}


def _reverse(p: Params, predicted: float, z: float) -> float:
    return ddpm_reverse_step(
        tensor([p["x_t"]]), p["t"] - 1, tensor([predicted]), tensor(p["betas"]), noise=tensor([z])
    ).item()


def solve_reverse_step(p: Params) -> float:
    return _reverse(p, p["predicted"], p["z"])


def _forgot_noise_term(p: Params) -> float:
    return _reverse(p, p["predicted"], 0.0)


def _alpha_and_alpha_bar(p: Params) -> tuple[float, float]:
    return 1 - p["betas"][p["t"] - 1], _alpha_bar(p)[p["t"] - 1].item()


def _used_alpha_bar_in_front(p: Params) -> float:
    alpha, alpha_bar = _alpha_and_alpha_bar(p)
    mean = _forgot_noise_term(p) * math.sqrt(alpha / alpha_bar)  # 1/sqrt(alpha_bar) instead of 1/sqrt(alpha)
    return mean + math.sqrt(1 - alpha) * p["z"]


def _forgot_sqrt_in_noise_coefficient(p: Params) -> float:
    _, alpha_bar = _alpha_and_alpha_bar(p)
    # beta / (1 - alpha_bar) eps = beta / sqrt(1 - alpha_bar) * (eps / sqrt(1 - alpha_bar))
    return _reverse(p, p["predicted"] / math.sqrt(1 - alpha_bar), p["z"])


def _sigma_is_beta(p: Params) -> float:
    beta = p["betas"][p["t"] - 1]
    return _reverse(p, p["predicted"], p["z"] * math.sqrt(beta))  # sigma z = sqrt(beta) sqrt(beta) z


REVERSE_STEP = AnswerExercise(
    id="generative_diffusion_reverse_step",
    title="One DDPM denoising step",
    section=12,
    generate=generate_reverse_step,
    prompt=r"""
A DDPM with $T = {{ steps }}$ steps uses the noise schedule
$\beta_1, \dots, \beta_{ {{- steps -}} } = {{ betas | join(", ") }}$, with $\alpha_t = 1 - \beta_t$ and
$\bar\alpha_t = \prod_{s=1}^{t} \alpha_s$. One reverse step samples
$$x_{t-1} = \frac{1}{\sqrt{\alpha_t}}\left(x_t - \frac{\beta_t}{\sqrt{1 - \bar\alpha_t}}\,\epsilon_\theta(x_t, t)\right) + \sigma_t z, \qquad \sigma_t = \sqrt{\beta_t}.$$

At step $t = {{ t }}$ the (one-pixel) sample is $x_{ {{- t -}} } = {{ x_t | num }}$, the U-Net predicts
the noise $\epsilon_\theta = {{ predicted | num }}$, and the fresh Gaussian draw is $z = {{ z | num }}$.
Compute $x_{ {{- t - 1 -}} }$ to 4 significant figures.
""",
    solve=solve_reverse_step,
    check=Real(),
    misconceptions=(
        Misconception(
            "forgot_noise_term",
            "Every reverse step except the last adds fresh noise sigma_t z with sigma_t = sqrt(beta_t).",
            _forgot_noise_term,
        ),
        Misconception(
            "used_alpha_bar_in_front",
            "The step divides by sqrt(alpha_t) of this step; alpha_bar_t appears only inside the noise coefficient beta_t / sqrt(1 - alpha_bar_t).",
            _used_alpha_bar_in_front,
        ),
        Misconception(
            "forgot_sqrt_in_noise_coefficient",
            "The predicted noise is scaled by beta_t / sqrt(1 - alpha_bar_t), with a square root.",
            _forgot_sqrt_in_noise_coefficient,
        ),
        Misconception(
            "sigma_is_beta",
            "The noise scale is sigma_t = sqrt(beta_t), the standard deviation, not the variance beta_t.",
            _sigma_is_beta,
        ),
    ),
)


EXERCISES = [
    GAN_VALUE,
    OPTIMAL_DISCRIMINATOR,
    EQUILIBRIUM_VALUE,
    DISCRIMINATOR_LOSS,
    GENERATOR_LOSS,
    MODE_COLLAPSE,
    Q_SAMPLE,
    NOISE_LOSS,
    REVERSE_STEP,
]
