"""Tests for the section 12 answer exercises (GANs and diffusion): keys computed by hand, full
marks for the key, misconceptions recognised from hand-computed wrong answers, and generator
properties (the schedules are linear, the choice question's key is mode collapse)."""

from __future__ import annotations

import math

import pytest

from exercises.answer import s12_generative as s12
from grader.grading import grade_answer
from grader.variant import make_variant
from grader.selftest import assert_grades

ln = math.log


# --- GAN value function ----------------------------------------------------------------------

VALUE_PARAMS = {"d_real": [0.8, 0.5], "d_fake": [0.2, 0.5, 0.1]}
VALUE_BY_HAND = (ln(0.8) + ln(0.5)) / 2 + (ln(0.8) + ln(0.5) + ln(0.9)) / 3


def test_gan_value_by_hand():
    assert s12.GAN_VALUE.solve(VALUE_PARAMS) == pytest.approx(VALUE_BY_HAND)


def test_gan_value_grading():
    assert_grades(
        s12.GAN_VALUE,
        VALUE_PARAMS,
        round(VALUE_BY_HAND, 4),
        {
            "log_d_fake": (ln(0.8) + ln(0.5)) / 2 + (ln(0.2) + ln(0.5) + ln(0.1)) / 3,
            "summed_not_mean": ln(0.8) + ln(0.5) + ln(0.8) + ln(0.5) + ln(0.9),
            "log_base_10": (math.log10(0.8) + math.log10(0.5)) / 2 + (math.log10(0.8) + math.log10(0.5) + math.log10(0.9)) / 3,
        },
    )


# --- optimal discriminator and equilibrium ---------------------------------------------------

D_STAR_PARAMS = {"x": 1.5, "p_data": 0.3, "p_gen": 0.1}


def test_optimal_discriminator_by_hand():
    assert s12.OPTIMAL_DISCRIMINATOR.solve(D_STAR_PARAMS) == pytest.approx(0.3 / 0.4)


def test_optimal_discriminator_grading():
    assert_grades(
        s12.OPTIMAL_DISCRIMINATOR,
        D_STAR_PARAMS,
        0.75,
        {"swapped_densities": 0.25, "answered_one_half": "1/2", "ratio_of_densities": 3},
    )


EQUILIBRIUM_PARAMS = {"p": [0.2, 0.3, 0.5]}


def test_equilibrium_value_by_hand():
    # D* = 1/2 everywhere: sum p log(1/2) + sum p log(1/2) = -log 4
    assert s12.EQUILIBRIUM_VALUE.solve(EQUILIBRIUM_PARAMS) == pytest.approx(-ln(4))


def test_equilibrium_value_grading():
    assert_grades(
        s12.EQUILIBRIUM_VALUE,
        EQUILIBRIUM_PARAMS,
        "-ln(4)",
        {"positive_log_4": 1.3863, "minus_log_2": -ln(2), "log_base_10": -math.log10(4)},
    )


def test_equilibrium_value_is_the_same_for_every_generated_distribution():
    for seed in range(20):
        variant = make_variant(s12.EQUILIBRIUM_VALUE, seed)
        assert sum(variant.params["p"]) == pytest.approx(1)
        assert min(variant.params["p"]) > 0
        assert variant.key == pytest.approx(-ln(4))


# --- discriminator and generator losses ------------------------------------------------------

D_LOSS_PARAMS = {"d_real": [0.9, 0.6], "d_fake": [0.2, 0.4]}
D_LOSS_BY_HAND = -((ln(0.9) + ln(0.6)) / 2 + (ln(0.8) + ln(0.6)) / 2)


def test_discriminator_loss_by_hand():
    assert s12.DISCRIMINATOR_LOSS.solve(D_LOSS_PARAMS) == pytest.approx(D_LOSS_BY_HAND)


def test_discriminator_loss_grading():
    assert_grades(
        s12.DISCRIMINATOR_LOSS,
        D_LOSS_PARAMS,
        round(D_LOSS_BY_HAND, 4),
        {
            "forgot_minus_sign": -D_LOSS_BY_HAND,
            "swapped_labels": -((ln(0.2) + ln(0.4)) / 2 + (ln(0.1) + ln(0.4)) / 2),
            "log_d_fake": -((ln(0.9) + ln(0.6)) / 2 + (ln(0.2) + ln(0.4)) / 2),
        },
    )


NON_SATURATING = {"non_saturating": True, "d_fake": [0.1, 0.5, 0.2]}
MINIMAX = {"non_saturating": False, "d_fake": [0.1, 0.5, 0.2]}


def test_generator_loss_by_hand():
    assert s12.GENERATOR_LOSS.solve(NON_SATURATING) == pytest.approx(-(ln(0.1) + ln(0.5) + ln(0.2)) / 3)
    assert s12.GENERATOR_LOSS.solve(MINIMAX) == pytest.approx((ln(0.9) + ln(0.5) + ln(0.8)) / 3)


def test_generator_loss_grading():
    non_saturating = -(ln(0.1) + ln(0.5) + ln(0.2)) / 3
    minimax = (ln(0.9) + ln(0.5) + ln(0.8)) / 3
    assert_grades(
        s12.GENERATOR_LOSS,
        NON_SATURATING,
        round(non_saturating, 4),
        {"used_other_form": minimax, "sign_flipped": -non_saturating},
    )
    assert_grades(
        s12.GENERATOR_LOSS,
        MINIMAX,
        round(minimax, 4),
        {"used_other_form": non_saturating, "sign_flipped": -minimax},
    )


# --- mode collapse ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(10))
def test_mode_collapse_key(seed):
    variant = make_variant(s12.MODE_COLLAPSE, seed)
    options = variant.params["options"]
    assert options[ord(variant.key) - ord("A")].startswith("Mode collapse:")
    equilibrium = next(o for o in options if o.startswith("Nash equilibrium"))
    result = grade_answer(s12.MODE_COLLAPSE, variant, equilibrium)
    assert result.misconception == "confused_with_equilibrium" and result.score == 0


# --- diffusion: forward sample ---------------------------------------------------------------

Q_PARAMS = {"steps": 4, "betas": [0.1, 0.2, 0.3, 0.4], "t": 3, "x0": 1.0, "noise": 0.5}
ALPHA_BAR_3 = 0.9 * 0.8 * 0.7  # 0.504
Q_BY_HAND = math.sqrt(ALPHA_BAR_3) * 1.0 + math.sqrt(1 - ALPHA_BAR_3) * 0.5


def test_q_sample_by_hand():
    assert s12.Q_SAMPLE.solve(Q_PARAMS) == pytest.approx(Q_BY_HAND)


def test_q_sample_grading():
    assert_grades(
        s12.Q_SAMPLE,
        Q_PARAMS,
        round(Q_BY_HAND, 4),
        {
            "used_alpha_not_alpha_bar": math.sqrt(0.7) + math.sqrt(0.3) * 0.5,
            "forgot_sqrt": 0.504 + 0.496 * 0.5,
            "off_by_one_step": math.sqrt(0.72) + math.sqrt(0.28) * 0.5,
        },
    )


@pytest.mark.parametrize("seed", range(10))
def test_generated_schedules_are_linear_and_increasing(seed):
    params = make_variant(s12.Q_SAMPLE, seed).params
    betas = params["betas"]
    assert len(betas) == params["steps"] and 2 <= params["t"] <= params["steps"]
    steps = [b - a for a, b in zip(betas, betas[1:])]
    assert all(step > 0 for step in steps)
    assert steps == pytest.approx([steps[0]] * len(steps))
    assert 0 < betas[0] and betas[-1] < 1


# --- diffusion: noise-prediction loss --------------------------------------------------------

LOSS_PARAMS = {"x0": [0.5, 0.2, -1.0, 0.3], "noise": [1.0, -1.0, 0.5, 2.0], "predicted": [0.5, -1.0, 1.5, 1.0]}
# errors against the noise: -0.5, 0, 1, -1


def test_noise_loss_by_hand():
    assert s12.NOISE_LOSS.solve(LOSS_PARAMS) == pytest.approx((0.25 + 0 + 1 + 1) / 4)


def test_noise_loss_grading():
    assert_grades(
        s12.NOISE_LOSS,
        LOSS_PARAMS,
        0.5625,
        {
            "predicted_x0": (0 + 1.44 + 6.25 + 0.49) / 4,  # errors against x0: 0, -1.2, 2.5, 0.7
            "summed_squared_errors": 2.25,
            "absolute_error": (0.5 + 0 + 1 + 1) / 4,
        },
    )


# --- diffusion: reverse step -----------------------------------------------------------------

REVERSE_PARAMS = {"steps": 3, "betas": [0.1, 0.2, 0.3], "t": 2, "x_t": 1.0, "predicted": 0.5, "z": -1.0}
# alpha_2 = 0.8, alpha_bar_2 = 0.72, beta_2 = 0.2
REVERSE_MEAN = (1.0 - 0.2 / math.sqrt(1 - 0.72) * 0.5) / math.sqrt(0.8)
REVERSE_BY_HAND = REVERSE_MEAN + math.sqrt(0.2) * -1.0


def test_reverse_step_by_hand():
    assert s12.REVERSE_STEP.solve(REVERSE_PARAMS) == pytest.approx(REVERSE_BY_HAND)


def test_reverse_step_grading():
    assert_grades(
        s12.REVERSE_STEP,
        REVERSE_PARAMS,
        round(REVERSE_BY_HAND, 4),
        {
            "forgot_noise_term": REVERSE_MEAN,
            "used_alpha_bar_in_front": (1.0 - 0.2 / math.sqrt(0.28) * 0.5) / math.sqrt(0.72) - math.sqrt(0.2),
            "forgot_sqrt_in_noise_coefficient": (1.0 - 0.2 / 0.28 * 0.5) / math.sqrt(0.8) - math.sqrt(0.2),
            "sigma_is_beta": REVERSE_MEAN - 0.2,
        },
    )
