"""Answer exercises for section 1 of the concept sheet: regularized loss, diagnosing over- and
underfitting, and the standard remedies for fit and gradient problems."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from grader.answers import MultipleChoice, SingleChoice, TrueFalse, shuffle_options
from grader.answers.choice import letter_of
from grader.exercise import AnswerExercise, Misconception
from reference.fundamentals import (
    GOOD_FIT,
    OVERFITTING,
    UNDERFITTING,
    diagnose_fit,
    fixes_for,
    gradient_problem_fixes,
    l1_penalty,
    l2_penalty,
    total_loss,
)
from exercises.answer._common import F64, FOUR_DECIMALS_REAL, Params


def _tensors(matrices: list[list[list[float]]]) -> list[torch.Tensor]:
    return [torch.tensor(m, dtype=F64) for m in matrices]


def _letters_of(options: list[str], texts: list[str] | set[str]) -> tuple[str, ...]:
    return tuple(sorted(letter_of(options, t) for t in texts if t in options))


def _differs_or_none(answer: Any, key: Any) -> Any:
    """A mistake that leads to the right answer on this variant does not apply to it."""
    return None if answer == key else answer


# --- total loss with an L1 or L2 penalty ---------------------------------------------------


def _half_steps(rng: np.random.Generator, shape: tuple[int, int]) -> list[list[float]]:
    """Entries in {-2, -1.5, ..., 2} without zeros, so every weight counts."""
    values = rng.choice([-2.0, -1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0], size=shape)
    return [[float(v) for v in row] for row in values]


def generate_regularized_loss(rng: np.random.Generator) -> Params:
    return {
        "kind": str(rng.choice(["l1", "l2"])),
        "data_loss": round(float(rng.uniform(0.3, 2.5)), 2),
        "lam": float(rng.choice([0.01, 0.02, 0.05, 0.1, 0.2])),
        "w1": _half_steps(rng, (3, 2)),
        "w2": _half_steps(rng, (1, 3)),
    }


def solve_regularized_loss(p: Params) -> float:
    weights = _tensors([p["w1"], p["w2"]])
    return total_loss(torch.tensor(p["data_loss"], dtype=F64), weights, p["lam"], p["kind"]).item()


def _penalty(p: Params, kind: str, lam: float) -> float:
    penalty = {"l1": l1_penalty, "l2": l2_penalty}[kind]
    return penalty(_tensors([p["w1"], p["w2"]]), lam).item()


def _forgot_lambda(p: Params) -> float:
    return p["data_loss"] + _penalty(p, p["kind"], 1.0)


def _mixed_up_l1_l2(p: Params) -> float:
    other = "l2" if p["kind"] == "l1" else "l1"
    return p["data_loss"] + _penalty(p, other, p["lam"])


def _norm_not_squared(p: Params) -> float | None:
    if p["kind"] != "l2":
        return None
    norms = sum(torch.linalg.matrix_norm(w).item() for w in _tensors([p["w1"], p["w2"]]))
    return p["data_loss"] + p["lam"] * norms


def _forgot_abs(p: Params) -> float | None:
    if p["kind"] != "l1":
        return None
    signed = sum(w.sum().item() for w in _tensors([p["w1"], p["w2"]]))
    return p["data_loss"] + p["lam"] * signed


def _forgot_data_loss(p: Params) -> float:
    return _penalty(p, p["kind"], p["lam"])


REGULARIZED_LOSS = AnswerExercise(
    id="fundamentals_regularized_loss",
    title="Total loss with a weight penalty",
    section=1,
    generator_version=2,
    generate=generate_regularized_loss,
    prompt=r"""
A two-layer network maps {{ w1[0] | length }} inputs to {{ w1 | length }} hidden units and those to
{{ w2 | length }} output{{ "s" if w2 | length > 1 else "" }} ($h = \sigma(W^1 x)$, $\hat y = W^2 h$; no biases), with weight matrices
$W^1 = {{ w1 | latex_matrix }}$ and $W^2 = {{ w2 | latex_matrix }}$.
On a minibatch its empirical (cross-entropy) loss is ${{ data_loss | num }}$.
It is trained with
{% if kind == "l2" %}
**L2** regularization, $\Omega(\theta) = \lambda \sum_k \lVert W^k \rVert_F^2$
{% else %}
**L1** regularization, $\Omega(\theta) = \lambda \sum_k \sum_{i,j} |W^k_{ij}|$
{% endif %}
with $\lambda = {{ lam | num }}$ (the penalty covers both matrices).

Compute the total loss $J(\theta)$ = empirical loss + $\Omega(\theta)$. Give a number to 4 decimal places.
""",
    solve=solve_regularized_loss,
    check=FOUR_DECIMALS_REAL,
    misconceptions=(
        Misconception(
            "forgot_lambda",
            "The penalty is multiplied by the regularization strength lambda before it is added to the loss.",
            _forgot_lambda,
        ),
        Misconception(
            "mixed_up_l1_l2",
            "L2 adds lambda times the sum of squared weights, L1 lambda times the sum of absolute weights: you used the other one.",
            _mixed_up_l1_l2,
        ),
        Misconception(
            "norm_not_squared",
            "The L2 penalty uses the squared Frobenius norm, i.e. the plain sum of squared entries, not the norm itself.",
            _norm_not_squared,
        ),
        Misconception(
            "forgot_abs",
            "The L1 penalty sums the absolute values of the weights, so negative weights add to it too.",
            _forgot_abs,
        ),
        Misconception(
            "forgot_data_loss",
            "The total loss is the empirical loss plus the penalty, not the penalty alone.",
            _forgot_data_loss,
        ),
    ),
)


# --- diagnosing the fit from accuracies ----------------------------------------------------

FIT_TEXT = {OVERFITTING: "Overfitting", UNDERFITTING: "Underfitting", GOOD_FIT: "A good fit"}
_SWAPPED = {OVERFITTING: UNDERFITTING, UNDERFITTING: OVERFITTING}


def _draw_accuracies(rng: np.random.Generator, case: str) -> tuple[int, int]:
    """Training and validation accuracy (percent) clearly inside one case of the rule."""
    if case == OVERFITTING:
        train = int(rng.integers(93, 100))
        return train, int(rng.integers(60, train - 14))
    if case == UNDERFITTING:
        train = int(rng.integers(52, 81))
        return train, int(rng.integers(train - 8, train))
    train = int(rng.integers(92, 99))
    return train, int(rng.integers(train - 6, train))


def _diagnosis(p: Params, *, gap: float = 0.1, use_validation: bool = True) -> str:
    val = p["val_acc"] if use_validation else p["train_acc"]
    return diagnose_fit(p["train_acc"] / 100, val / 100, gap=gap)


def generate_diagnose_fit(rng: np.random.Generator) -> Params:
    case = str(rng.choice([OVERFITTING, UNDERFITTING, GOOD_FIT]))
    train, val = _draw_accuracies(rng, case)
    options, _ = shuffle_options(rng, FIT_TEXT[case], [t for c, t in FIT_TEXT.items() if c != case])
    return {"train_acc": train, "val_acc": val, "options": options}


def _fit_letter(p: Params, diagnosis: str | None) -> str | None:
    return None if diagnosis is None else letter_of(p["options"], FIT_TEXT[diagnosis])


def solve_diagnose_fit(p: Params) -> str:
    return _fit_letter(p, _diagnosis(p))


def _judged_by_train_only(p: Params) -> str | None:
    return _differs_or_none(_fit_letter(p, _diagnosis(p, use_validation=False)), solve_diagnose_fit(p))


def _swapped_over_under(p: Params) -> str | None:
    return _fit_letter(p, _SWAPPED.get(_diagnosis(p)))


def _any_gap_is_overfitting(p: Params) -> str | None:
    return _differs_or_none(_fit_letter(p, _diagnosis(p, gap=0.0)), solve_diagnose_fit(p))


DIAGNOSE_FIT = AnswerExercise(
    id="fundamentals_diagnose_fit",
    title="Overfitting or underfitting?",
    section=1,
    generate=generate_diagnose_fit,
    prompt=r"""
After training, a classifier reaches **{{ train_acc }}%** accuracy on the training set and
**{{ val_acc }}%** on the validation set.

Use the course's rule of thumb: training accuracy is *high* when it is at least 90%, and the
gap between training and validation accuracy is *large* when it is more than 10 percentage points.
What describes this model best?

{% for letter, option in zip(letters(options | length), options) %}
- **{{ letter }}.** {{ option }}
{% endfor %}

Answer with one letter.
""",
    solve=solve_diagnose_fit,
    check=lambda p: SingleChoice(p["options"]),
    misconceptions=(
        Misconception(
            "judged_by_train_only",
            "A high training accuracy alone is not enough: a validation accuracy far below it means the model overfits.",
            _judged_by_train_only,
        ),
        Misconception(
            "swapped_over_under",
            "Overfitting is high training but low validation accuracy; underfitting is low accuracy on both sets.",
            _swapped_over_under,
        ),
        Misconception(
            "any_gap_is_overfitting",
            "Validation accuracy is almost always a little below training accuracy; only a large gap signals overfitting.",
            _any_gap_is_overfitting,
        ),
    ),
)


# --- remedies for over- and underfitting ---------------------------------------------------

REMEDY_TEXT = {
    "data augmentation": "Data augmentation",
    "l2 regularization": "L2 regularization (weight decay)",
    "dropout": "Dropout",
    "early stopping": "Early stopping",
    "bigger model": "A bigger model (more layers or units)",
    "train longer": "Training for more epochs",
    "gradient clipping": "Gradient clipping",
}


def _remedy_texts(names: tuple[str, ...] | list[str]) -> list[str]:
    return [REMEDY_TEXT[n] for n in names]


def generate_fit_remedies(rng: np.random.Generator) -> Params:
    case = str(rng.choice([OVERFITTING, UNDERFITTING]))
    train, val = _draw_accuracies(rng, case)
    every = list(REMEDY_TEXT.values())
    order = [int(i) for i in rng.permutation(len(every))]
    return {"train_acc": train, "val_acc": val, "options": [every[i] for i in order]}


def _remedy_letters(p: Params, diagnosis: str) -> tuple[str, ...]:
    return _letters_of(p["options"], _remedy_texts(fixes_for(diagnosis)))


def solve_fit_remedies(p: Params) -> tuple[str, ...]:
    return _remedy_letters(p, _diagnosis(p))


def _fixes_of_other_problem(p: Params) -> tuple[str, ...]:
    return _remedy_letters(p, _SWAPPED[_diagnosis(p)])


def _ticked_everything(p: Params) -> tuple[str, ...]:
    return _letters_of(p["options"], p["options"])


def _more_data_for_underfitting(p: Params) -> tuple[str, ...] | None:
    if _diagnosis(p) != UNDERFITTING:
        return None
    texts = _remedy_texts(fixes_for(UNDERFITTING)) + [REMEDY_TEXT["data augmentation"]]
    return _letters_of(p["options"], texts)


FIT_REMEDIES = AnswerExercise(
    id="fundamentals_fit_remedies",
    title="Remedies for over- and underfitting",
    section=1,
    generate=generate_fit_remedies,
    prompt=r"""
A classifier reaches **{{ train_acc }}%** training accuracy and **{{ val_acc }}%** validation
accuracy (training accuracy counts as high from 90%, and a gap of more than 10 percentage
points between the two is large).

Diagnose the problem, then select **every** option that is a standard remedy for it, i.e. that
directly counters this problem. Select none that counters the opposite problem (it would make this
one worse) or that addresses a different kind of problem, such as unstable gradients:

{% for letter, option in zip(letters(options | length), options) %}
- **{{ letter }}.** {{ option }}
{% endfor %}

Answer with a list of letters, e.g. `["A", "C"]`.
""",
    solve=solve_fit_remedies,
    check=lambda p: MultipleChoice(p["options"]),
    misconceptions=(
        Misconception(
            "fixes_of_other_problem",
            "Regularizers (data augmentation, L2, dropout, early stopping) fight overfitting; a bigger model and longer training fight underfitting.",
            _fixes_of_other_problem,
        ),
        Misconception(
            "ticked_everything",
            "Remedies are specific: regularization makes underfitting worse, and more capacity or training makes overfitting worse.",
            _ticked_everything,
        ),
        Misconception(
            "more_data_for_underfitting",
            "Data augmentation is a regularizer: it makes the training task harder and does not help a model that cannot fit the training set.",
            _more_data_for_underfitting,
        ),
    ),
)


# --- remedies for vanishing and exploding gradients ----------------------------------------

GRADIENT_FIX_TEXT = {
    "relu": "ReLU activations",
    "residual connections": "Residual (skip) connections",
    "batch norm": "Batch normalization",
    "he initialization": "He initialization",
    "gradient clipping": "Gradient clipping",
}
NEUTRAL_DISTRACTORS = {
    "vanishing": (
        "Sigmoid activations in every layer",
        "Removing the skip connections",
        "Initializing the weights with a much smaller standard deviation",
    ),
    "exploding": (
        "A larger learning rate",
        "Removing the skip connections",
        "Initializing the weights with a much larger standard deviation",
    ),
}
# The fix of the other problem that students most often transfer.
TEMPTING_FIX = {"vanishing": "gradient clipping", "exploding": "relu"}


def _gradient_fix_texts(problem: str) -> list[str]:
    return [GRADIENT_FIX_TEXT[n] for n in gradient_problem_fixes(problem)]


def generate_gradient_fixes(rng: np.random.Generator) -> Params:
    problem = str(rng.choice(["vanishing", "exploding"]))
    neutral = [str(t) for t in rng.choice(NEUTRAL_DISTRACTORS[problem], size=2, replace=False)]
    pool = _gradient_fix_texts(problem) + [GRADIENT_FIX_TEXT[TEMPTING_FIX[problem]]] + neutral
    order = [int(i) for i in rng.permutation(len(pool))]
    return {"problem": problem, "options": [pool[i] for i in order]}


def solve_gradient_fixes(p: Params) -> tuple[str, ...]:
    return _letters_of(p["options"], _gradient_fix_texts(p["problem"]))


def _other_problems_fix(p: Params) -> tuple[str, ...]:
    texts = _gradient_fix_texts(p["problem"]) + [GRADIENT_FIX_TEXT[TEMPTING_FIX[p["problem"]]]]
    return _letters_of(p["options"], texts)


def _missed_residual_connections(p: Params) -> tuple[str, ...]:
    texts = [t for t in _gradient_fix_texts(p["problem"]) if t != GRADIENT_FIX_TEXT["residual connections"]]
    return _letters_of(p["options"], texts)


GRADIENT_FIXES = AnswerExercise(
    id="fundamentals_gradient_fixes",
    title="Remedies for vanishing or exploding gradients",
    section=1,
    generate=generate_gradient_fixes,
    prompt=r"""
While training a deep network you observe **{{ problem }} gradients**: the gradient norms of
the early layers {% if problem == "vanishing" %}shrink towards 0{% else %}grow without bound{% endif %}.

Select **every** option that is a standard remedy for {{ problem }} gradients, i.e. that directly
counters them. Select none that only helps against the opposite problem or that would make this
one worse:

{% for letter, option in zip(letters(options | length), options) %}
- **{{ letter }}.** {{ option }}
{% endfor %}

Answer with a list of letters, e.g. `["A", "C"]`.
""",
    solve=solve_gradient_fixes,
    check=lambda p: MultipleChoice(p["options"]),
    misconceptions=(
        Misconception(
            "other_problems_fix",
            "Gradient clipping only caps gradients that are too large (exploding); ReLU, batch norm and He initialization address vanishing gradients.",
            _other_problems_fix,
        ),
        Misconception(
            "missed_residual_connections",
            "Residual (skip) connections help against both problems: the identity path carries the gradient unchanged.",
            _missed_residual_connections,
        ),
    ),
)


# --- L1 versus L2: statements --------------------------------------------------------------

# (statement, true?, the misconception a wrong answer reveals)
REGULARIZER_STATEMENTS: tuple[tuple[str, bool, str], ...] = (
    ("L1 regularization tends to drive many weights to exactly zero (sparse weights).", True, "l1_l2_swapped"),
    ("L2 regularization tends to drive many weights to exactly zero (sparse weights).", False, "l1_l2_swapped"),
    ("The L2 penalty is lambda times the sum of the squared weights, so it favours many small weights.", True, "l1_l2_swapped"),
    ("The L1 penalty is lambda times the sum of the squared weights.", False, "l1_l2_swapped"),
    ("Increasing lambda makes the regularization stronger: it pushes the weights harder towards 0.", True, "lambda_direction"),
    ("Setting lambda to 0 gives the strongest regularization.", False, "lambda_direction"),
    ("The total loss J is the empirical loss plus the regularization term.", True, "penalty_replaces_loss"),
    ("With regularization, the total loss J is the regularization term alone: it replaces the empirical loss.", False, "penalty_replaces_loss"),
)


def generate_regularizer_statement(rng: np.random.Generator) -> Params:
    index = int(rng.integers(len(REGULARIZER_STATEMENTS)))
    return {"statement_index": index, "statement": REGULARIZER_STATEMENTS[index][0]}


def _statement(p: Params) -> tuple[str, bool, str]:
    return REGULARIZER_STATEMENTS[p["statement_index"]]


def solve_regularizer_statement(p: Params) -> bool:
    return _statement(p)[1]


def _wrong_for(tag: str):
    def solve(p: Params) -> bool | None:
        _, truth, statement_tag = _statement(p)
        return (not truth) if statement_tag == tag else None

    return solve


REGULARIZER_STATEMENT = AnswerExercise(
    id="fundamentals_regularizer_statement",
    title="L1 and L2 regularization: true or false",
    section=1,
    generate=generate_regularizer_statement,
    prompt=r"""
True or false? {{ statement }}

Answer `true` or `false`.
""",
    solve=solve_regularizer_statement,
    check=TrueFalse(),
    misconceptions=(
        Misconception(
            "l1_l2_swapped",
            "L1 (lambda times the sum of absolute weights) gives sparse weights; L2 (lambda times the sum of squares) gives small weights.",
            _wrong_for("l1_l2_swapped"),
        ),
        Misconception(
            "lambda_direction",
            "Lambda scales the penalty: the larger lambda, the stronger the regularization; lambda = 0 switches it off.",
            _wrong_for("lambda_direction"),
        ),
        Misconception(
            "penalty_replaces_loss",
            "The total loss is the empirical loss plus the regularization term.",
            _wrong_for("penalty_replaces_loss"),
        ),
    ),
)

EXERCISES = [REGULARIZED_LOSS, DIAGNOSE_FIT, FIT_REMEDIES, GRADIENT_FIXES, REGULARIZER_STATEMENT]
