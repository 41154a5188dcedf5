"""Not-allowed calls by any route (issue 10 section 1).

- The trusted static scan is the rule: every route of `forbidden_routes.ROUTES` is rejected
  by the scan alone, with a message naming the construct and its line.
- Through the real judge and sandbox, a representative subset is graded `forbidden`
  (on the old code each of these scored full marks).
- The second line, `OpWatch` in the student's process, catches ATen-level routes by itself
  (the scan bypassed), and honest alternatives stay `correct` with both lines on.
"""

from __future__ import annotations

import ast
import textwrap

import pytest

from grader.code.exercise import DeclarationError, check_op_name
from grader.code.judge import find_violations, grade_code_submission
from grader.sandbox import Call

from .forbidden_routes import PREPARED_BY_A_FUNCTION_WITHOUT_RULES, ROUTES, Route

ROUTE_IDS = [f"{r.function}:{r.label}" for r in ROUTES]


def _violations(source: str, exercise) -> list:
    return find_violations(ast.parse(source), [exercise])[exercise.function]


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
def test_the_static_scan_rejects_every_route(by_function, route: Route) -> None:
    uses = _violations(route.source, by_function[route.function])
    assert uses, f"{route.label} passed the scan"
    lines = route.source.splitlines()
    for use in uses:  # each finding points at a line that holds what it names
        assert 1 <= use.line <= len(lines)
        assert "on line" in use.describe()


# Graded through the real judge and sandbox: each of these scored full marks before.
THROUGH_THE_JUDGE = [
    "conv2d:torch.ops.aten.convolution",
    'conv2d:getattr(torch._VF, "conv" + "2d")',
    "conv2d:F.conv3d on an added dimension",
    "conv2d:from torch.nn.functional import *",
    "conv2d:sys.modules scan",
    "max_pool2d:sys.modules scan",
    "max_pool2d:guard muted via __closure__",
    "dropout:sys.modules scan",
    "dropout:torch.ops.aten.native_dropout",
    "layer_norm:F.group_norm with one group",
    "lstm_cell:torch._VF.lstm_cell",
    "relu_backward:y.grad_fn(dout)",
    "relu_backward:Variable._execution_engine",
    "conv2d:match positional patterns through __match_args__, muting the in-sandbox record",
]


@pytest.mark.parametrize("route_id", THROUGH_THE_JUDGE)
def test_routes_are_graded_forbidden_through_the_judge(by_function, pool, route_id: str) -> None:
    route = ROUTES[ROUTE_IDS.index(route_id)]
    (item,) = grade_code_submission(route.source, [by_function[route.function]], {route.function: 3}, pool)
    assert item.status == "forbidden", (route_id, item.status, item.feedback)
    assert item.score == 0 and all(t.status == "forbidden" for t in item.tests)
    assert "line" in item.feedback and route.function in item.feedback


def test_a_function_without_rules_cannot_prepare_a_route_for_one_with_rules(by_function, pool) -> None:
    """diffusion_loss has no rules, so its body is not scanned; its calls must not run
    before conv2d's, whatever the order of the exercises."""
    source = PREPARED_BY_A_FUNCTION_WITHOUT_RULES
    exercises = [by_function["diffusion_loss"], by_function["conv2d"]]
    assert find_violations(ast.parse(source), exercises) == {"conv2d": []}  # the scan passes it
    unruled, ruled = grade_code_submission(source, exercises, {"diffusion_loss": 3, "conv2d": 3}, pool)
    assert unruled.status == "correct"
    assert ruled.status != "correct" and ruled.score == 0, ruled.feedback


# ----------------------------------------------------------------- the second line (ATen)

SECOND_LINE = {
    "conv2d:torch.ops.aten.convolution": "aten::convolution",
    'conv2d:getattr(torch._VF, "conv" + "2d")': "aten::convolution",
    "conv2d:F.conv3d on an added dimension": "aten::convolution",
    "conv2d:sys.modules scan": "aten::convolution",
    "max_pool2d:torch._VF.max_pool2d": "aten::max_pool2d_with_indices",
    "max_pool2d:F.max_pool3d on an added dimension": "aten::max_pool3d_with_indices",
    "dropout:torch.ops.aten.native_dropout": "aten::native_dropout",
    "layer_norm:aten.layer_norm": "aten::native_layer_norm",
    "layer_norm:F.group_norm with one group": "aten::native_group_norm",
    "batchnorm_forward:F.layer_norm on the transpose": "aten::native_layer_norm",
    "scaled_dot_product_attention:torch.ops.aten._scaled_dot_product_attention_math": "aten::_safe_softmax",
    "relu_backward:torch.autograd.graph._engine_run_backward": "autograd::engine",
    "relu_backward:y.grad_fn(dout)": "aten::threshold_backward",
    "relu_backward:torch.autograd.forward_ad": "aten::threshold_backward",
    "linear_backward:torch.autograd.graph._engine_run_backward": "autograd::engine",
    "conv2d:watch switched off by a dispatch guard from import": "aten::convolution",
    "layer_norm:watch switched off by a dispatch guard from import": "aten::native_layer_norm",
    "relu_backward:watch switched off by a dispatch guard from import": "aten::threshold_backward",
}


def test_the_aten_line_alone_catches_what_the_library_runs(by_function, pool) -> None:
    """The routes run in the sandbox with only the ATen ops watched (no scan, no names)."""
    for route_id, op in SECOND_LINE.items():
        route = ROUTES[ROUTE_IDS.index(route_id)]
        exercise = by_function[route.function]
        test = exercise.public_tests[-1]
        call = Call("c", exercise.function, test.args, test.kwargs, forbidden=exercise.forbidden_ops)
        result = pool.run(route.source, [call])
        outcome = result.calls["c"]
        assert outcome.status == "forbidden", (route_id, result.status, outcome.status, outcome.message)
        assert op in outcome.forbidden_calls, (route_id, outcome.forbidden_calls)


def test_a_value_computed_when_it_is_copied_out_is_refused(by_function, pool) -> None:
    """Its __torch_dispatch__ would run the op after the call, where neither line looks."""
    route = ROUTES[ROUTE_IDS.index("conv2d:value computed when it is copied out")]
    exercise = by_function["conv2d"]
    test = exercise.public_tests[-1]
    call = Call("c", "conv2d", test.args, test.kwargs, forbidden=exercise.forbidden + exercise.forbidden_ops)
    outcome = pool.run(route.source, [call]).calls["c"]
    assert (outcome.status, outcome.value) == ("bad-output", None), (outcome.status, outcome.message)
    assert "__torch_dispatch__" in outcome.message


def test_the_aten_line_records_nothing_for_honest_code(by_function, pool, solution_source) -> None:
    """The instructor's solution with every exercise's ATen ops watched: no hit."""
    calls = [
        Call(f"{e.function}/{t.name}", e.function, t.args, t.kwargs, forbidden=e.forbidden_ops)
        for e in by_function.values()
        if e.forbidden_ops
        for t in e.public_tests
    ]
    result = pool.run(solution_source, calls)
    assert result.status == "ok"
    assert {c.id: c.status for c in result.calls.values() if c.status != "ok"} == {}


HONEST = {
    "conv2d": '''
import torch
import torch.nn.functional as F

def conv2d(x, weight, bias=None, stride=1, padding=0):
    x = F.pad(x, (padding,) * 4)
    k_h, k_w = weight.shape[-2:]
    windows = x.unfold(2, k_h, stride).unfold(3, k_w, stride)
    out = torch.einsum("nchwij,ocij->nohw", windows, weight)
    return out if bias is None else out + bias[None, :, None, None]
''',
    "max_pool2d": '''
import torch

def max_pool2d(x, kernel_size, stride):
    windows = x.unfold(2, kernel_size, stride).unfold(3, kernel_size, stride)
    best = windows[..., 0, 0]
    for i in range(kernel_size):
        for j in range(kernel_size):
            best = torch.where(windows[..., i, j] > best, windows[..., i, j], best)
    return best
''',
    "dropout": '''
import torch

def dropout(x, p, training):
    if not training or p == 0:
        return x
    keep = torch.empty_like(x).bernoulli_(1 - p)
    return x * keep / (1 - p)
''',
    "layer_norm": '''
import torch

class _Stats:
    def __init__(self, eps):
        self._eps = eps

    def normalize(self, x):
        mean = x.mean(-1, keepdim=True)
        return (x - mean) / torch.sqrt(((x - mean) ** 2).mean(-1, keepdim=True) + self._eps)

def layer_norm(x, gamma, beta, eps=1e-5):
    return _Stats(eps).normalize(x) * gamma + beta

if __name__ == "__main__":
    import torch.nn.functional as F
    x = torch.randn(2, 3)
    print(getattr(F, "layer_norm")(x, (3,)), vars(), globals())
''',
    "relu_backward": '''
import sys
import math
import torch

def relu_backward(dout: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    assert sys.maxsize > 0 and math.isfinite(sys.float_info.max)
    if getattr(x, "is_sparse", False) or hasattr(x, "shape") is False:
        raise ValueError("dense tensors only")
    return torch.where(x > 0, dout, torch.zeros_like(dout))
''',
}


@pytest.mark.parametrize("function", sorted(HONEST))
def test_honest_alternatives_stay_correct(by_function, pool, function: str) -> None:
    (item,) = grade_code_submission(HONEST[function], [by_function[function]], {function: 5}, pool)
    assert item.status == "correct", (function, item.feedback)


# ------------------------------------------------------------------- scan details


def _scan(source: str, function: str, by_function) -> list[str]:
    return [u.describe() for u in _violations(textwrap.dedent(source), by_function[function])]


def test_dynamic_access_outside_the_function_counts_only_when_it_runs_at_import(by_function) -> None:
    source = """
    import torch
    def fgsm_helper(model, name):
        return getattr(model, name)
    def conv2d(x, weight, bias=None, stride=1, padding=0):
        return x
    """
    assert _scan(source, "conv2d", by_function) == []
    at_import = source + "_ = fgsm_helper(torch, 'con' + 'v2d')\n"
    found = _scan(at_import, "conv2d", by_function)
    assert any("getattr(model, name)" in text and "line 4" in text for text in found)


def test_a_decorator_or_a_class_body_runs_at_import(by_function) -> None:
    decorated = """
    import torch
    def mute(f):
        f.__globals__["x"] = 1
        return f
    @mute
    def helper():
        pass
    def layer_norm(x, gamma, beta, eps=1e-5):
        return x
    """
    assert any("__globals__" in text for text in _scan(decorated, "layer_norm", by_function))
    in_class = "import torch\nclass Sneaky:\n    found = vars(torch)\ndef layer_norm(x, g, b, eps=1e-5):\n    return x\n"
    assert any("vars" in text for text in _scan(in_class, "layer_norm", by_function))


def test_redefining_the_main_guard_name_is_dynamic_access(by_function) -> None:
    source = '__name__ = "__main__"\nif __name__ == "__main__":\n    import os\ndef dropout(x, p, training):\n    return x\n'
    assert any("__name__" in text for text in _scan(source, "dropout", by_function))


def test_exercises_without_rules_are_not_scanned_for_dynamic_access(by_function) -> None:
    source = "import os\ndef diffusion_loss(eps_pred, eps):\n    return ((eps_pred - eps) ** 2).mean()\n"
    assert find_violations(ast.parse(source), [by_function["diffusion_loss"]]) == {}


def test_forbidden_op_names_are_checked_when_declared() -> None:
    check_op_name("aten::convolution")
    check_op_name("autograd::engine")
    for bad in ("aten::no_such_op", "torch.conv2d", "convolution"):
        with pytest.raises(DeclarationError):
            check_op_name(bad)
