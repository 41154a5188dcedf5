"""Tests for reference.word2vec against hand-written pairs, F.logsigmoid and autograd."""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from reference.word2vec import (
    analogy,
    cbow_contexts,
    cosine_similarity,
    negative_sampling_grads,
    negative_sampling_loss,
    skipgram_pairs,
)

SENTENCE = ["the", "cat", "sat", "down"]


def test_skipgram_pairs_window_1_by_hand():
    assert skipgram_pairs(SENTENCE, 1) == [
        ("the", "cat"),
        ("cat", "the"), ("cat", "sat"),
        ("sat", "cat"), ("sat", "down"),
        ("down", "sat"),
    ]


def test_skipgram_pairs_window_2_by_hand():
    assert skipgram_pairs(SENTENCE, 2) == [
        ("the", "cat"), ("the", "sat"),
        ("cat", "the"), ("cat", "sat"), ("cat", "down"),
        ("sat", "the"), ("sat", "cat"), ("sat", "down"),
        ("down", "cat"), ("down", "sat"),
    ]


def test_skipgram_skips_the_center_position_not_equal_words():
    assert skipgram_pairs(["a", "a", "b"], 1) == [("a", "a"), ("a", "a"), ("a", "b"), ("b", "a")]


def test_skipgram_window_zero_and_short_sentences():
    assert skipgram_pairs(SENTENCE, 0) == []
    assert skipgram_pairs(["alone"], 3) == []
    assert skipgram_pairs([], 2) == []
    with pytest.raises(ValueError):
        skipgram_pairs(SENTENCE, -1)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 12), window=st.integers(0, 15))
def test_skipgram_pair_count_matches_closed_form(n, window):
    tokens = list(range(n))
    expected = 2 * sum(max(0, n - k) for k in range(1, window + 1))
    pairs = skipgram_pairs(tokens, window)
    assert len(pairs) == expected
    assert all(0 < abs(c - o) <= window for c, o in pairs)


def test_cbow_contexts_by_hand():
    assert cbow_contexts(SENTENCE, 1) == [
        (["cat"], "the"),
        (["the", "sat"], "cat"),
        (["cat", "down"], "sat"),
        (["sat"], "down"),
    ]
    assert cbow_contexts(["alone"], 2) == []
    assert cbow_contexts(SENTENCE, 0) == []


@settings(max_examples=30, deadline=None)
@given(n=st.integers(0, 10), window=st.integers(1, 6))
def test_cbow_is_skipgram_grouped_by_center(n, window):
    tokens = list(range(n))
    regrouped = [([o for c, o in skipgram_pairs(tokens, window) if c == t], t) for t in tokens]
    assert cbow_contexts(tokens, window) == [(ctx, t) for ctx, t in regrouped if ctx]


def _loss_via_logsigmoid(v_c, u_o, u_neg):
    return -F.logsigmoid(u_o @ v_c) - F.logsigmoid(-(u_neg @ v_c)).sum()


@pytest.mark.parametrize("d,k", [(1, 1), (5, 3), (16, 10)])
def test_negative_sampling_loss_matches_logsigmoid(d, k):
    gen = torch.Generator().manual_seed(d * 100 + k)
    v_c, u_o, u_neg = (torch.randn(*shape, generator=gen, dtype=torch.float64) for shape in [(d,), (d,), (k, d)])
    loss = negative_sampling_loss(v_c, u_o, u_neg)
    assert loss.shape == ()
    torch.testing.assert_close(loss, _loss_via_logsigmoid(v_c, u_o, u_neg))


def test_negative_sampling_loss_is_stable_for_huge_scores():
    v_c = torch.tensor([100.0], dtype=torch.float64)
    worst = negative_sampling_loss(v_c, torch.tensor([-100.0], dtype=torch.float64),
                                   torch.tensor([[100.0]], dtype=torch.float64))
    assert worst.item() == pytest.approx(2e4)  # softplus(1e4) twice
    best = negative_sampling_loss(v_c, torch.tensor([100.0], dtype=torch.float64),
                                  torch.tensor([[-100.0]], dtype=torch.float64))
    assert math.isfinite(best.item()) and 0.0 <= best.item() < 1e-300


def test_negative_sampling_loss_float32():
    gen = torch.Generator().manual_seed(0)
    v_c, u_o, u_neg = (torch.randn(*shape, generator=gen) for shape in [(4,), (4,), (3, 4)])
    loss = negative_sampling_loss(v_c, u_o, u_neg)
    assert loss.dtype == torch.float32
    torch.testing.assert_close(loss, _loss_via_logsigmoid(v_c, u_o, u_neg))


@pytest.mark.parametrize("d,k", [(1, 1), (4, 2), (7, 5)])
def test_negative_sampling_grads_match_autograd(d, k):
    gen = torch.Generator().manual_seed(7 * d + k)
    v_c = torch.randn(d, generator=gen, dtype=torch.float64, requires_grad=True)
    u_o = torch.randn(d, generator=gen, dtype=torch.float64, requires_grad=True)
    u_neg = torch.randn(k, d, generator=gen, dtype=torch.float64, requires_grad=True)
    _loss_via_logsigmoid(v_c, u_o, u_neg).backward()
    d_v_c, d_u_o, d_u_neg = negative_sampling_grads(v_c.detach(), u_o.detach(), u_neg.detach())
    torch.testing.assert_close(d_v_c, v_c.grad)
    torch.testing.assert_close(d_u_o, u_o.grad)
    torch.testing.assert_close(d_u_neg, u_neg.grad)


def test_cosine_similarity_by_hand_and_against_torch():
    t = lambda *v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
    assert cosine_similarity(t(1, 0), t(0, 1)).item() == pytest.approx(0.0)
    assert cosine_similarity(t(1, 1), t(2, 2)).item() == pytest.approx(1.0)
    assert cosine_similarity(t(1, 0), t(-3, 0)).item() == pytest.approx(-1.0)
    assert cosine_similarity(t(0, 0), t(1, 2)).item() == 0.0
    gen = torch.Generator().manual_seed(1)
    a, b = (torch.randn(*shape, generator=gen, dtype=torch.float64) for shape in [(6, 5), (5,)])
    torch.testing.assert_close(cosine_similarity(a, b), F.cosine_similarity(a, b[None], dim=-1))


def test_analogy_king_man_woman_queen_by_hand():
    vocab = ["king", "man", "woman", "queen", "apple"]
    embeddings = torch.tensor(
        [[1.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, -1.0, 0.2]],
        dtype=torch.float64,
    )
    assert analogy(embeddings, vocab, "man", "king", "woman") == "queen"


def test_analogy_excludes_the_query_words_even_when_closest():
    vocab = ["a", "b", "c", "d"]
    # target = b - a + c = [0, 0, 2] is parallel to c; d is the best remaining word.
    embeddings = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 2.0], [0.0, 1.0, 1.0]],
                              dtype=torch.float64)
    assert analogy(embeddings, vocab, "a", "b", "c") == "d"


@pytest.mark.parametrize("seed", range(5))
def test_analogy_matches_brute_force(seed):
    gen = torch.Generator().manual_seed(seed)
    vocab = [f"w{i}" for i in range(12)]
    embeddings = torch.randn(12, 6, generator=gen, dtype=torch.float64)
    a, b, c = "w3", "w0", "w7"
    target = embeddings[0] - embeddings[3] + embeddings[7]
    candidates = [w for w in vocab if w not in (a, b, c)]
    best = max(candidates,
               key=lambda w: F.cosine_similarity(embeddings[vocab.index(w)], target, dim=0).item())
    assert analogy(embeddings, vocab, a, b, c) == best


def test_analogy_errors():
    embeddings = torch.eye(3, dtype=torch.float64)
    with pytest.raises(KeyError):
        analogy(embeddings, ["a", "b", "c"], "a", "b", "zzz")
    with pytest.raises(ValueError):
        analogy(embeddings, ["a", "b", "c"], "a", "b", "c")
