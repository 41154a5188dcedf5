"""The ATen watch in the student's process: which route reaches a forbidden op does not
matter, honest ops pass untouched, and only the ops watched in this call are recorded."""

from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F

from grader.sandbox.harness import AUTOGRAD_ENGINE, WATCH_OFF, OpWatch, op_watch_key, prepare_op_watch, watch_ops

F64 = torch.float64


def _conv_inputs():
    torch.manual_seed(0)
    return torch.randn(1, 2, 5, 5, dtype=F64, requires_grad=True), torch.randn(3, 2, 3, 3, dtype=F64)


def test_kernels_see_a_forbidden_op_by_every_route_and_in_backward_passes() -> None:
    x, w = _conv_inputs()
    hits: list[str] = []
    with watch_ops(("aten::convolution", "aten::convolution_backward"), hits):
        F.conv2d(x, w).sum().backward()  # composite conv2d -> convolution; backward runs convolution_backward
    assert hits == ["aten::convolution", "aten::convolution_backward"]
    out = torch.empty(0, dtype=F64)
    indices = torch.empty(0, dtype=torch.long)
    hits = []
    with watch_ops(("aten::max_pool2d_with_indices",), hits):
        torch.ops.aten.max_pool2d_with_indices.out(x.detach(), [2, 2], [2, 2], [0, 0], [1, 1], False, out=out, indices=indices)
    assert hits == ["aten::max_pool2d_with_indices"]  # the out= overload too


def test_kernels_change_no_value_and_record_only_inside_the_watch() -> None:
    x, w = _conv_inputs()
    expected = F.conv2d(x, w)
    expected.sum().backward()
    expected_grad = x.grad.clone()
    x.grad = None
    hits: list[str] = []
    prepare_op_watch(["aten::convolution"])  # registered, but not watched in the call below
    with watch_ops(("aten::relu",), hits):
        got = F.conv2d(x, w)  # registered, but not watched in this call
        got.sum().backward()
    assert hits == [] and torch.equal(got, expected) and torch.equal(x.grad, expected_grad)
    outside: list[str] = []
    with watch_ops(("aten::convolution",), outside):
        pass
    F.conv2d(x, w)  # after the watch: the key is off
    assert outside == []


def test_watch_ops_looks_at_every_op_only_when_the_autograd_engine_is_forbidden() -> None:
    x, w = _conv_inputs()
    engine: list[str] = []
    with watch_ops(("aten::convolution", AUTOGRAD_ENGINE), engine):
        F.conv2d(x, w).sum().backward()
    assert engine == ["aten::convolution", AUTOGRAD_ENGINE]  # each once, though the kernels see convolution too
    assert not isinstance(watch_ops(("aten::convolution", "torch.nn.functional.conv2d"), []), OpWatch)
    x, w = _conv_inputs()
    hits: list[str] = []
    with watch_ops(("aten::convolution", "torch.nn.functional.conv2d"), hits):
        F.conv2d(x, w)
    assert hits == ["aten::convolution"]


def _switch_off_and_on(names: tuple[str, ...], restore: bool) -> list[str]:
    """A dispatch-state guard entered before the watch (as at import) and closed inside it
    restores the keys of before; with `restore`, a guard entered inside puts the watch's
    keys back before the block ends.  The hits of a convolution run in between."""
    x, w = _conv_inputs()
    before = contextlib.ExitStack()
    before.enter_context(torch.inference_mode(False))  # changes no key, saves them all
    hits: list[str] = []
    with watch_ops(names, hits):
        inside = contextlib.ExitStack()
        if restore:
            inside.enter_context(torch.inference_mode(False))
        before.close()
        F.conv2d(x, w)
        inside.close()
    return hits


def test_a_watch_switched_off_by_a_dispatch_guard_is_recorded() -> None:
    assert _switch_off_and_on(("aten::convolution",), restore=False) == [WATCH_OFF]
    assert WATCH_OFF in _switch_off_and_on(("aten::convolution", AUTOGRAD_ENGINE), restore=False)


def test_with_the_key_on_from_before_the_import_no_guard_can_switch_it_off() -> None:
    with op_watch_key(["aten::convolution"]):  # as the sandbox child holds it from before the import
        assert _switch_off_and_on(("aten::convolution",), restore=True) == ["aten::convolution"]
        assert _switch_off_and_on(("aten::convolution",), restore=False) == ["aten::convolution"]


def test_the_key_stays_off_in_processes_that_watch_no_op() -> None:
    pre_dispatch = torch._C.DispatchKey.PreDispatch
    w = torch.randn(3, dtype=F64)
    with op_watch_key(["torch.nn.functional.conv2d"]):
        assert not torch._C._dispatch_tls_is_dispatch_key_included(pre_dispatch)
        assert torch.cond(torch.tensor(True), lambda a: a + 1, lambda a: a - 1, (w,)).equal(w + 1)
    with op_watch_key(["aten::convolution"]):
        assert torch._C._dispatch_tls_is_dispatch_key_included(pre_dispatch)
    assert not torch._C._dispatch_tls_is_dispatch_key_included(pre_dispatch)
