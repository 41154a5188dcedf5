"""The plain-data codec: round trips, and hostile encodings rejected on decode."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from grader.sandbox import CodecError, ModelSpec, decode, encode
from grader.sandbox.codec import check_counted, decode_counted, encode_many


def roundtrip(value, **options):
    header, buffers = encode(value)
    return decode(header, buffers, **options)


def test_scalars_strings_and_containers_round_trip():
    value = {"none": None, "flag": True, "n": -(10**30), "x": 1.25, "s": "é\u2603", "l": [1, (2.5, "a")], "t": ()}
    assert roundtrip(value) == value
    assert type(roundtrip((1, 2))) is tuple and type(roundtrip([1, 2])) is list


def test_non_finite_floats_round_trip():
    back = roundtrip([math.nan, math.inf, -math.inf, -0.0])
    assert math.isnan(back[0]) and back[1] == math.inf and back[2] == -math.inf
    assert math.copysign(1.0, back[3]) == -1.0


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.bfloat16, torch.int64, torch.bool, torch.complex128, torch.uint8])
def test_tensors_round_trip_bit_exact(dtype):
    source = (torch.randn(3, 4, 2) * 10).to(dtype)
    back = roundtrip(source)
    assert type(back) is torch.Tensor and back.dtype == dtype and back.shape == source.shape
    assert torch.equal(back, source)


def test_tensors_are_detached_contiguous_copies():
    base = torch.randn(4, 5, dtype=torch.float64, requires_grad=True)
    view = base.t()[1:3]  # non-contiguous, with a storage offset
    back = roundtrip(view)
    assert not back.requires_grad and back.is_contiguous()
    assert torch.equal(back, view.detach())
    back += 1  # writable, and independent of the original
    assert torch.equal(base.t()[1:3], view)


def test_empty_and_zero_dim_tensors():
    assert roundtrip(torch.empty(0, 3)).shape == (0, 3)
    zero_dim = roundtrip(torch.tensor(2.5, dtype=torch.float64))
    assert zero_dim.shape == () and zero_dim.item() == 2.5


def test_tensor_subclass_is_sent_as_its_plain_values():
    calls = []

    class Sneaky(torch.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            calls.append(func)
            return super().__torch_function__(func, types, args, kwargs or {})

    raw = torch.arange(6, dtype=torch.float64).reshape(2, 3)
    back = roundtrip(raw.as_subclass(Sneaky))
    assert type(back) is torch.Tensor
    assert torch.equal(back, raw)
    assert calls == []  # the encoder never dispatched through the subclass


def test_numpy_arrays_and_scalars():
    array = np.arange(12, dtype=">i4").reshape(3, 4)  # big-endian in, native out
    back = roundtrip(array)
    assert back.dtype == np.int32 and np.array_equal(back, array)
    assert roundtrip(np.float64(1.5)) == 1.5 and type(roundtrip(np.float64(1.5))) is float
    assert roundtrip(np.int16(-3)) == -3 and type(roundtrip(np.bool_(True))) is bool


@pytest.mark.parametrize(
    "value",
    [object(), np.array([object()]), {1: "a"}, (x for x in ()), lambda: 0, {1.5}, b"bytes"],
    ids=["object", "object-array", "int-key", "generator", "function", "set", "bytes"],
)
def test_non_plain_values_are_rejected(value):
    with pytest.raises(CodecError):
        encode(value)


def test_subclasses_of_builtins_are_not_plain():
    class AlwaysEqual(float):
        def __eq__(self, other):
            return True

    class Listy(list):
        pass

    with pytest.raises(CodecError):
        encode(AlwaysEqual(1.0))
    with pytest.raises(CodecError):
        encode(Listy([1]))


def test_depth_and_size_caps():
    deep: list = []
    for _ in range(40):
        deep = [deep]
    with pytest.raises(CodecError, match="nested"):
        encode(deep)
    with pytest.raises(CodecError, match="larger"):
        encode(torch.zeros(1000, dtype=torch.float64), max_bytes=1000)
    header, buffers = encode(torch.zeros(1000, dtype=torch.float64))
    with pytest.raises(CodecError, match="larger"):
        decode(header, buffers, max_bytes=4000)


def tensor_node(dtype="float64", shape=(2,), buf=0):
    return {"t": "tensor", "dtype": dtype, "shape": list(shape), "buf": buf}


@pytest.mark.parametrize(
    "header, buffers",
    [
        (tensor_node(dtype="object"), [b"\0" * 16]),
        (tensor_node(shape=(3,)), [b"\0" * 16]),
        (tensor_node(shape=(-2,)), [b""]),
        (tensor_node(buf=1), [b"\0" * 16]),
        ({"t": "list", "v": [tensor_node(), tensor_node()]}, [b"\0" * 16]),  # one buffer used twice
        ({"t": "ndarray", "dtype": "object", "shape": [1], "buf": 0}, [b"\0" * 8]),
        ({"t": "dict", "v": [[1, {"t": "none"}]]}, []),
        ({"t": "int", "v": True}, []),
        ({"t": "float", "v": "1e400x"}, []),
        ({"t": "pickle", "v": "gASV"}, []),
        ({"t": "model", "v": {"t": "tuple", "v": [{"t": "tuple", "v": [{"t": "str", "v": "exec"}]}]}}, []),
        ("not a node", []),
        ({"t": "int", "v": 1, "x": [[], []]}, []),  # a key encode never writes (any JSON could hide there)
        ({"t": "none", "v": [[], []]}, []),
        (dict(tensor_node(), extra=[[], []]), [b"\0" * 16]),
        ({"t": "float", "v": float("inf")}, []),  # JSON's 1e999: encode writes "inf"
        ({"t": "float", "v": float("-inf")}, []),
    ],
    ids=["dtype", "shape-mismatch", "negative-dim", "missing-buffer", "reused-buffer", "object-array",
         "int-key", "bool-as-int", "float-text", "unknown-type", "bad-layer", "not-a-dict",
         "extra-key", "none-with-v", "tensor-extra-key", "inf-number", "minus-inf-number"],
)
def test_malformed_encodings_are_rejected(header, buffers):
    with pytest.raises(CodecError):
        decode(header, buffers)
    if type(header) is dict and header["t"] == "model":
        assert check_counted(header, buffers) == 4  # a model's layers are checked when it is built
        return
    with pytest.raises(CodecError):  # the worker's look without building
        check_counted(header, buffers)


def test_decoding_deep_nesting_is_rejected():
    node: dict = {"t": "none"}
    for _ in range(100):
        node = {"t": "list", "v": [node]}
    with pytest.raises(CodecError):
        decode(node, [])


def test_model_spec_round_trips_and_builds_float64_with_grad():
    weight, bias = torch.randn(4, 3, dtype=torch.float64), torch.randn(4, dtype=torch.float64)
    spec = ModelSpec(layers=(("linear", weight, bias), ("relu",), ("linear", torch.randn(2, 4, dtype=torch.float64), None)))
    back = roundtrip(spec)
    assert type(back) is ModelSpec
    model = back.build()
    assert isinstance(model, torch.nn.Sequential) and len(model) == 3
    assert all(p.dtype == torch.float64 and p.requires_grad for p in model.parameters())
    x = torch.randn(5, 3, dtype=torch.float64)
    expected = torch.relu(x @ weight.T + bias) @ spec.layers[2][1].T
    assert torch.allclose(model(x), expected)
    model(x).sum().backward()  # gradients flow to the parameters
    assert model[0].weight.grad is not None


def test_model_spec_builds_plain_torch_layers_without_drawing_random_numbers():
    conv_weight = torch.randn(2, 1, 3, 3, dtype=torch.float64)
    spec = ModelSpec(layers=(("conv2d", conv_weight, None, 2, 1), ("flatten",), ("linear", torch.randn(3, 8, dtype=torch.float64), None)))
    state = torch.random.get_rng_state()
    model = spec.build()
    assert torch.equal(torch.random.get_rng_state(), state)  # a student's seeded draws are not shifted
    assert [type(layer) for layer in model] == [torch.nn.Conv2d, torch.nn.Flatten, torch.nn.Linear]
    assert model[0].stride == (2, 2) and model[0].padding == (1, 1) and model[2].bias is None
    x = torch.randn(1, 1, 4, 4, dtype=torch.float64)
    expected = torch.nn.functional.conv2d(x, conv_weight, stride=2, padding=1).flatten(1) @ spec.layers[2][1].T
    assert torch.allclose(model(x), expected)


def test_model_spec_conv_layer_and_validation():
    spec = ModelSpec(layers=(("conv2d", torch.randn(2, 1, 3, 3, dtype=torch.float64), None, 1, 1), ("flatten",)))
    assert spec.build()(torch.randn(1, 1, 4, 4, dtype=torch.float64)).shape == (1, 32)
    with pytest.raises(CodecError):
        ModelSpec(layers=(("linear", torch.randn(2, 3), torch.randn(5)),))
    with pytest.raises(CodecError):
        ModelSpec(layers=(("softmax",),))


def test_encode_many_shares_one_buffer_list():
    headers, buffers = encode_many([torch.ones(2), (torch.zeros(3), 1)])
    assert len(buffers) == 2
    assert torch.equal(decode(headers[1], buffers)[0], torch.zeros(3))


def test_decoding_counts_parts_and_refuses_more_than_allowed():
    from grader.sandbox.codec import decode_counted

    value = {"a": [1, 2.5, "x"], "t": torch.zeros(3)}
    header, buffers = encode(value)
    decoded, nodes = decode_counted(header, buffers)
    assert nodes == 1 + 1 + 3 + 1  # the dict, the list and its three items, the tensor
    assert decoded["a"] == [1, 2.5, "x"] and torch.equal(decoded["t"], torch.zeros(3))
    assert decode_counted(header, buffers, max_nodes=6)[1] == 6
    with pytest.raises(CodecError, match="more than 5 parts"):
        decode(header, buffers, max_nodes=5)


def test_checking_counts_what_decoding_would_without_building_tensors(monkeypatch):
    spec = ModelSpec(layers=(("linear", torch.ones(2, 3, dtype=torch.float64), None), ("relu",)))
    value = {"a": [1, 2.5, "x", None, float("nan")], "t": torch.zeros(3), "n": np.arange(4), "m": spec, "e": ()}
    header, buffers = encode(value)
    nodes = decode_counted(header, buffers)[1]

    def no_tensors(*args, **kwargs):
        raise AssertionError("check_counted built a tensor")

    monkeypatch.setattr(torch, "frombuffer", no_tensors)
    monkeypatch.setattr(np, "frombuffer", no_tensors)
    assert check_counted(header, buffers) == nodes
    with pytest.raises(CodecError, match=f"more than {nodes - 1} parts"):
        check_counted(header, buffers, max_nodes=nodes - 1)
    with pytest.raises(CodecError, match="larger than 10 bytes"):
        check_counted(header, buffers, max_bytes=10)


def test_checking_refuses_buffers_the_value_does_not_use():
    header, buffers = encode([torch.zeros(2), 1])
    assert check_counted(header, buffers) == 3
    with pytest.raises(CodecError, match="does not use"):
        check_counted(header, buffers + [b""])
    assert decode(header, buffers + [b""])[1] == 1  # job arguments share one list: decode allows it


def _encoded_size(value) -> int:
    """The least max_bytes that `encode` accepts `value` within."""
    low, high = 0, 1 << 20
    while low < high:
        middle = (low + high) // 2
        try:
            encode(value, max_bytes=middle)
            high = middle
        except CodecError:
            low = middle + 1
    return low


@pytest.mark.parametrize("value", ["a" * 100, "é" * 50 + "\U0001f600", 2**100, -7, [1.5, "x", None, True, float("nan")],
                                   {"key": torch.zeros(3), "k2": ("v",)}, np.zeros(4), np.float32(2.5),
                                   ModelSpec(layers=(("linear", torch.ones(2, 3, dtype=torch.float64), None),))],
                         ids=["ascii", "astral", "big-int", "int", "list", "dict", "array", "np-scalar", "model"])
def test_decoding_counts_a_values_bytes_as_encoding_does(value):
    # a value a child could not send within max_bytes is not taken from a frame written by hand either
    size = _encoded_size(value)
    header, buffers = encode(value)
    decode(header, buffers, max_bytes=size)
    assert check_counted(header, buffers, max_bytes=size) >= 1
    with pytest.raises(CodecError, match="larger"):
        decode(header, buffers, max_bytes=size - 1)
    with pytest.raises(CodecError, match="larger"):
        check_counted(header, buffers, max_bytes=size - 1)
