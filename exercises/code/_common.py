"""Shared helpers of the code exercise declarations: the declaration factory (signature and
reference from `reference.contract`), seeded float64 test data, and the groups of
not-allowed names (qualified names of the real torch objects, aliases included)."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import torch

from grader.code.exercise import CodeExercise, CodeMisconception, TestCase, Tolerance
from reference.contract import CONTRACT, SIGNATURES

AUTOGRAD: tuple[str, ...] = (
    "torch.Tensor.backward",
    "torch.autograd.grad",
    "torch.autograd.backward",
    "torch.autograd.functional.vjp",
    "torch.autograd.functional.jacobian",
    "torch.func.grad",
    "torch.func.grad_and_value",
    "torch.func.vjp",
)


def code_exercise(
    function: str,
    *,
    title: str,
    section: int,
    docstring: str,
    public: Sequence[TestCase],
    hidden: Callable[[np.random.Generator], list[TestCase]],
    forbidden: Sequence[str] = (),
    misconceptions: Sequence[CodeMisconception] = (),
    tolerance: Tolerance | None = None,
    outputs: Sequence[str] = (),
    compare: Any = None,
    deterministic: bool = True,
    excludes: Sequence[str] = (),
) -> CodeExercise:
    """A `CodeExercise` with id `code_<function>`, the contract's signature and reference."""
    return CodeExercise(
        id=f"code_{function}",
        title=title,
        section=section,
        function=function,
        signature=SIGNATURES[function],
        docstring=docstring,
        reference=CONTRACT[function],
        public_tests=tuple(public),
        hidden_tests=hidden,
        forbidden=tuple(forbidden),
        misconceptions=tuple(misconceptions),
        tolerance=tolerance or Tolerance(),
        outputs=tuple(outputs),
        compare=compare,
        excludes=tuple(excludes),
        deterministic=deterministic,
    )


def case(name: str, *args: Any, **kwargs: Any) -> TestCase:
    """A public test: `function(*args, **kwargs)`."""
    return TestCase(name, args, kwargs)


def hidden(name: str, *args: Any, **kwargs: Any) -> TestCase:
    """A hidden test: `function(*args, **kwargs)`."""
    return TestCase(name, args, kwargs, hidden=True)


def tensor(values: Any, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """A tensor from nested lists (float64 unless said otherwise)."""
    return torch.tensor(values, dtype=dtype)


def randn(rng: np.random.Generator, *shape: int, scale: float = 1.0) -> torch.Tensor:
    """float64 standard normal values times `scale`."""
    return torch.from_numpy(rng.standard_normal(shape) * scale)


def uniform(rng: np.random.Generator, low: float, high: float, *shape: int) -> torch.Tensor:
    """float64 values uniform in [low, high)."""
    return torch.from_numpy(rng.uniform(low, high, shape))


def integers(rng: np.random.Generator, low: int, high: int, *shape: int) -> torch.Tensor:
    """int64 values in [low, high)."""
    return torch.from_numpy(rng.integers(low, high, shape).astype(np.int64))


def nonzero(rng: np.random.Generator, *shape: int) -> torch.Tensor:
    """float64 values with |value| in [0.5, 2) and a random sign: never 0."""
    magnitude = rng.uniform(0.5, 2.0, shape)
    return torch.from_numpy(magnitude * rng.choice([-1.0, 1.0], shape))


def size(rng: np.random.Generator, low: int, high: int) -> int:
    """An int in [low, high]."""
    return int(rng.integers(low, high + 1))


def fixed(seed: int) -> np.random.Generator:
    """The generator of a public test's fixed inputs."""
    return np.random.default_rng(seed)


def rounded(values: torch.Tensor, decimals: int = 2) -> torch.Tensor:
    """Values rounded for readable public tests."""
    return torch.round(values * 10**decimals) / 10**decimals
