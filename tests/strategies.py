"""Test data that several test files need: seeded float64 tensors and hypothesis
strategies.  One definition each, imported as `from tests.strategies import ...`."""

from __future__ import annotations

import torch
from hypothesis import strategies as st

F64 = torch.float64

seeds = st.integers(0, 2**31 - 1)
"""Any seed of a torch or numpy generator."""


def generator(seed: int) -> torch.Generator:
    """A seeded CPU generator, so every draw is deterministic."""
    return torch.Generator().manual_seed(seed)


def randn(*shape: int, seed: int = 0, dtype: torch.dtype = F64, scale: float = 1.0) -> torch.Tensor:
    """`scale` times a standard normal tensor of `shape`, drawn from `generator(seed)`."""
    return scale * torch.randn(*shape, generator=generator(seed), dtype=dtype)


def randn_from(gen: torch.Generator, *shape: int, dtype: torch.dtype = F64) -> torch.Tensor:
    """A standard normal tensor of `shape`, drawn from `gen` (successive draws differ)."""
    return torch.randn(*shape, generator=gen, dtype=dtype)


def expression_leaves(*extra: str) -> st.SearchStrategy[str]:
    """The leaves of generated expression texts: the variable `s`, numbers and constants,
    and `extra` (more variables)."""
    return st.sampled_from(["s", "2", "0.5", "3", "e", "pi", "1.5e-1", *extra])
