"""Tests for the section 7 answer exercises (word2vec): keys computed by hand, full marks for the
key, misconceptions recognised from hand-computed wrong answers, and generator properties."""

from __future__ import annotations

import math

import pytest

from exercises.answer import s07_word2vec as s07
from grader.grading import grade_answer
from grader.variant import make_variant
from grader.selftest import assert_grades, letter_of, variant_for


# --- skip-gram pairs -----------------------------------------------------------------------

TOKENS = ["deep", "nets", "learn", "features"]


def test_skipgram_pairs_window_1_by_hand():
    params = {"tokens": TOKENS, "window": 1}
    assert s07.SKIPGRAM_PAIRS.solve(params) == (
        ("deep", "nets"),
        ("nets", "deep"), ("nets", "learn"),
        ("learn", "nets"), ("learn", "features"),
        ("features", "learn"),
    )


def test_skipgram_pairs_window_2_by_hand():
    params = {"tokens": TOKENS, "window": 2}
    assert s07.SKIPGRAM_PAIRS.solve(params) == (
        ("deep", "nets"), ("deep", "learn"),
        ("nets", "deep"), ("nets", "learn"), ("nets", "features"),
        ("learn", "deep"), ("learn", "nets"), ("learn", "features"),
        ("features", "nets"), ("features", "learn"),
    )


def test_skipgram_pairs_grading():
    assert_grades(
        s07.SKIPGRAM_PAIRS,
        {"tokens": TOKENS, "window": 1},
        [["deep", "nets"], ["nets", "deep"], ["nets", "learn"], ["learn", "nets"], ["learn", "features"], ["features", "learn"]],
        {
            "included_center": [
                ["deep", "deep"], ["deep", "nets"],
                ["nets", "deep"], ["nets", "nets"], ["nets", "learn"],
                ["learn", "nets"], ["learn", "learn"], ["learn", "features"],
                ["features", "learn"], ["features", "features"],
            ],
            "one_sided_window": [["deep", "nets"], ["nets", "learn"], ["learn", "features"]],
        },
    )


def test_skipgram_pairs_key_is_case_insensitive():
    params = {"tokens": TOKENS, "window": 1}
    raw = [["Deep", "nets"], ["nets", "DEEP"], ["nets", "learn"], ["learn", "nets"], ["learn", "features"], ["features", "learn"]]
    assert grade_answer(s07.SKIPGRAM_PAIRS, variant_for(s07.SKIPGRAM_PAIRS, params), raw).score == 1


# --- number of skip-gram pairs -------------------------------------------------------------


def test_skipgram_pair_count_by_hand():
    # 10 words, w = 2: the two end words have 2 contexts, their neighbours 3, the 6 inner words 4
    assert s07.SKIPGRAM_PAIR_COUNT.solve({"length": 10, "window": 2}) == 2 + 3 + 6 * 4 + 3 + 2
    # 7 words, w = 3: 3, 4, 5, 6, 5, 4, 3 contexts
    assert s07.SKIPGRAM_PAIR_COUNT.solve({"length": 7, "window": 3}) == 30


def test_skipgram_pair_count_grading():
    assert_grades(
        s07.SKIPGRAM_PAIR_COUNT,
        {"length": 10, "window": 2},
        34,
        {"ignored_sentence_ends": 40, "one_sided_window": 17, "included_center": 44},
    )


# --- CBOW versus skip-gram -----------------------------------------------------------------


@pytest.mark.parametrize("seed", range(20))
def test_cbow_vs_skipgram_key_is_the_right_example(seed):
    variant = make_variant(s07.CBOW_VS_SKIPGRAM, seed)
    p = variant.params
    cbow = f"input: the context words “{p['left']}” and “{p['right']}” → predict: “{p['center']}”"
    skipgram = f"input: “{p['center']}” → predict: “{p['left']}”, and separately predict: “{p['right']}”"
    right, swapped = (cbow, skipgram) if p["model"] == "CBOW" else (skipgram, cbow)
    assert variant.key == letter_of(p["options"], right)
    assert variant.misconceptions["swapped_cbow_skipgram"] == letter_of(p["options"], swapped)
    position = p["tokens"].index(p["center"])
    assert p["tokens"][position - 1] == p["left"] and p["tokens"][position + 1] == p["right"]


# --- negative-sampling loss ----------------------------------------------------------------

NS_PARAMS = {"v_c": [0.5, 1.0], "u_o": [1.5, 1.0], "u_neg": [[-1.0, -1.0], [0.5, -1.0]]}
# scores: u_o . v_c = 1.75, u_1 . v_c = -1.5, u_2 . v_c = -0.75; -log s(x) = log(1 + e^-x)
NS_LOSS = math.log(1 + math.exp(-1.75)) + math.log(1 + math.exp(-1.5)) + math.log(1 + math.exp(-0.75))


def test_negative_sampling_loss_by_hand():
    assert s07.NEGATIVE_SAMPLING_LOSS.solve(NS_PARAMS) == pytest.approx(NS_LOSS)


def test_negative_sampling_loss_grading():
    softmax = -math.log(math.exp(1.75) / (math.exp(1.75) + math.exp(-1.5) + math.exp(-0.75)))
    assert_grades(
        s07.NEGATIVE_SAMPLING_LOSS,
        NS_PARAMS,
        round(NS_LOSS, 4),
        {
            "wrong_sign_on_negatives": math.log(1 + math.exp(-1.75)) + math.log(1 + math.exp(1.5)) + math.log(1 + math.exp(0.75)),
            "forgot_negative_terms": round(math.log(1 + math.exp(-1.75)), 4),
            "used_softmax": softmax,
        },
    )


# --- analogy -------------------------------------------------------------------------------

# a = apple, b = river, c = stone: target v_b - v_a + v_c = (2, 2).
# cosines with (2, 2): cloud 8/(sqrt(10) sqrt(8)) = 0.894, tiger 0.707, piano 0, lemon 0, and
# river (b itself) 6/(sqrt(5) sqrt(8)) = 0.949; dot products: tiger 10 > cloud 8.
# v_a - v_b + v_c = (2, -2): piano (1, -1) has cosine 1; v_b - v_a - v_c = (-2, 2): lemon (-1, 1).
ANALOGY_PARAMS = {
    "vocab": ["apple", "river", "stone", "cloud", "tiger", "piano", "lemon"],
    "vectors": [[1, 0], [1, 2], [2, 0], [3, 1], [5, 0], [1, -1], [-1, 1]],
    "a": "apple",
    "b": "river",
    "c": "stone",
}


def test_analogy_by_hand():
    assert s07.ANALOGY.solve(ANALOGY_PARAMS) == "cloud"


def test_analogy_grading():
    assert_grades(
        s07.ANALOGY,
        ANALOGY_PARAMS,
        "Cloud",
        {
            "reversed_offset": "piano",
            "subtracted_c": "lemon",
            "used_dot_product": "tiger",
            "did_not_exclude_inputs": "river",
        },
    )


@pytest.mark.parametrize("seed", range(10))
def test_analogy_generator_gives_a_clear_integer_table(seed):
    p = make_variant(s07.ANALOGY, seed).params
    assert len(p["vocab"]) == len(set(p["vocab"])) == len(p["vectors"]) == 8
    assert {p["a"], p["b"], p["c"]} <= set(p["vocab"]) and len({p["a"], p["b"], p["c"]}) == 3
    assert all(isinstance(v, int) and -4 <= v <= 4 for vector in p["vectors"] for v in vector)
    # the key wins by a visible cosine margin, so a student with a calculator is not left with a tie
    index = {w: i for i, w in enumerate(p["vocab"])}
    vec = lambda w: p["vectors"][index[w]]  # noqa: E731
    target = [vec(p["b"])[k] - vec(p["a"])[k] + vec(p["c"])[k] for k in range(2)]
    cosines = sorted(
        ((vec(w)[0] * target[0] + vec(w)[1] * target[1]) / (math.hypot(*vec(w)) * math.hypot(*target)), w)
        for w in p["vocab"] if w not in (p["a"], p["b"], p["c"])
    )
    assert cosines[-1][1] == make_variant(s07.ANALOGY, seed).key
    assert cosines[-1][0] - cosines[-2][0] >= 0.02


def test_analogy_answer_outside_the_vocabulary_is_invalid_not_wrong():
    result = grade_answer(s07.ANALOGY, variant_for(s07.ANALOGY, ANALOGY_PARAMS), "queen")
    assert result.status == "invalid" and result.score == 0
