"""Comparing a function's output with the expected output: the one implementation used by
the trusted judge (`grader.code.compare` delegates here), `grader check` and the kit.

Only plain data is compared (exact `torch.Tensor`s, numbers, strings, None, lists, tuples);
any other object is rejected before any of its methods runs, so an object whose `__eq__`
always answers True earns nothing.

Tensors agree when shapes are equal, dtype families (float, int, bool, complex) are equal
and values are close under the tolerance (`torch.allclose` on the finite entries).  NaN
where a finite value is expected fails; infinities must match in position and sign.
Sequences are compared element by element; the message names the element that failed.
`reveal=False` (hidden tests) keeps expected values out of every message.  `tol` is any
object with `rtol` and `atol`.  Standard library and torch only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import torch

from ..indices import index_text

_NUMBER_TYPES = (bool, int, float)
_MAX_SHOWN = 6


@dataclass(frozen=True)
class Verdict:
    """The outcome of comparing one output: ok, or a message saying what differs."""

    ok: bool
    message: str = ""


def dtype_family(dtype: torch.dtype) -> str:
    """`float`, `complex`, `bool` or `int`."""
    if dtype == torch.bool:
        return "bool"
    if dtype.is_complex:
        return "complex"
    if dtype.is_floating_point:
        return "float"
    return "int"


def as_plain_tensor(value: Any, *, like: torch.Tensor) -> torch.Tensor | None:
    """`value` as a plain tensor when it is one (or a number standing for the 0-d tensor
    `like`); None for anything else."""
    if type(value) is torch.Tensor:
        return value
    if type(value) in _NUMBER_TYPES and like.dim() == 0:
        return torch.tensor(value)
    return None


def type_name(value: Any) -> str:
    """A short description of a value's type, never calling any method of the value."""
    kind = type(value)
    if kind is torch.Tensor:
        return f"tensor of shape {tuple(value.shape)} and dtype {str(value.dtype).replace('torch.', '')}"
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def compare_tensors(expected: torch.Tensor, got: Any, tol: Any, *, reveal: bool = True, plain: Any = None) -> Verdict:
    """Compare a tensor output (see the module docstring); `plain` converts other values to
    a tensor (default `as_plain_tensor`)."""
    tensor = (plain or as_plain_tensor)(got, like=expected)
    if tensor is None:
        return Verdict(False, f"expected a tensor of shape {tuple(expected.shape)}, got {type_name(got)}")
    if tensor.shape != expected.shape:
        return Verdict(False, f"shape {tuple(tensor.shape)}, expected {tuple(expected.shape)}")
    got_family, expected_family = dtype_family(tensor.dtype), dtype_family(expected.dtype)
    if got_family != expected_family:
        return Verdict(
            False, f"dtype {str(tensor.dtype).replace('torch.', '')} ({got_family}), expected a {expected_family} tensor"
        )
    if expected_family in ("bool", "int"):
        wrong = tensor != expected
        return _value_verdict(wrong, expected, tensor, reveal)
    return _compare_float(expected, tensor, tol, reveal)


def _compare_float(expected: torch.Tensor, got: torch.Tensor, tol: Any, reveal: bool) -> Verdict:
    work = torch.promote_types(expected.dtype, got.dtype)
    if not work.is_complex:
        work = torch.float64
    e, g = expected.to(work), got.to(work)
    if torch.allclose(g, e, rtol=tol.rtol, atol=tol.atol):  # fast path: no NaN, infinities equal
        return Verdict(True)
    e_nan, g_nan = torch.isnan(e), torch.isnan(g)
    nan_wrong = g_nan & ~e_nan
    if nan_wrong.any():
        return Verdict(False, f"NaN {_where(nan_wrong)} where a finite value is expected")
    missing_nan = e_nan & ~g_nan
    if missing_nan.any():
        return Verdict(False, f"a number {_where(missing_nan)} where NaN is expected")
    e_inf, g_inf = torch.isinf(e), torch.isinf(g)
    inf_wrong = g_inf & ~e_inf
    if inf_wrong.any():
        return Verdict(False, f"infinity {_where(inf_wrong)} where a finite value is expected")
    inf_missing = e_inf & ~(g_inf & (e == g))
    if inf_missing.any():
        return Verdict(False, f"a finite value or the wrong sign {_where(inf_missing)} where infinity is expected")
    finite = torch.isfinite(e)
    e_f, g_f = e[finite], g[finite]
    close = torch.isclose(g_f, e_f, rtol=tol.rtol, atol=tol.atol)
    if bool(close.all()):
        return Verdict(True)
    wrong = torch.zeros_like(finite)
    wrong[finite] = ~close
    return _value_verdict(wrong, e, g, reveal)


def _value_verdict(wrong: torch.Tensor, expected: torch.Tensor, got: torch.Tensor, reveal: bool) -> Verdict:
    count, total = int(wrong.sum()), wrong.numel()
    if count == 0:
        return Verdict(True)
    first = first_index(wrong)
    if expected.dim() == 0:
        where = "the value"
    else:
        where = f"{count} of {total} values differ, first at index {index_text(first)}"
    if not reveal:
        return Verdict(False, f"{where} is wrong" if expected.dim() == 0 else where)
    e_val, g_val = expected[first].item(), got[first].item()
    detail = f"expected {_number(e_val)}, got {_number(g_val)}"
    if expected.dim() == 0:
        return Verdict(False, detail)
    diff = (got.to(torch.float64) - expected.to(torch.float64)).abs() if expected.dtype != torch.bool else None
    largest = f"; largest difference {float(diff[wrong].max()):.3g}" if diff is not None else ""
    return Verdict(False, f"{where} ({detail}{largest})")


def first_index(mask: torch.Tensor) -> tuple[int, ...]:
    """The index (a tuple) of the first True entry of `mask`, in row-major order."""
    if mask.dim() == 0:
        return ()
    return unravel(int(torch.nonzero(mask.reshape(-1))[0]), tuple(mask.shape))


def unravel(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The index of the `flat`-th entry of an array of `shape`, in row-major order."""
    index = []
    for size in reversed(shape):
        flat, rest = divmod(flat, size)
        index.append(rest)
    return tuple(reversed(index))


def _where(mask: torch.Tensor) -> str:
    if mask.dim() == 0:
        return "as the value"
    return f"at {int(mask.sum())} of {mask.numel()} positions (first at index {index_text(first_index(mask))})"


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)


def compare_outputs(
    expected: Any, got: Any, tol: Any, *, reveal: bool = True, names: Sequence[str] = (), plain: Any = None
) -> Verdict:
    """Compare any output of a contract function: tensors, numbers, strings, None, and
    tuples/lists of them (element-wise; `names` label the elements of a top-level tuple)."""
    if isinstance(expected, torch.Tensor):
        return compare_tensors(expected, got, tol, reveal=reveal, plain=plain)
    if isinstance(expected, (tuple, list)):
        return _compare_sequence(expected, got, tol, reveal, names, plain)
    if isinstance(expected, str):
        if type(got) is not str:
            return Verdict(False, f"expected a string, got {type_name(got)}")
        if got == expected:
            return Verdict(True)
        shown = _text_window(got, expected)
        return Verdict(False, f"got {shown!r}, expected {expected!r}" if reveal else f"got {shown!r}, which is not the expected answer")
    if expected is None:
        return Verdict(got is None, "" if got is None else f"expected None, got {type_name(got)}")
    if type(expected) in _NUMBER_TYPES:
        return _compare_number(expected, got, tol, reveal)
    raise TypeError(f"cannot compare an expected value of type {type(expected).__name__}")


def _text_window(got: str, expected: str, width: int = 60) -> str:
    """`got`, or a `width`-character window of it that includes where it first differs
    from `expected`."""
    if len(got) <= width:
        return got
    first = next((i for i, (a, b) in enumerate(zip(got, expected)) if a != b), min(len(got), len(expected)))
    start = max(0, min(first - width // 3, len(got) - (width - 6)))
    text = got[start:start + width - 6]
    return ("..." if start else "") + text + ("..." if start + width - 6 < len(got) else "")


def _compare_number(expected: Any, got: Any, tol: Any, reveal: bool) -> Verdict:
    if type(got) is torch.Tensor and got.dim() == 0:
        got = got.item()
    if type(got) not in _NUMBER_TYPES:
        return Verdict(False, f"expected a number, got {type_name(got)}")
    if type(expected) is bool and type(got) is not bool:
        return Verdict(False, f"expected True or False, got {type_name(got)}")
    e, g = float(expected), float(got)
    if math.isnan(e) and math.isnan(g) or e == g:
        return Verdict(True)
    if math.isfinite(e) and math.isfinite(g) and abs(g - e) <= tol.atol + tol.rtol * abs(e):
        return Verdict(True)
    return Verdict(False, f"expected {_number(expected)}, got {_number(got)}" if reveal else "the value is wrong")


def _compare_sequence(
    expected: Sequence[Any], got: Any, tol: Any, reveal: bool, names: Sequence[str], plain: Any
) -> Verdict:
    kind = "tuple" if isinstance(expected, tuple) else "list"
    if type(got) not in (tuple, list):
        return Verdict(False, f"expected a {kind} of {len(expected)} elements, got {type_name(got)}")
    if len(got) != len(expected):
        return Verdict(False, f"expected a {kind} of {len(expected)} elements, got {len(got)}")
    for index, (e, g) in enumerate(zip(expected, got)):
        verdict = compare_outputs(e, g, tol, reveal=reveal, plain=plain)
        if not verdict.ok:
            label = f" ({names[index]})" if index < len(names) else ""
            return Verdict(False, f"element {index}{label} of {len(expected)}: {verdict.message}")
    return Verdict(True)


def describe(value: Any, limit: int = 200, focus: int | None = None) -> str:
    """Short text of a value for reports (public tests only): shapes and a few numbers.
    `focus`: the flat position of a tensor's first wrong value; the numbers shown are then
    a window that includes it (the text starts with `... from [i, j]:`), never cut before it."""
    if type(value) is torch.Tensor:
        flat = value.detach().reshape(-1)
        start = 0
        if focus is not None and 0 <= focus < flat.numel() and focus >= _MAX_SHOWN - 1:
            start = max(0, focus - 2)
        shown = ", ".join(_number(v) for v in flat[start:start + _MAX_SHOWN].tolist())
        more = ", ..." if flat.numel() > start + _MAX_SHOWN else ""
        if start:
            where = index_text(unravel(start, tuple(value.shape))) if value.dim() else "[]"
            shown = f"... from {where}: {shown}"
        text = f"{type_name(value)}: [{shown}{more}]"
    elif type(value) in (tuple, list):
        inner = ", ".join(describe(v, limit) for v in value[:_MAX_SHOWN])
        more = ", ..." if len(value) > _MAX_SHOWN else ""
        text = f"({inner}{more})" if type(value) is tuple else f"[{inner}{more}]"
    elif type(value) in (*_NUMBER_TYPES, str, type(None)):
        text = repr(value)
    else:
        text = f"<{type_name(value)}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def first_difference(expected: Any, got: Any, tol: Any) -> int | None:
    """The flat position of the first value of `got` that differs from `expected` (two
    tensors of the same shape), else None."""
    if type(expected) is not torch.Tensor or type(got) is not torch.Tensor or expected.shape != got.shape:
        return None
    try:
        e = expected.detach().reshape(-1).to(torch.float64)
        g = got.detach().reshape(-1).to(torch.float64)
        wrong = ~torch.isclose(g, e, rtol=tol.rtol, atol=tol.atol, equal_nan=True)
    except (RuntimeError, TypeError):
        return None
    positions = torch.nonzero(wrong)
    return int(positions[0]) if positions.numel() else None


def binomial_consistent(count: int, trials: int, probability: float, sigmas: float = 5.0) -> bool:
    """Is `count` successes in `trials` plausible for success probability `probability`?
    (within `sigmas` standard deviations, plus one for discreteness)."""
    mean = trials * probability
    spread = math.sqrt(trials * probability * (1.0 - probability))
    return abs(count - mean) <= sigmas * spread + 1.0


def dropout_pattern(x: torch.Tensor, got: Any, drop: float, scale: float, tol: Any) -> Verdict:
    """Does `got` look like `x` with a fraction `drop` of its entries zeroed and the others
    multiplied by `scale`?  (Random outputs are checked by their pattern.)"""
    if type(got) is not torch.Tensor:
        return Verdict(False, f"expected a tensor, got {type_name(got)}")
    if got.shape != x.shape or not got.dtype.is_floating_point:
        return Verdict(False, f"expected a float tensor of shape {tuple(x.shape)}, got {type_name(got)}")
    got = got.to(torch.float64)
    zero = got == 0
    kept = torch.isclose(got, x * scale, rtol=tol.rtol, atol=tol.atol)
    bad = ~(zero | kept)
    if bad.any():
        return Verdict(False, f"{int(bad.sum())} of {x.numel()} values are neither 0 nor x / (1 - p)")
    zeros = int(zero.sum())
    if not binomial_consistent(zeros, x.numel(), drop):
        return Verdict(False, f"{zeros} of {x.numel()} values were zeroed ({zeros / x.numel():.1%}); about p = {drop:.0%} should be")
    return Verdict(True)


def dropout_arguments(test: Any) -> tuple[torch.Tensor, float, bool]:
    """(x, p, training) of a dropout call (`test.argument(position, name)`)."""
    return test.argument(0, "x"), float(test.argument(1, "p")), bool(test.argument(2, "training"))


def compare_dropout(test: Any, expected: Any, got: Any, tol: Any, reveal: bool) -> Verdict:
    """Inverted dropout's random output: x unchanged when not training or p is 0, else the
    pattern of `dropout_pattern` with scale 1 / (1 - p)."""
    x, p, training = dropout_arguments(test)
    if type(got) is not torch.Tensor:
        return Verdict(False, f"expected a tensor, got {type_name(got)}")
    if not training or p == 0.0:
        if got.shape == x.shape and got.dtype.is_floating_point and torch.equal(got.to(torch.float64), x):
            return Verdict(True)
        when = "training is False" if not training else "p is 0"
        return Verdict(False, f"when {when} the output must be x unchanged")
    return dropout_pattern(x, got, p, 1.0 / (1.0 - p), tol)
