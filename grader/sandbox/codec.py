"""Plain-data codec for values crossing the sandbox boundary: a JSON tree plus raw buffers.

`encode(value) -> (header, buffers)` and `decode(header, buffers) -> value` handle None, bool,
int, float (nan and infinities included), str, list, tuple, dict with str keys, torch.Tensor,
numpy.ndarray and ModelSpec.  Tensors and arrays travel as dtype + shape in the header and
their raw bytes (C order, native byte order) as a buffer: no pickle, no torch.save.

Encoding accepts exact types only (a subclass of list or float is not plain data), with two
conveniences: numpy bool/integer/floating scalars become Python scalars, and a tensor
subclass is sent as the plain tensor holding its raw values.  Decoding treats its input as
hostile: it checks every node's type, the dtype whitelist, shape against byte length, that
each buffer is used once, the total size (counted as `encode` counts it, strings included),
the number of nodes and the nesting depth, and raises CodecError for anything else: a node
with keys `encode` never writes, a non-finite number where `encode` writes "nan" or "inf".
It only ever builds plain torch.Tensor, numpy.ndarray and builtin values.  `check_counted`
applies the same checks and caps without building tensors, arrays or models (the sandbox
worker's cheap first look at what a child sends; a model's layers are checked only when it
is built).

This module also runs inside the sandbox: it imports only the standard library, numpy and
torch (no other part of the project).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

MAX_DEPTH = 32
MAX_NDIM = 32
MAX_DIM = 1 << 40

TENSOR_DTYPES: dict[str, torch.dtype] = {
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
_TENSOR_DTYPE_NAMES = {dtype: name for name, dtype in TENSOR_DTYPES.items()}

ARRAY_DTYPES = frozenset(
    "bool uint8 uint16 uint32 uint64 int8 int16 int32 int64 float16 float32 float64 complex64 complex128".split()
)

LAYER_KINDS = ("linear", "conv2d", "relu", "tanh", "sigmoid", "flatten")


class CodecError(ValueError):
    """A value is not plain data, or an encoded value is malformed or too large."""


# ----------------------------------------------------------------------------- ModelSpec


@dataclass(frozen=True, eq=False)
class ModelSpec:
    """A small feed-forward model to rebuild on the other side of the sandbox.

    `layers` is a tuple of layer tuples, applied in order:

    - ``("linear", weight (out, in), bias (out,) or None)``
    - ``("conv2d", weight (c_out, c_in, kh, kw), bias (c_out,) or None[, stride=1[, padding=0]])``
    - ``("relu",)``, ``("tanh",)``, ``("sigmoid",)``, ``("flatten",)``

    `build()` gives a float64 `torch.nn.Sequential` whose parameters require grad.
    """

    layers: tuple

    def __post_init__(self) -> None:
        if type(self.layers) not in (tuple, list) or not self.layers:
            raise CodecError("ModelSpec.layers must be a non-empty tuple of layers")
        layers = tuple(_check_layer(layer, i) for i, layer in enumerate(self.layers))
        object.__setattr__(self, "layers", layers)

    def build(self) -> torch.nn.Sequential:
        """A fresh float64 `torch.nn.Sequential`; its parameters are copies that require grad."""
        modules: list[torch.nn.Module] = []
        for layer in self.layers:
            kind = layer[0]
            if kind == "linear":
                weight, bias = layer[1], layer[2]
                module = _uninitialised(_Linear, weight.shape[1], weight.shape[0], bias=bias is not None)
                _load(module, weight, bias)
            elif kind == "conv2d":
                weight, bias, stride, padding = layer[1], layer[2], layer[3], layer[4]
                c_out, c_in, kh, kw = weight.shape
                module = _uninitialised(_Conv2d, c_in, c_out, (kh, kw), stride=stride, padding=padding, bias=bias is not None)
                _load(module, weight, bias)
            else:
                module = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid,
                          "flatten": torch.nn.Flatten}[kind]()
            modules.append(module)
        return torch.nn.Sequential(*modules)


class _Linear(torch.nn.Linear):
    def reset_parameters(self) -> None:
        pass  # the weights are loaded next: no random initialisation, no draw from the global RNG


class _Conv2d(torch.nn.Conv2d):
    def reset_parameters(self) -> None:
        pass


def _uninitialised(cls: type, *args: Any, **kwargs: Any) -> torch.nn.Module:
    """A float64 `cls` whose parameters are left empty, then given back the class's public
    name (`torch.nn.Linear`, ...): the subclass only skipped `reset_parameters`, which
    `torch.nn.utils.skip_init` does through meta tensors at about 5x the cost."""
    module = cls(*args, dtype=torch.float64, **kwargs)
    module.__class__ = cls.__bases__[0]
    return module


def _load(module: torch.nn.Module, weight: torch.Tensor, bias: torch.Tensor | None) -> None:
    with torch.no_grad():
        module.weight.copy_(weight)
        if bias is not None:
            module.bias.copy_(bias)


def _check_tensor(value: Any, ndim: int, what: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor) or value.dim() != ndim or not value.is_floating_point():
        raise CodecError(f"{what} must be a {ndim}-d floating tensor")
    return value


def _check_layer(layer: Any, index: int) -> tuple:
    if type(layer) not in (tuple, list) or not layer or type(layer[0]) is not str or layer[0] not in LAYER_KINDS:
        raise CodecError(f"layer {index} must be a tuple starting with one of {', '.join(LAYER_KINDS)}")
    kind, params = layer[0], tuple(layer[1:])
    where = f"layer {index} ({kind})"
    if kind == "linear":
        if len(params) not in (1, 2):
            raise CodecError(f"{where} takes (weight, bias)")
        weight = _check_tensor(params[0], 2, f"{where} weight")
        bias = params[1] if len(params) == 2 else None
        if bias is not None and _check_tensor(bias, 1, f"{where} bias").shape[0] != weight.shape[0]:
            raise CodecError(f"{where} bias does not match the weight")
        return (kind, weight, bias)
    if kind == "conv2d":
        if not 1 <= len(params) <= 4:
            raise CodecError(f"{where} takes (weight, bias, stride, padding)")
        weight = _check_tensor(params[0], 4, f"{where} weight")
        bias = params[1] if len(params) > 1 else None
        stride = params[2] if len(params) > 2 else 1
        padding = params[3] if len(params) > 3 else 0
        if bias is not None and _check_tensor(bias, 1, f"{where} bias").shape[0] != weight.shape[0]:
            raise CodecError(f"{where} bias does not match the weight")
        if type(stride) is not int or type(padding) is not int or stride < 1 or padding < 0:
            raise CodecError(f"{where} stride must be an int >= 1 and padding an int >= 0")
        return (kind, weight, bias, stride, padding)
    if params:
        raise CodecError(f"{where} takes no parameters")
    return (kind,)


# ----------------------------------------------------------------------------- encoding


_NUMPY_PYTHON_SCALARS = (np.bool_, np.integer, np.floating)


class _Encoder:
    def __init__(self, buffers: list[bytes], max_bytes: int | None, max_depth: int) -> None:
        self.buffers = buffers
        self.max_bytes = max_bytes
        self.max_depth = max_depth
        self.size = 0

    def _add(self, data: bytes) -> int:
        self.buffers.append(data)
        return len(self.buffers) - 1

    def _reserve(self, nbytes: int) -> None:
        self.size += nbytes
        if self.max_bytes is not None and self.size > self.max_bytes:
            raise CodecError(f"the value is larger than {self.max_bytes} bytes")

    def encode(self, value: Any, depth: int = 0) -> dict[str, Any]:
        if depth > self.max_depth:
            raise CodecError(f"the value is nested deeper than {self.max_depth} levels")
        kind = type(value)
        if value is None:
            return {"t": "none"}
        if kind is bool:
            return {"t": "bool", "v": value}
        if kind is int:
            self._reserve(8 + value.bit_length() // 3)
            return {"t": "int", "v": value}
        if kind is float:
            self._reserve(24)
            if math.isfinite(value):
                return {"t": "float", "v": value}
            return {"t": "float", "v": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
        if kind is str:
            self._reserve(len(value) * 4 + 16)
            return {"t": "str", "v": value}
        if kind is list or kind is tuple:
            self._reserve(16)
            return {"t": "list" if kind is list else "tuple", "v": [self.encode(item, depth + 1) for item in value]}
        if kind is dict:
            pairs = []
            for key, item in value.items():
                if type(key) is not str:
                    raise CodecError(f"dict keys must be str, not {type(key).__qualname__}")
                self._reserve(len(key) * 4 + 16)
                pairs.append([key, self.encode(item, depth + 1)])
            return {"t": "dict", "v": pairs}
        if isinstance(value, torch.Tensor):
            return self._tensor(value)
        if kind is np.ndarray:
            return self._array(value)
        if isinstance(value, _NUMPY_PYTHON_SCALARS) and kind.__module__ == "numpy":
            return self.encode(value.item(), depth)
        if isinstance(value, np.generic) and kind.__module__ == "numpy":
            return self._array(np.asarray(value))
        if kind is ModelSpec:
            return {"t": "model", "v": self.encode(value.layers, depth + 1)}
        raise CodecError(f"a {_type_name(value)} is not plain data")

    def _tensor(self, value: torch.Tensor) -> dict[str, Any]:
        if type(value) is torch.Tensor:  # the common case first, without intermediate tensors
            name = _TENSOR_DTYPE_NAMES.get(value.dtype)
            if (
                name is not None
                and name != "bfloat16"  # numpy has no bfloat16
                and not value.requires_grad
                and value.layout == torch.strided
                and value.device.type == "cpu"
                and value.is_contiguous()
                and not value.is_conj()
                and not value.is_neg()
            ):
                self._reserve(value.numel() * value.element_size() + 64)
                return {"t": "tensor", "dtype": name, "shape": list(value.shape), "buf": self._add(value.numpy().tobytes())}
        with torch._C.DisableTorchFunctionSubclass():
            if torch._C._dispatch_keys(value).has(torch._C.DispatchKey.Python):
                # its __torch_dispatch__ would run now, after the call, where nothing watches what it computes
                raise CodecError("a tensor with __torch_dispatch__ (or a wrapper tensor) is not plain data")
            if type(value) is not torch.Tensor:
                value = torch.Tensor.as_subclass(value, torch.Tensor)
            if value.layout != torch.strided or value.is_quantized or value.is_nested:
                raise CodecError("only dense tensors are plain data")
            name = _TENSOR_DTYPE_NAMES.get(value.dtype)
            if name is None:
                raise CodecError(f"tensor dtype {value.dtype} is not supported")
            self._reserve(value.numel() * value.element_size() + 64)
            plain = value.detach().cpu().resolve_conj().resolve_neg().contiguous()
            raw = plain.reshape(-1).view(torch.uint8).numpy().tobytes()
            return {"t": "tensor", "dtype": name, "shape": list(plain.shape), "buf": self._add(raw)}

    def _array(self, value: np.ndarray) -> dict[str, Any]:
        name = value.dtype.name
        if name not in ARRAY_DTYPES or value.dtype.fields is not None:
            raise CodecError(f"array dtype {value.dtype} is not supported")
        self._reserve(value.nbytes + 64)
        plain = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("="))
        return {"t": "ndarray", "dtype": name, "shape": list(plain.shape), "buf": self._add(plain.tobytes())}


def _type_name(value: Any) -> str:
    try:
        return str(type(value).__qualname__)[:200]
    except Exception:  # a hostile metaclass
        return "object"


def encode(value: Any, *, max_bytes: int | None = None, max_depth: int = MAX_DEPTH) -> tuple[dict[str, Any], list[bytes]]:
    """Encode a plain value as (JSON-able header, buffers); CodecError if it is not plain
    data, nested deeper than `max_depth` or larger than `max_bytes`."""
    buffers: list[bytes] = []
    header = _Encoder(buffers, max_bytes, max_depth).encode(value)
    return header, buffers


def encode_many(values: list[Any], *, max_depth: int = MAX_DEPTH) -> tuple[list[dict[str, Any]], list[bytes]]:
    """Encode several values sharing one buffer list; decode each header with the same list."""
    buffers: list[bytes] = []
    encoder = _Encoder(buffers, None, max_depth)
    return [encoder.encode(value) for value in values], buffers


# ----------------------------------------------------------------------------- decoding


_NODE_KEYS = {"none": 1, "tensor": 4, "ndarray": 4}  # how many keys `encode` writes; 2 ("t", "v") for the others


class _Decoder:
    def __init__(self, buffers: list[bytes], max_bytes: int | None, max_depth: int, max_nodes: int | None = None,
                 build: bool = True) -> None:
        if type(buffers) is not list:
            raise CodecError("buffers must be a list of bytes")
        self.buffers = buffers
        self.used: set[int] = set()
        self.size = 0
        self.max_bytes = max_bytes
        self.max_depth = max_depth
        self.max_nodes = max_nodes
        self.nodes = 0
        self.build = build

    def decode(self, node: Any, depth: int = 0) -> Any:
        if depth > self.max_depth:
            raise CodecError(f"the value is nested deeper than {self.max_depth} levels")
        self.nodes += 1
        if self.max_nodes is not None and self.nodes > self.max_nodes:
            raise CodecError(f"the value has more than {self.max_nodes} parts")
        if type(node) is not dict or type(node.get("t")) is not str:
            raise CodecError("malformed value node")
        kind = node["t"]
        if len(node) != _NODE_KEYS.get(kind, 2):
            raise CodecError("malformed value node")
        value = node.get("v")
        if kind == "none":
            return None
        if kind == "bool" and type(value) is bool:
            return value
        if kind == "int" and type(value) is int:
            self._reserve(8 + value.bit_length() // 3)
            return value
        if kind == "float":
            if type(value) is int or (type(value) is float and math.isfinite(value)) or value in ("nan", "inf", "-inf"):
                self._reserve(24)
                return float(value)
        if kind == "str" and type(value) is str:
            self._reserve(len(value) * 4 + 16)
            return value
        if kind in ("list", "tuple") and type(value) is list:
            self._reserve(16)
            items = [self.decode(item, depth + 1) for item in value]
            return items if kind == "list" else tuple(items)
        if kind == "dict" and type(value) is list:
            result: dict[str, Any] = {}
            for pair in value:
                if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                    raise CodecError("malformed dict entry")
                self._reserve(len(pair[0]) * 4 + 16)
                result[pair[0]] = self.decode(pair[1], depth + 1)
            return result
        if kind == "tensor":
            return self._tensor(node)
        if kind == "ndarray":
            return self._array(node)
        if kind == "model":
            layers = self.decode(value, depth + 1)
            if type(layers) is not tuple:
                raise CodecError("malformed model")
            return ModelSpec(layers=layers) if self.build else None
        raise CodecError(f"malformed value node of type {kind[:40]!r}")

    def _reserve(self, nbytes: int) -> None:
        """Count a part's size as `_Encoder._reserve` does, so that what `encode` accepts
        within `max_bytes` decodes within it, and nothing larger does."""
        self.size += nbytes
        if self.max_bytes is not None and self.size > self.max_bytes:
            raise CodecError(f"the value is larger than {self.max_bytes} bytes")

    def _raw(self, node: dict[str, Any], itemsize: int) -> tuple[list[int], bytes]:
        shape, index = node.get("shape"), node.get("buf")
        if type(shape) is not list or len(shape) > MAX_NDIM or any(type(d) is not int or not 0 <= d <= MAX_DIM for d in shape):
            raise CodecError("malformed shape")
        if type(index) is not int or not 0 <= index < len(self.buffers) or index in self.used:
            raise CodecError("malformed buffer reference")
        self.used.add(index)
        raw = self.buffers[index]
        if type(raw) is not bytes:
            raise CodecError("buffers must be a list of bytes")
        self._reserve(len(raw) + 64)
        if math.prod(shape) * itemsize != len(raw):
            raise CodecError(f"shape {shape} does not match {len(raw)} bytes of data")
        return shape, raw

    def _tensor(self, node: dict[str, Any]) -> torch.Tensor:
        dtype = TENSOR_DTYPES.get(node.get("dtype")) if type(node.get("dtype")) is str else None
        if dtype is None:
            raise CodecError("unsupported tensor dtype")
        shape, raw = self._raw(node, dtype.itemsize)
        if not self.build:
            return None
        if not raw:
            return torch.empty(shape, dtype=dtype)
        return torch.frombuffer(bytearray(raw), dtype=dtype).reshape(shape)

    def _array(self, node: dict[str, Any]) -> np.ndarray:
        name = node.get("dtype")
        if type(name) is not str or name not in ARRAY_DTYPES:
            raise CodecError("unsupported array dtype")
        dtype = np.dtype(name)
        shape, raw = self._raw(node, dtype.itemsize)
        if not self.build:
            return None
        return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def decode(header: Any, buffers: list[bytes], *, max_bytes: int | None = None, max_depth: int = MAX_DEPTH,
           max_nodes: int | None = None) -> Any:
    """Decode what `encode` produced, validating everything; CodecError when malformed."""
    return decode_counted(header, buffers, max_bytes=max_bytes, max_depth=max_depth, max_nodes=max_nodes)[0]


def decode_counted(header: Any, buffers: list[bytes], *, max_bytes: int | None = None, max_depth: int = MAX_DEPTH,
                   max_nodes: int | None = None) -> tuple[Any, int]:
    """`decode`, and the number of nodes (parts) the value has; CodecError past `max_nodes`."""
    return _run(_Decoder(buffers, max_bytes, max_depth, max_nodes), header)


def total_parts_message(error: CodecError, cap: int, per_value: int, total: int) -> str:
    """The message of `error`, raised by a check capped at `cap` parts: when that cap was
    what was left of the submission's `total` (less than the `per_value` cap), it is said
    of the submission's values."""
    message = str(error)
    if cap < per_value and message == f"the value has more than {cap} parts":
        return f"the submission's values have more than {total} parts in total"
    return message


def check_counted(header: Any, buffers: list[bytes], *, max_bytes: int | None = None, max_depth: int = MAX_DEPTH,
                  max_nodes: int | None = None) -> int:
    """The number of nodes of the value `decode` would build, after the same checks and
    caps (CodecError), without building its tensors, arrays or models (so a model's layers
    are not checked: that needs their tensors).  `buffers` must be the value's own: each
    one used (`encode` writes no others; a frame of a million empty ones costs its reader
    about 0.7 s)."""
    decoder = _Decoder(buffers, max_bytes, max_depth, max_nodes, build=False)
    nodes = _run(decoder, header)[1]
    if len(decoder.used) != len(buffers):
        raise CodecError("the value comes with buffers it does not use")
    return nodes


def _run(decoder: _Decoder, header: Any) -> tuple[Any, int]:
    try:
        return decoder.decode(header), decoder.nodes
    except RecursionError:
        raise CodecError("the value is nested too deeply") from None
    except CodecError:
        raise
    except (ValueError, TypeError, RuntimeError, OverflowError, MemoryError) as error:
        raise CodecError(f"malformed value: {type(error).__name__}") from None
