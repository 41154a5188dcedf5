"""Answer exercises for section 5 of the concept sheet: FGSM steps, the L-infinity budget and
its projection, and targeted versus untargeted objectives."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch

from grader.answers import Matrix, Real, SingleChoice, TrueFalse, shuffle_options
from grader.exercise import AnswerExercise, Misconception
from reference.adversarial import fgsm, project_linf
from exercises.answer._common import F64, Params, tensor


def _hundredths(rng: np.random.Generator, low: int, high: int, size: int) -> list[int]:
    return [int(v) for v in rng.integers(low, high + 1, size=size)]


# --- FGSM ----------------------------------------------------------------------------------


def _model_with_input_gradient(direction: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """Logits (0, x . direction): for label 0 the cross-entropy's input gradient is
    softmax(logits)[1] * direction, a positive multiple of `direction`, so FGSM's
    sign(gradient) is sign(direction)."""
    return lambda x: torch.stack([torch.zeros_like(x[:, 0]), x @ direction], dim=1)


def generate_fgsm_step(rng: np.random.Generator) -> Params:
    grad = [float(v) for v in rng.choice([-2.4, -1.5, -0.8, -0.3, -0.1, 0.2, 0.5, 0.9, 1.7, 3.1], size=4)]
    return {
        "x": [v / 100 for v in _hundredths(rng, 10, 90, 4)],
        "grad": grad,
        "eps": float(rng.choice([0.01, 0.02, 0.03, 0.05, 0.1])),
        "targeted": bool(rng.random() < 0.5),
    }


def solve_fgsm_step(p: Params) -> list[float]:
    model = _model_with_input_gradient(tensor(p["grad"]))
    x_adv = fgsm(model, tensor([p["x"]]), torch.tensor([0]), p["eps"], targeted=p["targeted"])
    return x_adv[0].tolist()


def _fgsm_by_hand(p: Params, step: Callable[[float], float], direction: float) -> list[float]:
    """x + direction * eps * step(g) per pixel; direction +1 untargeted, -1 targeted."""
    return [x + direction * p["eps"] * step(g) for x, g in zip(p["x"], p["grad"])]


def _right_direction(p: Params) -> float:
    return -1.0 if p["targeted"] else 1.0


def _sign(g: float) -> float:
    return math.copysign(1.0, g)


FGSM_STEP = AnswerExercise(
    id="adversarial_fgsm_step",
    title="One FGSM step",
    section=5,
    generate=generate_fgsm_step,
    prompt=r"""
An image has 4 pixels, $x = {{ x | latex_matrix }}$.
{% if targeted %}
An attacker wants the classifier to output a chosen **target** class $y_{target}$ (a targeted attack).
The gradient of the loss with respect to the input is
$\nabla_x\, l(f(x), y_{target}) = {{ grad | latex_matrix }}$.
{% else %}
An attacker wants the classifier to make **any** mistake on this image, whose true label is $y$ (an untargeted attack).
The gradient of the loss with respect to the input is
$\nabla_x\, l(f(x), y) = {{ grad | latex_matrix }}$.
{% endif %}

Do one step of the fast gradient sign method with $\epsilon = {{ eps | num }}$ (no clipping to a pixel range).
Give $x_{adv}$ as a vector of 4 numbers `[..]`.
""",
    solve=solve_fgsm_step,
    check=Matrix(),
    misconceptions=(
        Misconception(
            "wrong_direction",
            "Untargeted FGSM increases the loss of the true label (x + eps * sign(grad)); targeted FGSM decreases the loss of the target label (x - eps * sign(grad)).",
            lambda p: _fgsm_by_hand(p, _sign, -_right_direction(p)),
        ),
        Misconception(
            "used_raw_gradient",
            "FGSM moves every pixel by exactly eps in the direction of the gradient's sign, not by eps times the gradient.",
            lambda p: _fgsm_by_hand(p, lambda g: g, _right_direction(p)),
        ),
        Misconception(
            "forgot_eps",
            "The sign of the gradient is scaled by the budget eps: each pixel moves by eps, not by 1.",
            lambda p: [x + _right_direction(p) * _sign(g) for x, g in zip(p["x"], p["grad"])],
        ),
    ),
)


# --- projection onto the L-infinity ball ---------------------------------------------------


def generate_project_linf(rng: np.random.Generator) -> Params:
    eps = int(rng.choice([3, 5, 8, 10]))
    x = _hundredths(rng, 20, 80, 4)
    # Perturbations: one far above the budget, one far below, two of any size.
    delta = [eps + int(rng.integers(2, 9)), -eps - int(rng.integers(2, 9))] + _hundredths(rng, -eps - 6, eps + 6, 2)
    order = rng.permutation(4)
    return {
        "x": [x_i / 100 for x_i in x],
        "x_adv": [(x[i] + delta[j]) / 100 for i, j in enumerate(order)],
        "eps": eps / 100,
    }


def _project(p: Params) -> torch.Tensor:
    return project_linf(tensor(p["x_adv"]), tensor(p["x"]), p["eps"])


def _returned_perturbation(p: Params) -> list[float]:
    delta = tensor(p["x_adv"]) - tensor(p["x"])
    return project_linf(delta, torch.zeros(4, dtype=F64), p["eps"]).tolist()


def _rescaled_perturbation(p: Params) -> list[float]:
    delta = tensor(p["x_adv"]) - tensor(p["x"])
    return (tensor(p["x"]) + delta * p["eps"] / delta.abs().max()).tolist()


def _clipped_above_only(p: Params) -> list[float]:
    return torch.minimum(tensor(p["x_adv"]), tensor(p["x"]) + p["eps"]).tolist()


PROJECT_LINF = AnswerExercise(
    id="adversarial_project_linf",
    title="Project onto the L-infinity ball",
    section=5,
    generate=generate_project_linf,
    prompt=r"""
An attack must satisfy $\lVert x_{adv} - x \rVert_\infty \le \epsilon$ with $\epsilon = {{ eps | num }}$.
For the clean input $x = {{ x | latex_matrix }}$, a gradient step produced
$x' = {{ x_adv | latex_matrix }}$.

Project $x'$ back onto the allowed set (the closest point in the $L_\infty$ ball of radius
$\epsilon$ around $x$, as PGD does after each step). Give the projected $x_{adv}$ as a vector
of 4 numbers `[..]`.
""",
    solve=lambda p: _project(p).tolist(),
    check=Matrix(),
    misconceptions=(
        Misconception(
            "returned_perturbation",
            "The projection clips the perturbation into [-eps, eps] and adds it back to x: the answer is an image, x + clip(x' - x).",
            _returned_perturbation,
        ),
        Misconception(
            "rescaled_perturbation",
            "L-infinity projection clips each pixel's change separately; rescaling the whole perturbation also shrinks pixels that were already within eps.",
            _rescaled_perturbation,
        ),
        Misconception(
            "clipped_above_only",
            "The ball has two sides: clip each pixel into [x - eps, x + eps], so changes below -eps are cut too.",
            _clipped_above_only,
        ),
    ),
)


# --- is a perturbation within the budget? --------------------------------------------------


def generate_within_budget(rng: np.random.Generator) -> Params:
    eps = int(rng.choice([3, 4, 5, 8]))
    case = str(rng.choice(["within", "negative_violation", "positive_violation"]))
    if case == "within":
        delta = [eps, -eps + 1, eps - 1] + _hundredths(rng, -eps, eps, 1)
    elif case == "negative_violation":
        delta = [-eps - int(rng.integers(1, 4)), -eps - int(rng.integers(1, 4))] + _hundredths(rng, -eps, eps, 2)
    else:
        delta = [eps + int(rng.integers(1, 3))] + _hundredths(rng, -1, 1, 3)
    delta = [delta[i] for i in rng.permutation(4)]
    x = _hundredths(rng, 20, 80, 4)
    return {
        "x": [v / 100 for v in x],
        "x_adv": [(v + d) / 100 for v, d in zip(x, delta)],
        "eps": eps / 100,
        "delta_hundredths": delta,
        "eps_hundredths": eps,
    }


def solve_within_budget(p: Params) -> bool:
    projected = project_linf(tensor(p["x_adv"]), tensor(p["x"]), p["eps"])
    return bool(torch.allclose(projected, tensor(p["x_adv"]), rtol=0.0, atol=1e-12))


def _budget_verdicts(p: Params) -> dict[str, bool | None]:
    """Each mistake's verdict (exact, in hundredths), most common mistake first. A true/false
    question can only tell one mistake from the right answer, so the first verdict that is
    wrong keeps its tag and the others do not apply to this variant."""
    delta, eps = p["delta_hundredths"], p["eps_hundredths"]
    verdicts: dict[str, bool | None] = {
        "ignored_sign": max(delta) <= eps,
        "used_l2_norm": sum(d * d for d in delta) <= eps * eps,
        "used_mean_change": sum(abs(d) for d in delta) <= len(delta) * eps,
    }
    key, tagged = solve_within_budget(p), False
    for tag, verdict in verdicts.items():
        if verdict == key or tagged:
            verdicts[tag] = None
        tagged = tagged or verdicts[tag] is not None
    return verdicts


def _budget_mistake(tag: str):
    return lambda p: _budget_verdicts(p)[tag]


WITHIN_BUDGET = AnswerExercise(
    id="adversarial_within_budget",
    title="Does a perturbation respect the L-infinity budget?",
    section=5,
    generate=generate_within_budget,
    prompt=r"""
An attack on the input $x = {{ x | latex_matrix }}$ must satisfy
$\lVert x_{adv} - x \rVert_\infty \le \epsilon$ with $\epsilon = {{ eps | num }}$.
It proposes $x_{adv} = {{ x_adv | latex_matrix }}$.

True or false: $x_{adv}$ satisfies the constraint. Answer `true` or `false`.
""",
    solve=solve_within_budget,
    check=TrueFalse(),
    misconceptions=(
        Misconception(
            "used_l2_norm",
            "The L-infinity norm is the largest absolute change of a single pixel; the L2 norm of the whole perturbation is a different (larger) quantity.",
            _budget_mistake("used_l2_norm"),
        ),
        Misconception(
            "ignored_sign",
            "The constraint bounds the absolute change |x_adv - x| of each pixel: decreases count as much as increases.",
            _budget_mistake("ignored_sign"),
        ),
        Misconception(
            "used_mean_change",
            "The L-infinity norm is the maximum, not the mean, absolute change: one pixel changed by more than eps breaks the constraint.",
            _budget_mistake("used_mean_change"),
        ),
    ),
)


# --- L-infinity distance -------------------------------------------------------------------


def generate_linf_distance(rng: np.random.Generator) -> Params:
    x = _hundredths(rng, 20, 80, 4)
    delta = [int(v) for v in rng.choice([-9, -7, -6, -4, -3, -2, 1, 2, 3, 5, 6, 8], size=4, replace=False)]
    return {"x": [v / 100 for v in x], "x_adv": [(v + d) / 100 for v, d in zip(x, delta)]}


def _perturbation(p: Params) -> torch.Tensor:
    return tensor(p["x_adv"]) - tensor(p["x"])


def solve_linf_distance(p: Params) -> float:
    # reference.adversarial has no norm function; this is the norm its constraint uses.
    return _perturbation(p).abs().max().item()


LINF_DISTANCE = AnswerExercise(
    id="adversarial_linf_distance",
    title="Size of a perturbation in the L-infinity norm",
    section=5,
    generate=generate_linf_distance,
    prompt=r"""
A clean input $x = {{ x | latex_matrix }}$ was perturbed into $x_{adv} = {{ x_adv | latex_matrix }}$.

Compute $\lVert x_{adv} - x \rVert_\infty$, the size of the perturbation in the norm used by the
attack constraint. Give the exact value (it has at most 2 decimal places).
""",
    solve=solve_linf_distance,
    check=Real(),
    misconceptions=(
        Misconception(
            "ignored_abs",
            "The L-infinity norm takes the largest absolute change: a pixel that decreased by d counts as a change of |d|.",
            lambda p: _differs(_perturbation(p).max().item(), solve_linf_distance(p)),
        ),
        Misconception(
            "used_l2_norm",
            "The L-infinity norm is the largest single-pixel change, not the Euclidean length of the perturbation.",
            lambda p: torch.linalg.vector_norm(_perturbation(p)).item(),
        ),
        Misconception(
            "used_l1_norm",
            "The L-infinity norm is the largest single-pixel change, not the sum of all changes.",
            lambda p: _perturbation(p).abs().sum().item(),
        ),
    ),
)


def _differs(answer: float, key: float) -> float | None:
    return None if math.isclose(answer, key, rel_tol=1e-9) else answer


# --- targeted versus untargeted objectives -------------------------------------------------

OBJECTIVES = {
    ("max", "true"): r"$\max_{x'}\, l(f(x'), y_{true})$",
    ("min", "target"): r"$\min_{x'}\, l(f(x'), y_{target})$",
    ("min", "true"): r"$\min_{x'}\, l(f(x'), y_{true})$",
    ("max", "target"): r"$\max_{x'}\, l(f(x'), y_{target})$",
}
RIGHT_OBJECTIVE = {"untargeted": ("max", "true"), "targeted": ("min", "target")}
SCENARIOS = {
    "untargeted": (
        "make a traffic-sign classifier misread a stop sign as anything other than a stop sign",
        "make a spam filter's image classifier get a photo wrong, whatever the wrong class",
        "make a medical-image classifier give any wrong diagnosis for a scan",
    ),
    "targeted": (
        "make a traffic-sign classifier read a stop sign as a speed-limit sign",
        "make a face-recognition system identify the attacker as one specific authorized employee",
        "make an animal classifier label a photo of a cat as a toaster",
    ),
}


def generate_attack_objective(rng: np.random.Generator) -> Params:
    kind = str(rng.choice(["untargeted", "targeted"]))
    scenario = str(rng.choice(SCENARIOS[kind]))
    right = OBJECTIVES[RIGHT_OBJECTIVE[kind]]
    options, _ = shuffle_options(rng, right, [t for t in OBJECTIVES.values() if t != right])
    return {"kind": kind, "scenario": scenario, "options": options}


def _objective_letter(p: Params, objective: tuple[str, str]) -> str:
    return "ABCD"[p["options"].index(OBJECTIVES[objective])]


def solve_attack_objective(p: Params) -> str:
    return _objective_letter(p, RIGHT_OBJECTIVE[p["kind"]])


def _swapped_min_max(p: Params) -> str:
    direction, label = RIGHT_OBJECTIVE[p["kind"]]
    return _objective_letter(p, ("min" if direction == "max" else "max", label))


def _other_attack_type(p: Params) -> str:
    other = "targeted" if p["kind"] == "untargeted" else "untargeted"
    return _objective_letter(p, RIGHT_OBJECTIVE[other])


ATTACK_OBJECTIVE = AnswerExercise(
    id="adversarial_attack_objective",
    title="Targeted or untargeted: which objective?",
    section=5,
    generate=generate_attack_objective,
    prompt=r"""
An attacker wants to {{ scenario }}, by a small perturbation $x'$ of the input $x$
(within $\lVert x' - x \rVert_\infty \le \epsilon$). Here $l$ is the classifier's cross-entropy loss,
$y_{true}$ the input's correct label and $y_{target}$ a label the attacker chooses.

Which objective does the attacker optimize?

{% for letter, option in zip(letters(options | length), options) %}
- **{{ letter }}.** {{ option }}
{% endfor %}

Answer with one letter.
""",
    solve=solve_attack_objective,
    check=lambda p: SingleChoice(p["options"]),
    misconceptions=(
        Misconception(
            "swapped_min_max",
            "An untargeted attack maximizes the loss of the true label; a targeted attack minimizes the loss of the target label.",
            _swapped_min_max,
        ),
        Misconception(
            "other_attack_type",
            "Any misclassification is an untargeted attack (max loss of y_true); a specific wrong class is a targeted attack (min loss of y_target).",
            _other_attack_type,
        ),
    ),
)

EXERCISES = [FGSM_STEP, PROJECT_LINF, WITHIN_BUDGET, LINF_DISTANCE, ATTACK_OBJECTIVE]
