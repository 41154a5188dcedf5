"""Red team 5: a job sends each distinct list of forbidden names once, and each call names
its list by index (`pool.make_job`).  Calls that run in a fresh child after an earlier call
of the submission died (the child starts at that index) are watched for their own names,
Python and ATen ones alike, on a worker whose template knows the ops already or not."""

from __future__ import annotations

from grader.sandbox import Call

SOURCE = """
import os, torch
import torch.nn.functional as F
def die():
    os._exit(3)
def conv():
    return F.conv2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 2, 2)).sum().item()
def conv_op():
    args = (torch.ones(1, 1, 3, 3), torch.ones(1, 1, 2, 2), None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1)
    return torch.ops.aten.convolution(*args).sum().item()
def back():
    x = torch.ones(2, requires_grad=True)
    (x * 2).sum().backward()
    return x.grad.sum().item()
"""
PYTHON, ATEN, ENGINE = ("torch.nn.functional.conv2d",), ("aten::convolution",), ("autograd::engine",)


def test_calls_resumed_after_a_crash_are_watched_for_their_own_names(pool):
    calls = [Call("c0", "conv", forbidden=PYTHON), Call("c1", "die"), Call("c2", "conv"), Call("c3", "conv", forbidden=PYTHON),
             Call("c4", "conv_op", forbidden=ATEN), Call("c5", "back", forbidden=ENGINE), Call("c6", "conv_op"),
             Call("c7", "die"), Call("c8", "back", forbidden=ENGINE), Call("c9", "conv", forbidden=ATEN + PYTHON),
             Call("c10", "conv", forbidden=PYTHON), Call("c11", "back")]
    expected = {"c0": "forbidden", "c1": "crashed", "c2": "ok", "c3": "forbidden", "c4": "forbidden", "c5": "forbidden",
                "c6": "ok", "c7": "crashed", "c8": "forbidden", "c9": "forbidden", "c10": "forbidden", "c11": "ok"}
    for _ in range(3):  # on both workers, before and after their templates learn the ATen ops
        result = pool.run(SOURCE, calls)
        assert {cid: call.status for cid, call in result.calls.items()} == expected
    assert result.calls["c2"].value == 16.0 and result.calls["c11"].value == 4.0
