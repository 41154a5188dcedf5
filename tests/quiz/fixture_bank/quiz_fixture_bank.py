"""A small, fast exercise bank for the quiz tests: one exercise per answer kind the quiz
files must describe (integer, matrix, expression, single choice), each with misconceptions.
Loaded with `--bank tests/quiz/fixture_bank`; ids start with `qfix_`."""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.answers import Expression, Integer, Matrix, SingleChoice, shuffle_options
from grader.exercise import AnswerExercise, Misconception

Params = dict[str, Any]


def _conv_params(rng: np.random.Generator) -> Params:
    return {"n": int(rng.integers(8, 40)), "k": int(rng.choice([3, 5])), "p": int(rng.integers(1, 3)), "s": int(rng.choice([2, 3]))}


CONV = AnswerExercise(
    id="qfix_conv_size",
    title="Output size of a convolution",
    section=4,
    points=2,
    generate=_conv_params,
    prompt=(
        "An input of width $n = {{ n }}$ goes through a convolution with kernel size $k = {{ k }}$, "
        "padding $p = {{ p }}$ and stride $s = {{ s }}$. The output width is\n\n"
        "$$\\left\\lfloor \\frac{n + 2p - k}{s} \\right\\rfloor + 1.$$\n\nGive the output width."
    ),
    solve=lambda p: (p["n"] + 2 * p["p"] - p["k"]) // p["s"] + 1,
    check=Integer(),
    misconceptions=(
        Misconception("forgot_plus_one", "The output size ends with + 1.", lambda p: (p["n"] + 2 * p["p"] - p["k"]) // p["s"]),
        Misconception("forgot_padding", "Padding adds 2p to the input width.", lambda p: (p["n"] - p["k"]) // p["s"] + 1),
    ),
)


def _linear_params(rng: np.random.Generator) -> Params:
    return {
        "x": rng.integers(-3, 4, size=(2, 2)).tolist(),
        "w": rng.integers(-2, 3, size=(2, 3)).tolist(),
        "b": rng.integers(1, 4, size=3).tolist(),
    }


def _linear(p: Params, bias: bool = True) -> list[list[float]]:
    y = np.array(p["x"], dtype=float) @ np.array(p["w"], dtype=float)
    if bias:
        y = y + np.array(p["b"], dtype=float)
    return y.tolist()


LINEAR = AnswerExercise(
    id="qfix_linear_forward",
    title="Forward pass of a linear layer",
    section=2,
    points=1,
    generate=_linear_params,
    prompt=(
        "Compute $Y = X W + b$ for $X = {{ x | latex_matrix }}$, $W = {{ w | latex_matrix }}$ "
        "and $b = {{ b | latex_matrix }}$ (added to every row)."
    ),
    solve=_linear,
    check=Matrix(),
    misconceptions=(Misconception("forgot_bias", "The bias b is added to every row of XW.", lambda p: _linear(p, bias=False)),),
)

SIGMOID = AnswerExercise(
    id="qfix_sigmoid_derivative",
    title="Derivative of the sigmoid",
    section=2,
    points=0.5,
    generate=lambda rng: {"name": "s"},
    prompt="Let $s = \\sigma(z)$. Write $\\frac{d\\sigma}{dz}$ as an expression in ${{ name }}$.",
    solve=lambda p: "s*(1-s)",
    check=Expression(variables=("s",), domains={"s": (0.05, 0.95)}),
    misconceptions=(Misconception("wrong_sign", "It is s(1 - s): the sigmoid's slope shrinks as s nears 1.", lambda p: "s*(1+s)"),),
)


def _choice_params(rng: np.random.Generator) -> Params:
    options, key = shuffle_options(rng, "a saddle point", ["a local minimum", "a local maximum"])
    return {"options": options, "key": key, "a": int(rng.integers(1, 5)), "c": int(rng.integers(1, 5))}


CHOICE = AnswerExercise(
    id="qfix_critical_point",
    title="A critical point",
    section=2,
    points=1,
    generate=_choice_params,
    prompt=(
        "The Hessian at a critical point is $H = \\begin{bmatrix} {{ a }} & 0 \\\\ 0 & -{{ c }} \\end{bmatrix}$. "
        "What is the point?\n\n"
        "{% for letter, option in zip(letters(options | length), options) %}- **{{ letter }}.** {{ option }}\n{% endfor %}"
    ),
    solve=lambda p: p["key"],
    check=lambda p: SingleChoice(p["options"]),
    misconceptions=(
        Misconception(
            "reads_first_eigenvalue",
            "A positive and a negative eigenvalue make a saddle point.",
            lambda p: "ABC"[p["options"].index("a local minimum")],
        ),
    ),
)

EXERCISES = [CONV, LINEAR, SIGMOID, CHOICE]
