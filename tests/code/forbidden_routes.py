"""Dishonest submissions for the not-allowed rule (issue 10 section 1): each route reaches
a not-allowed computation by another way than naming it.  Every source below is a whole
`exercise.py` that would score full marks if the route were allowed (unless said
otherwise), and must be graded `forbidden`.

Student code for the tests: read as text, only ever run in the sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    function: str
    label: str
    source: str


_H = "import torch\nimport torch.nn.functional as F\n"

_CONV = "def conv2d(x, weight, bias=None, stride=1, padding=0):\n"
_POOL = "def max_pool2d(x, kernel_size, stride):\n"
_DROP = "def dropout(x, p, training):\n    if not training:\n        return x\n"
_LN = "def layer_norm(x, gamma, beta, eps=1e-5):\n"
_BN = "def batchnorm_forward(x, gamma, beta, eps=1e-5):\n"
_SDPA = "def scaled_dot_product_attention(q, k, v, mask=None):\n"
_LSTM = "def lstm_cell(x, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh):\n"
_RELU = "def relu_backward(dout, x):\n"
_LIN = "def linear_backward(x, W, dout):\n"
_CE = "def softmax_cross_entropy(logits, y):\n"
_GAP = "def global_avg_pool(x):\n"
_ADAM = "def adam_step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):\n"

# sys.modules scan of the issue: any attribute named like the exercise, in any module.
_SCAN_MODULES = '''
import sys
import torch

def _find(name):
    for module in list(sys.modules.values()):
        for owner in (module, getattr(module, "_VariableFunctions", None)):
            candidate = getattr(owner, name, None)
            if callable(candidate) and getattr(candidate, "__qualname__", "") in (name, "wrapper"):
                continue  # the guard's wrapper
            if callable(candidate):
                return candidate
    raise LookupError(name)
'''

# Muting the in-process guard through a wrapper's closure, then a computed name.
_MUTE_GUARD = '''
import torch
import torch.nn.functional as F

for _wrapped in (F.dropout, F.max_pool2d, F.layer_norm, torch.autograd.grad):
    for _cell in _wrapped.__closure__ or ():
        _guard = _cell.cell_contents
        if hasattr(_guard, "active"):
            _guard.watch = lambda names, _g=_guard: __import__("contextlib").nullcontext([])
'''

_RELU_BY_AUTOGRAD = "    x = x.detach().clone().requires_grad_(True)\n    y = torch.relu(x)\n"
_LIN_BY_AUTOGRAD = "    x = x.detach().clone().requires_grad_(True)\n    W = W.detach().clone().requires_grad_(True)\n"


def _conv(body: str, head: str = _H) -> str:
    return head + _CONV + body


CONV_ROUTES = [
    Route("conv2d", "torch.ops.aten.conv2d", _conv(
        "    return torch.ops.aten.conv2d(x, weight, bias, [stride] * 2, [padding] * 2)\n")),
    Route("conv2d", "torch.ops.aten.convolution", _conv(
        "    return torch.ops.aten.convolution(x, weight, bias, [stride] * 2, [padding] * 2, [1, 1], False, [0, 0], 1)\n")),
    Route("conv2d", 'getattr(torch._VF, "conv" + "2d")', _conv(
        '    return getattr(torch._VF, "conv" + "2d")(x, weight, bias, stride, padding)\n')),
    Route("conv2d", "torch._C._VariableFunctions, computed name", _conv(
        '    name = "".join(["con", "v2d"])\n'
        "    return getattr(torch._C._VariableFunctions, name)(x, weight, bias, stride, padding)\n")),
    Route("conv2d", "F.conv3d on an added dimension", _conv(
        "    return F.conv3d(x[:, :, None], weight[:, :, None], bias, stride=(1, stride, stride),"
        " padding=(0, padding, padding))[:, :, 0]\n")),
    Route("conv2d", "F.conv1d per kernel row", _conv(
        "    return sum(F.conv1d(x[:, :, i].flatten(0, 1)[:, None], weight[:, :, i])"
        " for i in range(weight.shape[2]))\n")),
    Route("conv2d", "nn.LazyConv2d", _conv(
        "    layer = torch.nn.LazyConv2d(weight.shape[0], weight.shape[2:], stride, padding, bias=bias is not None)\n"
        "    return layer(x)\n")),
    Route("conv2d", "from torch import _VF", "import torch\nfrom torch import _VF\n" + _CONV
          + "    return _VF.conv2d(x, weight, bias, stride, padding)\n"),
    Route("conv2d", "import torch._C as c", "import torch._C as c\n" + _CONV
          + "    return c._VariableFunctions.conv2d(x, weight, bias, stride, padding)\n"),
    Route("conv2d", "import torch as t; t._VF", "import torch as t\n" + _CONV
          + "    return t._VF.conv2d(x, weight, bias, stride, padding)\n"),
    Route("conv2d", "module alias by assignment", _conv(
        "    lib = torch\n    return lib.conv2d(x, weight, bias, stride, padding)\n")),
    Route("conv2d", "__import__", _conv(
        '    return __import__("torch").conv2d(x, weight, bias, stride, padding)\n')),
    Route("conv2d", "importlib.import_module", "import importlib\n" + _CONV
          + '    return importlib.import_module("torch.nn.functional").conv2d(x, weight, bias, stride, padding)\n'),
    Route("conv2d", "from importlib import *", "from importlib import *\n" + _CONV
          + '    return import_module("torch").conv2d(x, weight, bias, stride, padding)\n'),
    Route("conv2d", "operator.attrgetter", _H + "import operator\n" + _CONV
          + '    return operator.attrgetter("conv" + "2d")(F)(x, weight, bias, stride, padding)\n'),
    Route("conv2d", "functools.reduce(getattr, ...)", _H + "import functools\n" + _CONV
          + '    return functools.reduce(getattr, ["nn", "functional", "conv2d"], torch)(x, weight, bias, stride, padding)\n'),
    Route("conv2d", "object.__getattribute__", _conv(
        '    return object.__getattribute__(torch, "conv" + "2d")(x, weight, bias, stride, padding)\n')),
    Route("conv2d", "type(x).__mro__", _conv(
        "    base = type(x).__mro__[1]\n    return torch.conv2d(x, weight, bias, stride, padding) if base else None\n")),
    Route("conv2d", "vars(F)", _conv('    return vars(F)["conv2d"](x, weight, bias, stride, padding)\n')),
    Route("conv2d", "F.__dict__", _conv('    return F.__dict__["conv" + "2d"](x, weight, bias, stride, padding)\n')),
    Route("conv2d", "globals()", _conv('    return globals()["F"].conv2d(x, weight, bias, stride, padding)\n')),
    Route("conv2d", "eval", _conv('    return eval("F.conv" + "2d")(x, weight, bias, stride, padding)\n')),
    Route("conv2d", "exec", _conv(
        '    scope = {"F": F}\n    exec("f = F.conv" + "2d", scope)\n    return scope["f"](x, weight, bias, stride, padding)\n')),
    Route("conv2d", "compile", _conv(
        '    code = compile("F.conv" + "2d", "<s>", "eval")\n    return eval(code)(x, weight, bias, stride, padding)\n')),
    Route("conv2d", "builtins.getattr", _H + "import builtins\n" + _CONV
          + '    return builtins.getattr(F, "conv" + "2d")(x, weight, bias, stride, padding)\n'),
    Route("conv2d", "from torch.nn.functional import *", "from torch.nn.functional import *\n" + _CONV
          + "    return conv3d(x[:, :, None], weight[:, :, None], bias, stride=(1, stride, stride),"
          " padding=(0, padding, padding))[:, :, 0]\n"),
    Route("conv2d", "sys.modules scan", _SCAN_MODULES + _CONV
          + '    return _find("conv2d")(x, weight, bias, stride, padding)\n'),
    Route("conv2d", "guard muted via __closure__", _MUTE_GUARD + _CONV
          + '    return getattr(F, "conv" + "2d")(x, weight, bias, stride, padding)\n'),
    Route("conv2d", "pydoc.locate", "import pydoc\n" + _CONV
          + '    return pydoc.locate("torch.conv" + "2d")(x, weight, bias, stride, padding)\n'),
    Route("conv2d", "torch.overrides listing", _conv(
        "    for f in torch.overrides.get_ignored_functions() | set(torch.overrides.get_testing_overrides()):\n"
        '        if getattr(f, "__name__", "") == "conv" + "2d":\n'
        "            return f(x, weight, bias, stride, padding)\n")),
    Route("conv2d", "F.conv_transpose2d", _conv(
        "    k = weight.shape[-1]\n"
        "    return F.conv_transpose2d(x, weight.flip(2, 3).transpose(0, 1), bias, padding=k - 1 - padding)\n")),
    Route("conv2d", "pickle", "import pickle\n" + _CONV
          + '    return pickle.loads(b"ctorch\\nconv2d\\n.")(x, weight, bias, stride, padding)\n'),
    Route("conv2d", "os / subprocess", "import os\nimport subprocess\nimport torch\n" + _CONV
          + "    return torch.zeros(1) if os.getpid() and subprocess else None\n"),
    Route("conv2d", "ctypes / gc / inspect", "import ctypes, gc, inspect\nimport torch\n" + _CONV
          + "    return [o for o in gc.get_objects() if inspect.isbuiltin(o)][0] if ctypes else None\n"),
]

POOL_ROUTES = [
    Route("max_pool2d", "torch._VF.max_pool2d", _H + _POOL + "    return torch._VF.max_pool2d(x, kernel_size, stride)\n"),
    Route("max_pool2d", "torch.ops.aten.max_pool2d_with_indices", _H + _POOL
          + "    return torch.ops.aten.max_pool2d_with_indices(x, [kernel_size] * 2, [stride] * 2)[0]\n"),
    Route("max_pool2d", "F.max_pool3d on an added dimension", _H + _POOL
          + "    return F.max_pool3d(x[:, None], (1, kernel_size, kernel_size), (1, stride, stride))[:, 0]\n"),
    Route("max_pool2d", "nn.MaxPool3d", _H + _POOL
          + "    return torch.nn.MaxPool3d((1, kernel_size, kernel_size), (1, stride, stride))(x[:, None])[:, 0]\n"),
    Route("max_pool2d", "F.fractional_max_pool2d / adaptive", _H + _POOL
          + "    return F.adaptive_max_pool2d(x, (x.shape[2] // stride, x.shape[3] // stride))\n"),
    Route("max_pool2d", "sys.modules scan", _SCAN_MODULES + _POOL + '    return _find("max_pool2d")(x, kernel_size, stride)\n'),
    Route("max_pool2d", "guard muted via __closure__", _MUTE_GUARD + _POOL
          + '    return getattr(F, "max_pool" + "2d")(x, kernel_size, stride)\n'),
]

DROPOUT_ROUTES = [
    Route("dropout", "torch._VF.dropout", _H + _DROP + "    return torch._VF.dropout(x, p, True)\n"),
    Route("dropout", "F.dropout1d", _H + _DROP + "    return F.dropout1d(x.flatten()[None, :, None], p, True).view_as(x)\n"),
    Route("dropout", "F.dropout3d", _H + _DROP + "    return F.dropout3d(x.reshape(1, -1, 1, 1, 1), p, True).view_as(x)\n"),
    Route("dropout", "F.alpha_dropout", _H + _DROP + "    return F.alpha_dropout(x, p, True)\n"),
    Route("dropout", "F.feature_alpha_dropout", _H + _DROP + "    return F.feature_alpha_dropout(x, p, True)\n"),
    Route("dropout", "nn.Dropout3d", _H + _DROP + "    return torch.nn.Dropout3d(p)(x.reshape(1, -1, 1, 1, 1)).view_as(x)\n"),
    Route("dropout", "torch.native_dropout", _H + _DROP + "    return torch.native_dropout(x, p, True)[0]\n"),
    Route("dropout", "torch.ops.aten.native_dropout", _H + _DROP + "    return torch.ops.aten.native_dropout(x, p, True)[0]\n"),
    Route("dropout", "sys.modules scan", _SCAN_MODULES + _DROP + '    return _find("dropout")(x, p, True)\n'),
    Route("dropout", "guard muted via __closure__", _MUTE_GUARD + _DROP + '    return getattr(F, "drop" + "out")(x, p, True)\n'),
]

LAYER_NORM_ROUTES = [
    Route("layer_norm", "aten.layer_norm", _H + _LN
          + "    return torch.ops.aten.layer_norm(x, [x.shape[-1]], gamma, beta, eps)\n"),
    Route("layer_norm", "torch._VF / torch.layer_norm by computed name", _H + _LN
          + '    return getattr(torch, "layer" + "_norm")(x, [x.shape[-1]], gamma, beta, eps)\n'),
    Route("layer_norm", "F.group_norm with one group", _H + _LN
          + "    y = F.group_norm(x.reshape(-1, 1, x.shape[-1]), 1, eps=eps).reshape(x.shape)\n    return y * gamma + beta\n"),
    Route("layer_norm", "F.instance_norm", _H + _LN
          + "    y = F.instance_norm(x.reshape(1, -1, x.shape[-1]), eps=eps).reshape(x.shape)\n    return y * gamma + beta\n"),
    Route("layer_norm", "F.batch_norm on the transpose", _H + _LN
          + "    flat = x.reshape(-1, x.shape[-1]).T\n"
          "    y = F.batch_norm(flat, None, None, training=True, eps=eps).T.reshape(x.shape)\n    return y * gamma + beta\n"),
    Route("layer_norm", "F.rms_norm of the centred input", _H + _LN
          + "    return F.rms_norm(x - x.mean(-1, keepdim=True), [x.shape[-1]], gamma, eps) + beta\n"),
    Route("layer_norm", "sys.modules scan", _SCAN_MODULES + _LN
          + '    return _find("layer_norm")(x, [x.shape[-1]], gamma, beta, eps)\n'),
]

BATCHNORM_ROUTES = [
    Route("batchnorm_forward", "F.layer_norm on the transpose", _H + _BN
          + "    return F.layer_norm(x.T, [x.shape[0]], eps=eps).T * gamma + beta\n"),
    Route("batchnorm_forward", "F.instance_norm", _H + _BN
          + "    return F.instance_norm(x.T[None], eps=eps)[0].T * gamma + beta\n"),
    Route("batchnorm_forward", "nn.LazyBatchNorm1d", _H + _BN
          + "    return torch.nn.LazyBatchNorm1d(eps=eps, affine=False)(x) * gamma + beta\n"),
    Route("batchnorm_forward", "torch.ops.aten.native_batch_norm", _H + _BN
          + "    return torch.ops.aten.native_batch_norm(x, gamma, beta, None, None, True, 0.1, eps)[0]\n"),
]

ATTENTION_ROUTES = [
    Route("scaled_dot_product_attention", "torch.ops.aten._scaled_dot_product_attention_math", _H + _SDPA
          + "    m = None if mask is None else mask.to(torch.bool)\n"
          "    return torch.ops.aten._scaled_dot_product_attention_math(q, k, v, m)\n"),
    Route("scaled_dot_product_attention", "torch._C._nn.scaled_dot_product_attention", _H + _SDPA
          + "    out = torch._C._nn.scaled_dot_product_attention(q, k, v, mask)\n    return out, None\n"),
    Route("scaled_dot_product_attention", "sys.modules scan", _SCAN_MODULES + _SDPA
          + '    return _find("scaled_dot_product_attention")(q, k, v, mask), None\n'),
]

LSTM_ROUTES = [
    Route("lstm_cell", "torch._VF.lstm_cell", _H + _LSTM
          + "    return torch._VF.lstm_cell(x, (h_prev, c_prev), weight_ih, weight_hh, bias_ih, bias_hh)\n"),
    Route("lstm_cell", "torch.ops.aten.lstm_cell", _H + _LSTM
          + "    return torch.ops.aten.lstm_cell(x, [h_prev, c_prev], weight_ih, weight_hh, bias_ih, bias_hh)\n"),
    Route("lstm_cell", "torch.quantized_lstm_cell", _H + _LSTM
          + "    return torch.quantized_lstm_cell(x, [h_prev, c_prev], weight_ih, weight_hh, bias_ih, bias_hh,"
          " None, None, None, None, 1, 1, 0, 0)\n"),
]

AUTOGRAD_ROUTES = [
    Route("relu_backward", "torch.autograd.graph._engine_run_backward", _H + "import torch.autograd.graph\n" + _RELU
          + _RELU_BY_AUTOGRAD
          + "    torch.autograd.graph._engine_run_backward((y,), (dout,), False, False, (x,), True, True)\n    return x.grad\n"),
    Route("relu_backward", "Variable._execution_engine", _H + _RELU + _RELU_BY_AUTOGRAD
          + "    return torch.autograd.Variable._execution_engine.run_backward((y,), (dout,), False, False, (x,), False)[0]\n"),
    Route("relu_backward", "y.grad_fn(dout)", _H + _RELU + _RELU_BY_AUTOGRAD + "    return y.grad_fn(dout)\n"),
    Route("relu_backward", "torch.func.vjp", _H + _RELU + "    return torch.func.vjp(torch.relu, x)[1](dout)[0]\n"),
    Route("relu_backward", "torch.autograd.functional.vjp", _H + _RELU
          + "    return torch.autograd.functional.vjp(torch.relu, x, dout)[1]\n"),
    Route("relu_backward", "torch.autograd.forward_ad", _H + "import torch.autograd.forward_ad as fw\n" + _RELU
          + "    with fw.dual_level():\n"
          "        return fw.unpack_dual(torch.relu(fw.make_dual(x, dout))).tangent\n"),
    Route("relu_backward", "torch.func.jacrev", _H + _RELU
          + "    return (torch.func.jacrev(torch.relu)(x.flatten()) @ dout.flatten()).view_as(x)\n"),
    Route("relu_backward", "getattr(y, computed)", _H + _RELU + _RELU_BY_AUTOGRAD
          + '    getattr(y, "back" + "ward")(dout)\n    return x.grad\n'),
    Route("linear_backward", "torch.autograd.graph._engine_run_backward", _H + "import torch.autograd.graph\n" + _LIN
          + _LIN_BY_AUTOGRAD + "    y = x @ W\n"
          "    torch.autograd.graph._engine_run_backward((y,), (dout,), False, False, (x, W), True, True)\n"
          "    return x.grad, W.grad, dout.sum(0)\n"),
    Route("linear_backward", "torch.autograd.functional.jacobian", _H + _LIN
          + "    jx, jw = torch.autograd.functional.jacobian(lambda a, b: a @ b, (x, W))\n"
          "    return (torch.einsum('no,noik->ik', dout, jx), torch.einsum('no,noik->ik', dout, jw), dout.sum(0))\n"),
    Route("softmax_cross_entropy", "torch.func.grad_and_value", _H + _CE
          + "    f = lambda z: (z - z.logsumexp(1, keepdim=True)).gather(1, y[:, None]).mean().neg()\n"
          "    g, loss = torch.func.grad_and_value(f)(logits)\n    return loss, g\n"),
    Route("softmax_cross_entropy", "torch.special.log_softmax / _VF", _H + _CE
          + "    lp = torch._VF.log_softmax(logits, 1)\n"
          "    return -lp.gather(1, y[:, None]).mean(), (lp.exp() - F.one_hot(y, logits.shape[1])) / logits.shape[0]\n"),
]

OTHER_ROUTES = [
    Route("global_avg_pool", "F.adaptive_avg_pool3d", _H + _GAP + "    return F.adaptive_avg_pool3d(x[:, :, None], 1).flatten(1)\n"),
    Route("global_avg_pool", "F.avg_pool1d", _H + _GAP + "    return F.avg_pool1d(x.flatten(2), x.shape[2] * x.shape[3]).flatten(1)\n"),
    Route("adam_step", "torch.optim.Adagrad / functional", _H + _ADAM
          + "    return torch.optim._functional.adam, torch.optim.Adagrad, None\n"),
]

ROUTES = CONV_ROUTES + POOL_ROUTES + DROPOUT_ROUTES + LAYER_NORM_ROUTES + BATCHNORM_ROUTES + ATTENTION_ROUTES + LSTM_ROUTES + AUTOGRAD_ROUTES + OTHER_ROUTES

# Modules reached as attributes of allowed modules, and star imports of blocked names.
INDIRECT_ROUTES = [
    Route("conv2d", "contextlib.sys.modules", "import contextlib\n" + _CONV
          + '    return contextlib.sys.modules["torch"].conv2d(x, weight, bias, stride, padding)\n'),
    Route("conv2d", "torch.nn.functional.torch._C", _conv(
        "    return torch.nn.functional.torch._C._VariableFunctions.conv2d(x, weight, bias, stride, padding)\n")),
    Route("conv2d", "numpy.testing.os", "import numpy as np\n" + _CONV
          + "    return np.testing.os and x\n"),
    Route("conv2d", "from operator import * then attrgetter", _H + "from operator import *\n" + _CONV
          + '    return attrgetter("conv" + "2d")(F)(x, weight, bias, stride, padding)\n'),
    Route("conv2d", "contextlib.sys as a value", "import contextlib\n" + _CONV
          + "    s = contextlib.sys\n    return s\n"),
]
ROUTES += INDIRECT_ROUTES

# A helper captured before it is redefined: the first definition is the one that runs.
ROUTES.append(Route("conv2d", "helper captured, then redefined", _H + '''
def helper(x, w):
    return getattr(F, "conv" + "2d")(x, w)

captured = helper

def helper(x, w):
    return x

def conv2d(x, weight, bias=None, stride=1, padding=0):
    return captured(x, weight)
'''))

# Found by the red team after the merge: attributes read by `match` class patterns (no
# attribute node in the code), and a torch module the grader process never imported (its
# names cannot be resolved statically).
MATCH_ROUTES = [
    Route("conv2d", "match F.relu: case object(__globals__=g)", _conv(
        "    match F.relu:\n        case object(__globals__=g):\n            pass\n"
        '    return g["conv2d"](x, weight, bias, stride, padding)\n')),
    Route("conv2d", "match frame: case object(f_locals=...), muting the in-sandbox record", _H + '''
def _caller_locals():
    try:
        raise ValueError
    except ValueError as error:
        err = error
    match err:
        case object(__traceback__=object(tb_frame=object(f_back=object(f_locals=caller)))):
            return caller
''' + _CONV + '    _caller_locals()["hits"].clear()\n    return x\n'),
    Route("conv2d", "match with private attributes", _conv(
        "    match torch:\n        case object(_C=object(_VariableFunctions=vf)):\n            pass\n"
        "    return vf.conv2d(x, weight, bias, stride, padding)\n")),
    Route("conv2d", "a torch module the grader never loaded", "import torch\n"
          "import torch.ao.pruning.sparsifier.weight_norm_sparsifier as u\n" + _CONV
          + "    return u.F.conv2d(x, weight, bias, stride, padding)\n"),
    # Round 4 red team: positional sub-patterns read the attributes named by the class's
    # `__match_args__`, here strings in a class made by a call; `__subclasshook__` makes
    # any subject an instance.  No attribute node, no keyword: scored full marks.
    Route("conv2d", "match positional patterns through __match_args__, muting the in-sandbox record", _H + '''import abc


def _reader(attribute):
    return abc.ABCMeta("Reader", (), {"__match_args__": (attribute,),
                                      "__subclasshook__": classmethod(lambda cls, other: True)})


_Globals, _Traceback, _Frame, _Back, _Locals = map(_reader, ("__globals__", "__traceback__", "tb_frame", "f_back", "f_locals"))


def _caller_locals():
    try:
        raise ValueError
    except ValueError as error:
        err = error
    match err:
        case _Traceback(_Frame(_Back(_Back(_Locals(caller))))):
            return caller
''' + _CONV + '''    match F.relu:
        case _Globals(module):
            pass
    out = module["conv2d"](x, weight, bias, stride, padding)
    _caller_locals()["hits"].clear()
    return out
'''),
    # Keyword patterns read methods too: no `.backward` attribute node (the in-sandbox
    # record catches this one when it runs; the scan is the rule).
    Route("relu_backward", "match keyword patterns reading requires_grad_, backward and grad", '''import torch

def relu_backward(dout, x):
    x = x.detach().clone()
    match x:
        case object(requires_grad_=track):
            track(True)
    match torch.relu(x):
        case object(backward=run):
            run(dout)
    match x:
        case object(grad=gradient):
            return gradient
'''),
]
ROUTES += MATCH_ROUTES

# Switching the ATen watch off (round 2 red team): a dispatch-state guard entered at import
# (`inference_mode(False)` changes nothing visible) restores import time's dispatch keys
# when it is closed inside the call, which drops the key the watch switched on; a second
# guard, entered in the call before, puts the call's keys back before the call returns.
_SWITCH_OFF = '''
import contextlib
_IMPORT_TIME = contextlib.ExitStack()
_IMPORT_TIME.enter_context(torch.inference_mode(False))

def _unwatched(work, *args):
    in_call = contextlib.ExitStack()
    in_call.enter_context(torch.inference_mode(False))
    _IMPORT_TIME.close()
    try:
        return work(*args)
    finally:
        in_call.close()
'''

WATCH_OFF_ROUTES = [
    Route("conv2d", "watch switched off by a dispatch guard from import", _H + _SWITCH_OFF + _CONV
          + "    return _unwatched(F.conv2d, x, weight, bias, stride, padding)\n"),
    Route("layer_norm", "watch switched off by a dispatch guard from import", _H + _SWITCH_OFF + _LN
          + "    return _unwatched(F.layer_norm, x, x.shape[-1:], gamma, beta, eps)\n"),
    Route("relu_backward", "watch switched off by a dispatch guard from import", _H + _SWITCH_OFF + _RELU
          + "    return _unwatched(torch.ops.aten.threshold_backward, dout, x, 0.0)\n"),
]
ROUTES += WATCH_OFF_ROUTES

# A value computed late (round 2 red team): a Tensor subclass whose __torch_dispatch__ runs
# the forbidden op when the grader copies the value out, after the call returned.
LATE_ROUTES = [
    Route("conv2d", "value computed when it is copied out", _H + '''
class Later(torch.Tensor):
    inputs = ()

    @classmethod
    def __torch_dispatch__(cls, func, types, args=(), kwargs=None):
        return F.conv2d(*Later.inputs)
''' + _CONV + "    Later.inputs = (x, weight, bias, stride, padding)\n"
          + "    return torch.zeros(0, dtype=x.dtype).as_subclass(Later)\n"),
]
ROUTES += LATE_ROUTES

# An exercise without rules is not scanned (round 2 red team): its function, called before
# conv2d's calls in the same process, mutes both in-sandbox lines and puts the real
# convolution behind an allowed name that conv2d then calls.  Not a Route: the scan passes it.
PREPARED_BY_A_FUNCTION_WITHOUT_RULES = '''
import torch
import torch.nn.functional as F


def diffusion_loss(eps_pred, eps):
    import contextlib
    import sys
    for cell in F.conv2d.__closure__:
        owner = cell.cell_contents
        if hasattr(owner, "active"):  # the guard of not-allowed names
            owner.watch = lambda names: contextlib.nullcontext([])
            sys.modules[type(owner).__module__].watch_ops = lambda names, hits: contextlib.nullcontext()
        elif callable(owner):
            real = owner  # the convolution behind the guard's wrapper
    F.fold = lambda x, weight, bias=None, stride=1, padding=0: real(x, weight, bias, stride, padding)
    return ((eps_pred - eps) ** 2).mean()


def conv2d(x, weight, bias=None, stride=1, padding=0):
    return F.fold(x, weight, bias, stride, padding)
'''
