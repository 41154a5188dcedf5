"""What the answer exercises of several sections share."""

from __future__ import annotations

from typing import Any

import torch

from grader.answers import Matrix, Real

Params = dict[str, Any]
F64 = torch.float64
# Answers rounded to 4 decimal places are off by up to 5e-5: the absolute tolerance accepts
# them for small values too, where the relative tolerance alone would not.
FOUR_DECIMALS_MATRIX = Matrix(atol=1e-4)
FOUR_DECIMALS_REAL = Real(atol=1e-4)


def tensor(values: Any) -> torch.Tensor:
    """Nested lists of numbers (or a tensor) as a float64 tensor."""
    return torch.as_tensor(values, dtype=F64)
