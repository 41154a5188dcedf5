"""Code exercises of section 5: FGSM and the L-infinity projection (fgsm, project_linf).

Each misconception is a self-contained buggy implementation (math, torch and F only).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from exercises.code._common import case, code_exercise, hidden, integers, randn, size, tensor
from grader.code.exercise import CodeMisconception, TestCase
from grader.sandbox import ModelSpec
from reference import adversarial


# --------------------------------------------------------------------------------- fgsm


def _fgsm_targeted_sign(model, x, y, eps, targeted=False):
    x_var = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(F.cross_entropy(model(x_var), y), x_var)
    return x.detach() + eps * grad.sign()


def _fgsm_clamped(model, x, y, eps, targeted=False):
    x_var = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(F.cross_entropy(model(x_var), y), x_var)
    step = eps * grad.sign()
    return (x.detach() - step if targeted else x.detach() + step).clamp(0.0, 1.0)


def _fgsm_raw_gradient(model, x, y, eps, targeted=False):
    x_var = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(F.cross_entropy(model(x_var), y), x_var)
    return x.detach() - eps * grad if targeted else x.detach() + eps * grad


def _fgsm_directions_swapped(model, x, y, eps, targeted=False):
    x_var = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(F.cross_entropy(model(x_var), y), x_var)
    step = eps * grad.sign()
    return x.detach() + step if targeted else x.detach() - step


def _mlp(rng: np.random.Generator, d_in: int, d_hidden: int, k: int) -> ModelSpec:
    return ModelSpec(
        layers=(
            ("linear", randn(rng, d_hidden, d_in, scale=1.0 / math.sqrt(d_in)), randn(rng, d_hidden, scale=0.1)),
            ("relu",),
            ("linear", randn(rng, k, d_hidden, scale=1.0 / math.sqrt(d_hidden)), randn(rng, k, scale=0.1)),
        )
    )


def _mlp_input_gradient(spec: ModelSpec, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """grad_x of the mean cross-entropy of linear-relu-linear `spec`, by hand (no autograd:
    this runs for every variant; `reference.adversarial.input_gradient` gives the same)."""
    (_, w1, b1), _, (_, w2, b2) = spec.layers
    hidden = x @ w1.T + b1
    logits = torch.relu(hidden) @ w2.T + b2
    dlogits = torch.softmax(logits, dim=1)
    dlogits[torch.arange(len(y)), y] -= 1.0
    return ((dlogits / len(y)) @ w2 * (hidden > 0)) @ w1


def _attack_case(rng: np.random.Generator, n: int, d_in: int, k: int) -> tuple[ModelSpec, torch.Tensor, torch.Tensor]:
    """A model and inputs whose input gradient has no entry near 0 (so its sign is stable
    under any correct way of computing it)."""
    for _ in range(200):
        spec = _mlp(rng, d_in, size(rng, 4, 8), k)
        x = randn(rng, n, d_in, scale=1.5)
        y = integers(rng, 0, k, n)
        if float(_mlp_input_gradient(spec, x, y).abs().min()) > 1e-6:
            return spec, x, y
    raise RuntimeError("could not draw an FGSM test with a stable gradient sign")


def _fgsm_hidden(rng: np.random.Generator) -> list[TestCase]:
    def eps() -> float:
        return float(rng.uniform(0.05, 0.5))

    return [
        hidden("untargeted", *_attack_case(rng, size(rng, 2, 4), size(rng, 3, 6), size(rng, 2, 5)), eps()),
        hidden("targeted", *_attack_case(rng, size(rng, 2, 4), size(rng, 3, 6), size(rng, 2, 5)), eps(), True),
        hidden("batch_of_one", *_attack_case(rng, 1, size(rng, 3, 6), size(rng, 3, 5)), eps()),
        hidden("targeted_batch_of_one", *_attack_case(rng, 1, size(rng, 3, 6), size(rng, 3, 5)), eps(), targeted=True),
        hidden("explicit_untargeted", *_attack_case(rng, size(rng, 2, 5), 4, 3), eps(), targeted=False),
    ]


_PUBLIC_MODEL = ModelSpec(
    layers=(
        ("linear", tensor([[1.0, -1.0], [0.5, 2.0], [-1.5, 0.25]]), tensor([0.0, 0.1, -0.2])),
    )
)
FGSM = code_exercise(
    (
        "def fgsm(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, "
        "targeted: bool = False) -> torch.Tensor:"
    ),
    reference=adversarial.fgsm,
    title="Fast gradient sign method",
    section=5,
    docstring="""One FGSM step (no clamping to a pixel range).

model maps x (N, D) to logits (N, K); y (N,) integer labels; eps a float.
g = gradient of the mean cross-entropy F.cross_entropy(model(x), y) with respect to x.
Untargeted (y = true labels): return x + eps * sign(g).
Targeted (y = target labels): return x - eps * sign(g).
Returns a tensor of x's shape. Autograd is allowed here.""",
    public=[
        case("untargeted", _PUBLIC_MODEL, tensor([[0.5, 1.0], [-1.0, 0.2]]), tensor([0, 2], torch.int64), 0.1),
        case("targeted", _PUBLIC_MODEL, tensor([[0.5, 1.0], [-1.0, 0.2]]), tensor([1, 1], torch.int64), 0.25, True),
    ],
    hidden=_fgsm_hidden,
    misconceptions=[
        CodeMisconception(
            "targeted_sign",
            "A targeted attack descends the loss towards the target class: x - eps * sign(g).",
            _fgsm_targeted_sign,
        ),
        CodeMisconception(
            "clamped_to_unit_range",
            "This contract does not clamp the result to [0, 1]: return x +/- eps * sign(g) as is.",
            _fgsm_clamped,
        ),
        CodeMisconception(
            "gradient_not_sign",
            "FGSM steps by eps times the *sign* of the gradient, not the gradient itself.",
            _fgsm_raw_gradient,
        ),
        CodeMisconception(
            "directions_swapped",
            "Untargeted FGSM ascends the loss of the true label (+), targeted descends the loss of the target (-).",
            _fgsm_directions_swapped,
        ),
    ],
)

# ------------------------------------------------------------------------- project_linf


def _project_clip_values(x_adv, x, eps):
    return x_adv.clamp(-eps, eps)


def _project_unit_range(x_adv, x, eps):
    return torch.minimum(torch.maximum(x_adv, x - eps), x + eps).clamp(0.0, 1.0)


def _project_sign(x_adv, x, eps):
    return x + eps * torch.sign(x_adv - x)


def _project_hidden(rng: np.random.Generator) -> list[TestCase]:
    def pair(*shape: int) -> tuple[torch.Tensor, torch.Tensor, float]:
        eps = float(rng.uniform(0.05, 0.3))
        x = randn(rng, *shape, scale=1.5)
        return x + randn(rng, *shape, scale=eps * 1.5), x, eps

    return [
        hidden("matrix", *pair(size(rng, 2, 5), size(rng, 2, 6))),
        hidden("batch_of_one", *pair(1, size(rng, 3, 8))),
        hidden("images", *pair(size(rng, 1, 3), 2, 4, 4)),
        hidden("vector", *pair(size(rng, 5, 12))),
    ]


PROJECT_LINF = code_exercise(
    "def project_linf(x_adv: torch.Tensor, x: torch.Tensor, eps: float) -> torch.Tensor:",
    reference=adversarial.project_linf,
    title="Projection onto the L-infinity ball",
    section=5,
    docstring="""Project x_adv onto the L-infinity ball of radius eps around x.

Clip each element of x_adv into [x - eps, x + eps] (elementwise), so that
max |x_adv - x| <= eps. No clamping to a pixel range. Returns a tensor of x's shape.""",
    public=[
        case("vector", tensor([0.5, -0.05, -0.3, 0.1]), torch.zeros(4, dtype=torch.float64), 0.1),
        case("matrix", tensor([[1.5, 2.2], [0.0, -1.0]]), tensor([[1.0, 2.0], [0.1, -0.5]]), 0.25),
    ],
    hidden=_project_hidden,
    misconceptions=[
        CodeMisconception(
            "clipped_values",
            "Clip the perturbation x_adv - x into [-eps, eps], not the values of x_adv themselves.",
            _project_clip_values,
        ),
        CodeMisconception(
            "clamped_to_unit_range",
            "This contract does not clamp to [0, 1]: only the distance to x is limited.",
            _project_unit_range,
        ),
        CodeMisconception(
            "sign_step",
            "Projection keeps points already inside the ball: clip, do not move every element by exactly eps.",
            _project_sign,
        ),
    ],
)


EXERCISES = [FGSM, PROJECT_LINF]
