"""Answer exercises for section 11 of the concept sheet (parameter-efficient fine-tuning):
LoRA's trainable parameters and its saving over full fine-tuning, the LoRA forward pass and
merged weight, adapter and prompt-tuning parameter counts, and what stays frozen."""

from __future__ import annotations


import numpy as np
import torch

from grader.answers import Integer, Matrix, MultipleChoice, Real, shuffle_options_multi
from grader.exercise import AnswerExercise, Misconception
from reference.peft import (
    adapter_param_count,
    lora_linear,
    lora_merge,
    lora_param_count,
    prompt_tuning_param_count,
    trainable_fraction,
)
from exercises.answer._common import F64, Params, tensor

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"



def _int_matrix(rng: np.random.Generator, rows: int, cols: int, low: int, high: int) -> list[list[int]]:
    return [[int(v) for v in row] for row in rng.integers(low, high + 1, size=(rows, cols))]


# --- LoRA parameters of one layer ----------------------------------------------------------


def generate_lora_params(rng: np.random.Generator) -> Params:
    d_in, d_out = (int(v) for v in rng.choice([256, 512, 768, 1024, 2048, 3072, 4096], size=2, replace=False))
    return {"d_in": d_in, "d_out": d_out, "rank": int(rng.choice([2, 4, 8, 16, 32]))}


def solve_lora_params(p: Params) -> int:
    return lora_param_count(p["d_in"], p["d_out"], p["rank"])


def _multiplied_all_three(p: Params) -> int:
    return p["rank"] * p["d_in"] * p["d_out"]


def _forgot_matrix_b(p: Params) -> int:
    return p["rank"] * p["d_in"]


def _forgot_matrix_a(p: Params) -> int:
    return p["rank"] * p["d_out"]


def _counted_frozen_weight(p: Params) -> int:
    return solve_lora_params(p) + p["d_in"] * p["d_out"]


LORA_PARAMS = AnswerExercise(
    id="peft_lora_param_count",
    title="Trainable parameters of a LoRA layer",
    section=11,
    generate=generate_lora_params,
    prompt=r"""
A pre-trained linear layer maps $d_\text{in} = {{ d_in }}$ inputs to
$d_\text{out} = {{ d_out }}$ outputs with a weight $W$ of shape
$d_\text{out} \times d_\text{in}$. It is fine-tuned with LoRA of rank $r = {{ rank }}$:
$W_\text{new} = W + B A$ with $A$ of shape $r \times d_\text{in}$ and $B$ of shape
$d_\text{out} \times r$, and $W$ frozen.

How many parameters are trained in this layer? Answer with an integer.
""",
    solve=solve_lora_params,
    check=Integer(),
    misconceptions=(
        Misconception(
            "multiplied_all_three",
            "LoRA trains two thin matrices, A (r x d_in) and B (d_out x r): r (d_in + d_out) parameters, not r d_in d_out.",
            _multiplied_all_three,
        ),
        Misconception(
            "forgot_matrix_b",
            "Both A (r x d_in) and B (d_out x r) are trained: add the r d_out parameters of B.",
            _forgot_matrix_b,
        ),
        Misconception(
            "forgot_matrix_a",
            "Both A (r x d_in) and B (d_out x r) are trained: add the r d_in parameters of A.",
            _forgot_matrix_a,
        ),
        Misconception(
            "counted_frozen_weight",
            "The pre-trained W is frozen: only A and B are trained.",
            _counted_frozen_weight,
        ),
    ),
)


# --- trainable share of a LoRA-tuned model -------------------------------------------------


LORA_TARGETS = {
    2: "the query and value projections $W_Q$ and $W_V$",
    4: "the four attention projections $W_Q$, $W_K$, $W_V$ and $W_O$",
}


def generate_lora_share(rng: np.random.Generator) -> Params:
    d_model = int(rng.choice([512, 768, 1024, 2048]))
    layers = int(rng.choice([6, 12, 24, 32]))
    # about 12 d^2 weights per block, plus embeddings; a round figure as on model cards
    total = int(round(12 * layers * d_model**2 * float(rng.uniform(1.1, 1.6)), -6))
    adapted = int(rng.choice(list(LORA_TARGETS)))
    return {
        "d_model": d_model,
        "layers": layers,
        "rank": int(rng.choice([4, 8, 16])),
        "adapted": adapted,
        "targets": LORA_TARGETS[adapted],
        "total": total,
    }


def _share(p: Params, trainable: int) -> float:
    return 100 * trainable_fraction(trainable, p["total"])


def _lora_per_matrix(p: Params) -> int:
    return lora_param_count(p["d_model"], p["d_model"], p["rank"])


def solve_lora_share(p: Params) -> float:
    return _share(p, p["layers"] * p["adapted"] * _lora_per_matrix(p))


def _lora_one_layer_only(p: Params) -> float:
    return _share(p, p["adapted"] * _lora_per_matrix(p))


def _lora_share_forgot_one_matrix(p: Params) -> float:
    return _share(p, p["layers"] * p["adapted"] * p["rank"] * p["d_model"])


def _lora_share_multiplied_all_three(p: Params) -> float | None:
    trainable = p["layers"] * p["adapted"] * p["rank"] * p["d_model"] ** 2
    return None if trainable > p["total"] else _share(p, trainable)  # more than the whole model


LORA_SHARE = AnswerExercise(
    id="peft_lora_trainable_share",
    title="Share of parameters trained with LoRA",
    section=11,
    generate=generate_lora_share,
    prompt=r"""
A pre-trained transformer with {{ "{:,}".format(total) }} parameters has {{ layers }} blocks of
width $d_\text{model} = {{ d_model }}$. It is fine-tuned with LoRA of rank $r = {{ rank }}$ on
{{ targets }}
(each $d_\text{model} \times d_\text{model}$) of every block; everything else is frozen.

What percentage of the pre-trained model's {{ "{:,}".format(total) }} parameters is the number of
trained LoRA parameters (divide by the frozen model's count, without adding the LoRA
parameters to it)? Give a percentage (e.g. `0.25` for 0.25%) to 4 significant figures.
""",
    solve=solve_lora_share,
    check=Real(),
    misconceptions=(
        Misconception(
            "one_layer_only",
            "LoRA is added to the chosen projections of every block: multiply by the number of blocks.",
            _lora_one_layer_only,
        ),
        Misconception(
            "forgot_one_matrix",
            "Each adapted d x d matrix gets both A (r x d) and B (d x r): 2 r d parameters.",
            _lora_share_forgot_one_matrix,
        ),
        Misconception(
            "multiplied_all_three",
            "LoRA trains two thin matrices per adapted weight, r (d_in + d_out) parameters, not r d_in d_out.",
            _lora_share_multiplied_all_three,
        ),
    ),
)


# --- the LoRA forward pass -----------------------------------------------------------------

LORA_RANK = 2


def generate_lora_forward(rng: np.random.Generator) -> Params:
    return {
        "x": [int(v) for v in rng.integers(-2, 3, size=3)],
        "weight": _int_matrix(rng, 2, 3, -2, 2),
        "lora_a": _int_matrix(rng, LORA_RANK, 3, -1, 1),
        "lora_b": _int_matrix(rng, 2, LORA_RANK, -1, 1),
        "alpha": int(rng.choice([4, 6, 8])),
    }


def _lora_output(p: Params, weight: torch.Tensor, alpha: float) -> list[float]:
    return lora_linear(tensor(p["x"]), weight, tensor(p["lora_a"]), tensor(p["lora_b"]), alpha).tolist()


def solve_lora_forward(p: Params) -> list[float]:
    return _lora_output(p, tensor(p["weight"]), p["alpha"])


def _forward_forgot_scaling(p: Params) -> list[float]:
    return _lora_output(p, tensor(p["weight"]), LORA_RANK)  # alpha / r = 1


def _forward_scaled_by_alpha(p: Params) -> list[float]:
    return _lora_output(p, tensor(p["weight"]), p["alpha"] * LORA_RANK)  # alpha / r -> alpha


def _forgot_frozen_path(p: Params) -> list[float]:
    return _lora_output(p, torch.zeros(2, 3, dtype=F64), p["alpha"])


LORA_FORWARD = AnswerExercise(
    id="peft_lora_forward",
    title="Output of a LoRA layer",
    section=11,
    generate=generate_lora_forward,
    prompt=r"""
A LoRA layer computes $h = W x + \frac{\alpha}{r} B A x$ (no bias) with the frozen weight
$W = {{ weight | latex_matrix }}$, the trained matrices
$A = {{ lora_a | latex_matrix }}$ (rank $r = 2$) and $B = {{ lora_b | latex_matrix }}$, and the
scaling $\alpha = {{ alpha }}$.

Compute $h$ for the input $x = {{ x | latex_vector }}$. Give the vector as `[h1, h2]`.
""",
    solve=solve_lora_forward,
    check=Matrix(),
    misconceptions=(
        Misconception(
            "forgot_scaling",
            "The low-rank update is scaled by alpha / r before it is added to W x.",
            _forward_forgot_scaling,
        ),
        Misconception(
            "scaled_by_alpha_only",
            "The scaling factor is alpha divided by the rank r, not alpha alone.",
            _forward_scaled_by_alpha,
        ),
        Misconception(
            "forgot_frozen_path",
            "LoRA adds its update to the frozen layer's output: h = W x + (alpha / r) B A x, so W x stays.",
            _forgot_frozen_path,
        ),
    ),
)


# --- the merged weight ---------------------------------------------------------------------


def generate_lora_merge(rng: np.random.Generator) -> Params:
    return {
        "weight": _int_matrix(rng, 2, 3, -2, 2),
        "lora_a": _int_matrix(rng, LORA_RANK, 3, -1, 1),
        "lora_b": _int_matrix(rng, 2, LORA_RANK, -1, 1),
        "alpha": int(rng.choice([1, 4, 8])),
    }


def _merged(p: Params, weight: torch.Tensor, alpha: float) -> list[list[float]]:
    return lora_merge(weight, tensor(p["lora_a"]), tensor(p["lora_b"]), alpha).tolist()


def solve_lora_merge(p: Params) -> list[list[float]]:
    return _merged(p, tensor(p["weight"]), p["alpha"])


def _merge_forgot_scaling(p: Params) -> list[list[float]]:
    return _merged(p, tensor(p["weight"]), LORA_RANK)  # alpha / r = 1


def _forgot_frozen_weight(p: Params) -> list[list[float]]:
    return _merged(p, torch.zeros(2, 3, dtype=F64), p["alpha"])


LORA_MERGE = AnswerExercise(
    id="peft_lora_merge",
    title="Merging LoRA into the weight",
    section=11,
    generate=generate_lora_merge,
    prompt=r"""
After LoRA fine-tuning, the update is merged into the layer so that inference costs nothing
extra: $W_\text{new} = W + \frac{\alpha}{r} B A$. The frozen weight is
$W = {{ weight | latex_matrix }}$, the trained matrices are
$A = {{ lora_a | latex_matrix }}$ (rank $r = 2$) and $B = {{ lora_b | latex_matrix }}$, and
$\alpha = {{ alpha }}$.

Compute $W_\text{new}$ ($2 \times 3$), as `[[a, b, c], [d, e, f]]`.
""",
    solve=solve_lora_merge,
    check=Matrix(),
    misconceptions=(
        Misconception(
            "forgot_scaling",
            "The product B A is scaled by alpha / r before it is added to W.",
            _merge_forgot_scaling,
        ),
        Misconception(
            "forgot_frozen_weight",
            "The merged weight is the frozen W plus the scaled update, not the update alone.",
            _forgot_frozen_weight,
        ),
    ),
)


# --- adapters ------------------------------------------------------------------------------


def generate_adapter_params(rng: np.random.Generator) -> Params:
    return {
        "d_model": int(rng.choice([512, 768, 1024])),
        "bottleneck": int(rng.choice([16, 32, 64, 128])),
        "layers": int(rng.choice([6, 12, 24])),
    }


def solve_adapter_params(p: Params) -> int:
    return p["layers"] * 2 * adapter_param_count(p["d_model"], p["bottleneck"])


def _adapter_forgot_biases(p: Params) -> int:
    return p["layers"] * 2 * adapter_param_count(p["d_model"], p["bottleneck"], bias=False)


def _adapter_down_projection_only(p: Params) -> int:
    return p["layers"] * 2 * (p["d_model"] * p["bottleneck"] + p["bottleneck"])


def _one_adapter_per_block(p: Params) -> int:
    return p["layers"] * adapter_param_count(p["d_model"], p["bottleneck"])


ADAPTER_PARAMS = AnswerExercise(
    id="peft_adapter_param_count",
    title="Trainable parameters of bottleneck adapters",
    section=11,
    generate=generate_adapter_params,
    prompt=r"""
A frozen transformer with {{ layers }} blocks of width $d_\text{model} = {{ d_model }}$ is
fine-tuned with adapters: **two** adapters are inserted in every block (one after the attention,
one after the FFN). Each adapter is a small bottleneck FFN: a down-projection
$d_\text{model} \to {{ bottleneck }}$ with bias, a nonlinearity, and an up-projection
${{ bottleneck }} \to d_\text{model}$ with bias.

How many parameters are trained in total (adapters only)? Answer with an integer.
""",
    solve=solve_adapter_params,
    check=Integer(),
    misconceptions=(
        Misconception(
            "forgot_biases",
            "Each projection also has a bias: b values for the down-projection and d_model for the up-projection.",
            _adapter_forgot_biases,
        ),
        Misconception(
            "down_projection_only",
            "An adapter has two projections, down (d_model x b) and up (b x d_model), each with its bias.",
            _adapter_down_projection_only,
        ),
        Misconception(
            "one_adapter_per_block",
            "Every block has two adapters here: multiply the per-adapter count by 2 per block.",
            _one_adapter_per_block,
        ),
    ),
)


# --- prompt tuning -------------------------------------------------------------------------


def generate_prompt_tuning_params(rng: np.random.Generator) -> Params:
    return {
        "prompt_tokens": int(rng.choice([5, 10, 20, 50, 100])),
        "d_model": int(rng.choice([512, 768, 1024, 4096])),
        "layers": int(rng.choice([12, 24, 32])),
        "vocab": int(rng.choice([32000, 50257, 30522])),
    }


def solve_prompt_tuning_params(p: Params) -> int:
    return prompt_tuning_param_count(p["prompt_tokens"], p["d_model"])


def _prompts_in_every_layer(p: Params) -> int:
    return p["layers"] * solve_prompt_tuning_params(p)


def _trained_embedding_table(p: Params) -> int:
    return prompt_tuning_param_count(p["vocab"] + p["prompt_tokens"], p["d_model"])


PROMPT_TUNING_PARAMS = AnswerExercise(
    id="peft_prompt_tuning_param_count",
    title="Trainable parameters of prompt tuning",
    section=11,
    generate=generate_prompt_tuning_params,
    prompt=r"""
A frozen language model has {{ layers }} transformer blocks of width
$d_\text{model} = {{ d_model }}$ and a vocabulary of {{ vocab }} tokens. It is adapted to a new
task by **prompt tuning** with {{ prompt_tokens }} soft-prompt tokens: learnable vectors added to
the input, in front of the embedded tokens of every example.

How many parameters are trained? Answer with an integer.
""",
    solve=solve_prompt_tuning_params,
    check=Integer(),
    misconceptions=(
        Misconception(
            "prompts_in_every_layer",
            "Prompt tuning learns vectors at the input only; adding learnable vectors in every layer is prefix tuning.",
            _prompts_in_every_layer,
        ),
        Misconception(
            "trained_embedding_table",
            "The token embedding table stays frozen: only the soft-prompt vectors (one of size d_model per prompt token) are learned.",
            _trained_embedding_table,
        ),
    ),
)


# --- what is frozen under LoRA -------------------------------------------------------------

FROZEN_OPTIONS = {
    "w_q": "the pre-trained query projection $W_Q$",
    "w_v": "the pre-trained value projection $W_V$",
    "ffn": "the pre-trained feed-forward (FFN) weights",
    "embeddings": "the token embedding table",
    "lora_a": "the LoRA matrices $A$",
    "lora_b": "the LoRA matrices $B$",
}
PRETRAINED = ("w_q", "w_v", "ffn", "embeddings")
LORA = ("lora_a", "lora_b")


def generate_frozen_parts(rng: np.random.Generator) -> Params:
    asked = str(rng.choice(["frozen", "trained"]))
    correct = PRETRAINED if asked == "frozen" else LORA
    others = [name for name in FROZEN_OPTIONS if name not in correct]
    options, _ = shuffle_options_multi(
        rng, [FROZEN_OPTIONS[n] for n in correct], [FROZEN_OPTIONS[n] for n in others]
    )
    return {"asked": asked, "options": options}


def _letters(p: Params, names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(LETTERS[p["options"].index(FROZEN_OPTIONS[n])] for n in names))


def _answer_for(p: Params, trained: tuple[str, ...]) -> tuple[str, ...] | None:
    """The letters a student picks who believes exactly `trained` is updated (None when that
    belief leaves nothing to pick)."""
    names = trained if p["asked"] == "trained" else tuple(n for n in FROZEN_OPTIONS if n not in trained)
    return _letters(p, names) if names else None


def solve_frozen_parts(p: Params) -> tuple[str, ...]:
    return _answer_for(p, LORA)


def _thinks_adapted_weights_trained(p: Params) -> tuple[str, ...] | None:
    return _answer_for(p, LORA + ("w_q", "w_v"))


def _thinks_whole_model_trained(p: Params) -> tuple[str, ...] | None:
    return _answer_for(p, tuple(FROZEN_OPTIONS))


FROZEN_PARTS = AnswerExercise(
    id="peft_lora_frozen_parts",
    title="What LoRA freezes and what it trains",
    section=11,
    generate=generate_frozen_parts,
    prompt=r"""
A pre-trained transformer is fine-tuned with LoRA on the query and value projections
$W_Q$ and $W_V$ of every block ($W_\text{new} = W + BA$). Which of these are
**{{ asked }}** during fine-tuning? Select every one that is.

{% for letter, option in zip(letters(options | length), options) %}
- **{{ letter }}.** {{ option }}
{% endfor %}

Answer with a list of letters, e.g. `["A", "C"]`.
""",
    solve=solve_frozen_parts,
    check=lambda p: MultipleChoice(p["options"]),
    misconceptions=(
        Misconception(
            "thinks_adapted_weights_trained",
            "LoRA leaves W_Q and W_V themselves frozen: only the low-rank update B A added to them is trained.",
            _thinks_adapted_weights_trained,
        ),
        Misconception(
            "thinks_whole_model_trained",
            "PEFT freezes the whole pre-trained model; only the few new LoRA parameters are trained.",
            _thinks_whole_model_trained,
        ),
    ),
)


EXERCISES = [
    LORA_PARAMS,
    LORA_SHARE,
    LORA_FORWARD,
    LORA_MERGE,
    ADAPTER_PARAMS,
    PROMPT_TUNING_PARAMS,
    FROZEN_PARTS,
]
