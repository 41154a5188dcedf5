"""Tests for the section 9 answer exercises (transformers): keys computed by hand, full marks
for the key, misconceptions recognised from hand-computed wrong answers, and the choice
question's key pointing at the right statement."""

from __future__ import annotations

import math

import pytest

from exercises.answer import s09_transformers as s09
from grader.grading import grade_answer
from grader.variant import make_variant
from grader.selftest import assert_grades, variant_for

E = math.e
R2 = math.sqrt(2)


def softmax(scores: list[float]) -> list[float]:
    exps = [math.exp(s) for s in scores]
    return [e / sum(exps) for e in exps]


def assert_rows_close(actual, expected) -> None:
    assert len(actual) == len(expected)
    for row, want in zip(actual, expected):
        assert row == pytest.approx(want, abs=1e-9)


# --- scaled dot-product attention -------------------------------------------------------------

# Q K^T = [[2, 1, 0], [2, 0, 0]], sqrt(d_k) = 2
SDPA_PARAMS = {"d_k": 4, "q": [[1, 0, 1, 0], [0, 1, 0, 1]], "k": [[1, 1, 1, 1], [1, 0, 0, 0], [0, 0, 0, 0]]}
SDPA_BY_HAND = [softmax([1, 0.5, 0]), softmax([1, 0, 0])]


def test_sdpa_weights_by_hand():
    assert_rows_close(s09.SDPA_WEIGHTS.solve(SDPA_PARAMS), SDPA_BY_HAND)


def test_sdpa_weights_grading():
    row1 = E + math.sqrt(E) + 1
    assert_grades(
        s09.SDPA_WEIGHTS,
        SDPA_PARAMS,
        [[E / row1, math.sqrt(E) / row1, 1 / row1], [E / (E + 2), 1 / (E + 2), 1 / (E + 2)]],
        {
            "no_scaling": [softmax([2, 1, 0]), softmax([2, 0, 0])],
            "divided_by_d_k": [softmax([0.5, 0.25, 0]), softmax([0.5, 0, 0])],
            # scaled scores [[1, .5, 0], [1, 0, 0]] softmaxed down each column
            "softmax_over_queries": [[0.5, math.sqrt(E) / (math.sqrt(E) + 1), 0.5], [0.5, 1 / (math.sqrt(E) + 1), 0.5]],
        },
    )


# --- causal attention ------------------------------------------------------------------------

# Q K^T = [[1, 0, 1], [0, 1, 1], [1, 1, 2]], divided by sqrt(2)
CAUSAL_PARAMS = {"q": [[1, 0], [0, 1], [1, 1]], "k": [[1, 0], [0, 1], [1, 1]]}
CAUSAL_BY_HAND = [[1, 0, 0], [*softmax([0, 1 / R2]), 0], softmax([1 / R2, 1 / R2, 2 / R2])]


def test_causal_weights_by_hand():
    assert_rows_close(s09.CAUSAL_WEIGHTS.solve(CAUSAL_PARAMS), CAUSAL_BY_HAND)


def test_causal_weights_grading():
    assert_grades(
        s09.CAUSAL_WEIGHTS,
        CAUSAL_PARAMS,
        [[1, 0, 0], [0.3302, 0.6698, 0], [0.2483, 0.2483, 0.5035]],
        {
            "inverted_mask": [softmax([1 / R2, 0, 1 / R2]), [0, 0.5, 0.5], [0, 0, 1]],
            "forgot_mask": [softmax([1 / R2, 0, 1 / R2]), softmax([0, 1 / R2, 1 / R2]), softmax([1 / R2, 1 / R2, 2 / R2])],
            "no_scaling": [[1, 0, 0], [*softmax([0, 1]), 0], softmax([1, 1, 2])],
        },
    )


# --- shapes ----------------------------------------------------------------------------------

SHAPE_PARAMS = {"heads": 4, "d_model": 128, "l_q": 10, "l_kv": 20}


def test_weights_shape_by_hand():
    assert s09.ATTENTION_WEIGHTS_SHAPE.solve(SHAPE_PARAMS) == ("N", 4, 10, 20)


def test_weights_shape_grading():
    assert_grades(
        s09.ATTENTION_WEIGHTS_SHAPE,
        SHAPE_PARAMS,
        "(N, 4, 10, 20)",
        {
            "forgot_head_dimension": "(N, 10, 20)",
            "swapped_lengths": ["N", 4, 20, 10],
            "used_head_features": "(n, 4, 10, 32)",
        },
    )


def test_key_shape_by_hand():
    assert s09.KEY_HEAD_SHAPE.solve(SHAPE_PARAMS) == ("N", 4, 20, 128 // 4)


def test_key_shape_grading():
    assert_grades(
        s09.KEY_HEAD_SHAPE,
        SHAPE_PARAMS,
        "(N, 4, 20, 32)",
        {"did_not_split_d_model": "(N, 4, 20, 128)", "keys_from_decoder": "(N, 4, 10, 32)"},
    )


# --- positional encoding ---------------------------------------------------------------------

EVEN_PARAMS = {"pos": 20, "d_model": 16, "column": 4}  # pair i = 2: angle 20 / 10000^(4/16) = 2
ODD_PARAMS = {"pos": 7, "d_model": 8, "column": 3}  # pair i = 1: angle 7 / 10000^(2/8) = 0.7


def test_positional_encoding_by_hand():
    assert s09.POSITIONAL_ENCODING.solve(EVEN_PARAMS) == pytest.approx(math.sin(2.0))
    assert s09.POSITIONAL_ENCODING.solve(ODD_PARAMS) == pytest.approx(math.cos(0.7))


def test_positional_encoding_sin_column_grading():
    assert_grades(
        s09.POSITIONAL_ENCODING,
        EVEN_PARAMS,
        0.9093,
        {
            "swapped_sin_cos": math.cos(2.0),
            "exponent_i_over_d": math.sin(20 / 10000 ** (2 / 16)),
            "calculator_in_degrees": math.sin(math.radians(2.0)),
        },
    )


def test_positional_encoding_cos_column_grading():
    assert_grades(
        s09.POSITIONAL_ENCODING,
        ODD_PARAMS,
        0.7648,
        {
            "swapped_sin_cos": math.sin(0.7),
            "exponent_i_over_d": math.cos(7 / 10000 ** (1 / 8)),
            "exponent_column_over_d": math.cos(7 / 10000 ** (3 / 8)),
            "calculator_in_degrees": math.cos(math.radians(0.7)),
        },
    )


def test_positional_encoding_column_mistake_needs_an_odd_column():
    assert variant_for(s09.POSITIONAL_ENCODING, EVEN_PARAMS).misconceptions.get("exponent_column_over_d") is None


# --- layer norm ------------------------------------------------------------------------------

# row 1: mean 2, biased variance 2/3; row 2: mean 1, biased variance 2
LN_PARAMS = {"x": [[1, 2, 3], [0, 0, 3]], "gamma": [1.0, 1.0, 2.0], "beta": [0.0, 0.0, 1.0]}
S1, S2 = math.sqrt(2 / 3 + 1e-5), math.sqrt(2 + 1e-5)
LN_BY_HAND = [[-1 / S1, 0, 2 * (1 / S1) + 1], [-1 / S2, -1 / S2, 2 * (2 / S2) + 1]]


def test_layer_norm_by_hand():
    assert_rows_close(s09.LAYER_NORM.solve(LN_PARAMS), LN_BY_HAND)


def test_layer_norm_grading():
    r3 = math.sqrt(3)
    assert_grades(
        s09.LAYER_NORM,
        LN_PARAMS,
        [[-1.2247, 0, 3.4495], [-0.7071, -0.7071, 3.8284]],
        {
            # unbiased variances 1 and 3
            "unbiased_variance": [[-1, 0, 3], [-1 / r3, -1 / r3, 2 * (2 / r3) + 1]],
            # columns (1, 0), (2, 0), (3, 3) normalized over the batch of two: +-1, +-1, 0
            "normalized_over_batch": [[1, 1, 1], [-1, -1, 1]],
            "forgot_affine": [[-1.2247, 0, 1.2247], [-0.7071, -0.7071, 1.4142]],
        },
    )


# --- encoder block parameters ----------------------------------------------------------------


def test_encoder_block_params_by_hand():
    # BERT-base: 7,087,872 parameters per encoder layer
    assert s09.ENCODER_PARAMS.solve({"d_model": 768, "d_ff": 3072, "heads": 12}) == 7_087_872
    attention = 4 * 512 * 512 + 4 * 512
    ffn = 2 * 512 * 2048 + 2048 + 512
    norms = 2 * 2 * 512
    assert s09.ENCODER_PARAMS.solve({"d_model": 512, "d_ff": 2048, "heads": 8}) == attention + ffn + norms


def test_encoder_block_params_grading():
    assert_grades(
        s09.ENCODER_PARAMS,
        {"d_model": 512, "d_ff": 2048, "heads": 8},
        3_152_384,
        {
            "forgot_linear_biases": 4 * 512 * 512 + 2 * 512 * 2048 + 4 * 512,
            "forgot_layer_norms": 3_152_384 - 2048,
            "projections_per_head": 8 * (4 * 512 * 512 + 4 * 512) + 2_099_712 + 2048,
        },
    )


# --- cross-attention -------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(10))
def test_cross_attention_key_is_decoder_queries_encoder_keys_values(seed):
    variant = make_variant(s09.CROSS_ATTENTION, seed)
    options = variant.params["options"]
    assert options[ord(variant.key) - ord("A")] == "Q from the decoder; K and V from the encoder output."
    swapped = options.index("Q from the encoder output; K and V from the decoder.")
    result = grade_answer(s09.CROSS_ATTENTION, variant, "ABCD"[swapped])
    assert result.misconception == "swapped_query_source" and result.score == 0
