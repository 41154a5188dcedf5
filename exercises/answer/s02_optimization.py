"""Answer exercises for section 2 of the concept sheet: SGD, momentum and Adam steps, critical
points, and hand-written backprop (softmax + cross-entropy, ReLU, linear layer, sigmoid/tanh)."""

from __future__ import annotations

import math

import numpy as np
import torch

from grader.answers import Expression, Matrix, SingleChoice, shuffle_options
from grader.exercise import AnswerExercise, Misconception
from reference.optimization import (
    adam_step,
    classify_critical_point,
    linear_backward,
    momentum_step,
    relu_backward,
    sgd_step,
    softmax,
    softmax_cross_entropy,
)
from exercises.answer._common import F64, FOUR_DECIMALS_MATRIX, FOUR_DECIMALS_REAL, Params, tensor


def _ints(rng: np.random.Generator, low: int, high: int, shape: tuple[int, ...]) -> list:
    """Integers in [low, high] as nested plain-Python lists."""
    return rng.integers(low, high + 1, size=shape).tolist()


def _tenths(rng: np.random.Generator, low: float, high: float, shape: tuple[int, ...]) -> list:
    """Multiples of 0.1 in [low, high] as nested plain-Python lists of floats."""
    values = rng.integers(round(low * 10), round(high * 10) + 1, size=shape) / 10
    return values.tolist()


# --- minibatch SGD -------------------------------------------------------------------------


def generate_sgd_step(rng: np.random.Generator) -> Params:
    batch = int(rng.integers(3, 5))
    return {
        "theta": _tenths(rng, -1.0, 1.0, (2,)),
        "grads": _ints(rng, -4, 4, (batch, 2)),
        "lr": float(rng.choice([0.05, 0.1, 0.2, 0.5])),
    }


def solve_sgd_step(p: Params) -> list[float]:
    return sgd_step(tensor(p["theta"]), tensor(p["grads"]), p["lr"]).tolist()


def _summed_gradients(p: Params) -> list[float]:
    batch = len(p["grads"])
    return sgd_step(tensor(p["theta"]), tensor(p["grads"]) * batch, p["lr"]).tolist()


def _added_gradient(p: Params) -> list[float]:
    return sgd_step(tensor(p["theta"]), tensor(p["grads"]), -p["lr"]).tolist()


def _forgot_learning_rate(p: Params) -> list[float]:
    return sgd_step(tensor(p["theta"]), tensor(p["grads"]), 1.0).tolist()


SGD_STEP = AnswerExercise(
    id="optimization_sgd_step",
    title="One minibatch SGD step",
    section=2,
    generate=generate_sgd_step,
    prompt=r"""
A model has two parameters $\theta = {{ theta | latex_matrix }}$. On a minibatch of
$b = {{ grads | length }}$ examples, the gradients of the per-example losses are
{% for g in grads %}
$\nabla_\theta l_{{ loop.index }} = {{ g | latex_matrix }}${{ "," if not loop.last else "." }}
{% endfor %}

Do one step of minibatch SGD, $\theta_{t+1} = \theta_t - \eta \cdot \frac{1}{b}\sum_{k=1}^{b} \nabla_\theta l_k$,
with learning rate $\eta = {{ lr | num }}$.

Give $\theta_{t+1}$ as a vector `[θ1, θ2]` to 4 decimal places.
""",
    solve=solve_sgd_step,
    check=FOUR_DECIMALS_MATRIX,
    misconceptions=(
        Misconception(
            "summed_gradients",
            "Minibatch SGD averages the per-example gradients (divides their sum by b) before the step.",
            _summed_gradients,
        ),
        Misconception(
            "added_gradient",
            "Gradient descent moves against the gradient: subtract eta times the mean gradient.",
            _added_gradient,
        ),
        Misconception(
            "forgot_learning_rate",
            "The mean gradient is scaled by the learning rate eta before it is subtracted.",
            _forgot_learning_rate,
        ),
    ),
)


# --- SGD with momentum ---------------------------------------------------------------------


def generate_momentum_step(rng: np.random.Generator) -> Params:
    return {
        "theta": _tenths(rng, -1.0, 1.0, (2,)),
        "velocity": _tenths(rng, -2.0, 2.0, (2,)),
        "grad": _tenths(rng, -3.0, 3.0, (2,)),
        "lr": float(rng.choice([0.1, 0.2, 0.5])),
        "momentum": float(rng.choice([0.5, 0.8, 0.9])),
    }


def _momentum(p: Params, velocity: list[float], grad: list[float], lr: float) -> list[float]:
    theta, _ = momentum_step(tensor(p["theta"]), tensor(velocity), tensor(grad), lr, p["momentum"])
    return theta.tolist()


def solve_momentum_step(p: Params) -> list[float]:
    return _momentum(p, p["velocity"], p["grad"], p["lr"])


def _forgot_momentum(p: Params) -> list[float]:
    return _momentum(p, [0.0, 0.0], p["grad"], p["lr"])


def _averaged_velocity(p: Params) -> list[float]:
    damped = [(1 - p["momentum"]) * g for g in p["grad"]]
    return _momentum(p, p["velocity"], damped, p["lr"])


def _added_step(p: Params) -> list[float]:
    return _momentum(p, p["velocity"], p["grad"], -p["lr"])


MOMENTUM_STEP = AnswerExercise(
    id="optimization_momentum_step",
    title="One step of SGD with momentum",
    section=2,
    generate=generate_momentum_step,
    prompt=r"""
SGD with momentum (as `torch.optim.SGD(lr, momentum)`, no dampening) updates a velocity $v$ and the parameters:
$$v_{t+1} = \mu\, v_t + \nabla_\theta J(\theta_t), \qquad \theta_{t+1} = \theta_t - \eta\, v_{t+1}.$$

Currently $\theta_t = {{ theta | latex_matrix }}$, $v_t = {{ velocity | latex_matrix }}$, and the gradient is
$\nabla_\theta J(\theta_t) = {{ grad | latex_matrix }}$. The learning rate is $\eta = {{ lr | num }}$ and the momentum $\mu = {{ momentum | num }}$.

Give $\theta_{t+1}$ as a vector `[θ1, θ2]` to 4 decimal places.
""",
    solve=solve_momentum_step,
    check=FOUR_DECIMALS_MATRIX,
    misconceptions=(
        Misconception(
            "forgot_momentum",
            "The step uses the new velocity mu * v_t + gradient, not the gradient alone.",
            _forgot_momentum,
        ),
        Misconception(
            "averaged_velocity",
            "In this (PyTorch) form the gradient is added to mu * v_t as it is, not scaled by (1 - mu).",
            _averaged_velocity,
        ),
        Misconception(
            "added_step",
            "The parameters move against the velocity: theta_{t+1} = theta_t - eta * v_{t+1}.",
            _added_step,
        ),
    ),
)


# --- Adam ----------------------------------------------------------------------------------

ADAM_LR = 0.1


def generate_adam_steps(rng: np.random.Generator) -> Params:
    steps = int(rng.integers(1, 3))
    grads = [float(g) for g in rng.choice([-3, -2, -1, -0.5, 0.5, 1, 2, 3, 4], size=steps)]
    return {"theta": round(float(rng.uniform(-1, 1)), 1), "grads": grads, "lr": ADAM_LR}


def solve_adam_steps(p: Params) -> float:
    param, m, v = tensor(p["theta"]), tensor(0.0), tensor(0.0)
    for t, grad in enumerate(p["grads"], start=1):
        param, m, v = adam_step(param, tensor(grad), m, v, t, lr=p["lr"])
    return param.item()


def _adam_by_hand(p: Params, *, bias_correction: bool = True, sqrt: bool = True, sign: float = 1.0) -> float:
    """Adam written out, with one part switched off, for the misconceptions."""
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    param, m, v = p["theta"], 0.0, 0.0
    for t, grad in enumerate(p["grads"], start=1):
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad * grad
        m_hat = m / (1 - beta1**t) if bias_correction else m
        v_hat = v / (1 - beta2**t) if bias_correction else v
        scale = math.sqrt(v_hat) if sqrt else v_hat
        param -= sign * p["lr"] * m_hat / (scale + eps)
    return param


ADAM_STEPS = AnswerExercise(
    id="optimization_adam_steps",
    title="Adam's first steps",
    section=2,
    generate=generate_adam_steps,
    prompt=r"""
A single parameter $\theta_0 = {{ theta | num }}$ is trained with Adam (as `torch.optim.Adam`):
learning rate $\eta = {{ lr | num }}$, $\beta_1 = 0.9$, $\beta_2 = 0.999$, $\epsilon = 10^{-8}$,
and moments starting at $m_0 = v_0 = 0$. At step $t$ (counting from 1) with gradient $g_t$:
$$m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,\quad
\hat m_t = \frac{m_t}{1-\beta_1^t},\quad \hat v_t = \frac{v_t}{1-\beta_2^t},\quad
\theta_t = \theta_{t-1} - \eta\,\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}.$$

{% if grads | length == 1 %}
The gradient at step 1 is $g_1 = {{ grads[0] | num }}$. Give $\theta_1$ to 4 decimal places.
{% else %}
The gradients are $g_1 = {{ grads[0] | num }}$ and $g_2 = {{ grads[1] | num }}$. Give $\theta_2$ to 4 decimal places.
{% endif %}
""",
    solve=solve_adam_steps,
    check=FOUR_DECIMALS_REAL,
    misconceptions=(
        Misconception(
            "forgot_bias_correction",
            "Divide m_t by (1 - beta1^t) and v_t by (1 - beta2^t): without it the early steps use moments biased towards 0.",
            lambda p: _adam_by_hand(p, bias_correction=False),
        ),
        Misconception(
            "forgot_sqrt",
            "Adam divides by the square root of the second moment, sqrt(v_hat), not by v_hat itself.",
            lambda p: _adam_by_hand(p, sqrt=False),
        ),
        Misconception(
            "added_update",
            "Adam moves against the first moment: theta_t = theta_{t-1} - eta * m_hat / (sqrt(v_hat) + eps).",
            lambda p: _adam_by_hand(p, sign=-1.0),
        ),
    ),
)


# --- critical points -----------------------------------------------------------------------

POINT_TEXT = {
    "minimum": "A local minimum",
    "maximum": "A local maximum",
    "saddle": "A saddle point",
    "degenerate": "The Hessian cannot tell (the second-order test is inconclusive)",
}


def _hessian_of_kind(rng: np.random.Generator, kind: str) -> list[list[int]]:
    """A symmetric 2x2 integer Hessian whose critical point is of `kind` (never degenerate)."""
    while True:
        a, b, d = (int(v) for v in rng.integers(-5, 6, size=3))
        det, trace = a * d - b * b, a + d
        found = {
            "minimum": det > 0 and trace > 0,
            "maximum": det > 0 and trace < 0,
            "saddle": det < 0 and trace != 0 and b != 0,
        }[kind]
        if found:
            return [[a, b], [b, d]]


def generate_critical_point(rng: np.random.Generator) -> Params:
    kind = str(rng.choice(["minimum", "maximum", "saddle"]))
    hessian = _hessian_of_kind(rng, kind)
    options, _ = shuffle_options(rng, POINT_TEXT[kind], [t for k, t in POINT_TEXT.items() if k != kind])
    return {"hessian": hessian, "options": options}


def _point_letter(p: Params, kind: str) -> str:
    return "ABCD"[p["options"].index(POINT_TEXT[kind])]


def solve_critical_point(p: Params) -> str:
    return _point_letter(p, classify_critical_point(tensor(p["hessian"])))


def _judged_by_trace(p: Params) -> str | None:
    (a, _), (_, d) = p["hessian"]
    guess = _point_letter(p, "minimum" if a + d > 0 else "maximum")
    return None if guess == solve_critical_point(p) else guess


def _judged_by_determinant_only(p: Params) -> str | None:
    (a, b), (_, d) = p["hessian"]
    guess = _point_letter(p, "minimum" if a * d - b * b > 0 else "saddle")
    return None if guess == solve_critical_point(p) else guess


CRITICAL_POINT = AnswerExercise(
    id="optimization_critical_point",
    title="Classify a critical point from its Hessian",
    section=2,
    generate=generate_critical_point,
    prompt=r"""
At a point $\theta^*$ the gradient of a loss $J(\theta_1, \theta_2)$ is zero, $\nabla_\theta J(\theta^*) = 0$,
and the Hessian there is
$$H = {{ hessian | latex_matrix }}.$$

What kind of critical point is $\theta^*$?

{% for letter, option in zip(letters(options | length), options) %}
- **{{ letter }}.** {{ option }}
{% endfor %}

Answer with one letter.
""",
    solve=solve_critical_point,
    check=lambda p: SingleChoice(p["options"]),
    misconceptions=(
        Misconception(
            "judged_by_trace",
            "The trace is only the sum of the eigenvalues: a saddle point has eigenvalues of both signs whatever their sum.",
            _judged_by_trace,
        ),
        Misconception(
            "judged_by_determinant_only",
            "A positive determinant means both eigenvalues have the same sign, but they can be both negative (a maximum): check the trace or a diagonal entry too.",
            _judged_by_determinant_only,
        ),
    ),
)


# --- softmax + cross-entropy gradient ------------------------------------------------------


def generate_softmax_ce_grad(rng: np.random.Generator) -> Params:
    return {"logits": _tenths(rng, -2.0, 2.0, (2, 3)), "labels": _ints(rng, 0, 2, (2,))}


def _one_hot(p: Params) -> torch.Tensor:
    return torch.nn.functional.one_hot(torch.tensor(p["labels"]), num_classes=3).to(F64)


def solve_softmax_ce_grad(p: Params) -> list[list[float]]:
    _, dlogits = softmax_cross_entropy(tensor(p["logits"]), torch.tensor(p["labels"]))
    return dlogits.tolist()


def _forgot_one_hot(p: Params) -> list[list[float]]:
    return (softmax(tensor(p["logits"]), dim=1) / 2).tolist()


def _forgot_batch_mean(p: Params) -> list[list[float]]:
    return (softmax(tensor(p["logits"]), dim=1) - _one_hot(p)).tolist()


def _onehot_minus_p(p: Params) -> list[list[float]]:
    return ((_one_hot(p) - softmax(tensor(p["logits"]), dim=1)) / 2).tolist()


SOFTMAX_CE_GRAD = AnswerExercise(
    id="optimization_softmax_ce_grad",
    title="Gradient of softmax cross-entropy",
    section=2,
    generate=generate_softmax_ce_grad,
    prompt=r"""
A classifier outputs logits $h$ for a batch of $N = 2$ examples and 3 classes (one row per example):
$$h = {{ logits | latex_matrix }},$$
with true labels $y = ({{ labels[0] }}, {{ labels[1] }})$ (classes numbered from 0). The loss is the
**mean** over the batch of the softmax cross-entropy, $l = -\frac{1}{N}\sum_n \log p_{n, y_n}$ with
$p = \mathrm{softmax}(h)$ row by row (natural log).

Give $\partial l / \partial h$ as a 2x3 matrix `[[..], [..]]` to 4 decimal places.
""",
    solve=solve_softmax_ce_grad,
    check=FOUR_DECIMALS_MATRIX,
    misconceptions=(
        Misconception(
            "forgot_one_hot",
            "The gradient with respect to the logits is (p - onehot(y)) / N: subtract 1 at each example's true class.",
            _forgot_one_hot,
        ),
        Misconception(
            "forgot_batch_mean",
            "The loss is the mean over the N examples, so every row of the gradient is divided by N.",
            _forgot_batch_mean,
        ),
        Misconception(
            "onehot_minus_p",
            "The sign is p - onehot(y): increasing the true class's logit lowers the loss, so its gradient entry is negative.",
            _onehot_minus_p,
        ),
    ),
)


# --- ReLU backward -------------------------------------------------------------------------


def generate_relu_backward(rng: np.random.Generator) -> Params:
    x = [0] + _ints(rng, -3, -1, (1,)) + _ints(rng, 1, 3, (1,)) + _ints(rng, -3, 3, (2,))
    order = rng.permutation(len(x))
    upstream = [float(v) for v in rng.choice([-2.5, -2, -1.5, -1, -0.5, 0.5, 1, 1.5, 2, 2.5], size=5)]
    return {"x": [int(x[i]) for i in order], "dout": upstream}


def solve_relu_backward(p: Params) -> list[float]:
    return relu_backward(tensor(p["dout"]), tensor(p["x"])).tolist()


def _zero_input_passes(p: Params) -> list[float]:
    # relu_backward with the input nudged up: x = 0 is then treated as positive.
    return relu_backward(tensor(p["dout"]), tensor(p["x"]) + 0.5).tolist()


def _forgot_upstream(p: Params) -> list[float]:
    return relu_backward(torch.ones(5, dtype=F64), tensor(p["x"])).tolist()


def _gated_by_upstream_sign(p: Params) -> list[float]:
    return relu_backward(tensor(p["dout"]), tensor(p["dout"])).tolist()


RELU_BACKWARD = AnswerExercise(
    id="optimization_relu_backward",
    title="Backward pass through a ReLU",
    section=2,
    generate=generate_relu_backward,
    prompt=r"""
A ReLU layer computes $h' = \max(h, 0)$ elementwise. In the forward pass its input was
$h = {{ x | latex_matrix }}$, and the backward pass brings the upstream gradient
$\partial l / \partial h' = {{ dout | latex_matrix }}$.

Use the course's convention for the derivative: $\sigma'(x) = 1$ if $x > 0$ and $0$ if $x \le 0$.
Give $\partial l / \partial h$ as a vector of 5 numbers `[..]`.
""",
    solve=solve_relu_backward,
    check=Matrix(),
    misconceptions=(
        Misconception(
            "zero_input_passes",
            "The ReLU derivative is 0 for x <= 0, including x exactly 0, so no gradient flows back there.",
            _zero_input_passes,
        ),
        Misconception(
            "forgot_upstream",
            "Backprop multiplies the upstream gradient by the local derivative: dl/dh = dl/dh' * 1[h > 0], not the mask alone.",
            _forgot_upstream,
        ),
        Misconception(
            "gated_by_upstream_sign",
            "Whether the gradient passes depends on the sign of the forward input h, not on the sign of the upstream gradient.",
            _gated_by_upstream_sign,
        ),
    ),
)


# --- linear layer: dW ----------------------------------------------------------------------


def generate_linear_dw(rng: np.random.Generator) -> Params:
    while True:
        x, dout = _ints(rng, -2, 3, (2, 3)), _ints(rng, -2, 2, (2, 2))
        if x[0] != x[1] and dout[0] != dout[1]:  # two different examples
            return {"x": x, "dout": dout}


def _dw(x: torch.Tensor, dout: torch.Tensor) -> torch.Tensor:
    weight = torch.zeros(x.shape[1], dout.shape[1], dtype=F64)  # dW does not depend on W
    return linear_backward(x, weight, dout)[1]


def solve_linear_dw(p: Params) -> list[list[float]]:
    return _dw(tensor(p["x"]), tensor(p["dout"])).tolist()


def _transposed(p: Params) -> list[list[float]]:
    return _dw(tensor(p["x"]), tensor(p["dout"])).T.tolist()


def _forgot_upstream_dw(p: Params) -> list[list[float]]:
    return _dw(tensor(p["x"]), torch.ones(2, 2, dtype=F64)).tolist()


def _divided_by_batch(p: Params) -> list[list[float]]:
    return (_dw(tensor(p["x"]), tensor(p["dout"])) / 2).tolist()


LINEAR_DW = AnswerExercise(
    id="optimization_linear_dw",
    title="Weight gradient of a linear layer",
    section=2,
    generate=generate_linear_dw,
    prompt=r"""
A linear layer computes $h = xW + b$ for a batch of $N = 2$ inputs (one per row),
with $W$ of shape $3 \times 2$. The inputs and the upstream gradient are
$$x = {{ x | latex_matrix }}, \qquad \frac{\partial l}{\partial h} = {{ dout | latex_matrix }}.$$
The upstream gradient already includes any averaging over the batch.

Give $\partial l / \partial W$ as a 3x2 matrix `[[..], [..], [..]]`.
""",
    solve=solve_linear_dw,
    check=Matrix(),
    misconceptions=(
        Misconception(
            "transposed",
            "dW = x^T (dl/dh) has the shape of W (D_in x D_out); (dl/dh)^T x is its transpose.",
            _transposed,
        ),
        Misconception(
            "forgot_upstream",
            "dW = x^T (dl/dh): each input row is weighted by its upstream gradient, not summed as it is.",
            _forgot_upstream_dw,
        ),
        Misconception(
            "divided_by_batch",
            "dW = x^T (dl/dh) sums over the batch; the 1/N is already inside the upstream gradient.",
            _divided_by_batch,
        ),
    ),
)


# --- sigmoid and tanh backward as expressions ----------------------------------------------

# The derivative of each activation written in its output s; checked against
# reference.optimization.sigmoid_backward / tanh_backward in the tests.
LOCAL_DERIVATIVE = {"sigmoid": "s*(1-s)", "tanh": "1-s^2"}
WRONG_FORM = {"sigmoid": "s*(1+s)", "tanh": "(1-s)^2"}
ACTIVATION_EXPRESSION = Expression(variables=("s", "u"), domains={"s": (0.05, 0.95), "u": (-2.0, 2.0)})


def generate_activation_backward(rng: np.random.Generator) -> Params:
    return {"activation": str(rng.choice(["sigmoid", "tanh"]))}


def _times_upstream(derivative: str) -> str:
    return f"u*({derivative})"


def solve_activation_backward(p: Params) -> str:
    return _times_upstream(LOCAL_DERIVATIVE[p["activation"]])


def _other_activations_derivative(p: Params) -> str:
    other = "tanh" if p["activation"] == "sigmoid" else "sigmoid"
    return _times_upstream(LOCAL_DERIVATIVE[other])


ACTIVATION_BACKWARD = AnswerExercise(
    id="optimization_activation_backward",
    title="Backward pass through a sigmoid or tanh",
    section=2,
    generate=generate_activation_backward,
    prompt=r"""
An activation layer computes $h' = \sigma(h)$ elementwise with
{% if activation == "sigmoid" %}the logistic sigmoid $\sigma(h) = 1 / (1 + e^{-h})${% else %}$\sigma(h) = \tanh(h)${% endif %}.
For one element, write $s = \sigma(h)$ for its output and $u = \partial l / \partial h'$ for the upstream gradient.

Give $\partial l / \partial h$ as an expression in `s` and `u` only (no `h`), e.g. `u*(2-s)`.
""",
    solve=solve_activation_backward,
    check=ACTIVATION_EXPRESSION,
    misconceptions=(
        Misconception(
            "forgot_upstream",
            "By the chain rule dl/dh = dl/dh' * sigma'(h): multiply the local derivative by the upstream gradient u.",
            lambda p: LOCAL_DERIVATIVE[p["activation"]],
        ),
        Misconception(
            "other_activations_derivative",
            "The sigmoid's derivative is s(1 - s); the tanh's is 1 - s^2.",
            _other_activations_derivative,
        ),
        Misconception(
            "wrong_form",
            "Differentiate carefully: sigmoid'(h) = s(1 - s) and tanh'(h) = 1 - s^2, with s the activation's output.",
            lambda p: _times_upstream(WRONG_FORM[p["activation"]]),
        ),
    ),
)

EXERCISES = [
    SGD_STEP,
    MOMENTUM_STEP,
    ADAM_STEPS,
    CRITICAL_POINT,
    SOFTMAX_CE_GRAD,
    RELU_BACKWARD,
    LINEAR_DW,
    ACTIVATION_BACKWARD,
]
