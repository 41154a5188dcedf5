"""The static scan for not-allowed calls (parse only): aliases, helpers, methods, getattr,
private aliases resolved by identity, and what must not be flagged."""

from __future__ import annotations

import ast
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from exercises.code._common import AUTOGRAD
from grader.code.exercise import resolve_qualified_name
from grader.code.scan import ForbiddenIndex, ModuleScan, every_node, forbidden_uses, top_level_names

CONV = ("torch.nn.functional.conv2d", "torch.conv2d", "torch.nn.Conv2d")


def index(names: tuple[str, ...]) -> ForbiddenIndex:
    return ForbiddenIndex(names, {n: resolve_qualified_name(n) for n in names})


def uses(source: str, function: str = "conv2d", names: tuple[str, ...] = CONV) -> list[tuple[str, int]]:
    tree = ast.parse(textwrap.dedent(source))
    return [(u.name, u.line) for u in forbidden_uses(tree, function, index(names))]


def test_functional_alias() -> None:
    found = uses(
        """
        import torch.nn.functional as F
        def conv2d(x, weight, bias=None, stride=1, padding=0):
            return F.conv2d(x, weight, bias, stride, padding)
        """
    )
    assert found == [("torch.nn.functional.conv2d", 4)]


@pytest.mark.parametrize(
    "imports, call, name",
    [
        ("import torch", "torch.nn.functional.conv2d(x, w)", "torch.nn.functional.conv2d"),
        ("import torch", "torch.conv2d(x, w)", "torch.conv2d"),
        ("from torch import nn", "nn.Conv2d(1, 1, 3)(x)", "torch.nn.Conv2d"),
        ("from torch.nn import functional as fn", "fn.conv2d(x, w)", "torch.nn.functional.conv2d"),
        ("import torch.nn.functional", "torch.nn.functional.conv2d(x, w)", "torch.nn.functional.conv2d"),
    ],
)
def test_qualified_names_through_imports(imports: str, call: str, name: str) -> None:
    found = uses(f"{imports}\ndef conv2d(x, w):\n    return {call}\n")
    assert [n for n, _ in found] == [name]


def test_from_import_alias_is_flagged_at_the_import_and_the_call() -> None:
    found = uses(
        """
        from torch.nn.functional import conv2d as c
        def conv2d(x, w):
            return c(x, w)
        """
    )
    assert ("torch.nn.functional.conv2d", 2) in found and ("torch.nn.functional.conv2d", 4) in found


def test_private_alias_resolved_by_identity() -> None:
    found = uses("import torch\ndef conv2d(x, w):\n    return torch._C._VariableFunctions.conv2d(x, w)\n")
    assert found and found[0][0] in ("torch.conv2d", "torch.nn.functional.conv2d")


def test_helper_used_by_the_function_is_followed_but_unrelated_functions_are_not() -> None:
    source = """
    import torch.nn.functional as F
    def _helper(x, w):
        return F.conv2d(x, w)
    def conv2d(x, w):
        return _helper(x, w)
    def max_pool2d(x, k, s):
        return F.conv2d(x, x)
    def global_avg_pool(x):
        return x.mean((2, 3))
    """
    assert uses(source, "conv2d") == [("torch.nn.functional.conv2d", 4)]
    assert uses(source, "global_avg_pool") == []


def test_module_level_alias_assignment() -> None:
    found = uses("import torch.nn.functional as F\nconv = F.conv2d\ndef conv2d(x, w):\n    return conv(x, w)\n")
    assert found == [("torch.nn.functional.conv2d", 2)]


def test_function_bound_by_assignment_to_a_forbidden_call() -> None:
    found = uses("import torch.nn.functional as F\nconv2d = F.conv2d\n")
    assert found == [("torch.nn.functional.conv2d", 2)]


def test_getattr_with_a_constant_name() -> None:
    found = uses('import torch.nn.functional as F\ndef conv2d(x, w):\n    return getattr(F, "conv2d")(x, w)\n')
    assert found == [("torch.nn.functional.conv2d", 3)]


def test_autograd_methods_and_functions() -> None:
    source = """
    import torch
    from torch.autograd import grad
    def relu_backward(dout, x):
        x = x.clone().requires_grad_(True)
        torch.relu(x).backward(dout)
        return x.grad
    def linear_backward(x, W, dout):
        return grad((x @ W).sum(), x)
    def layer_norm(x, g, b, eps=1e-5):
        return torch.autograd.grad(x.sum(), x)
    """
    assert uses(source, "relu_backward", AUTOGRAD) == [
        ("torch.Tensor.requires_grad_", 5),
        ("torch.Tensor.backward", 6),
        ("torch.Tensor.grad", 7),
    ]
    assert ("torch.autograd.grad", 9) in uses(source, "linear_backward", AUTOGRAD)
    assert uses(source, "layer_norm", AUTOGRAD) == [("torch.autograd.grad", 11)]


def test_allowed_library_calls_comments_and_strings_are_not_flagged() -> None:
    found = uses(
        '''
        import torch
        import torch.nn.functional as F
        def conv2d(x, weight, bias=None, stride=1, padding=0):
            """Do not use F.conv2d here."""
            # F.conv2d would be cheating
            note = "torch.conv2d"
            cols = F.unfold(F.pad(x, (padding,) * 4), weight.shape[-2:], stride=stride)
            return (weight.flatten(1) @ cols)
        '''
    )
    assert found == []


def test_names_that_are_not_imported_are_not_resolved() -> None:
    assert uses("def conv2d(x, w):\n    torch = x\n    return torch.conv2d(w)\n") == []


def test_top_level_names_and_missing_function() -> None:
    tree = ast.parse("import torch\nfrom math import sqrt as root\nx = 1\ndef f():\n    pass\nclass C:\n    pass\n")
    assert set(top_level_names(tree)) == {"torch", "root", "x", "f", "C"}
    assert ModuleScan(tree).forbidden_uses("conv2d", index(CONV)) == []


def _parsed_files() -> list[tuple[str, ast.Module]]:
    """Real code of every shape: the solutions, the bank, the grader and the standard library's ast module."""
    root = Path(__file__).resolve().parents[2]
    paths = [*sorted((root / "solutions").glob("*.py")), *sorted((root / "grader" / "code").glob("*.py")),
             *sorted((root / "exercises" / "code").glob("*.py")), Path(ast.__file__)]
    return [(str(p), ast.parse(p.read_text(encoding="utf-8"))) for p in paths]


def test_every_node_visits_what_ast_walk_visits():
    """The scans walk with `every_node`: the same nodes as `ast.walk`, as many times (the
    shared `Load()`/`Store()` contexts come once per use)."""
    match_source = "match x:\n    case C(a=1, __globals__=g) if [y async for y in z]:\n        pass\n"
    visited = 0
    for name, tree in [*_parsed_files(), ("match", ast.parse(match_source))]:
        walked = Counter(id(n) for n in ast.walk(tree))
        ours = Counter(id(n) for n in every_node(tree))
        assert ours == walked, name
        visited += sum(ours.values())
    assert visited > 10_000
