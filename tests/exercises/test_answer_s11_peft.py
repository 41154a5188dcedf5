"""Tests for the section 11 answer exercises (parameter-efficient fine-tuning): keys computed by
hand, full marks for the key, misconceptions recognised from hand-computed wrong answers, and the
multiple-choice key naming exactly the frozen (or trained) parts."""

from __future__ import annotations

import pytest

from exercises.answer import s11_peft as s11
from grader.grading import grade_answer
from grader.variant import make_variant
from grader.selftest import assert_grades, variant_for


# --- LoRA parameters of one layer ------------------------------------------------------------

LORA_PARAMS = {"d_in": 1024, "d_out": 4096, "rank": 8}


def test_lora_param_count_by_hand():
    # A: 8 x 1024, B: 4096 x 8
    assert s11.LORA_PARAMS.solve(LORA_PARAMS) == 8 * 1024 + 4096 * 8 == 40_960


def test_lora_param_count_grading():
    assert_grades(
        s11.LORA_PARAMS,
        LORA_PARAMS,
        40_960,
        {
            "multiplied_all_three": 33_554_432,
            "forgot_matrix_b": 8_192,
            "forgot_matrix_a": 32_768,
            "counted_frozen_weight": 40_960 + 1024 * 4096,
        },
    )


# --- trainable share -------------------------------------------------------------------------

SHARE_PARAMS = {"d_model": 768, "layers": 12, "rank": 8, "adapted": 2, "targets": "W_Q and W_V", "total": 110_000_000}
SHARE_TRAINABLE = 12 * 2 * (8 * 768 + 768 * 8)  # 294,912


def test_lora_share_by_hand():
    assert s11.LORA_SHARE.solve(SHARE_PARAMS) == pytest.approx(100 * SHARE_TRAINABLE / 110_000_000)


def test_lora_share_grading():
    assert_grades(
        s11.LORA_SHARE,
        SHARE_PARAMS,
        0.2681,
        {
            "one_layer_only": 100 * 2 * 12_288 / 110_000_000,
            "forgot_one_matrix": 100 * 12 * 2 * 8 * 768 / 110_000_000,
        },
    )


def test_lora_share_all_three_mistake_applies_only_below_the_total():
    # r d^2 per matrix would exceed the model itself here: no percentage to compare with
    assert "multiplied_all_three" not in variant_for(s11.LORA_SHARE, SHARE_PARAMS).misconceptions
    small_model = {**SHARE_PARAMS, "rank": 4, "layers": 6, "total": 90_000_000}
    wrong = 100 * 6 * 2 * 4 * 768 * 768 / 90_000_000
    variant = variant_for(s11.LORA_SHARE, small_model)
    assert grade_answer(s11.LORA_SHARE, variant, wrong).misconception == "multiplied_all_three"


# --- LoRA forward and merge ------------------------------------------------------------------

W = [[1, 0, -1], [2, 1, 0]]
A = [[1, 0, 0], [0, 1, 1]]
B = [[1, 0], [0, -1]]
FORWARD_PARAMS = {"x": [1, 0, 2], "weight": W, "lora_a": A, "lora_b": B, "alpha": 4}
# W x = (-1, 2); A x = (1, 2); B A x = (1, -2); alpha / r = 2


def test_lora_forward_by_hand():
    assert s11.LORA_FORWARD.solve(FORWARD_PARAMS) == pytest.approx([-1 + 2 * 1, 2 + 2 * -2])


def test_lora_forward_grading():
    assert_grades(
        s11.LORA_FORWARD,
        FORWARD_PARAMS,
        [1, -2],
        {"forgot_scaling": [0, 0], "scaled_by_alpha_only": [3, -6], "forgot_frozen_path": [2, -4]},
    )


MERGE_PARAMS = {"weight": W, "lora_a": A, "lora_b": B, "alpha": 1}
# B A = [[1, 0, 0], [0, -1, -1]]; alpha / r = 1/2


def test_lora_merge_by_hand():
    key = s11.LORA_MERGE.solve(MERGE_PARAMS)
    assert key == [[1.5, 0, -1], [2, 0.5, -0.5]]


def test_lora_merge_grading():
    assert_grades(
        s11.LORA_MERGE,
        MERGE_PARAMS,
        [[1.5, 0, -1], [2, 0.5, -0.5]],
        {"forgot_scaling": [[2, 0, -1], [2, 0, -1]], "forgot_frozen_weight": [[0.5, 0, 0], [0, -0.5, -0.5]]},
    )


def test_merged_weight_gives_the_lora_output():
    merged = s11.LORA_MERGE.solve({**MERGE_PARAMS, "alpha": 4})
    x = FORWARD_PARAMS["x"]
    assert [sum(w * v for w, v in zip(row, x)) for row in merged] == pytest.approx(s11.LORA_FORWARD.solve(FORWARD_PARAMS))


# --- adapters and prompt tuning --------------------------------------------------------------


def test_adapter_params_by_hand():
    per_adapter = 768 * 64 + 64 + 64 * 768 + 768  # down + bias, up + bias: 99,136
    assert s11.ADAPTER_PARAMS.solve({"d_model": 768, "bottleneck": 64, "layers": 12}) == 12 * 2 * per_adapter


def test_adapter_params_grading():
    assert_grades(
        s11.ADAPTER_PARAMS,
        {"d_model": 768, "bottleneck": 64, "layers": 12},
        2_379_264,
        {
            "forgot_biases": 24 * 98_304,
            "down_projection_only": 24 * (768 * 64 + 64),
            "one_adapter_per_block": 12 * 99_136,
        },
    )


PROMPT_PARAMS = {"prompt_tokens": 20, "d_model": 1024, "layers": 24, "vocab": 32000}


def test_prompt_tuning_params_by_hand():
    assert s11.PROMPT_TUNING_PARAMS.solve(PROMPT_PARAMS) == 20 * 1024


def test_prompt_tuning_params_grading():
    assert_grades(
        s11.PROMPT_TUNING_PARAMS,
        PROMPT_PARAMS,
        20_480,
        {"prompts_in_every_layer": 24 * 20_480, "trained_embedding_table": (32000 + 20) * 1024},
    )


# --- frozen parts ----------------------------------------------------------------------------

PRETRAINED_TEXTS = {
    "the pre-trained query projection $W_Q$",
    "the pre-trained value projection $W_V$",
    "the pre-trained feed-forward (FFN) weights",
    "the token embedding table",
}
LORA_TEXTS = {"the LoRA matrices $A$", "the LoRA matrices $B$"}


@pytest.mark.parametrize("seed", range(12))
def test_frozen_parts_key_names_the_right_options(seed):
    variant = make_variant(s11.FROZEN_PARTS, seed)
    options = variant.params["options"]
    chosen = {options[ord(letter) - ord("A")] for letter in variant.key}
    expected = PRETRAINED_TEXTS if variant.params["asked"] == "frozen" else LORA_TEXTS
    assert chosen == expected


def test_frozen_parts_grading():
    options = sorted(PRETRAINED_TEXTS | LORA_TEXTS)
    params = {"asked": "trained", "options": options}
    letters = {text: "ABCDEF"[i] for i, text in enumerate(options)}
    key = sorted(letters[t] for t in LORA_TEXTS)
    with_w = sorted(key + [letters["the pre-trained query projection $W_Q$"], letters["the pre-trained value projection $W_V$"]])
    assert_grades(
        s11.FROZEN_PARTS,
        params,
        key,
        {"thinks_adapted_weights_trained": with_w, "thinks_whole_model_trained": "ABCDEF"},
    )
    half = grade_answer(s11.FROZEN_PARTS, variant_for(s11.FROZEN_PARTS, params), key[:1])
    assert half.score == pytest.approx(0.5)
