"""Tests for reference.generative against F.binary_cross_entropy, F.mse_loss, an
independent Jensen-Shannon divergence and the DDPM posterior-mean formula."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

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
    value_at_equilibrium,
)

F64 = torch.float64


def _probabilities(gen, *shape):
    return torch.rand(*shape, generator=gen, dtype=F64) * 0.98 + 0.01


def test_gan_value_by_hand():
    d_real = torch.tensor([0.5, 0.25], dtype=F64)
    d_fake = torch.tensor([0.5], dtype=F64)
    expected = (math.log(0.5) + math.log(0.25)) / 2 + math.log(0.5)
    assert gan_value(d_real, d_fake).item() == pytest.approx(expected)


@pytest.mark.parametrize("n_real,n_fake", [(1, 1), (8, 5), (3, 16)])
def test_discriminator_loss_is_binary_cross_entropy(n_real, n_fake):
    gen = torch.Generator().manual_seed(n_real * 10 + n_fake)
    d_real, d_fake = _probabilities(gen, n_real), _probabilities(gen, n_fake)
    expected = (F.binary_cross_entropy(d_real, torch.ones_like(d_real))
                + F.binary_cross_entropy(d_fake, torch.zeros_like(d_fake)))
    torch.testing.assert_close(gan_discriminator_loss(d_real, d_fake), expected)
    torch.testing.assert_close(gan_discriminator_loss(d_real, d_fake), -gan_value(d_real, d_fake))


@pytest.mark.parametrize("n", [1, 6])
def test_generator_losses_are_binary_cross_entropies(n):
    gen = torch.Generator().manual_seed(n)
    d_fake = _probabilities(gen, n, 2)
    torch.testing.assert_close(gan_generator_loss(d_fake),
                               F.binary_cross_entropy(d_fake, torch.ones_like(d_fake)))
    torch.testing.assert_close(gan_generator_loss(d_fake, non_saturating=False),
                               -F.binary_cross_entropy(d_fake, torch.zeros_like(d_fake)))


def test_minimax_generator_loss_saturates_when_discriminator_wins():
    d_fake = torch.tensor([1e-4], dtype=F64, requires_grad=True)
    gan_generator_loss(d_fake, non_saturating=False).backward()
    saturating_grad = d_fake.grad.abs().item()  # |d/dD log(1 - D)| = 1 / (1 - D) ~ 1
    d_fake.grad = None
    gan_generator_loss(d_fake).backward()
    assert saturating_grad == pytest.approx(1 / (1 - 1e-4))
    assert d_fake.grad.abs().item() == pytest.approx(1e4)  # |d/dD -log D| = 1 / D


def test_optimal_discriminator_by_hand():
    p_d = torch.tensor([0.3, 0.2, 0.0, 0.5, 0.0], dtype=F64)
    p_g = torch.tensor([0.1, 0.2, 0.4, 0.0, 0.0], dtype=F64)
    torch.testing.assert_close(optimal_discriminator(p_d, p_g),
                               torch.tensor([0.75, 0.5, 0.0, 1.0, 0.5], dtype=F64))
    same = torch.tensor([0.1, 0.6, 0.3], dtype=F64)
    torch.testing.assert_close(optimal_discriminator(same, same), torch.full((3,), 0.5, dtype=F64))


def test_value_at_equilibrium_is_minus_log_4():
    assert value_at_equilibrium() == pytest.approx(-math.log(4))
    half = torch.full((7,), 0.5, dtype=F64)
    assert gan_value(half, half).item() == pytest.approx(value_at_equilibrium())
    p = torch.tensor([0.2, 0.3, 0.5], dtype=F64)
    assert gan_value_with_optimal_d(p, p).item() == pytest.approx(-math.log(4))


def _jsd(p, q):
    """Jensen-Shannon divergence in nats, written with numpy."""
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    m = (p + q) / 2

    def kl(a, b):
        support = a > 0
        return float(np.sum(a[support] * np.log(a[support] / b[support])))

    return (kl(p, m) + kl(q, m)) / 2


@pytest.mark.parametrize("seed", range(4))
def test_value_with_optimal_d_is_minus_log_4_plus_2_jsd(seed):
    rng = np.random.default_rng(seed)
    p_d, p_g = rng.dirichlet(np.ones(6)), rng.dirichlet(np.ones(6))
    p_g[seed] = 0.0
    p_g /= p_g.sum()
    value = gan_value_with_optimal_d(torch.tensor(p_d), torch.tensor(p_g)).item()
    assert value == pytest.approx(-math.log(4) + 2 * _jsd(p_d, p_g))


def test_value_with_optimal_d_disjoint_supports_is_zero():
    p_d = torch.tensor([0.5, 0.5, 0.0, 0.0], dtype=F64)
    p_g = torch.tensor([0.0, 0.0, 0.25, 0.75], dtype=F64)
    assert gan_value_with_optimal_d(p_d, p_g).item() == pytest.approx(0.0)  # -log 4 + 2 log 2


@pytest.mark.parametrize("seed", range(3))
def test_optimal_discriminator_maximises_the_value(seed):
    gen = torch.Generator().manual_seed(seed)
    p_d, p_g = torch.rand(5, generator=gen, dtype=F64), torch.rand(5, generator=gen, dtype=F64)
    p_d, p_g = p_d / p_d.sum(), p_g / p_g.sum()
    best = gan_value_with_optimal_d(p_d, p_g)
    for _ in range(20):
        d = _probabilities(gen, 5)
        assert (p_d * d.log() + p_g * (1 - d).log()).sum() <= best


def test_linear_beta_schedule_matches_ddpm():
    betas = linear_beta_schedule(1000)
    assert betas.dtype == F64 and betas.shape == (1000,)
    assert betas[0].item() == pytest.approx(1e-4) and betas[-1].item() == pytest.approx(0.02)
    np.testing.assert_allclose(betas.numpy(), np.linspace(1e-4, 0.02, 1000))
    np.testing.assert_allclose(linear_beta_schedule(5, 0.1, 0.5).numpy(), [0.1, 0.2, 0.3, 0.4, 0.5])


def test_alphas_cumprod_by_hand():
    torch.testing.assert_close(alphas_cumprod(torch.tensor([0.1, 0.2, 0.5], dtype=F64)),
                               torch.tensor([0.9, 0.72, 0.36], dtype=F64))
    betas = linear_beta_schedule(50)
    running, expected = 1.0, []
    for beta in betas.tolist():
        running *= 1 - beta
        expected.append(running)
    np.testing.assert_allclose(alphas_cumprod(betas).numpy(), expected)


@pytest.mark.parametrize("shape", [(1, 3), (4, 2, 3), (2, 1, 4, 4)])
def test_q_sample_per_sample_broadcast(shape):
    gen = torch.Generator().manual_seed(len(shape))
    x0, noise = torch.randn(*shape, generator=gen, dtype=F64), torch.randn(*shape, generator=gen, dtype=F64)
    alpha_bar = alphas_cumprod(linear_beta_schedule(100))
    t = torch.randint(0, 100, (shape[0],), generator=gen)
    x_t = diffusion_q_sample(x0, t, noise, alpha_bar)
    for i in range(shape[0]):
        ab = alpha_bar[t[i]].item()
        torch.testing.assert_close(x_t[i], math.sqrt(ab) * x0[i] + math.sqrt(1 - ab) * noise[i])


def test_q_sample_endpoints():
    x0, noise = torch.randn(3, 4, dtype=F64), torch.randn(3, 4, dtype=F64)
    alpha_bar = torch.tensor([1.0, 0.25, 0.0], dtype=F64)
    torch.testing.assert_close(diffusion_q_sample(x0, torch.zeros(3, dtype=torch.long), noise, alpha_bar), x0)
    torch.testing.assert_close(diffusion_q_sample(x0, torch.full((3,), 2), noise, alpha_bar), noise)
    torch.testing.assert_close(diffusion_q_sample(x0, torch.ones(3, dtype=torch.long), noise, alpha_bar),
                               0.5 * x0 + math.sqrt(0.75) * noise)


def test_q_sample_keeps_float32():
    x0, noise = torch.randn(2, 3), torch.randn(2, 3)
    out = diffusion_q_sample(x0, torch.tensor([0, 9]), noise, alphas_cumprod(linear_beta_schedule(10)))
    assert out.dtype == torch.float32


@pytest.mark.parametrize("shape", [(1,), (5, 3), (2, 3, 4)])
def test_diffusion_loss_is_mse(shape):
    gen = torch.Generator().manual_seed(sum(shape))
    eps_pred, eps = (torch.randn(*shape, generator=gen, dtype=F64) for _ in range(2))
    torch.testing.assert_close(diffusion_loss(eps_pred, eps), F.mse_loss(eps_pred, eps))
    assert diffusion_loss(eps, eps).item() == 0.0


def _posterior_mean(x_t, t, eps_pred, betas):
    """DDPM eq. 7: mean of q(x_{t-1} | x_t, x0_hat), with x0_hat recovered from eps_pred."""
    alpha_bar = alphas_cumprod(betas)
    ab_t, ab_prev, beta_t = alpha_bar[t], alpha_bar[t - 1], betas[t]
    x0_hat = (x_t - torch.sqrt(1 - ab_t) * eps_pred) / torch.sqrt(ab_t)
    return (torch.sqrt(ab_prev) * beta_t / (1 - ab_t) * x0_hat
            + torch.sqrt(1 - beta_t) * (1 - ab_prev) / (1 - ab_t) * x_t)


@pytest.mark.parametrize("t", [1, 17, 99])
def test_reverse_step_mean_is_the_posterior_mean(t):
    gen = torch.Generator().manual_seed(t)
    betas = linear_beta_schedule(100)
    x_t, eps_pred = torch.randn(3, 4, generator=gen, dtype=F64), torch.randn(3, 4, generator=gen, dtype=F64)
    mean = ddpm_reverse_step(x_t, t, eps_pred, betas, noise=torch.zeros_like(x_t))
    torch.testing.assert_close(mean, _posterior_mean(x_t, t, eps_pred, betas))


def test_reverse_step_adds_sigma_times_noise_except_at_step_zero():
    betas = linear_beta_schedule(10)
    x_t, eps_pred, z = (torch.randn(2, 3, dtype=F64) for _ in range(3))
    zero = torch.zeros_like(z)
    added = ddpm_reverse_step(x_t, 4, eps_pred, betas, z) - ddpm_reverse_step(x_t, 4, eps_pred, betas, zero)
    torch.testing.assert_close(added, math.sqrt(betas[4].item()) * z)
    torch.testing.assert_close(ddpm_reverse_step(x_t, 0, eps_pred, betas, z),
                               ddpm_reverse_step(x_t, 0, eps_pred, betas, zero))


def test_reverse_step_at_zero_with_true_noise_recovers_x0():
    betas = linear_beta_schedule(20)
    x0, eps = torch.randn(4, 3, dtype=F64), torch.randn(4, 3, dtype=F64)
    x_0_noised = diffusion_q_sample(x0, torch.zeros(4, dtype=torch.long), eps, alphas_cumprod(betas))
    torch.testing.assert_close(ddpm_reverse_step(x_0_noised, 0, eps, betas, torch.randn(4, 3, dtype=F64)), x0)


def test_reverse_step_per_sample_steps_match_scalar_steps():
    betas = linear_beta_schedule(30)
    gen = torch.Generator().manual_seed(3)
    x_t, eps_pred, z = (torch.randn(3, 2, 2, generator=gen, dtype=F64) for _ in range(3))
    t = torch.tensor([0, 5, 29])
    batched = ddpm_reverse_step(x_t, t, eps_pred, betas, z)
    for i, step in enumerate(t.tolist()):
        one = slice(i, i + 1)
        torch.testing.assert_close(batched[i], ddpm_reverse_step(x_t[one], step, eps_pred[one], betas, z[one])[0])


def test_reverse_step_draws_noise_from_the_global_rng():
    betas = linear_beta_schedule(10)
    x_t, eps_pred = torch.randn(2, 3, dtype=F64), torch.randn(2, 3, dtype=F64)
    torch.manual_seed(123)
    drawn = ddpm_reverse_step(x_t, 5, eps_pred, betas)
    torch.manual_seed(123)
    explicit = ddpm_reverse_step(x_t, 5, eps_pred, betas, torch.randn(2, 3, dtype=F64))
    torch.testing.assert_close(drawn, explicit)
