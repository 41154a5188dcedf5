"""Tests for the section 8 answer exercises (seq2seq attention): keys computed by hand, full
marks for the key, misconceptions recognised from hand-computed wrong answers, and the choice
questions' keys pointing at the right statements."""

from __future__ import annotations

import math

import pytest

from exercises.answer import s08_attention as s08
from grader.grading import grade_answer
from grader.variant import make_variant
from grader.selftest import assert_grades, letter_of

E = math.e


# --- attention weights -----------------------------------------------------------------------

# scores Q H^T = [[1, 0, 1], [0, 1, 1]]
WEIGHTS_PARAMS = {"queries": [[1, 0], [0, 1]], "states": [[1, 0], [0, 1], [1, 1]]}
ROW_SUM = 2 * E + 1
WEIGHTS_BY_HAND = [[E / ROW_SUM, 1 / ROW_SUM, E / ROW_SUM], [1 / ROW_SUM, E / ROW_SUM, E / ROW_SUM]]


def test_attention_weights_by_hand():
    key = s08.ATTENTION_WEIGHTS.solve(WEIGHTS_PARAMS)
    for row, expected in zip(key, WEIGHTS_BY_HAND):
        assert row == pytest.approx(expected)


def test_attention_weights_grading():
    assert_grades(
        s08.ATTENTION_WEIGHTS,
        WEIGHTS_PARAMS,
        [[0.4223, 0.1554, 0.4223], [0.1554, 0.4223, 0.4223]],
        {
            "no_softmax": [[1, 0, 1], [0, 1, 1]],
            # each column softmaxed over the two queries
            "softmax_over_queries": [[E / (E + 1), 1 / (E + 1), 0.5], [1 / (E + 1), E / (E + 1), 0.5]],
        },
    )


# --- context vector --------------------------------------------------------------------------

# scores H q = [1, 2, 3]; c = a1 (1, 0) + a2 (0, 1) + a3 (1, 1)
CONTEXT_PARAMS = {"query": [1, 2], "states": [[1, 0], [0, 1], [1, 1]]}
TOTAL = E + E**2 + E**3
ALPHAS = [E / TOTAL, E**2 / TOTAL, E**3 / TOTAL]
CONTEXT_BY_HAND = [ALPHAS[0] + ALPHAS[2], ALPHAS[1] + ALPHAS[2]]


def test_context_vector_by_hand():
    assert s08.CONTEXT_VECTOR.solve(CONTEXT_PARAMS) == pytest.approx(CONTEXT_BY_HAND)


def test_context_vector_grading():
    assert_grades(
        s08.CONTEXT_VECTOR,
        CONTEXT_PARAMS,
        [round(v, 4) for v in CONTEXT_BY_HAND],
        {
            "no_softmax": [1 + 3, 2 + 3],
            "uniform_average": [2 / 3, 2 / 3],
            "used_last_state": [1, 1],
        },
    )


def test_context_weights_sum_to_one_over_generated_variants():
    for seed in range(20):
        variant = make_variant(s08.CONTEXT_VECTOR, seed)
        states = variant.params["states"]
        # the context is a convex combination: inside the bounding box of the encoder states
        for k in range(2):
            column = [h[k] for h in states]
            assert min(column) - 1e-9 <= variant.key[k] <= max(column) + 1e-9


# --- choice questions ------------------------------------------------------------------------

BOTTLENECK_RIGHT = (
    "The encoder squeezes the whole sentence into one fixed-size context vector (its final "
    "hidden state), and the decoder sees the input only through that vector."
)
ROLES_RIGHT = (
    "The query is the current decoder state; the encoder states serve as keys and values; a "
    "new context is computed at every decoder step."
)


@pytest.mark.parametrize("seed", range(10))
def test_bottleneck_key_is_the_fixed_size_context(seed):
    variant = make_variant(s08.BOTTLENECK, seed)
    options = variant.params["options"]
    assert variant.key == letter_of(options, BOTTLENECK_RIGHT)
    assert len(set(variant.misconceptions.values())) == 3
    result = grade_answer(s08.BOTTLENECK, variant, letter_of(options, "The encoder can only read a fixed number of input words and drops the rest."))
    assert result.misconception == "thinks_encoder_skips_words" and result.score == 0


@pytest.mark.parametrize("seed", range(10))
def test_roles_key_is_decoder_query_and_dynamic_context(seed):
    variant = make_variant(s08.ROLES, seed)
    options = variant.params["options"]
    assert variant.key == letter_of(options, ROLES_RIGHT)
    static = next(o for o in options if "computed once before decoding" in o)
    result = grade_answer(s08.ROLES, variant, letter_of(options, static).lower())
    assert result.misconception == "static_context"
    swapped = next(o for o in options if o.startswith("The query is an encoder state"))
    assert grade_answer(s08.ROLES, variant, swapped).misconception == "swapped_query_and_keys"
