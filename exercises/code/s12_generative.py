"""Code exercises of section 12: GAN losses, the diffusion forward process and loss
(gan_discriminator_loss, gan_generator_loss, diffusion_q_sample, diffusion_loss).

Each misconception is a self-contained buggy implementation (math, torch and F only).
"""

from __future__ import annotations

import numpy as np
import torch

from exercises.code._common import case, code_exercise, fixed, hidden, randn, rounded, size, tensor, uniform
from grader.code.exercise import CodeMisconception, TestCase
from reference import generative


# ---------------------------------------------------------------- gan_discriminator_loss


def _gan_d_no_negation(d_real, d_fake):
    return torch.log(d_real).mean() + torch.log(1 - d_fake).mean()


def _gan_d_log_d_fake(d_real, d_fake):
    return -(torch.log(d_real).mean() + torch.log(d_fake).mean())


def _gan_d_sum(d_real, d_fake):
    return -(torch.log(d_real).sum() + torch.log(1 - d_fake).sum())


def _probabilities(rng: np.random.Generator, *shape: int) -> torch.Tensor:
    return uniform(rng, 0.02, 0.98, *shape)


def _gan_d_hidden(rng: np.random.Generator) -> list[TestCase]:
    return [
        hidden("equal_batches", *(lambda n: (_probabilities(rng, n), _probabilities(rng, n)))(size(rng, 3, 8))),
        hidden("different_batch_sizes", _probabilities(rng, size(rng, 2, 4)), _probabilities(rng, size(rng, 6, 9))),
        hidden("column_vectors", _probabilities(rng, size(rng, 2, 6), 1), _probabilities(rng, size(rng, 2, 6), 1)),
        hidden("batch_of_one", _probabilities(rng, 1), _probabilities(rng, 1)),
    ]


GAN_DISCRIMINATOR_LOSS = code_exercise(
    "def gan_discriminator_loss(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:",
    reference=generative.gan_discriminator_loss,
    title="GAN discriminator loss",
    section=12,
    docstring="""The discriminator's loss on probabilities D(x) in (0, 1).

d_real: D on real samples, d_fake: D on generated samples (any shapes, sizes may differ).
Returns the 0-d tensor -(mean log d_real + mean log(1 - d_fake)),
which equals F.binary_cross_entropy(d_real, 1) + F.binary_cross_entropy(d_fake, 0).""",
    public=[
        case("two_each", tensor([0.9, 0.8]), tensor([0.1, 0.3])),
        case("different_sizes", tensor([0.6, 0.7, 0.95]), tensor([0.5])),
    ],
    hidden=_gan_d_hidden,
    misconceptions=[
        CodeMisconception(
            "missing_negation",
            "D maximises mean log D(x) + mean log(1 - D(G(z))); its loss is the negative of that.",
            _gan_d_no_negation,
        ),
        CodeMisconception(
            "log_of_d_fake",
            "Fake samples should get D close to 0: their term is log(1 - d_fake), not log(d_fake).",
            _gan_d_log_d_fake,
        ),
        CodeMisconception("sum_not_mean", "Each term is a mean over its batch, not a sum.", _gan_d_sum),
    ],
)

# -------------------------------------------------------------------- gan_generator_loss


def _gan_g_flag_ignored(d_fake, non_saturating=True):
    return -torch.log(d_fake).mean()


def _gan_g_minimax_sign(d_fake, non_saturating=True):
    if non_saturating:
        return -torch.log(d_fake).mean()
    return -torch.log(1 - d_fake).mean()


def _gan_g_always_minimax(d_fake, non_saturating=True):
    return torch.log(1 - d_fake).mean()


def _gan_g_hidden(rng: np.random.Generator) -> list[TestCase]:
    return [
        hidden("non_saturating_by_default", _probabilities(rng, size(rng, 3, 8))),
        hidden("non_saturating", _probabilities(rng, size(rng, 2, 6), 1), True),
        hidden("minimax", _probabilities(rng, size(rng, 3, 8)), False),
        hidden("minimax_keyword", _probabilities(rng, size(rng, 2, 5)), non_saturating=False),
        hidden("batch_of_one", _probabilities(rng, 1), False),
    ]


GAN_GENERATOR_LOSS = code_exercise(
    "def gan_generator_loss(d_fake: torch.Tensor, non_saturating: bool = True) -> torch.Tensor:",
    reference=generative.gan_generator_loss,
    title="GAN generator loss",
    section=12,
    docstring="""The generator's loss on the discriminator's probabilities d_fake = D(G(z)).

non_saturating=True (default): -mean log d_fake (strong gradients early in training).
non_saturating=False: the minimax form, mean log(1 - d_fake) (G minimises it).
Returns a 0-d tensor.""",
    public=[
        case("non_saturating", tensor([0.2, 0.6])),
        case("minimax", tensor([0.2, 0.6, 0.9]), False),
    ],
    hidden=_gan_g_hidden,
    misconceptions=[
        CodeMisconception(
            "flag_ignored",
            "non_saturating=False asks for the minimax loss mean log(1 - d_fake).",
            _gan_g_flag_ignored,
        ),
        CodeMisconception(
            "minimax_sign_flipped",
            "In the minimax game G minimises mean log(1 - D(G(z))) as is, without a minus sign.",
            _gan_g_minimax_sign,
        ),
        CodeMisconception(
            "always_minimax",
            "The non-saturating loss (the default) is -mean log d_fake.",
            _gan_g_always_minimax,
        ),
    ],
)

# -------------------------------------------------------------------- diffusion_q_sample


def _q_missing_sqrt(x0, t, noise, alpha_bar):
    ab = alpha_bar[t].reshape(-1, *([1] * (x0.dim() - 1)))
    return ab * x0 + (1 - ab) * noise


def _q_first_step_for_all(x0, t, noise, alpha_bar):
    ab = alpha_bar[t[0]]
    return torch.sqrt(ab) * x0 + torch.sqrt(1 - ab) * noise


def _q_one_based(x0, t, noise, alpha_bar):
    ab = alpha_bar[t - 1].reshape(-1, *([1] * (x0.dim() - 1)))
    return torch.sqrt(ab) * x0 + torch.sqrt(1 - ab) * noise


def _schedule(rng: np.random.Generator) -> torch.Tensor:
    steps = size(rng, 6, 20)
    betas = torch.linspace(float(rng.uniform(0.01, 0.05)), float(rng.uniform(0.2, 0.4)), steps, dtype=torch.float64)
    return torch.cumprod(1 - betas, dim=0)


def _distinct_steps(rng: np.random.Generator, n: int, steps: int) -> torch.Tensor:
    return torch.from_numpy(rng.choice(np.arange(1, steps), size=n, replace=n >= steps).astype(np.int64))


def _q_hidden(rng: np.random.Generator) -> list[TestCase]:
    def case_of(*shape: int) -> tuple[torch.Tensor, ...]:
        alpha_bar = _schedule(rng)
        return randn(rng, *shape), _distinct_steps(rng, shape[0], alpha_bar.shape[0]), randn(rng, *shape), alpha_bar

    alpha_bar = _schedule(rng)
    first = (randn(rng, 3, 4), torch.tensor([0, alpha_bar.shape[0] - 1, 2]), randn(rng, 3, 4), alpha_bar)
    return [
        hidden("images", *case_of(size(rng, 2, 4), size(rng, 1, 3), 3, 3)),
        hidden("vectors", *case_of(size(rng, 3, 6), size(rng, 2, 5))),
        hidden("batch_of_one", *case_of(1, 2, 2, 2)),
        hidden("first_and_last_step", *first),
    ]


_P = fixed(119)
DIFFUSION_Q_SAMPLE = code_exercise(
    (
        "def diffusion_q_sample(x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor, "
        "alpha_bar: torch.Tensor) -> torch.Tensor:"
    ),
    reference=generative.diffusion_q_sample,
    title="Diffusion forward process q(x_t | x_0)",
    section=12,
    docstring="""Sample x_t from q(x_t | x_0) in closed form (DDPM forward process).

x0 and noise (N, ...), t (N,) integer steps (0-based, one per sample), alpha_bar (T,)
the cumulative products of (1 - beta). With ab = alpha_bar[t] broadcast per sample over
the trailing dims: returns sqrt(ab) * x0 + sqrt(1 - ab) * noise, of x0's shape.""",
    public=[
        case("two_samples", tensor([[1.0, 2.0, 3.0], [-1.0, 0.0, 1.0]]), tensor([0, 2], torch.int64),
             tensor([[0.5, -0.5, 1.0], [1.0, 1.0, -1.0]]), tensor([0.9, 0.7, 0.4])),
        case("images", rounded(randn(_P, 2, 1, 2, 2)), tensor([1, 3], torch.int64), rounded(randn(_P, 2, 1, 2, 2)),
             tensor([0.95, 0.8, 0.6, 0.3])),
    ],
    hidden=_q_hidden,
    misconceptions=[
        CodeMisconception(
            "missing_sqrt",
            "x_t = sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) noise: the coefficients are square roots.",
            _q_missing_sqrt,
        ),
        CodeMisconception(
            "first_step_for_all",
            "Each sample has its own step t[i]: index alpha_bar with the whole vector t and broadcast per sample.",
            _q_first_step_for_all,
        ),
        CodeMisconception("one_based_step", "t is 0-based here: use alpha_bar[t], not alpha_bar[t - 1].", _q_one_based),
    ],
)

# ------------------------------------------------------------------------ diffusion_loss


def _mse_sum(eps_pred, eps):
    return ((eps_pred - eps) ** 2).sum()


def _mse_l1(eps_pred, eps):
    return (eps_pred - eps).abs().mean()


def _mse_root(eps_pred, eps):
    return torch.sqrt(((eps_pred - eps) ** 2).mean())


def _loss_hidden(rng: np.random.Generator) -> list[TestCase]:
    def pair(*shape: int) -> tuple[torch.Tensor, torch.Tensor]:
        return randn(rng, *shape), randn(rng, *shape)

    return [
        hidden("images", *pair(size(rng, 2, 4), size(rng, 1, 3), 4, 4)),
        hidden("batch_of_one", *pair(1, 3, size(rng, 2, 4), size(rng, 2, 4))),
        hidden("vectors", *pair(size(rng, 3, 8), size(rng, 2, 6))),
        hidden("small_errors", *(lambda e: (e + randn(rng, *e.shape, scale=0.1), e))(randn(rng, size(rng, 2, 5), 3))),
    ]


DIFFUSION_LOSS = code_exercise(
    "def diffusion_loss(eps_pred: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:",
    reference=generative.diffusion_loss,
    title="Diffusion training loss",
    section=12,
    docstring="""The simplified DDPM loss: mean squared error between predicted and true noise.

eps_pred and eps of the same shape. Returns the 0-d tensor mean((eps_pred - eps)**2)
over all elements.""",
    public=[
        case("matrix", tensor([[0.5, -1.0], [2.0, 0.0]]), tensor([[0.0, -1.0], [1.0, 1.0]])),
        case("vector", tensor([1.0, 2.0, 3.0]), tensor([1.5, 2.0, 2.0])),
    ],
    hidden=_loss_hidden,
    misconceptions=[
        CodeMisconception("sum_not_mean", "The loss is the mean of the squared errors, not their sum.", _mse_sum),
        CodeMisconception("l1_loss", "Square the errors (mean squared error), do not take absolute values.", _mse_l1),
        CodeMisconception("root_mean_square", "The loss is the mean squared error, without a square root.", _mse_root),
    ],
)


EXERCISES = [GAN_DISCRIMINATOR_LOSS, GAN_GENERATOR_LOSS, DIFFUSION_Q_SAMPLE, DIFFUSION_LOSS]
