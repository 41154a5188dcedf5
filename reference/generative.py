"""Section 12 - generative models: the GAN minimax game and DDPM diffusion.

Diffusion steps are 0-based: betas[t] for t = 0..T-1 is the paper's beta_{t+1}, and
alpha_bar[t] = prod_{s <= t} (1 - betas[s]).
"""

from __future__ import annotations

import math

import torch


def gan_value(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """V(D, G) = mean log D(x) + mean log(1 - D(G(z))) on discriminator probabilities."""
    return torch.log(d_real).mean() + torch.log1p(-d_fake).mean()


def gan_discriminator_loss(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """-(mean log d_real + mean log(1 - d_fake)) = BCE(d_real, 1) + BCE(d_fake, 0); D maximises V."""
    return -gan_value(d_real, d_fake)


def gan_generator_loss(d_fake: torch.Tensor, non_saturating: bool = True) -> torch.Tensor:
    """Generator loss: -mean log d_fake (non-saturating), or mean log(1 - d_fake) (minimax)."""
    if non_saturating:
        return -torch.log(d_fake).mean()
    return torch.log1p(-d_fake).mean()


def optimal_discriminator(p_data: torch.Tensor, p_gen: torch.Tensor) -> torch.Tensor:
    """D*(x) = p_d(x) / (p_d(x) + p_g(x)), elementwise; 1/2 where both densities are 0."""
    p_data, p_gen = torch.as_tensor(p_data), torch.as_tensor(p_gen)
    total = p_data + p_gen
    safe_total = torch.where(total > 0, total, torch.ones_like(total))
    return torch.where(total > 0, p_data / safe_total, torch.full_like(total, 0.5))


def value_at_equilibrium() -> float:
    """V(D*, G) when p_g = p_d: D* = 1/2 everywhere, so V = 2 log(1/2) = -log 4."""
    return -math.log(4.0)


def gan_value_with_optimal_d(p_data: torch.Tensor, p_gen: torch.Tensor) -> torch.Tensor:
    """sum_x p_d log D*(x) + p_g log(1 - D*(x)) for discrete distributions (0 log 0 = 0).

    Equals -log 4 + 2 JSD(p_d || p_g); minimal (-log 4) exactly when p_g = p_d.
    """
    p_data, p_gen = torch.as_tensor(p_data), torch.as_tensor(p_gen)
    d_star = optimal_discriminator(p_data, p_gen)
    return (torch.xlogy(p_data, d_star) + torch.xlogy(p_gen, 1 - d_star)).sum()


def linear_beta_schedule(
    T: int, beta_start: float = 1e-4, beta_end: float = 0.02
) -> torch.Tensor:
    """DDPM's linear noise schedule: T betas from beta_start to beta_end, float64, shape (T,)."""
    return torch.linspace(beta_start, beta_end, T, dtype=torch.float64)


def alphas_cumprod(betas: torch.Tensor) -> torch.Tensor:
    """alpha_bar[t] = prod_{s <= t} (1 - betas[s]); shape (T,)."""
    return torch.cumprod(1 - betas, dim=0)


def _per_sample(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Per-sample values (N,) reshaped to (N, 1, ..., 1) to broadcast against `like` (N, ...);
    a scalar stays a scalar. Cast to like's dtype."""
    values = values.to(like.dtype)
    if values.dim() == 0:
        return values
    return values.reshape(-1, *([1] * (like.dim() - 1)))


def diffusion_q_sample(
    x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor, alpha_bar: torch.Tensor
) -> torch.Tensor:
    """Forward process x_t = sqrt(ab_t) x0 + sqrt(1 - ab_t) noise, in closed form.

    x0 and noise (N, ...), t (N,) integer steps (0-based), alpha_bar (T,); ab_t per sample.
    """
    ab = _per_sample(alpha_bar[t], x0)
    return torch.sqrt(ab) * x0 + torch.sqrt(1 - ab) * noise


def diffusion_loss(eps_pred: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """Simplified DDPM loss: mean squared error mean((eps_pred - eps)^2) over all elements."""
    return ((eps_pred - eps) ** 2).mean()


def ddpm_reverse_step(
    x_t: torch.Tensor,
    t: torch.Tensor | int,
    eps_pred: torch.Tensor,
    betas: torch.Tensor,
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """DDPM ancestral step from step t to t - 1 (0-based t in [0, T-1]):

    x_{t-1} = 1/sqrt(alpha_t) (x_t - beta_t / sqrt(1 - ab_t) eps_pred) + sigma_t z,
    alpha_t = 1 - betas[t], ab_t = prod_{s <= t} alpha_s, sigma_t^2 = beta_t; no noise is added
    where t == 0 (that step returns the final sample). t is an int or (N,) per-sample steps;
    x_t, eps_pred, noise (N, ...). noise=None draws z ~ N(0, I) from torch's global RNG.
    """
    t = torch.as_tensor(t)
    beta = _per_sample(betas[t], x_t)
    alpha_bar = _per_sample(alphas_cumprod(betas)[t], x_t)
    sigma = _per_sample(torch.where(t > 0, betas[t].sqrt(), torch.zeros_like(betas[t])), x_t)
    mean = (x_t - beta / torch.sqrt(1 - alpha_bar) * eps_pred) / torch.sqrt(1 - beta)
    if noise is None:
        noise = torch.randn_like(x_t)
    return mean + sigma * noise
