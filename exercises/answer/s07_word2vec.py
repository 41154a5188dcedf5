"""Answer exercises for section 7 of the concept sheet (word embeddings): skip-gram training
pairs and how many there are, CBOW versus skip-gram, the negative-sampling loss, and word
analogies on toy embeddings."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from grader.answers import Integer, Real, SingleChoice, Word, WordSequence, shuffle_options
from grader.answers.choice import letter_of
from grader.exercise import AnswerExercise, Misconception
from reference.optimization import log_softmax
from reference.word2vec import analogy, negative_sampling_loss, skipgram_pairs
from exercises.answer._common import F64, Params, tensor


SENTENCES = (
    "deep nets learn useful features",
    "the quick brown fox jumps",
    "students like short clear exams",
    "attention helps translate long sentences",
    "small models train very fast",
    "my dog chased a ball",
    "we read papers every week",
    "cold rain fell all night",
    "good embeddings capture word meaning",
    "kings and queens rule lands",
)


def _sentence(rng: np.random.Generator, length: int) -> list[str]:
    words = str(rng.choice(SENTENCES)).split()
    start = int(rng.integers(0, len(words) - length + 1))
    return words[start : start + length]


# --- skip-gram pairs of a sentence ------------------------------------------------------------


def _pairs_at_offsets(tokens: Sequence[str], offsets: Sequence[int]) -> tuple[tuple[str, str], ...]:
    """(center, context) pairs with the contexts at the given relative offsets, left to right."""
    n = len(tokens)
    return tuple(
        (tokens[i], tokens[i + d]) for i in range(n) for d in sorted(offsets) if 0 <= i + d < n
    )


def generate_skipgram_pairs(rng: np.random.Generator) -> Params:
    window = int(rng.integers(1, 3))
    return {"tokens": _sentence(rng, int(rng.integers(4, 6))), "window": window}


def solve_skipgram_pairs(p: Params) -> tuple[tuple[str, str], ...]:
    return tuple(skipgram_pairs(p["tokens"], p["window"]))


def _included_center(p: Params) -> tuple[tuple[str, str], ...]:
    return _pairs_at_offsets(p["tokens"], range(-p["window"], p["window"] + 1))


def _one_sided_window(p: Params) -> tuple[tuple[str, str], ...]:
    return _pairs_at_offsets(p["tokens"], range(1, p["window"] + 1))


SKIPGRAM_PAIRS = AnswerExercise(
    id="word2vec_skipgram_pairs",
    title="Skip-gram training pairs of a sentence",
    section=7,
    generate=generate_skipgram_pairs,
    prompt=r"""
Skip-gram is trained on the sentence

> {{ tokens | join(" ") }}

with a context window of size $w = {{ window }}$ (up to {{ window }} word{{ "s" if window > 1 else "" }} on
each side of the center word, cut off at the ends of the sentence).

List **every** training pair (center word, context word). Order: center words in sentence
order; for each center word, its context words from left to right.

Answer with a list of pairs, e.g. `[["a", "b"], ["b", "a"], ...]`.
""",
    solve=solve_skipgram_pairs,
    check=WordSequence(),
    misconceptions=(
        Misconception(
            "included_center",
            "The center word is not its own context: the window covers the w words on each side of it, not the word itself.",
            _included_center,
        ),
        Misconception(
            "one_sided_window",
            "The window reaches w words to the left and w words to the right of the center word, not only the following words.",
            _one_sided_window,
        ),
    ),
)


# --- number of skip-gram pairs -----------------------------------------------------------------


def generate_skipgram_pair_count(rng: np.random.Generator) -> Params:
    window = int(rng.integers(1, 4))
    return {"length": int(rng.integers(2 * window + 2, 16)), "window": window}


def solve_skipgram_pair_count(p: Params) -> int:
    return len(skipgram_pairs(range(p["length"]), p["window"]))


def _ignored_sentence_ends(p: Params) -> int:
    return 2 * p["window"] * p["length"]


def _one_sided_count(p: Params) -> int:
    return len(_pairs_at_offsets(range(p["length"]), range(1, p["window"] + 1)))


def _counted_center(p: Params) -> int:
    return solve_skipgram_pair_count(p) + p["length"]


SKIPGRAM_PAIR_COUNT = AnswerExercise(
    id="word2vec_skipgram_pair_count",
    title="How many skip-gram pairs a sentence gives",
    section=7,
    generate=generate_skipgram_pair_count,
    prompt=r"""
Skip-gram builds (center word, context word) training pairs from a sentence of
**{{ length }} words** (all different) with a context window of size $w = {{ window }}$: every
word is the center once, and its context words are the words at distance 1 to {{ window }} on
either side, cut off at the ends of the sentence.

How many training pairs does this sentence give? Answer with an integer.
""",
    solve=solve_skipgram_pair_count,
    check=Integer(),
    misconceptions=(
        Misconception(
            "ignored_sentence_ends",
            "Words near the start or end of the sentence have fewer than 2w context words: the window is cut off there.",
            _ignored_sentence_ends,
        ),
        Misconception(
            "one_sided_window",
            "Each word is the center of its own pairs, with context on both sides, so every neighbouring pair of words counts twice, once per direction.",
            _one_sided_count,
        ),
        Misconception(
            "included_center",
            "The center word is not its own context: a word never forms a pair with itself.",
            _counted_center,
        ),
    ),
)


# --- CBOW versus skip-gram ---------------------------------------------------------------------


def _example_texts(p: Params) -> dict[str, str]:
    """The training example each model (or mistake) builds around the center word."""
    left, center, right = p["left"], p["center"], p["right"]
    return {
        "cbow": f"input: the context words “{left}” and “{right}” → predict: “{center}”",
        "skipgram": f"input: “{center}” → predict: “{left}”, and separately predict: “{right}”",
        "language_model": f"input: the previous word “{left}” → predict: “{center}”",
        "reversed_language_model": f"input: “{center}” → predict: the next word “{right}” only",
    }


def generate_cbow_vs_skipgram(rng: np.random.Generator) -> Params:
    tokens = _sentence(rng, 5)
    position = int(rng.integers(1, 4))
    p: Params = {
        "model": str(rng.choice(["CBOW", "skip-gram"])),
        "tokens": tokens,
        "left": tokens[position - 1],
        "center": tokens[position],
        "right": tokens[position + 1],
    }
    texts = _example_texts(p)
    correct = texts["cbow" if p["model"] == "CBOW" else "skipgram"]
    p["options"], _ = shuffle_options(rng, correct, [t for t in texts.values() if t != correct])
    return p


def _example_letter(p: Params, example: str) -> str:
    return letter_of(p["options"], _example_texts(p)[example])


def solve_cbow_vs_skipgram(p: Params) -> str:
    return _example_letter(p, "cbow" if p["model"] == "CBOW" else "skipgram")


def _swapped_cbow_skipgram(p: Params) -> str:
    return _example_letter(p, "skipgram" if p["model"] == "CBOW" else "cbow")


def _one_sided_context(p: Params) -> str:
    return _example_letter(p, "language_model" if p["model"] == "CBOW" else "reversed_language_model")


CBOW_VS_SKIPGRAM = AnswerExercise(
    id="word2vec_cbow_vs_skipgram",
    title="What CBOW and skip-gram predict",
    section=7,
    generate=generate_cbow_vs_skipgram,
    prompt=r"""
A word2vec model is trained on the sentence

> {{ tokens | join(" ") }}

with a window of size 1. Which training example does **{{ model }}** build when
“{{ center }}” is the center (target) word?

{% for letter, option in zip(letters(options | length), options) %}
- **{{ letter }}.** {{ option }}
{% endfor %}

Answer with one letter.
""",
    solve=solve_cbow_vs_skipgram,
    check=lambda p: SingleChoice(p["options"]),
    misconceptions=(
        Misconception(
            "swapped_cbow_skipgram",
            "CBOW predicts the target word from its context words; skip-gram predicts each context word from the target word.",
            _swapped_cbow_skipgram,
        ),
        Misconception(
            "one_sided_context",
            "Word2vec's window is symmetric: the context holds the words on both sides of the target, not only the previous or next one.",
            _one_sided_context,
        ),
    ),
)


# --- the negative-sampling loss ----------------------------------------------------------------


def _small_vector(rng: np.random.Generator, dim: int) -> list[float]:
    return [float(v) for v in rng.choice([-1.0, -0.5, 0.5, 1.0, 1.5], size=dim)]


def generate_negative_sampling_loss(rng: np.random.Generator) -> Params:
    return {
        "v_c": _small_vector(rng, 2),
        "u_o": _small_vector(rng, 2),
        "u_neg": [_small_vector(rng, 2) for _ in range(2)],
    }


def _loss(v_c: Any, u_o: Any, u_neg: torch.Tensor) -> float:
    return negative_sampling_loss(tensor(v_c), tensor(u_o), u_neg).item()


def solve_negative_sampling_loss(p: Params) -> float:
    return _loss(p["v_c"], p["u_o"], tensor(p["u_neg"]))


def _wrong_sign_on_negatives(p: Params) -> float:
    # -log s(-(-u_k) . v_c) = -log s(u_k . v_c): the sign error, through the reference loss.
    return _loss(p["v_c"], p["u_o"], -tensor(p["u_neg"]))


def _forgot_negative_terms(p: Params) -> float:
    return _loss(p["v_c"], p["u_o"], torch.zeros(0, 2, dtype=F64))


def _used_softmax(p: Params) -> float:
    scores = torch.cat([tensor([p["u_o"]]), tensor(p["u_neg"])]) @ tensor(p["v_c"])
    return -log_softmax(scores)[0].item()


NEGATIVE_SAMPLING_LOSS = AnswerExercise(
    id="word2vec_negative_sampling_loss",
    title="Skip-gram negative-sampling loss",
    section=7,
    generate=generate_negative_sampling_loss,
    prompt=r"""
Skip-gram with negative sampling scores a (center, context) pair with the sigmoid
$\sigma(u_o^\top v_c)$ of a dot product. For one training pair the center word has the vector
$v_c = {{ v_c | latex_vector }}$, the true context word has the output vector
$u_o = {{ u_o | latex_vector }}$, and $K = 2$ negative (noise) words have the output vectors
$u_1 = {{ u_neg[0] | latex_vector }}$ and $u_2 = {{ u_neg[1] | latex_vector }}$.

Compute the negative-sampling loss of this training pair: the sum of the binary cross-entropy
losses of the true pair (label 1) and of the $K$ noise pairs (label 0), with the natural
logarithm. Give it to 4 significant figures.
""",
    solve=solve_negative_sampling_loss,
    check=Real(),
    misconceptions=(
        Misconception(
            "wrong_sign_on_negatives",
            "Noise words are labelled 0, so their terms are -log sigma(-u_k . v_c), with a minus sign inside the sigmoid.",
            _wrong_sign_on_negatives,
        ),
        Misconception(
            "forgot_negative_terms",
            "The loss also has one term -log sigma(-u_k . v_c) for every negative sample, not only the term of the true context word.",
            _forgot_negative_terms,
        ),
        Misconception(
            "used_softmax",
            "Negative sampling replaces the softmax by independent binary (sigmoid) decisions: real pair -> 1, each noise pair -> 0.",
            _used_softmax,
        ),
    ),
)


# --- analogies on toy embeddings ---------------------------------------------------------------

ANALOGY_WORDS = ("apple", "river", "stone", "cloud", "tiger", "piano", "lemon", "rocket", "violin", "forest", "candle", "mirror")
ANALOGY_VOCAB_SIZE = 8
ANALOGY_MARGIN = 0.02
ANALOGY_GRID = np.array([(x, y) for x in range(-4, 5) for y in range(-4, 5) if (x, y) != (0, 0)], dtype=float)

# How each solver ranks the words, for screening drawn embeddings (rows 0, 1, 2 are a, b, c):
# (signs of a, b, c in the target vector, exclude a, b, c?, rank by raw dot product?).
_SCREEN_RULES = {
    "correct": ((-1, 1, 1), True, False),
    "reversed_offset": ((1, -1, 1), True, False),
    "subtracted_c": ((-1, 1, -1), True, False),
    "did_not_exclude_inputs": ((-1, 1, 1), False, False),
    "used_dot_product": ((-1, 1, 1), True, True),
}


def _screen(vectors: np.ndarray, rules: Sequence[str]) -> np.ndarray:
    """For a batch of embeddings (B, V, 2): True where every rule picks a word by a clear
    margin and no two rules pick the same word (vectorized, so that drawing is fast)."""
    norms = np.hypot(vectors[..., 0], vectors[..., 1])
    is_candidate = np.arange(vectors.shape[1]) >= 3
    valid = np.ones(vectors.shape[0], dtype=bool)
    picks = []
    for rule in rules:
        signs, exclude, by_dot = _SCREEN_RULES[rule]
        target = sum(sign * vectors[:, i] for i, sign in enumerate(signs))
        target_norm = np.hypot(target[:, 0], target[:, 1])
        scores = np.einsum("bvk,bk->bv", vectors, target)
        with np.errstate(divide="ignore", invalid="ignore"):
            if not by_dot:
                scores = scores / (norms * target_norm[:, None])
            if exclude:
                scores = np.where(is_candidate, scores, -np.inf)
            best_two = -np.partition(-scores, 1, axis=1)[:, :2]
            valid &= (target_norm > 0) & (best_two[:, 0] - best_two[:, 1] >= ANALOGY_MARGIN)
        if by_dot:
            valid &= best_two[:, 0] > 0
        picks.append(np.argmax(scores, axis=1))
    for i in range(len(picks)):
        for j in range(i + 1, len(picks)):
            valid &= picks[i] != picks[j]
    return valid


def _draw_analogy_vectors(rng: np.random.Generator) -> np.ndarray:
    """Integer 2-d vectors (rows a, b, c, then the other words) on which the correct rule and
    every mistake give different clear answers: first seven words that separate the cosine
    rules, then an eighth word that the dot-product rule prefers."""
    first = ANALOGY_VOCAB_SIZE - 1
    while True:
        batch = ANALOGY_GRID[rng.integers(0, len(ANALOGY_GRID), size=(16, first))]
        for index in np.flatnonzero(_screen(batch, [r for r in _SCREEN_RULES if r != "used_dot_product"])):
            completed = np.concatenate(
                [np.broadcast_to(batch[index], (len(ANALOGY_GRID), first, 2)), ANALOGY_GRID[:, None, :]], axis=1
            )
            good = np.flatnonzero(_screen(completed, list(_SCREEN_RULES)))
            if len(good):
                return completed[int(rng.choice(good))]


def generate_analogy(rng: np.random.Generator) -> Params:
    vectors = _draw_analogy_vectors(rng)
    words = [str(w) for w in rng.choice(ANALOGY_WORDS, size=ANALOGY_VOCAB_SIZE, replace=False)]
    order = [int(i) for i in rng.permutation(ANALOGY_VOCAB_SIZE)]
    return {
        "vocab": [words[i] for i in order],
        "vectors": [[int(v) for v in vectors[i]] for i in order],
        "a": words[0],
        "b": words[1],
        "c": words[2],
    }


def _analogy_with(p: Params, signs: tuple[int, int, int]) -> str:
    """The reference analogy solver for the offset sign_a a + sign_b b + sign_c c: the
    reference computes v_b - v_a + v_c, so flipping a vector's sign flips its term."""
    vectors = tensor(p["vectors"])
    index = {w: i for i, w in enumerate(p["vocab"])}
    flips = torch.ones(len(p["vocab"]), 1, dtype=F64)
    for sign, expected, word in zip(signs, (-1, 1, 1), (p["a"], p["b"], p["c"])):
        flips[index[word]] = sign * expected
    return analogy(vectors * flips, p["vocab"], p["a"], p["b"], p["c"])


def solve_analogy(p: Params) -> str:
    return analogy(tensor(p["vectors"]), p["vocab"], p["a"], p["b"], p["c"])


def _reversed_offset(p: Params) -> str:
    return _analogy_with(p, (1, -1, 1))


def _subtracted_c(p: Params) -> str:
    return _analogy_with(p, (-1, 1, -1))


def _target(p: Params) -> torch.Tensor:
    index = {w: i for i, w in enumerate(p["vocab"])}
    vectors = tensor(p["vectors"])
    return vectors[index[p["b"]]] - vectors[index[p["a"]]] + vectors[index[p["c"]]]


def _used_dot_product(p: Params) -> str:
    scores = tensor(p["vectors"]) @ _target(p)
    scores[[p["vocab"].index(w) for w in (p["a"], p["b"], p["c"])]] = float("-inf")
    return p["vocab"][int(scores.argmax())]


def _did_not_exclude_inputs(p: Params) -> str:
    vectors = tensor(p["vectors"])
    cosines = vectors @ _target(p) / (vectors.norm(dim=1) * _target(p).norm())
    return p["vocab"][int(cosines.argmax())]


ANALOGY = AnswerExercise(
    id="word2vec_analogy",
    title="Word analogy by vector arithmetic",
    section=7,
    generate=generate_analogy,
    prompt=r"""
A toy embedding gives every word a 2-dimensional vector:

| word | vector |
|---|---|
{% for word, vector in zip(vocab, vectors) %}
| {{ word }} | $({{ vector[0] }}, {{ vector[1] }})$ |
{% endfor %}

Solve the analogy “**{{ a }}** is to **{{ b }}** as **{{ c }}** is to **?**” the word2vec way
(as in $v_{\text{king}} - v_{\text{man}} + v_{\text{woman}} \approx v_{\text{queen}}$): build the
target vector from the three given words and pick the word, other than {{ a }}, {{ b }} and
{{ c }}, whose vector has the highest cosine similarity with it.

Answer with the word.
""",
    solve=solve_analogy,
    check=lambda p: Word(p["vocab"]),
    misconceptions=(
        Misconception(
            "reversed_offset",
            "The offset goes from a to b and is added to c: the target is v_b - v_a + v_c, not v_a - v_b + v_c.",
            _reversed_offset,
        ),
        Misconception(
            "subtracted_c",
            "The b - a offset is added to c: the target is v_b - v_a + v_c, not v_b - v_a - v_c.",
            _subtracted_c,
        ),
        Misconception(
            "used_dot_product",
            "Analogies rank words by cosine similarity, which ignores vector length; the raw dot product favours long vectors.",
            _used_dot_product,
        ),
        Misconception(
            "did_not_exclude_inputs",
            "The three words of the question are excluded from the answer: the target vector is usually closest to b or c themselves.",
            _did_not_exclude_inputs,
        ),
    ),
)


EXERCISES = [SKIPGRAM_PAIRS, SKIPGRAM_PAIR_COUNT, CBOW_VS_SKIPGRAM, NEGATIVE_SAMPLING_LOSS, ANALOGY]
