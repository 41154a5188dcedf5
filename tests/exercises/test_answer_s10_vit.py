"""Tests for the section 10 answer exercises (vision transformers): keys computed by hand
(including the well-known ViT-B/16 and Swin-T figures), full marks for the key, misconceptions
recognised from hand-computed wrong answers, and the choice question's key."""

from __future__ import annotations

import pytest

from exercises.answer import s10_vit as s10
from grader.grading import grade_answer
from grader.variant import make_variant
from grader.selftest import assert_grades, variant_for


# --- sequence length -------------------------------------------------------------------------


def test_sequence_length_by_hand():
    # ViT-B/16 on 224 x 224: 14 x 14 patches + [CLS]
    assert s10.SEQUENCE_LENGTH.solve({"patch": 16, "height": 224, "width": 224, "channels": 3}) == 197
    assert s10.SEQUENCE_LENGTH.solve({"patch": 16, "height": 64, "width": 96, "channels": 3}) == 4 * 6 + 1


def test_sequence_length_grading():
    assert_grades(
        s10.SEQUENCE_LENGTH,
        {"patch": 16, "height": 64, "width": 96, "channels": 3},
        25,
        {"forgot_cls_token": 24, "divided_one_side": 64 * 96 // 16 + 1, "assumed_square": 4 * 4 + 1},
    )


def test_square_image_has_no_square_assumption_mistake():
    variant = variant_for(s10.SEQUENCE_LENGTH, {"patch": 16, "height": 224, "width": 224, "channels": 3})
    assert "assumed_square" not in variant.misconceptions


# --- patch embedding parameters --------------------------------------------------------------

PATCH_PARAMS = {"patch": 16, "height": 224, "width": 224, "channels": 3, "d_model": 768}


def test_patch_embedding_params_by_hand():
    # ViT-B/16's patch embedding: a 768 x (3 * 16 * 16) weight and 768 biases
    assert s10.PATCH_EMBEDDING_PARAMS.solve(PATCH_PARAMS) == 768 * 768 + 768 == 590_592


def test_patch_embedding_params_grading():
    assert_grades(
        s10.PATCH_EMBEDDING_PARAMS,
        PATCH_PARAMS,
        590_592,
        {
            "forgot_channels": 256 * 768 + 768,
            "forgot_bias": 589_824,
            "separate_weights_per_patch": 196 * 590_592,
        },
    )


# --- patchify shape --------------------------------------------------------------------------

PATCHIFY_PARAMS = {"patch": 16, "height": 224, "width": 224, "channels": 3}


def test_patchify_shape_by_hand():
    assert s10.PATCHIFY_SHAPE.solve(PATCHIFY_PARAMS) == ("N", 196, 768)


def test_patchify_shape_grading():
    assert_grades(
        s10.PATCHIFY_SHAPE,
        PATCHIFY_PARAMS,
        "(N, 196, 768)",
        {
            "forgot_patch_channels": "(N, 196, 256)",
            "kept_patch_grid": "N x 14 x 14 x 768",
            "patch_side_not_area": ["N", 196, 48],
        },
    )


# --- window attention cost -------------------------------------------------------------------

# Swin-T stage 1: 56 x 56 tokens, C = 96, 7 x 7 windows
SWIN_PARAMS = {"height": 56, "width": 56, "window": 7, "channels": 96}


def test_window_attention_cost_by_hand():
    windows = (56 // 7) * (56 // 7)  # 64 windows of 49 tokens
    per_window = 49 * 49 * 96 + 49 * 49 * 96  # Q K^T and A V
    assert s10.WINDOW_ATTENTION_COST.solve(SWIN_PARAMS) == windows * per_window == 29_503_488


def test_window_attention_cost_grading():
    assert_grades(
        s10.WINDOW_ATTENTION_COST,
        SWIN_PARAMS,
        29_503_488,
        {
            "global_attention": 2 * 3136 * 3136 * 96,
            "counted_one_window": 2 * 49 * 49 * 96,
            "window_side_not_area": (3136 // 7) * 2 * 7 * 7 * 96,
            "counted_only_scores": 64 * 49 * 49 * 96,
        },
    )


# --- data-hungry ViT -------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(10))
def test_data_hungry_key_is_missing_inductive_bias(seed):
    variant = make_variant(s10.DATA_HUNGRY, seed)
    options = variant.params["options"]
    assert "inductive biases" in options[ord(variant.key) - ord("A")]
    local = next(o for o in options if o.startswith("Self-attention only sees"))
    result = grade_answer(s10.DATA_HUNGRY, variant, "ABCD"[options.index(local)])
    assert result.misconception == "thinks_attention_is_local"
