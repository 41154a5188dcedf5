"""Tests for the section 3 answer exercises: keys computed by hand (written-out arithmetic),
full marks for the key, misconceptions recognised from hand-computed wrong answers, and
generation over many seeds."""

from __future__ import annotations

import math

import pytest
import torch

from exercises.answer import s03_techniques as s03
from grader.selftest import assert_grades
from reference.techniques import dropout


# --- initialization ------------------------------------------------------------------------


def test_he_normal_std_of_a_linear_layer():
    params = {"layer": "linear", "c_in": 256, "c_out": 128, "kernel": 1, "activation": "relu", "distribution": "normal"}
    assert s03.INIT_SCALE.solve(params) == pytest.approx(math.sqrt(2 / 256))  # 0.08839
    assert s03._forgot_kernel_in_fan(params) is None
    assert_grades(
        s03.INIT_SCALE,
        params,
        0.08839,
        {
            "wrong_scheme": math.sqrt(2 / (256 + 128)),
            "used_fan_out": 0.125,
            "forgot_sqrt": 2 / 256,
            "std_bound_mixup": math.sqrt(6 / 256),
        },
    )


def test_xavier_uniform_bound_of_a_conv_layer():
    # fan_in = 16 * 3 * 3 = 144, fan_out = 32 * 3 * 3 = 288
    params = {"layer": "conv", "c_in": 16, "c_out": 32, "kernel": 3, "activation": "tanh", "distribution": "uniform"}
    assert s03.INIT_SCALE.solve(params) == pytest.approx(math.sqrt(6 / 432))  # 0.11785
    assert s03._used_fan_out(params) is None
    assert_grades(
        s03.INIT_SCALE,
        params,
        "sqrt(6/432)",
        {
            "wrong_scheme": math.sqrt(6 / 144),
            "forgot_sqrt": 6 / 432,
            "std_bound_mixup": math.sqrt(2 / 432),
            "forgot_kernel_in_fan": math.sqrt(6 / (16 + 32)),
        },
    )


def test_init_keys_match_torch_init():
    torch.manual_seed(0)
    weight = torch.empty(4000, 250, dtype=torch.float64)  # nn.Linear(250, 4000): fan_in 250
    torch.nn.init.kaiming_normal_(weight, nonlinearity="relu")
    params = {"layer": "linear", "c_in": 250, "c_out": 4000, "kernel": 1, "activation": "relu", "distribution": "normal"}
    assert weight.std().item() == pytest.approx(s03.INIT_SCALE.solve(params), rel=0.01)


# --- batch norm ----------------------------------------------------------------------------

BN_PARAMS = {"x": [2, 4, 6, 8], "gamma": 2.0, "beta": 1.0}
# mean 5, biased variance (9 + 1 + 1 + 9) / 4 = 5


def test_batchnorm_train_by_hand():
    expected = [2 * (x - 5) / math.sqrt(5) + 1 for x in (2, 4, 6, 8)]
    assert s03.BATCHNORM_TRAIN.solve(BN_PARAMS) == pytest.approx(expected)
    assert expected[0] == pytest.approx(-1.683282, abs=1e-6)


def test_batchnorm_train_grading():
    assert_grades(
        s03.BATCHNORM_TRAIN,
        BN_PARAMS,
        [-1.6833, 0.1056, 1.8944, 3.6833],
        {
            "unbiased_variance": [2 * (x - 5) / math.sqrt(20 / 3) + 1 for x in (2, 4, 6, 8)],
            "forgot_affine": [-1.3416, -0.4472, 0.4472, 1.3416],
            "divided_by_variance": [-0.2, 0.6, 1.4, 2.2],
        },
    )


def test_batchnorm_train_matches_torch():
    x = torch.tensor([[2.0], [4.0], [6.0], [8.0]], dtype=torch.float64)
    out = torch.nn.functional.batch_norm(
        x, None, None, torch.tensor([2.0], dtype=torch.float64), torch.tensor([1.0], dtype=torch.float64),
        training=True, eps=1e-12,  # PyTorch refuses eps = 0 in training
    )
    assert s03.BATCHNORM_TRAIN.solve(BN_PARAMS) == pytest.approx(out.flatten().tolist(), rel=1e-9)


EVAL_PARAMS = {"x": [1.0, -0.5, 2.5], "running_mean": 0.5, "running_var": 0.25, "gamma": 2.0, "beta": -1.0}


def test_batchnorm_eval_by_hand():
    # y = 2 * (x - 0.5) / 0.5 - 1 = 4 (x - 0.5) - 1
    assert s03.BATCHNORM_EVAL.solve(EVAL_PARAMS) == pytest.approx([1.0, -5.0, 7.0])


def test_batchnorm_eval_grading():
    # batch statistics: mean 1, biased variance (0 + 2.25 + 2.25) / 3 = 1.5
    batch_std = math.sqrt(1.5)
    assert_grades(
        s03.BATCHNORM_EVAL,
        EVAL_PARAMS,
        [1, -5, 7],
        {
            "used_batch_statistics": [-1.0, 2 * -1.5 / batch_std - 1, 2 * 1.5 / batch_std - 1],
            "divided_by_variance": [3, -9, 15],
            "forgot_affine": [1, -2, 4],
        },
    )


# --- dropout -------------------------------------------------------------------------------

DROPOUT_PARAMS = {"x": [1.0, -2.0, 0.5, 3.0, -1.0, 2.0], "p": 0.25, "keep": [1, 0, 1, 1, 0, 1]}


def test_dropout_train_by_hand():
    assert s03.DROPOUT_TRAIN.solve(DROPOUT_PARAMS) == pytest.approx([4 / 3, 0, 2 / 3, 4, 0, 8 / 3])


def test_dropout_train_grading():
    assert_grades(
        s03.DROPOUT_TRAIN,
        DROPOUT_PARAMS,
        [1.3333, 0, 0.6667, 4, 0, 2.6667],
        {
            "forgot_rescaling": [1, 0, 0.5, 3, 0, 2],
            "scaled_by_keep_prob": [0.75, 0, 0.375, 2.25, 0, 1.5],
            "divided_by_p": [4, 0, 2, 12, 0, 8],
        },
    )


def test_dropout_divided_by_p_does_not_apply_at_one_half():
    assert s03._divided_by_p({**DROPOUT_PARAMS, "p": 0.5}) is None


def test_dropout_key_agrees_with_reference_dropout():
    x = torch.tensor([1.0, -2.0, 0.5, 3.0, -1.0, 2.0, 1.5, -0.5], dtype=torch.float64)
    out = dropout(x, 0.4, training=True, generator=torch.Generator().manual_seed(3))
    keep = [int(v != 0) for v in out.tolist()]
    assert 0 < sum(keep) < len(keep)
    params = {"x": x.tolist(), "p": 0.4, "keep": keep}
    assert s03.DROPOUT_TRAIN.solve(params) == pytest.approx(out.tolist())


def _mode_params(mode: str) -> dict:
    return {"p": 0.2, "mode": mode, "options": list(s03._dropout_behaviours(0.2).values())}


def test_dropout_mode_options_show_the_scales():
    options = _mode_params("train")["options"]
    assert "1/(1-p) = 1.25" in options[2] and "1 - p = 0.8" in options[1]


def test_dropout_in_training_mode():
    params = _mode_params("train")
    assert s03.DROPOUT_MODE.solve(params) == "C"
    assert_grades(s03.DROPOUT_MODE, params, "C", {"no_rescaling": "D", "scaled_by_keep_prob": "E"})


def test_dropout_in_eval_mode():
    params = _mode_params("eval")
    assert s03.DROPOUT_MODE.solve(params) == "A"
    assert_grades(s03.DROPOUT_MODE, params, "A", {"scaled_at_test_time": "B", "dropped_at_test_time": "C"})


# --- random crops --------------------------------------------------------------------------


def test_square_random_crop_positions():
    # padded size 32 + 2 * 4 = 40; offsets 0..8 along each axis: 9 * 9
    params = {"height": 32, "width": 32, "padding": 4, "crop": 32}
    assert s03.RANDOM_CROP.solve(params) == 81
    assert_grades(
        s03.RANDOM_CROP, params, 81, {"forgot_plus_one": 64, "padded_one_side": 25, "ignored_padding": 1}
    )


def test_rectangular_random_crop_positions():
    # (28 + 4 - 24 + 1) * (32 + 4 - 24 + 1) = 9 * 13
    params = {"height": 28, "width": 32, "padding": 2, "crop": 24}
    assert s03.RANDOM_CROP.solve(params) == 117
    assert_grades(
        s03.RANDOM_CROP, params, "117", {"forgot_plus_one": 96, "padded_one_side": 77, "ignored_padding": 45}
    )
