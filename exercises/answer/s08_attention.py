"""Answer exercises for section 8 of the concept sheet (seq2seq and attention): dot-product
attention weights and the context vector, the bottleneck of the encoder-decoder model, and the
roles of the decoder and encoder states in attention."""

from __future__ import annotations


import numpy as np
import torch

from grader.answers import Matrix, shuffle_options
from grader.exercise import AnswerExercise, Misconception
from reference.attention import attention_context, attention_weights, dot_product_scores
from exercises.answer._common import Params, choice_exercise, tensor


def _small_ints(rng: np.random.Generator, rows: int, cols: int) -> list[list[int]]:
    return [[int(v) for v in row] for row in rng.integers(-2, 3, size=(rows, cols))]


def _nonzero_rows(rng: np.random.Generator, rows: int, cols: int) -> list[list[int]]:
    while True:
        matrix = _small_ints(rng, rows, cols)
        if all(any(row) for row in matrix):
            return matrix


# --- attention weights of two decoder states -------------------------------------------------


def generate_attention_weights(rng: np.random.Generator) -> Params:
    return {"queries": _nonzero_rows(rng, 2, 2), "states": _nonzero_rows(rng, 3, 2)}


def _scores(p: Params) -> torch.Tensor:
    """Luong dot scores, one row per decoder state: (2, 3)."""
    return dot_product_scores(tensor(p["queries"]), tensor(p["states"]))


def solve_attention_weights(p: Params) -> list[list[float]]:
    return attention_weights(_scores(p)).tolist()


def _no_softmax(p: Params) -> list[list[float]]:
    return _scores(p).tolist()


def _softmax_over_queries(p: Params) -> list[list[float]]:
    return attention_weights(_scores(p).T).T.tolist()


ATTENTION_WEIGHTS = AnswerExercise(
    id="attention_dot_product_weights",
    title="Dot-product attention weights",
    section=8,
    generate=generate_attention_weights,
    prompt=r"""
A seq2seq decoder with dot-product attention (unscaled score
$\operatorname{score}(q_j, h_i) = q_j^\top h_i$) has two decoder states (queries), the rows of
$Q = {{ queries | latex_matrix }}$, and the encoder produced three states $h_1, h_2, h_3$, the rows of
$H = {{ states | latex_matrix }}$.

Compute the attention weights $\alpha_{ji}$ for both decoder steps $j$: a $2 \times 3$ matrix whose
row $j$ holds $\alpha_{j1}, \alpha_{j2}, \alpha_{j3}$. Give each entry to 4 significant figures,
as `[[a, b, c], [d, e, f]]`.
""",
    solve=solve_attention_weights,
    check=Matrix(),
    misconceptions=(
        Misconception(
            "no_softmax",
            "The weights are the softmax of the scores, alpha_ji = softmax_i(q_j . h_i): positive and summing to 1 over the encoder states.",
            _no_softmax,
        ),
        Misconception(
            "softmax_over_queries",
            "Each decoder step distributes its attention over the encoder states, so the softmax runs over i (each row sums to 1), not over the decoder steps.",
            _softmax_over_queries,
        ),
    ),
)


# --- the context vector ----------------------------------------------------------------------


def generate_context_vector(rng: np.random.Generator) -> Params:
    return {"query": _nonzero_rows(rng, 1, 2)[0], "states": _nonzero_rows(rng, 3, 2)}


def solve_context_vector(p: Params) -> list[float]:
    _, context = attention_context(tensor(p["query"]), tensor(p["states"]))
    return context.tolist()


def _context_from_raw_scores(p: Params) -> list[float]:
    states = tensor(p["states"])
    return (dot_product_scores(tensor(p["query"]), states) @ states).tolist()


def _uniform_average(p: Params) -> list[float]:
    return tensor(p["states"]).mean(0).tolist()


def _used_last_state(p: Params) -> list[float]:
    return [float(v) for v in p["states"][-1]]


CONTEXT_VECTOR = AnswerExercise(
    id="attention_context_vector",
    title="The attention context vector",
    section=8,
    generate=generate_context_vector,
    prompt=r"""
At one decoding step, a seq2seq decoder with dot-product attention has the state (query)
$q = {{ query | latex_vector }}$. The encoder states are $h_1, h_2, h_3$, the rows of
$H = {{ states | latex_matrix }}$.

With scores $q^\top h_i$ and weights $\alpha_i = \operatorname{softmax}_i(q^\top h_i)$, compute
the context vector $c$ that the decoder receives at this step. Give both entries to 4
significant figures, as `[c1, c2]`.
""",
    solve=solve_context_vector,
    check=Matrix(),
    misconceptions=(
        Misconception(
            "no_softmax",
            "The context is weighted by the softmax of the scores, c = sum_i alpha_i h_i, not by the raw scores.",
            _context_from_raw_scores,
        ),
        Misconception(
            "uniform_average",
            "Attention weights the encoder states by their relevance to the query; a plain average ignores the decoder state.",
            _uniform_average,
        ),
        Misconception(
            "used_last_state",
            "With attention the context is a weighted sum of all encoder states, recomputed at every step, not the final encoder state h_T.",
            _used_last_state,
        ),
    ),
)


# --- the bottleneck of the encoder-decoder model -----------------------------------------------

BOTTLENECK_CORRECT = (
    "The encoder squeezes the whole sentence into one fixed-size context vector (its final "
    "hidden state), and the decoder sees the input only through that vector."
)
BOTTLENECK_DISTRACTORS = {
    "thinks_decoder_too_slow": (
        "The decoder generates one word at a time, so long outputs take too long to compute."
    ),
    "thinks_vocabulary_limit": (
        "The softmax over the target vocabulary becomes less accurate as sentences get longer."
    ),
    "thinks_encoder_skips_words": (
        "The encoder can only read a fixed number of input words and drops the rest."
    ),
}
BOTTLENECK_FEEDBACK = {
    "thinks_decoder_too_slow": "Speed is not the issue: quality drops because all the input must pass through one fixed-size context vector.",
    "thinks_vocabulary_limit": "The output softmax does not depend on the sentence length; the problem is the single fixed-size context vector.",
    "thinks_encoder_skips_words": "An RNN encoder reads every word of any length; the problem is that all of them must fit into its final fixed-size state.",
}


def generate_bottleneck(rng: np.random.Generator) -> Params:
    options, _ = shuffle_options(rng, BOTTLENECK_CORRECT, list(BOTTLENECK_DISTRACTORS.values()))
    return {"length": int(rng.choice([30, 40, 50, 60])), "options": options}


BOTTLENECK = choice_exercise(
    id="attention_seq2seq_bottleneck",
    title="The bottleneck of the encoder-decoder model",
    section=8,
    generate=generate_bottleneck,
    prompt=r"""
An RNN encoder-decoder **without attention** translates short sentences well, but its
translations of {{ length }}-word sentences are much worse. What is the main reason, which
attention was introduced to fix?

{% for letter, option in zip(letters(options | length), options) %}
- **{{ letter }}.** {{ option }}
{% endfor %}

Answer with one letter.
""",
    correct=BOTTLENECK_CORRECT,
    distractors=BOTTLENECK_DISTRACTORS,
    feedback=BOTTLENECK_FEEDBACK,
)


# --- who is the query, who are the keys and values ---------------------------------------------

ROLES_CORRECT = (
    "The query is the current decoder state; the encoder states serve as keys and values; a "
    "new context is computed at every decoder step."
)
ROLES_DISTRACTORS = {
    "swapped_query_and_keys": (
        "The query is an encoder state; the decoder states serve as keys and values; a new "
        "context is computed at every decoder step."
    ),
    "static_context": (
        "The query is the current decoder state; the encoder states serve as keys and values; "
        "the context is computed once before decoding and reused at every step."
    ),
    "weights_over_features": (
        "The query is the current decoder state; the weights have one entry per feature of the "
        "encoder states and sum to 1 over the features."
    ),
}
ROLES_FEEDBACK = {
    "swapped_query_and_keys": "The decoder asks the question: its current state is the query, and it looks back at the encoder states (keys and values).",
    "static_context": "The context is dynamic: c_j = sum_i alpha_ji h_i is recomputed with the new decoder state at every step j.",
    "weights_over_features": "There is one weight per encoder state (per input position), and the softmax runs over the positions i.",
}


def generate_roles(rng: np.random.Generator) -> Params:
    options, _ = shuffle_options(rng, ROLES_CORRECT, list(ROLES_DISTRACTORS.values()))
    return {"step": int(rng.integers(2, 9)), "options": options}


ROLES = choice_exercise(
    id="attention_query_key_roles",
    title="Queries, keys and values in seq2seq attention",
    section=8,
    generate=generate_roles,
    prompt=r"""
A decoder with attention is producing output word number {{ step }}. It computes weights
$\alpha_{ji} = \operatorname{softmax}_i(\operatorname{score}(q_j, h_i))$ and a context
$c_j = \sum_i \alpha_{ji} h_i$. Which statement is right?

{% for letter, option in zip(letters(options | length), options) %}
- **{{ letter }}.** {{ option }}
{% endfor %}

Answer with one letter.
""",
    correct=ROLES_CORRECT,
    distractors=ROLES_DISTRACTORS,
    feedback=ROLES_FEEDBACK,
)


EXERCISES = [ATTENTION_WEIGHTS, CONTEXT_VECTOR, BOTTLENECK, ROLES]
