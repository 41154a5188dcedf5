"""Answer exercises for section 6 of the concept sheet: RNN and LSTM steps, LSTM parameter
counts (as a number and as a formula), and sequence topologies for tasks."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from grader.answers import Expression, Integer, SingleChoice, shuffle_options
from grader.exercise import AnswerExercise, Misconception
from reference.optimization import sigmoid
from reference.rnn import (
    MANY_TO_MANY,
    MANY_TO_ONE,
    ONE_TO_MANY,
    TASK_TOPOLOGIES,
    lstm_cell,
    lstm_cell_from_gates,
    lstm_param_count,
    rnn_cell,
    rnn_param_count,
    topology_for,
)
from exercises.answer._common import F64, FOUR_DECIMALS_MATRIX, FOUR_DECIMALS_REAL, Params, tensor


def _tenths(rng: np.random.Generator, low: float, high: float, size: int) -> list[float]:
    return (rng.integers(round(low * 10), round(high * 10) + 1, size=size) / 10).tolist()


# --- LSTM cell update from gate values -----------------------------------------------------


def generate_lstm_update(rng: np.random.Generator) -> Params:
    return {
        "i": _tenths(rng, 0.1, 0.9, 2),
        "f": _tenths(rng, 0.1, 0.9, 2),
        "g": _tenths(rng, -0.9, 0.9, 2),
        "o": _tenths(rng, 0.1, 0.9, 2),
        "c_prev": _tenths(rng, -2.0, 2.0, 2),
    }


def solve_lstm_update(p: Params) -> list[list[float]]:
    h, c = lstm_cell_from_gates(tensor(p["i"]), tensor(p["f"]), tensor(p["g"]), tensor(p["o"]), tensor(p["c_prev"]))
    return [c.tolist(), h.tolist()]


def _update_by_hand(p: Params, *, input_gate: bool = True, swap: bool = False, squash: bool = True) -> list[list[float]]:
    """The update written out per unit, with one mistake switched on, as rows [c_t, h_t]."""
    c_rows, h_rows = [], []
    for i, f, g, o, c_prev in zip(p["i"], p["f"], p["g"], p["o"], p["c_prev"]):
        if swap:
            i, f = f, i
        c = f * c_prev + (i if input_gate else 1.0) * g
        c_rows.append(c)
        h_rows.append(o * (math.tanh(c) if squash else c))
    return [c_rows, h_rows]


LSTM_UPDATE = AnswerExercise(
    id="rnn_lstm_update",
    title="LSTM cell and hidden state from gate values",
    section=6,
    generate=generate_lstm_update,
    prompt=r"""
An LSTM with hidden size 2 has, at time step $t$, the previous cell state
$c_{t-1} = {{ c_prev | latex_matrix }}$ and these gate values:
input gate $i_t = {{ i | latex_matrix }}$, forget gate $f_t = {{ f | latex_matrix }}$,
candidate $\tilde c_t = {{ g | latex_matrix }}$, output gate $o_t = {{ o | latex_matrix }}$.

Compute the new cell state $c_t$ and hidden state $h_t$ (elementwise products, $\tanh$ as usual).
Give them as a 2x2 matrix `[[c1, c2], [h1, h2]]` (first row $c_t$, second row $h_t$) to 4 decimal places.
""",
    solve=solve_lstm_update,
    check=FOUR_DECIMALS_MATRIX,
    misconceptions=(
        Misconception(
            "no_tanh",
            "The hidden state squashes the cell state before gating it: h_t = o_t * tanh(c_t).",
            lambda p: _update_by_hand(p, squash=False),
        ),
        Misconception(
            "forgot_input_gate",
            "The input gate scales the new candidate: c_t = f_t * c_{t-1} + i_t * c~_t.",
            lambda p: _update_by_hand(p, input_gate=False),
        ),
        Misconception(
            "swapped_forget_input",
            "The forget gate multiplies the old cell state c_{t-1}; the input gate multiplies the candidate c~_t.",
            lambda p: _update_by_hand(p, swap=True),
        ),
    ),
)


# --- LSTM step from pre-activations (gate order) ----------------------------------------------


def generate_lstm_preactivations(rng: np.random.Generator) -> Params:
    return {"z": _tenths(rng, -2.0, 2.0, 4), "c_prev": _tenths(rng, -1.5, 1.5, 1)[0]}


def solve_lstm_preactivations(p: Params) -> float:
    # One unit, no input weights of its own: x = z with W_ih = I, so the gate pre-activations are z.
    h, _ = lstm_cell(
        tensor([p["z"]]),
        torch.zeros(1, 1, dtype=F64),
        tensor([[p["c_prev"]]]),
        torch.eye(4, dtype=F64),
        torch.zeros(4, 1, dtype=F64),
    )
    return h.item()


def _gates(p: Params, order: str = "ifgo", candidate: str = "tanh") -> dict[str, float]:
    """Gate values when the 4 pre-activations are read in `order` and the candidate uses
    `candidate` ("tanh" is right, "sigmoid" a mistake)."""
    z = tensor(p["z"])
    squashed = {"sigmoid": sigmoid(z).tolist(), "tanh": torch.tanh(z).tolist()}
    position = {name: index for index, name in enumerate(order)}
    gates = {name: squashed["sigmoid"][position[name]] for name in "ifo"}
    gates["g"] = squashed[candidate][position["g"]]
    return gates


def _h_with(p: Params, gates: dict[str, float]) -> float:
    return gates["o"] * math.tanh(gates["f"] * p["c_prev"] + gates["i"] * gates["g"])


def _no_tanh_on_cell(p: Params) -> float:
    gates = _gates(p)
    return gates["o"] * (gates["f"] * p["c_prev"] + gates["i"] * gates["g"])


LSTM_PREACTIVATIONS = AnswerExercise(
    id="rnn_lstm_preactivations",
    title="One LSTM step from the gate pre-activations",
    section=6,
    generate=generate_lstm_preactivations,
    prompt=r"""
A PyTorch `nn.LSTMCell` with hidden size 1 computes the 4 pre-activations
$z = W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}$, stacked in PyTorch's gate order
**(input $i$, forget $f$, candidate $g$, output $o$)**. For one step,
$z = {{ z | latex_matrix }}$ and the previous cell state is $c_{t-1} = {{ c_prev | num }}$.

The gates are $i, f, o = \mathrm{sigmoid}(z_i, z_f, z_o)$ and the candidate is
$g = \tanh(z_g)$; then $c_t = f c_{t-1} + i g$ and $h_t = o \tanh(c_t)$.

Give $h_t$ to 4 decimal places.
""",
    solve=solve_lstm_preactivations,
    check=FOUR_DECIMALS_REAL,
    misconceptions=(
        Misconception(
            "gate_order_ifog",
            "PyTorch stacks the gates as i, f, g, o: the third block is the candidate g and the fourth the output gate o.",
            lambda p: _h_with(p, _gates(p, order="ifog")),
        ),
        Misconception(
            "sigmoid_candidate",
            "The candidate c~_t = g uses tanh (values in -1..1); only the three gates i, f, o use the sigmoid.",
            lambda p: _h_with(p, _gates(p, candidate="sigmoid")),
        ),
        Misconception(
            "no_tanh",
            "The hidden state is h_t = o_t * tanh(c_t): squash the cell state before the output gate.",
            _no_tanh_on_cell,
        ),
    ),
)


# --- LSTM parameter count ------------------------------------------------------------------


def generate_lstm_param_count(rng: np.random.Generator) -> Params:
    hidden, inputs = (int(v) for v in rng.choice([16, 20, 32, 50, 64, 100, 128, 256], size=2, replace=False))
    return {"input_size": inputs, "hidden_size": hidden, "num_layers": int(rng.choice([1, 1, 2]))}


def _lstm_params(p: Params, **overrides: Any) -> int:
    args = {"input_size": p["input_size"], "hidden_size": p["hidden_size"], "num_layers": p["num_layers"]}
    return lstm_param_count(**{**args, **overrides})


def _one_bias_vector(p: Params) -> int:
    return _lstm_params(p) - 4 * p["hidden_size"] * p["num_layers"]


def _upper_layer_input_is_x(p: Params) -> int | None:
    if p["num_layers"] == 1:
        return None
    return p["num_layers"] * _lstm_params(p, num_layers=1)


def _forgot_recurrent_weights(p: Params) -> int:
    return _lstm_params(p) - 4 * p["hidden_size"] ** 2 * p["num_layers"]


LSTM_PARAM_COUNT = AnswerExercise(
    id="rnn_lstm_param_count",
    title="Parameters of an LSTM",
    section=6,
    generate=generate_lstm_param_count,
    prompt=r"""
How many learnable parameters does
`nn.LSTM(input_size={{ input_size }}, hidden_size={{ hidden_size }}, num_layers={{ num_layers }})` have?
Count as PyTorch does: per layer, the input-to-hidden weights, the hidden-to-hidden weights and
**two** bias vectors ($b_{ih}$ and $b_{hh}$) for the 4 gates{% if num_layers > 1 %}; each layer above the first takes the previous layer's hidden state as its input{% endif %}.

Give an integer.
""",
    solve=_lstm_params,
    check=Integer(),
    misconceptions=(
        Misconception(
            "forgot_four_gates",
            "An LSTM has 4 gates (i, f, g, o), each with its own weights and biases: 4 times the parameters of a plain RNN.",
            lambda p: rnn_param_count(p["input_size"], p["hidden_size"], num_layers=p["num_layers"]),
        ),
        Misconception(
            "one_bias_vector",
            "PyTorch's LSTM has two bias vectors per layer, b_ih and b_hh, each of size 4H.",
            _one_bias_vector,
        ),
        Misconception(
            "upper_layer_input_is_x",
            "Layers above the first receive the hidden state of the layer below, so their input size is H, not the input size.",
            _upper_layer_input_is_x,
        ),
        Misconception(
            "forgot_recurrent_weights",
            "Each gate also reads h_{t-1}: the hidden-to-hidden weights W_hh add 4 * H * H per layer.",
            _forgot_recurrent_weights,
        ),
    ),
)


# --- LSTM parameter count as a formula ---------------------------------------------------------

# Per-layer formulas in x (input size) and h (hidden size); the tests check them against
# reference.rnn.lstm_param_count (two biases) and lstm_param_count(bias=False) + 4h (one bias).
LSTM_FORMULA = {2: "4*h*(x+h+2)", 1: "4*h*(x+h+1)"}
PARAM_EXPRESSION = Expression(variables=("h", "x"), domains={"h": (1.0, 50.0), "x": (1.0, 50.0)})


def generate_lstm_param_expression(rng: np.random.Generator) -> Params:
    return {"biases": int(rng.choice([1, 2]))}


LSTM_PARAM_EXPRESSION = AnswerExercise(
    id="rnn_lstm_param_expression",
    title="LSTM parameter count as a formula",
    section=6,
    generate=generate_lstm_param_expression,
    prompt=r"""
A single-layer LSTM has input size $x$ and hidden size $h$.
{% if biases == 2 %}
Count its parameters as PyTorch's `nn.LSTM` does: input-to-hidden weights, hidden-to-hidden
weights, and **two** bias vectors ($b_{ih}$ and $b_{hh}$) for the gates.
{% else %}
Count its parameters with the textbook convention: input-to-hidden weights, hidden-to-hidden
weights, and **one** bias vector for the gates.
{% endif %}

Give the number of parameters as an expression in `x` and `h`, e.g. `2*h*(x+1)`.
""",
    solve=lambda p: LSTM_FORMULA[p["biases"]],
    check=PARAM_EXPRESSION,
    misconceptions=(
        Misconception(
            "forgot_four_gates",
            "An LSTM has 4 gates (i, f, g, o), each with its own weights and biases: multiply by 4.",
            lambda p: LSTM_FORMULA[p["biases"]].removeprefix("4*"),
        ),
        Misconception(
            "wrong_bias_count",
            "PyTorch keeps two bias vectors (b_ih and b_hh), 8h numbers; the textbook LSTM has one, 4h numbers.",
            lambda p: LSTM_FORMULA[3 - p["biases"]],
        ),
        Misconception(
            "forgot_recurrent_weights",
            "Each gate also reads h_{t-1}: the hidden-to-hidden weights add 4 * h * h.",
            lambda p: LSTM_FORMULA[p["biases"]].replace("x+h+", "x+"),
        ),
    ),
)


# --- one step of a vanilla RNN -------------------------------------------------------------


def generate_rnn_step(rng: np.random.Generator) -> Params:
    halves = [-1.0, -0.5, 0.0, 0.5, 1.0]
    return {
        "w_ih": rng.choice(halves, size=(2, 2)).tolist(),
        "w_hh": rng.choice(halves, size=(2, 2)).tolist(),
        "b": _tenths(rng, -0.5, 0.5, 2),
        "x": [float(v) for v in rng.integers(-2, 3, size=2)],
        "h_prev": _tenths(rng, -0.9, 0.9, 2),
    }


def _rnn(p: Params, w_ih: torch.Tensor, w_hh: torch.Tensor, h_prev: torch.Tensor) -> torch.Tensor:
    return rnn_cell(tensor([p["x"]]), h_prev.reshape(1, 2), w_ih, w_hh, tensor(p["b"]))[0]


def solve_rnn_step(p: Params) -> list[float]:
    return _rnn(p, tensor(p["w_ih"]), tensor(p["w_hh"]), tensor(p["h_prev"])).tolist()


def _forgot_tanh(p: Params) -> list[float]:
    pre_activation = tensor(p["w_ih"]) @ tensor(p["x"]) + tensor(p["w_hh"]) @ tensor(p["h_prev"]) + tensor(p["b"])
    return pre_activation.tolist()


RNN_STEP = AnswerExercise(
    id="rnn_rnn_step",
    title="One step of a vanilla RNN",
    section=6,
    generate=generate_rnn_step,
    prompt=r"""
A vanilla RNN cell with hidden size 2 computes (column vectors)
$$h_t = \tanh(W_{ih}\, x_t + W_{hh}\, h_{t-1} + b),$$
with $W_{ih} = {{ w_ih | latex_matrix }}$, $W_{hh} = {{ w_hh | latex_matrix }}$, $b = {{ b | latex_vector }}$.

For the input $x_t = {{ x | latex_vector }}$ and the previous hidden state
$h_{t-1} = {{ h_prev | latex_vector }}$, give $h_t$ as a vector of 2 numbers `[..]` to 4 decimal places.
""",
    solve=solve_rnn_step,
    check=FOUR_DECIMALS_MATRIX,
    misconceptions=(
        Misconception(
            "forgot_tanh",
            "The new hidden state goes through the tanh nonlinearity: h_t = tanh(W_ih x_t + W_hh h_{t-1} + b).",
            _forgot_tanh,
        ),
        Misconception(
            "forgot_recurrent_term",
            "The recurrence is what makes it an RNN: add W_hh h_{t-1}, the contribution of the previous hidden state.",
            lambda p: _rnn(p, tensor(p["w_ih"]), tensor(p["w_hh"]), torch.zeros(2, dtype=F64)).tolist(),
        ),
        Misconception(
            "transposed_weights",
            "With column vectors, the product is W x: row r of W holds the weights of hidden unit r.",
            lambda p: _rnn(p, tensor(p["w_ih"]).T, tensor(p["w_hh"]).T, tensor(p["h_prev"])).tolist(),
        ),
    ),
)


# --- topology for a task -------------------------------------------------------------------

ONE_TO_ONE = "one-to-one"
TOPOLOGY_TEXT = {
    MANY_TO_ONE: "Many-to-one",
    ONE_TO_MANY: "One-to-many",
    MANY_TO_MANY: "Many-to-many",
    ONE_TO_ONE: "One-to-one",
}
TASK_DESCRIPTIONS = {
    "sentiment classification": "deciding whether a movie review is positive or negative",
    "spam detection": "flagging an e-mail's text as spam or not spam",
    "video classification": "labelling a video clip (a sequence of frames) with the sport it shows",
    "image captioning": "writing a sentence that describes a photo",
    "machine translation": "translating an English sentence into French",
    "speech recognition": "transcribing an audio recording into text",
    "part-of-speech tagging": "labelling every word of a sentence with its part of speech",
    "named entity recognition": "marking every word of a sentence as person, place, organization or none",
}
# A typical slip: reading the direction the wrong way round, or expecting one output.
REVERSED = {MANY_TO_ONE: ONE_TO_MANY, ONE_TO_MANY: MANY_TO_ONE}
SINGLE_OUTPUT = {MANY_TO_MANY: MANY_TO_ONE, ONE_TO_MANY: ONE_TO_ONE}


def generate_topology(rng: np.random.Generator) -> Params:
    task = str(rng.choice(sorted(TASK_DESCRIPTIONS)))
    right = TOPOLOGY_TEXT[TASK_TOPOLOGIES[task]]
    options, _ = shuffle_options(rng, right, [t for t in TOPOLOGY_TEXT.values() if t != right])
    return {"task": task, "description": TASK_DESCRIPTIONS[task], "options": options}


def _topology_letter(p: Params, topology: str | None) -> str | None:
    return None if topology is None else "ABCD"[p["options"].index(TOPOLOGY_TEXT[topology])]


TOPOLOGY = AnswerExercise(
    id="rnn_topology",
    title="Which RNN topology fits the task?",
    section=6,
    generate=generate_topology,
    prompt=r"""
A recurrent network is used for **{{ task }}**: {{ description }}.
Which input-output topology does this task need?

{% for letter, option in zip(letters(options | length), options) %}
- **{{ letter }}.** {{ option }}
{% endfor %}

Answer with one letter.
""",
    solve=lambda p: _topology_letter(p, topology_for(p["task"])),
    check=lambda p: SingleChoice(p["options"]),
    misconceptions=(
        Misconception(
            "reversed_direction",
            "Read the topology as input-to-output: a sequence in with one label out is many-to-one; one input with a generated sequence out is one-to-many.",
            lambda p: _topology_letter(p, REVERSED.get(topology_for(p["task"]))),
        ),
        Misconception(
            "single_output",
            "When the task produces a whole sequence (a sentence, a label per word), the output side is 'many'.",
            lambda p: _topology_letter(p, SINGLE_OUTPUT.get(topology_for(p["task"]))),
        ),
    ),
)

EXERCISES = [
    LSTM_UPDATE,
    LSTM_PREACTIVATIONS,
    LSTM_PARAM_COUNT,
    LSTM_PARAM_EXPRESSION,
    RNN_STEP,
    TOPOLOGY,
]
