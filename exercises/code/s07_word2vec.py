"""Code exercises of section 7: skip-gram pairs, the negative-sampling loss and word analogies
(skipgram_pairs, negative_sampling_loss, analogy).

Each misconception is a self-contained buggy implementation (math, torch and F only).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from exercises.code._common import case, code_exercise, fixed, hidden, randn, rounded, size, tensor
from grader.code.compare import type_name
from grader.code.exercise import CodeMisconception, TestCase, Tolerance, Verdict
from reference import word2vec

WORDS = (
    "king queen man woman prince princess boy girl paris france rome italy berlin germany "
    "madrid spain cat dog kitten puppy big bigger small smaller good better walk walked "
    "swim swam car road"
).split()


# ----------------------------------------------------------------------- skipgram_pairs


def _skipgram_with_center(tokens, window):
    pairs = []
    for i in range(len(tokens)):
        for j in range(max(0, i - window), min(len(tokens), i + window + 1)):
            pairs.append((tokens[i], tokens[j]))
    return pairs


def _skipgram_window_short(tokens, window):
    pairs = []
    for i in range(len(tokens)):
        for j in range(max(0, i - window + 1), min(len(tokens), i + window)):
            if j != i:
                pairs.append((tokens[i], tokens[j]))
    return pairs


def _skipgram_reversed(tokens, window):
    pairs = []
    for i in range(len(tokens)):
        for j in range(max(0, i - window), min(len(tokens), i + window + 1)):
            if j != i:
                pairs.append((tokens[j], tokens[i]))
    return pairs


def _skipgram_compare(test: TestCase, expected: Any, got: Any, tol: Tolerance, reveal: bool) -> Verdict:
    if type(got) not in (list, tuple):
        return Verdict(False, f"expected a list of (center, context) pairs, got {type_name(got)}")
    for index, pair in enumerate(got):
        if type(pair) not in (list, tuple) or len(pair) != 2 or any(type(word) is not str for word in pair):
            return Verdict(False, f"item {index} is not a (center, context) pair of strings")
    pairs = [(pair[0], pair[1]) for pair in got]
    for index, (want, have) in enumerate(zip(expected, pairs)):
        if want != have:
            detail = f": got {have}, expected {want}" if reveal else ""
            return Verdict(False, f"pair {index} is wrong{detail}")
    if len(pairs) != len(expected):
        return Verdict(False, f"{len(pairs)} pairs, expected {len(expected)}")
    return Verdict(True)


def _sentence(rng: np.random.Generator, length: int) -> list[str]:
    return [str(w) for w in rng.choice(WORDS, size=length, replace=True)]


def _skipgram_hidden(rng: np.random.Generator) -> list[TestCase]:
    return [
        hidden("window_one", _sentence(rng, size(rng, 4, 8)), 1),
        hidden("window_two", _sentence(rng, size(rng, 5, 10)), 2),
        hidden("wide_window", _sentence(rng, size(rng, 6, 10)), size(rng, 3, 4)),
        hidden("window_longer_than_sentence", _sentence(rng, 3), 5),
        hidden("one_token", _sentence(rng, 1), size(rng, 1, 3)),
    ]


SKIPGRAM_PAIRS = code_exercise(
    "def skipgram_pairs(tokens: list[str], window: int) -> list[tuple[str, str]]:",
    reference=word2vec.skipgram_pairs,
    title="Skip-gram training pairs",
    section=7,
    docstring="""Skip-gram training pairs (center, context).

For each position i of tokens, in order, the pairs (tokens[i], tokens[j]) for every
j != i with |i - j| <= window, j from left to right; the window is cut at the ends
of the list. Returns a list of (center, context) tuples.
Example: ["a", "b", "c"], window 1 -> [("a", "b"), ("b", "a"), ("b", "c"), ("c", "b")].""",
    public=[
        case("window_one", ["the", "cat", "sat", "on"], 1),
        case("window_two", ["a", "b", "c", "d", "e"], 2),
    ],
    hidden=_skipgram_hidden,
    compare=_skipgram_compare,
    misconceptions=[
        CodeMisconception(
            "includes_center",
            "A word is not its own context: skip j == i.",
            _skipgram_with_center,
        ),
        CodeMisconception(
            "window_off_by_one",
            "The window includes the words at distance exactly `window`: |i - j| <= window.",
            _skipgram_window_short,
        ),
        CodeMisconception(
            "pairs_reversed",
            "Skip-gram pairs are (center, context): the center word predicts its contexts.",
            _skipgram_reversed,
        ),
    ],
)

# --------------------------------------------------------------- negative_sampling_loss


def _ns_negatives_not_negated(v_c, u_o, u_neg):
    return -F.logsigmoid(u_o @ v_c) - F.logsigmoid(u_neg @ v_c).sum()


def _ns_mean_over_negatives(v_c, u_o, u_neg):
    return -F.logsigmoid(u_o @ v_c) - F.logsigmoid(-(u_neg @ v_c)).mean()


def _ns_unstable(v_c, u_o, u_neg):
    return -torch.log(torch.sigmoid(u_o @ v_c)) - torch.log(torch.sigmoid(-(u_neg @ v_c))).sum()


def _ns_hidden(rng: np.random.Generator) -> list[TestCase]:
    def vectors(d: int, k: int, scale: float = 1.0) -> tuple[torch.Tensor, ...]:
        return randn(rng, d, scale=scale), randn(rng, d, scale=scale), randn(rng, k, d, scale=scale)

    d = size(rng, 3, 6)
    direction = randn(rng, d)
    center = direction * (math.sqrt(2000.0) / direction.norm())  # scores near +-2000: exp underflows
    large = (center, -center + randn(rng, d), center.unsqueeze(0).repeat(2, 1) + randn(rng, 2, d))
    return [
        hidden("several_negatives", *vectors(size(rng, 3, 8), size(rng, 3, 6))),
        hidden("one_negative", *vectors(size(rng, 2, 6), 1)),
        hidden("long_vectors", *vectors(size(rng, 10, 16), size(rng, 2, 5), 0.5)),
        hidden("large_scores", *large),
    ]


NEGATIVE_SAMPLING_LOSS = code_exercise(
    "def negative_sampling_loss(v_c: torch.Tensor, u_o: torch.Tensor, u_neg: torch.Tensor) -> torch.Tensor:",
    reference=word2vec.negative_sampling_loss,
    title="Negative-sampling loss",
    section=7,
    docstring="""Skip-gram negative-sampling loss for one (center, context) pair.

v_c (d,) center vector, u_o (d,) true context vector, u_neg (K, d) negative samples.
Returns the 0-d tensor -log s(u_o . v_c) - sum_k log s(-u_k . v_c), s the sigmoid.
Must stay finite when the dot products are large (use F.logsigmoid or softplus).""",
    public=[
        case("two_negatives", tensor([0.5, -1.0, 0.25]), tensor([1.0, 0.0, 2.0]), tensor([[0.5, 0.5, 0.0], [-1.0, 1.0, 1.0]])),
        case("one_negative", tensor([1.0, 2.0]), tensor([0.5, -0.5]), tensor([[2.0, 1.0]])),
    ],
    hidden=_ns_hidden,
    misconceptions=[
        CodeMisconception(
            "negatives_not_negated",
            "Negative samples enter as log s(-u_k . v_c): the score of a negative pair is negated.",
            _ns_negatives_not_negated,
        ),
        CodeMisconception(
            "mean_over_negatives",
            "The loss sums the K negative terms; it does not average them.",
            _ns_mean_over_negatives,
        ),
        CodeMisconception(
            "unstable_log_sigmoid",
            "log(sigmoid(x)) underflows to -inf for large |x|: use F.logsigmoid (or -softplus(-x)).",
            _ns_unstable,
        ),
    ],
)

# ------------------------------------------------------------------------------ analogy


def _analogy_not_excluding(embeddings, vocab, a, b, c):
    index = {word: k for k, word in enumerate(vocab)}
    target = embeddings[index[b]] - embeddings[index[a]] + embeddings[index[c]]
    cosine = embeddings @ target / (embeddings.norm(dim=1) * target.norm())
    return vocab[int(cosine.argmax())]


def _analogy_dot_product(embeddings, vocab, a, b, c):
    index = {word: k for k, word in enumerate(vocab)}
    target = embeddings[index[b]] - embeddings[index[a]] + embeddings[index[c]]
    scores = embeddings @ target
    for word in (a, b, c):
        scores[index[word]] = -math.inf
    return vocab[int(scores.argmax())]


def _analogy_wrong_direction(embeddings, vocab, a, b, c):
    index = {word: k for k, word in enumerate(vocab)}
    target = embeddings[index[a]] - embeddings[index[b]] + embeddings[index[c]]
    cosine = embeddings @ target / (embeddings.norm(dim=1) * target.norm())
    for word in (a, b, c):
        cosine[index[word]] = -math.inf
    return vocab[int(cosine.argmax())]


def _cosine_margin(embeddings: torch.Tensor, vocab: list[str], a: str, b: str, c: str) -> float:
    index = {word: k for k, word in enumerate(vocab)}
    target = embeddings[index[b]] - embeddings[index[a]] + embeddings[index[c]]
    cosine = embeddings @ target / (embeddings.norm(dim=1) * target.norm())
    scores = sorted((float(cosine[k]) for k, word in enumerate(vocab) if word not in (a, b, c)), reverse=True)
    return scores[0] - scores[1]


def _analogy_case(rng: np.random.Generator, differs_from: Callable[..., str] | None) -> tuple[Any, ...]:
    """A vocabulary where the answer wins by a clear cosine margin and, when given, the
    buggy solver `differs_from` picks another word."""
    for _ in range(1000):
        count, dim = size(rng, 7, 12), size(rng, 3, 5)
        vocab = [str(w) for w in rng.choice(WORDS, size=count, replace=False)]
        embeddings = randn(rng, count, dim) * torch.from_numpy(rng.uniform(0.3, 3.0, (count, 1)))
        a, b, c = (vocab[int(k)] for k in rng.choice(count, size=3, replace=False))
        if _cosine_margin(embeddings, vocab, a, b, c) < 1e-3:
            continue
        answer = word2vec.analogy(embeddings, vocab, a, b, c)
        if differs_from is None or differs_from(embeddings.clone(), vocab, a, b, c) != answer:
            return embeddings, vocab, a, b, c
    raise RuntimeError("could not draw a discriminating analogy test")


def _analogy_hidden(rng: np.random.Generator) -> list[TestCase]:
    return [
        hidden("random_vocabulary", *_analogy_case(rng, None)),
        hidden("inputs_are_closest", *_analogy_case(rng, _analogy_not_excluding)),
        hidden("norms_differ", *_analogy_case(rng, _analogy_dot_product)),
        hidden("direction_matters", *_analogy_case(rng, _analogy_wrong_direction)),
    ]


_ANALOGY_VOCAB = ["man", "woman", "king", "queen", "apple"]
_ANALOGY_EMBEDDINGS = tensor([[1.0, 0.0, 0.2], [1.0, 1.0, 0.1], [3.0, 0.1, 2.0], [3.0, 1.0, 2.1], [-1.0, 0.5, -2.0]])
ANALOGY = code_exercise(
    "def analogy(embeddings: torch.Tensor, vocab: list[str], a: str, b: str, c: str) -> str:",
    reference=word2vec.analogy,
    title="Word analogies by cosine similarity",
    section=7,
    docstring="""Solve "a is to b as c is to ?" with word vectors.

embeddings (V, d): row k is the vector of vocab[k] (vocab a list of V words).
Returns the word w, not one of a, b, c, maximising cosine(v_w, v_b - v_a + v_c)
(cosine similarity, not the dot product). Returns a str.""",
    public=[
        case("king_queen", _ANALOGY_EMBEDDINGS, _ANALOGY_VOCAB, "man", "woman", "king"),
        case("random", rounded(randn(fixed(111), 6, 3)), ["paris", "france", "rome", "italy", "cat", "dog"],
             "paris", "france", "rome"),
    ],
    hidden=_analogy_hidden,
    misconceptions=[
        CodeMisconception(
            "inputs_not_excluded",
            "Exclude a, b and c from the candidates: the nearest vector is often one of them.",
            _analogy_not_excluding,
        ),
        CodeMisconception(
            "dot_product_not_cosine",
            "Rank candidates by cosine similarity; the raw dot product favours long vectors.",
            _analogy_dot_product,
        ),
        CodeMisconception(
            "wrong_direction",
            "The target vector is v_b - v_a + v_c (king - man + woman), not v_a - v_b + v_c.",
            _analogy_wrong_direction,
        ),
    ],
)


EXERCISES = [SKIPGRAM_PAIRS, NEGATIVE_SAMPLING_LOSS, ANALOGY]
