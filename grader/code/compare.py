"""Comparing a student's output with the expected output, in the trusted process.

Only plain data is compared (what the sandbox decodes: exact `torch.Tensor`s, numpy arrays,
numbers, strings, None, lists, tuples); any other object is rejected before any of its
methods runs, so an object whose `__eq__` always answers True earns nothing.

Tensors agree when shapes are equal, dtype families (float, int, bool, complex) are equal
and values are close under the tolerance (`torch.allclose` on the finite entries).  NaN
where a finite value is expected fails; infinities must match in position and sign.
Sequences are compared element by element; the message names the element that failed.
`reveal=False` (hidden tests) keeps expected values out of every message.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from grader.code.exercise import Tolerance, Verdict
from grader.kit import compare as _shared
from grader.kit.compare import binomial_consistent, describe, dtype_family, first_difference, first_index, type_name

__all__ = [
    "as_plain_tensor", "binomial_consistent", "compare_outputs", "compare_tensors", "describe",
    "dtype_family", "first_difference", "first_index", "type_name",
]
# The comparison itself lives in grader.kit.compare (torch only), shared with `grader check`
# and the student kit; this module adds numpy arrays, which the sandbox may send back.


def as_plain_tensor(value: Any, *, like: torch.Tensor) -> torch.Tensor | None:
    """`value` as a plain tensor when it is one (or a numpy array, or a number standing
    for the 0-d tensor `like`); None for anything else."""
    if type(value) is np.ndarray and value.dtype.kind in "biufc":
        return torch.from_numpy(np.array(value, copy=True))
    return _shared.as_plain_tensor(value, like=like)


def compare_tensors(expected: torch.Tensor, got: Any, tol: Tolerance, *, reveal: bool = True) -> Verdict:
    """Compare a tensor output (see the module docstring)."""
    return _shared.compare_tensors(expected, got, tol, reveal=reveal, plain=as_plain_tensor)


def compare_outputs(
    expected: Any, got: Any, tol: Tolerance, *, reveal: bool = True, names: Sequence[str] = ()
) -> Verdict:
    """Compare any output of a contract function: tensors, numbers, strings, None, and
    tuples/lists of them (element-wise; `names` label the elements of a top-level tuple)."""
    return _shared.compare_outputs(expected, got, tol, reveal=reveal, names=names, plain=as_plain_tensor)
