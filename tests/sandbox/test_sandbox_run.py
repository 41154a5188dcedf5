"""Well-behaved and ordinary-buggy submissions: statuses, values, parity with run_in_process."""

from __future__ import annotations

import textwrap
import threading

import pytest
import torch

from grader.sandbox import Call, ExecutorPool, Limits, ModelSpec, run_in_process

SOURCE = textwrap.dedent(
    """
    import torch
    import torch.nn.functional as F
    from torch.nn.functional import conv2d as imported_conv2d

    def add(a, b):
        return a + b

    def pair(x):
        return (x.sum(), [x * 2, {"n": 3, "s": "text"}])

    def broken(x):
        return helper(x)

    def helper(x):
        return x.reshape(7, 7)

    def todo():
        raise NotImplementedError("later")

    def conv_by_hand(x, w):
        return F.conv2d(x, w)

    def conv_via_import(x, w):
        return imported_conv2d(x, w)

    def conv_via_module(x):
        layer = torch.nn.Conv2d(1, 1, 3, bias=False).double()
        return layer(x)

    def grad_of_sum(x):
        x = x.clone().requires_grad_(True)
        (x ** 2).sum().backward()
        return x.grad

    def fgsm(model, x, y, eps):
        x = x.clone().requires_grad_(True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        return (x + eps * x.grad.sign()).detach()

    def big(n):
        return torch.zeros(n, dtype=torch.float64)

    def grads_required(x):
        return x * torch.ones_like(x, requires_grad=True)

    print("imported")
    """
)

F64 = torch.float64


def calls() -> list[Call]:
    x = torch.arange(4.0, dtype=F64)
    image, kernel = torch.randn(1, 1, 5, 5, dtype=F64), torch.randn(1, 1, 3, 3, dtype=F64)
    conv_forbidden = ("torch.nn.functional.conv2d", "torch.conv2d", "torch.nn.Conv2d")
    model = ModelSpec(layers=(("linear", torch.randn(3, 4, dtype=F64), torch.randn(3, dtype=F64)),))
    return [
        Call("add/1", "add", (x, x)),
        Call("pair/1", "pair", (x,)),
        Call("broken/1", "broken", (x,)),
        Call("todo/1", "todo"),
        Call("missing/1", "no_such_function"),
        Call("conv/direct", "conv_by_hand", (image, kernel), forbidden=conv_forbidden),
        Call("conv/imported", "conv_via_import", (image, kernel), forbidden=conv_forbidden),
        Call("conv/module", "conv_via_module", (image,), forbidden=conv_forbidden),
        Call("conv/allowed", "conv_by_hand", (image, kernel)),
        Call("grad/forbidden", "grad_of_sum", (x,), forbidden=("torch.Tensor.backward",)),
        Call("grad/allowed", "grad_of_sum", (x,)),
        Call("fgsm/1", "fgsm", (model, torch.randn(2, 4, dtype=F64), torch.tensor([0, 2]), 0.1)),
        Call("big/1", "big", (100,)),
        Call("requires-grad/1", "grads_required", (x,)),
    ]


def check_statuses(result) -> None:
    statuses = {cid: c.status for cid, c in result.calls.items()}
    assert statuses == {
        "add/1": "ok",
        "pair/1": "ok",
        "broken/1": "error",
        "todo/1": "not-implemented",
        "missing/1": "missing-function",
        "conv/direct": "forbidden",
        "conv/imported": "forbidden",
        "conv/module": "forbidden",
        "conv/allowed": "ok",
        "grad/forbidden": "forbidden",
        "grad/allowed": "ok",
        "fgsm/1": "ok",
        "big/1": "ok",
        "requires-grad/1": "ok",
    }
    c = result.calls
    assert torch.equal(c["add/1"].value, torch.tensor([0.0, 2, 4, 6], dtype=F64))
    total, (doubled, extra) = c["pair/1"].value
    assert total.item() == 6.0 and torch.equal(doubled, torch.tensor([0.0, 2, 4, 6], dtype=F64))
    assert extra == {"n": 3, "s": "text"}
    assert "RuntimeError" in c["broken/1"].message and 'line 16, in helper' in c["broken/1"].message
    assert c["todo/1"].message.startswith("NotImplementedError: later")
    assert c["conv/direct"].forbidden_calls == ("torch.nn.functional.conv2d",)
    assert c["conv/imported"].forbidden_calls == ("torch.nn.functional.conv2d",)
    assert "torch.nn.Conv2d" in c["conv/module"].forbidden_calls
    assert c["conv/direct"].value is None
    assert c["grad/forbidden"].forbidden_calls == ("torch.Tensor.backward",)
    assert torch.equal(c["grad/allowed"].value, 2 * torch.arange(4.0, dtype=F64))
    assert c["fgsm/1"].value.shape == (2, 4) and c["fgsm/1"].value.dtype == F64
    assert type(c["requires-grad/1"].value) is torch.Tensor and not c["requires-grad/1"].value.requires_grad


def test_sandbox_statuses_and_values(pool: ExecutorPool):
    result = pool.run(SOURCE, calls())
    assert result.status == "ok" and result.isolation == "bwrap"
    assert result.stdout == "imported\n"
    check_statuses(result)


def test_run_in_process_gives_the_same_outcomes(pool: ExecutorPool):
    same_calls = calls()
    sandboxed = pool.run(SOURCE, same_calls)
    local = run_in_process(SOURCE, same_calls)
    check_statuses(local)
    for cid, call in sandboxed.calls.items():
        other = local.calls[cid]
        if call.status == "ok":
            assert repr(call.value) == repr(other.value), cid  # same seeds, same values
    assert local.stdout == sandboxed.stdout
    # the in-process run put torch back as it was: conv2d is not wrapped any more
    assert torch.nn.functional.conv2d is torch.conv2d


def test_size_caps_on_one_value_and_on_all_values_give_bad_output():
    limits = Limits(cpu_per_test=1, wall_per_submission=5, result_bytes=10_000, results_total_bytes=28_000)
    calls = [Call("large", "big", (10_000,)), Call("after", "add", (1, 2))]  # 80 kB, then a small one
    calls += [Call(f"v{i}", "big", (1000,)) for i in range(4)]  # 8 kB each: the fourth one is over
    with ExecutorPool(workers=1, limits=limits, isolation="auto") as tiny:
        result = tiny.run(SOURCE, calls)
    assert result.calls["large"].status == "bad-output" and "larger than 10000" in result.calls["large"].message
    assert result.calls["after"].value == 3
    assert [result.calls[f"v{i}"].status for i in range(4)] == ["ok", "ok", "ok", "bad-output"]
    assert "in total" in result.calls["v3"].message


def test_parallel_runs_from_several_threads(pool: ExecutorPool):
    results = {}

    def grade(n: int) -> None:
        results[n] = pool.run(SOURCE, [Call("add", "add", (n, n))])

    threads = [threading.Thread(target=grade, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {n: r.calls["add"].value for n, r in results.items()} == {0: 0, 1: 2, 2: 4, 3: 6}


def test_calls_of_one_submission_are_seeded_reproducibly(pool: ExecutorPool):
    source = "import torch\ndef noise():\n    return torch.rand(3)\n"
    first = pool.run(source, [Call("a", "noise"), Call("b", "noise")])
    second = pool.run(source, [Call("a", "noise"), Call("b", "noise")])
    assert torch.equal(first.calls["a"].value, second.calls["a"].value)
    assert not torch.equal(first.calls["a"].value, first.calls["b"].value)


def test_duplicate_call_ids_are_a_programming_error(pool: ExecutorPool):
    with pytest.raises(ValueError, match="duplicate"):
        pool.run(SOURCE, [Call("x", "add", (1, 2)), Call("x", "add", (1, 2))])

