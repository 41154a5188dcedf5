"""Test data as JSON: the kit's inputs, expected outputs and the values a child returns.

`encode(value)` gives a JSON-able tree; `decode(tree)` rebuilds the value.  Handled: None,
bool, int, float (NaN and infinities too), str, list, tuple, dict with str keys, dense CPU
torch tensors (dtype, shape and the raw little-endian bytes in base64: no pickle, no
torch.save), and small feed-forward models given by their layers.  Decoding checks every
node and raises `ValueError` for anything else.  Standard library and torch only.
"""

from __future__ import annotations

import base64
import ctypes
import math
import sys
from typing import Any

import torch

MAX_DEPTH = 32
DTYPES: dict[str, torch.dtype] = {
    "bool": torch.bool,
    "uint8": torch.uint8,
    "int8": torch.int8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int64": torch.int64,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
    "complex64": torch.complex64,
    "complex128": torch.complex128,
}
_NAMES = {dtype: name for name, dtype in DTYPES.items()}
LAYERS = ("linear", "conv2d", "relu", "tanh", "sigmoid", "flatten")


class Model:
    """A small feed-forward model as data: `layers` are tuples as in
    `grader.sandbox.ModelSpec` (("linear", W, b), ("conv2d", W, b, stride, padding),
    ("relu",), ...).  `build()` gives a fresh float64 `torch.nn.Sequential`."""

    def __init__(self, layers: tuple) -> None:
        self.layers = tuple(layers)

    def build(self) -> torch.nn.Sequential:
        modules: list[torch.nn.Module] = []
        for layer in self.layers:
            kind = layer[0]
            if kind == "linear":
                weight, bias = layer[1], layer[2]
                module: torch.nn.Module = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None, dtype=torch.float64)
            elif kind == "conv2d":
                weight, bias, stride, padding = layer[1], layer[2], layer[3], layer[4]
                module = torch.nn.Conv2d(weight.shape[1], weight.shape[0], tuple(weight.shape[2:]), stride=stride,
                                         padding=padding, bias=bias is not None, dtype=torch.float64)
            else:
                module = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid,
                          "flatten": torch.nn.Flatten}[kind]()
            if kind in ("linear", "conv2d"):
                with torch.no_grad():
                    module.weight.copy_(weight)
                    if bias is not None:
                        module.bias.copy_(bias)
            modules.append(module)
        return torch.nn.Sequential(*modules)


def build_models(value: Any) -> Any:
    """`value` with every `Model` replaced by its built module (fresh parameters)."""
    if type(value) is Model:
        return value.build()
    if type(value) in (list, tuple):
        return type(value)(build_models(v) for v in value)
    if type(value) is dict:
        return {k: build_models(v) for k, v in value.items()}
    return value


def encode(value: Any, depth: int = 0) -> Any:
    """The JSON tree of a plain value; ValueError for anything else."""
    if depth > MAX_DEPTH:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    kind = type(value)
    if value is None or kind in (bool, str):
        return {"t": "v", "v": value}
    if kind is int:
        return {"t": "v", "v": value}
    if kind is float:
        return {"t": "f", "v": value if math.isfinite(value) else repr(value)}
    if kind in (list, tuple):
        return {"t": "l" if kind is list else "u", "v": [encode(item, depth + 1) for item in value]}
    if kind is dict:
        if not all(type(k) is str for k in value):
            raise ValueError("dict keys must be str")
        return {"t": "d", "v": {k: encode(v, depth + 1) for k, v in value.items()}}
    if isinstance(value, torch.Tensor):
        return _tensor(value)
    if kind is Model:
        return {"t": "m", "v": encode(value.layers, depth + 1)}
    if kind.__name__ == "ModelSpec":  # grader.sandbox.ModelSpec, without importing it here
        return {"t": "m", "v": encode(tuple(value.layers), depth + 1)}
    raise ValueError(f"a {kind.__qualname__} is not plain data")


def _tensor(value: torch.Tensor) -> dict[str, Any]:
    with torch._C.DisableTorchFunctionSubclass():
        plain = torch.Tensor.as_subclass(value, torch.Tensor).detach()
        if plain.layout != torch.strided or plain.is_quantized or plain.is_nested:
            raise ValueError("only dense tensors are plain data")
        name = _NAMES.get(plain.dtype)
        if name is None:
            raise ValueError(f"tensor dtype {plain.dtype} is not supported")
        plain = plain.cpu().resolve_conj().resolve_neg().clone(memory_format=torch.contiguous_format)
        # a copy of the private contiguous clone's memory (bytes(storage) is 300x slower)
        raw = ctypes.string_at(plain.data_ptr(), plain.numel() * plain.element_size()) if plain.numel() else b""
    if sys.byteorder != "little":  # pragma: no cover - every supported platform is little-endian
        raise ValueError("big-endian machines are not supported")
    return {"t": "t", "dtype": name, "shape": list(plain.shape), "data": base64.b64encode(raw).decode("ascii")}


def decode(node: Any, depth: int = 0) -> Any:
    """The value of a JSON tree made by `encode`; ValueError when it is malformed."""
    if depth > MAX_DEPTH or type(node) is not dict:
        raise ValueError("malformed value")
    kind, value = node.get("t"), node.get("v")
    if kind == "v" and (value is None or type(value) in (bool, int, str)):
        return value
    if kind == "f" and (type(value) in (int, float) or value in ("nan", "inf", "-inf")):
        return float(value)
    if kind in ("l", "u") and type(value) is list:
        items = [decode(item, depth + 1) for item in value]
        return items if kind == "l" else tuple(items)
    if kind == "d" and type(value) is dict:
        return {str(k): decode(v, depth + 1) for k, v in value.items()}
    if kind == "t":
        return _decode_tensor(node)
    if kind == "m":
        layers = decode(value, depth + 1)
        if type(layers) is not tuple or not all(type(l) is tuple and l and l[0] in LAYERS for l in layers):
            raise ValueError("malformed model")
        return Model(layers)
    raise ValueError("malformed value")


def _decode_tensor(node: dict[str, Any]) -> torch.Tensor:
    dtype = DTYPES.get(node.get("dtype")) if type(node.get("dtype")) is str else None
    shape = node.get("shape")
    if dtype is None or type(shape) is not list or not all(type(d) is int and d >= 0 for d in shape):
        raise ValueError("malformed tensor")
    try:
        raw = base64.b64decode(node.get("data", ""), validate=True)
    except (ValueError, TypeError):
        raise ValueError("malformed tensor data") from None
    if math.prod(shape) * torch.empty((), dtype=dtype).element_size() != len(raw):
        raise ValueError("tensor data does not match its shape")
    if not raw:
        return torch.empty(shape, dtype=dtype)
    return torch.frombuffer(bytearray(raw), dtype=dtype).reshape(shape).clone()
