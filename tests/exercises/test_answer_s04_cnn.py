"""Tests for the section 4 answer exercises: keys computed by hand and checked against
PyTorch layers, full marks for the key, misconceptions recognised from hand-computed wrong
answers, and generation over many seeds."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from exercises.answer import s04_cnn as s04
from grader.variant import make_variant
from grader.selftest import assert_grades


# --- convolution output size ---------------------------------------------------------------


def test_conv_size_with_stride_two():
    # floor((32 - 5 + 2) / 2) + 1 = 14 + 1; without padding floor(27 / 2) + 1 = 14 (as forgetting + 1)
    params = {"w": 32, "f": 5, "p": 1, "s": 2}
    assert s04.CONV_OUTPUT_SIZE.solve(params) == 15
    assert_grades(
        s04.CONV_OUTPUT_SIZE, params, 15, {"forgot_plus_one": 14, "used_ceil": 16},
        absent=("forgot_padding", "padded_one_side"),
    )


def test_conv_size_with_stride_one():
    # 30 - 5 + 4 + 1 = 30 ("same" padding); ceil = floor for stride 1
    params = {"w": 30, "f": 5, "p": 2, "s": 1}
    assert s04.CONV_OUTPUT_SIZE.solve(params) == 30
    assert_grades(
        s04.CONV_OUTPUT_SIZE, params, "30", {"forgot_plus_one": 29, "forgot_padding": 26, "padded_one_side": 28},
        absent=("used_ceil",),
    )


def test_conv_size_where_every_mistake_differs():
    # (14 - 11 + 10) / 3 = 13 / 3: floor 4, ceil 5; no padding: 3 / 3 = 1; one side: 8 / 3 -> 2
    params = {"w": 14, "f": 11, "p": 5, "s": 3}
    assert s04.CONV_OUTPUT_SIZE.solve(params) == 5
    assert_grades(
        s04.CONV_OUTPUT_SIZE, params, 5,
        {"forgot_plus_one": 4, "used_ceil": 6, "forgot_padding": 2, "padded_one_side": 3},
    )


@pytest.mark.parametrize("seed", range(10))
def test_conv_size_key_matches_nn_conv1d(seed):
    params = make_variant(s04.CONV_OUTPUT_SIZE, seed).params
    layer = nn.Conv1d(1, 1, params["f"], stride=params["s"], padding=params["p"])
    assert layer(torch.zeros(1, 1, params["w"])).shape[-1] == s04.CONV_OUTPUT_SIZE.solve(params)


# --- pooling output size -------------------------------------------------------------------


def test_pool_size_stride_one():
    params = {"w": 9, "f": 3, "s": 1}
    assert s04.POOL_OUTPUT_SIZE.solve(params) == 7
    assert_grades(s04.POOL_OUTPUT_SIZE, params, 7, {"forgot_plus_one": 6, "divided_by_stride": 9}, absent=("used_ceil",))


def test_pool_size_where_ceil_and_halving_agree():
    # floor((11 - 4) / 2) + 1 = 4; ceil gives 5, and so does 11 // 2: the tag goes to ceil
    params = {"w": 11, "f": 4, "s": 2}
    assert s04.POOL_OUTPUT_SIZE.solve(params) == 4
    assert_grades(s04.POOL_OUTPUT_SIZE, params, 4, {"forgot_plus_one": 3, "used_ceil": 5}, absent=("divided_by_stride",))


@pytest.mark.parametrize("seed", range(10))
def test_pool_size_key_matches_max_pool(seed):
    params = make_variant(s04.POOL_OUTPUT_SIZE, seed).params
    out = nn.MaxPool1d(params["f"], stride=params["s"])(torch.zeros(1, 1, params["w"]))
    assert out.shape[-1] == s04.POOL_OUTPUT_SIZE.solve(params)


# --- output shape --------------------------------------------------------------------------

SHAPE_PARAMS = {"c_in": 3, "c_out": 24, "k": 5, "stride": 2, "padding": 2, "height": 28, "width": 56}


def test_conv_output_shape_by_hand():
    # H: floor((28 - 5 + 4) / 2) + 1 = 14; W: floor((56 - 5 + 4) / 2) + 1 = 28
    assert s04.CONV_OUTPUT_SHAPE.solve(SHAPE_PARAMS) == ("N", 24, 14, 28)
    layer = nn.Conv2d(3, 24, 5, stride=2, padding=2)
    assert tuple(layer(torch.zeros(2, 3, 28, 56)).shape[1:]) == (24, 14, 28)


def test_conv_output_shape_grading():
    assert_grades(
        s04.CONV_OUTPUT_SHAPE,
        SHAPE_PARAMS,
        "(N, 24, 14, 28)",
        {
            "kept_input_channels": "(N, 3, 14, 28)",
            "forgot_plus_one": ["N", 24, 13, 27],
            "forgot_padding": "N x 24 x 12 x 26",
        },
    )


# --- parameter and multiply-add counts -----------------------------------------------------


def test_conv_param_count_by_hand():
    params = {"c_in": 16, "c_out": 32, "k": 5}
    assert s04.CONV_PARAM_COUNT.solve(params) == 32 * 16 * 25 + 32 == 12832
    assert sum(t.numel() for t in nn.Conv2d(16, 32, 5).parameters()) == 12832
    assert_grades(
        s04.CONV_PARAM_COUNT,
        params,
        12832,
        {"forgot_bias": 12800, "forgot_c_in": 32 * 25 + 32, "kernel_not_squared": 32 * 16 * 5 + 32},
    )


def test_conv_mult_adds_by_hand():
    # output side floor((32 - 3 + 2) / 2) + 1 = 16; 16 * 16 outputs per channel, 8 * 9 MACs each
    params = {"c_in": 8, "c_out": 16, "k": 3, "size": 32, "stride": 2}
    assert s04.CONV_MULT_ADDS.solve(params) == 16 * 16 * 16 * 8 * 9 == 294912
    assert_grades(
        s04.CONV_MULT_ADDS,
        params,
        294912,
        {"used_input_size": 32 * 32 * 16 * 72, "forgot_c_in": 16 * 16 * 16 * 9, "counted_parameters": 16 * 8 * 9},
    )


# --- receptive field -----------------------------------------------------------------------


def test_receptive_field_of_three_layers():
    # r = 1 + (5 - 1) * 1 + (3 - 1) * 2 + (3 - 1) * 4
    params = {"layers": [[5, 2], [3, 2], [3, 1]]}
    assert s04.RECEPTIVE_FIELD.solve(params) == 17
    assert_grades(s04.RECEPTIVE_FIELD, params, 17, {"summed_kernel_sizes": 11, "ignored_strides": 9})


def test_receptive_field_of_four_layers():
    # r = 1 + 2 * 1 + 1 * 2 + 2 * 4 + 2 * 4
    params = {"layers": [[3, 2], [2, 2], [3, 1], [3, 1]]}
    assert s04.RECEPTIVE_FIELD.solve(params) == 21
    assert_grades(s04.RECEPTIVE_FIELD, params, 21, {"summed_kernel_sizes": 11, "ignored_strides": 8})


def test_receptive_field_by_gradient():
    # The input pixels that influence one output unit of the stack, found with autograd.
    layers = [[5, 2], [3, 2], [3, 1]]
    x = torch.zeros(1, 1, 64, requires_grad=True)
    out = x
    for kernel, stride in layers:
        conv = nn.Conv1d(1, 1, kernel, stride=stride, bias=False)
        nn.init.constant_(conv.weight, 1.0)
        out = conv(out)
    out[0, 0, 3].backward()
    assert int((x.grad != 0).sum()) == s04.RECEPTIVE_FIELD.solve({"layers": layers})


# --- residual projections ------------------------------------------------------------------


def test_residual_projection():
    blocks = [[64, 64, 2], [64, 128, 1], [64, 64, 1], [128, 128, 2]]
    params = {"blocks": blocks, "options": [s04._block_text(*b) for b in blocks]}
    assert params["options"][0] == "64 input channels, 64 output channels, stride 2"
    assert s04.RESIDUAL_PROJECTION.solve(params) == ("A", "B", "D")
    assert_grades(
        s04.RESIDUAL_PROJECTION, params, ["D", "A", "B"], {"only_channel_changes": ["B"], "only_stride_changes": "A, D"}
    )


def test_every_generated_block_set_has_both_kinds_of_change():
    for seed in range(30):
        blocks = make_variant(s04.RESIDUAL_PROJECTION, seed).params["blocks"]
        assert any(c_in == c_out and stride == 2 for c_in, c_out, stride in blocks)
        assert any(c_in != c_out and stride == 1 for c_in, c_out, stride in blocks)


# --- global average pooling head -----------------------------------------------------------


def test_gap_head_params_by_hand():
    params = {"channels": 512, "side": 7, "classes": 10}
    head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 10))
    assert s04.GAP_HEAD_PARAMS.solve(params) == sum(t.numel() for t in head.parameters()) == 5130
    assert_grades(
        s04.GAP_HEAD_PARAMS,
        params,
        5130,
        {"flattened_instead": 512 * 49 * 10 + 10, "forgot_bias": 5120, "averaged_over_channels": 49 * 10 + 10},
    )


def test_conv_size_draws_cover_strides_and_paddings():
    draws = [make_variant(s04.CONV_OUTPUT_SIZE, seed).params for seed in range(200)]
    assert {d["s"] for d in draws} == {1, 2, 3, 4}
    assert {d["p"] for d in draws} >= {0, 1, 2, 3}
