"""Dynamic access: the constructs that reach a library object without naming it, found by
the trusted static scan (parse only, never execute).

A not-allowed call is named in the source, or reached dynamically.  `ModuleScan.forbidden_uses`
finds the named ones; this module rejects the ways to avoid naming them, so that the scan
alone is the rule (the checks inside the student's process are a second line):

- imports outside a small allowlist (`os`, `subprocess`, `importlib`, `builtins`, `ctypes`,
  `gc`, `inspect`, `pickle`, `marshal`, `pydoc`, ... are all outside it), relative imports;
- `exec`, `eval`, `compile`, `__import__`, `globals()`, `locals()`, `vars()`, `breakpoint`,
  any other dunder name but `__name__`, `__file__` and `__doc__`;
- `getattr` / `setattr` / `delattr` / `hasattr` unless called with a literal, public name
  (so `getattr` as a value, `functools.reduce(getattr, ...)`, is rejected too);
- dunder attributes (`__dict__`, `__closure__`, `__code__`, `__globals__`, `__builtins__`,
  `__subclasses__`, `__mro__`, `__getattribute__`, ...) but `__init__`, `__name__`, `__doc__`,
  `__qualname__`; frame and code attributes (`f_globals`, `tb_frame`, `gi_frame`, ...);
- private names: any `torch._*` (`torch._VF`, `torch._C`, `from torch import _VF`), and any
  `_attribute` not on `self` / `cls`;
- `torch.ops`, `torch.jit`, `torch.fx`, `torch.overrides`, `torch.library`, `torch.utils`,
  `torch.load`, ... (string-driven or compiled routes), `sys.modules` and every `sys`
  attribute outside a harmless few, `operator.attrgetter` / `methodcaller`,
  `typing.get_type_hints`, `numpy.load`;
- a module used as a value (`lib = torch`, `f(F)`): only `module.attribute` is followed.

The findings of an exercise are those of its function and the helpers it uses (as for
named calls) plus those of every statement that runs when the module is imported.
"""

from __future__ import annotations

import ast
import sys
import types
from typing import Iterable, Iterator

from grader.code.scan import (
    NOT_FOUND, ForbiddenUse, ModuleScan, every_node, import_aliases, is_main_guard, qualified_name, resolve_static,
)

ALLOWED_IMPORTS = frozenset(
    {
        "__future__", "abc", "array", "bisect", "cmath", "collections", "contextlib", "copy", "dataclasses",
        "decimal", "enum", "fractions", "functools", "heapq", "itertools", "math", "numbers", "numpy",
        "operator", "random", "re", "statistics", "sys", "textwrap", "time", "torch", "typing", "warnings",
    }
)
SYS_ALLOWED = frozenset(
    {
        "byteorder", "float_info", "float_repr_style", "getrecursionlimit", "getsizeof", "hexversion",
        "int_info", "maxsize", "platform", "setrecursionlimit", "stderr", "stdout", "version", "version_info",
    }
)
BLOCKED_NAMES = frozenset(
    {
        "torch.ops", "torch.jit", "torch.fx", "torch.compile", "torch.compiler", "torch.export", "torch.overrides",
        "torch.library", "torch.package", "torch.hub", "torch.utils", "torch.classes", "torch.load",
        "torch.serialization", "torch.multiprocessing", "torch.onnx", "torch.distributed", "torch.testing",
        "operator.attrgetter", "operator.methodcaller", "typing.get_type_hints",
        "typing.ForwardRef", "numpy.load", "numpy.ctypeslib", "numpy.f2py", "numpy.lib.npyio", "numpy.lib.format",
        "functools.singledispatch", "functools.singledispatchmethod",
    }
)
BANNED_BUILTINS = frozenset({"exec", "eval", "compile", "globals", "locals", "vars", "breakpoint"})
ATTRIBUTE_FUNCTIONS = frozenset({"getattr", "setattr", "delattr", "hasattr"})
ALLOWED_DUNDER_NAMES = frozenset({"__name__", "__file__", "__doc__"})
ALLOWED_DUNDER_ATTRIBUTES = frozenset({"__init__", "__name__", "__doc__", "__qualname__"})
INTROSPECTION_ATTRIBUTES = frozenset(
    {
        "f_globals", "f_locals", "f_back", "f_builtins", "f_code", "tb_frame", "tb_next", "gi_frame", "gi_code",
        "cr_frame", "cr_code", "ag_frame", "ag_code", "co_consts", "co_names", "co_code", "mro",
    }
)
MODULE_ATTRIBUTES = frozenset(
    {
        "os", "sys", "builtins", "importlib", "ctypes", "gc", "inspect", "subprocess", "pickle", "marshal",
        "pydoc", "pkgutil", "runpy", "codeop", "traceback", "posix", "_thread",
    }
)
"""Attribute names that are modules outside the allowlist wherever they appear (`np.testing.os`,
under a lazily loaded module the static lookup cannot follow)."""
_SELF = frozenset({"self", "cls"})


class DynamicScan:
    """The dynamic-access findings of one parsed submission, per exercise function."""

    def __init__(self, tree: ast.Module, scan: ModuleScan | None = None) -> None:
        self.scan = scan or ModuleScan(tree)
        aliases = dict(self.scan.aliases)
        aliases.update(import_aliases(self.scan.local_imports()))
        self._findings = {id(node): _statement_findings(self.scan, node, aliases) for node in tree.body}
        self._import_roots = self._import_closure(tree)

    def uses(self, function: str) -> list[ForbiddenUse]:
        """The dynamic access in `function`, the helpers it uses, and the code that runs at import."""
        roots = {id(node): node for node in self.scan.closure(function)}
        roots.update(self._import_roots)
        found: dict[tuple[str, int, str], ForbiddenUse] = {}
        for key in roots:
            for use in self._findings.get(key, ()):
                found.setdefault((use.name, use.line, use.written), use)
        return sorted(found.values(), key=lambda u: (u.line, u.name))

    def _import_closure(self, tree: ast.Module) -> dict[int, ast.AST]:
        """The top-level statements that run at import, and those they refer to by name."""
        starts = [node for node in tree.body if _runs_at_import(node)]
        reached = self.scan.reached(starts, lambda node: _refs(_executed(node)) if is_main_guard(node) else None)
        return {id(node): node for node in reached}


def _executed(node: ast.stmt) -> list[ast.AST]:
    """The parts of a top-level statement that can run: all of it, or a main guard's else."""
    return [node.test, *node.orelse] if is_main_guard(node) else [node]


def _refs(nodes: Iterable[ast.AST]) -> set[str]:
    return {sub.id for node in nodes for sub in ast.walk(node) if isinstance(sub, ast.Name)}


def _runs_at_import(node: ast.stmt) -> bool:
    """Top-level statements whose code runs when the module is imported: everything but a
    plain `def` (no decorators, defaults and annotations without calls; not a module hook)."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return True
    if node.decorator_list or (node.name.startswith("__") and node.name.endswith("__")):
        return True
    evaluated = [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]
    evaluated += [a.annotation for a in _all_args(node.args) if a.annotation is not None]
    if node.returns is not None:
        evaluated.append(node.returns)
    return any(not isinstance(sub, (ast.Name, ast.Attribute, ast.Constant, ast.expr_context, ast.Tuple, ast.BinOp,
                                    ast.UnaryOp, ast.operator, ast.unaryop, ast.Subscript, ast.List))
               for expr in evaluated for sub in ast.walk(expr))


def _all_args(args: ast.arguments) -> list[ast.arg]:
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    every += [a for a in (args.vararg, args.kwarg) if a is not None]
    return every


def _is_module(name: str) -> bool:
    if isinstance(sys.modules.get(name), types.ModuleType):
        return True
    return isinstance(resolve_static(name), types.ModuleType)


def _name_rule(name: str) -> str | None:
    """Why a qualified library name (already through the imports) is dynamic access, or None.
    A prefix that is a module imported under another name is judged by its real name
    (`contextlib.sys.modules` is `sys.modules`, `torch.nn.functional.torch._C` is `torch._C`)."""
    rule = _plain_name_rule(name)
    if rule:
        return rule
    parts = name.split(".")
    for cut in range(len(parts) - 1, 1, -1):
        module = resolve_static(".".join(parts[:cut]))
        real = getattr(module, "__name__", None) if isinstance(module, types.ModuleType) else None
        if isinstance(real, str) and real != ".".join(parts[:cut]):
            return _name_rule(".".join([real, *parts[cut:]]))
    return None


def _plain_name_rule(name: str) -> str | None:
    parts = name.split(".")
    root = parts[0]
    if root not in ALLOWED_IMPORTS:
        return f"the module {root}"
    for cut in range(1, len(parts) + 1):
        prefix = ".".join(parts[:cut])
        if prefix in BLOCKED_NAMES:
            return prefix
        if cut > 1 and parts[cut - 1].startswith("_"):
            return f"the private name {prefix}"
    if root == "sys" and len(parts) > 1 and parts[1] not in SYS_ALLOWED:
        return f"sys.{parts[1]}"
    return None


def _statement_findings(scan: ModuleScan, statement: ast.stmt, aliases: dict[str, str]) -> list[ForbiddenUse]:
    """The findings in the parts of a top-level statement that can run."""
    if is_main_guard(statement):
        nodes: list[ast.AST] = []
        calls: list[ast.Call] = []
        for part in _executed(statement):
            for node in every_node(part):
                if isinstance(node, (ast.Name, ast.Attribute, ast.Import, ast.ImportFrom)):
                    nodes.append(node)
                elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                    calls.append(node)
    else:
        nodes, calls = scan.nodes_of(statement)
    return list(_findings(nodes, calls, aliases)) + list(_match_findings(scan.class_patterns(statement)))


def _match_findings(patterns: list[ast.MatchClass]) -> Iterator[ForbiddenUse]:
    """Attributes read by `match` class patterns (`case object(__globals__=g)`): no attribute
    node stands for them, so they are judged here by the attribute rules.  A positional
    sub-pattern (`case C(g)`) reads the attribute C's `__match_args__` names, a string
    the scan cannot follow (`abc.ABCMeta("C", (), {"__match_args__": ("__globals__",), ...})`):
    not allowed; `case C(attribute=g)` says which."""
    for node in patterns:
        if node.patterns:
            yield _use("a positional class pattern (case C(x) reads what C.__match_args__ names; "
                       "write case C(attribute=x))", node)
        for attr in node.kwd_attrs:
            rule = _attribute_rule(attr) or (f"the private attribute {attr}" if attr.startswith("_") else None)
            if rule:
                yield _use(f"{rule} (read by a match pattern)", node)


def _findings(nodes: list[ast.AST], calls: list[ast.Call], aliases: dict[str, str]) -> Iterator[ForbiddenUse]:
    bases = {id(node.value) for node in nodes if isinstance(node, ast.Attribute)}
    callers = {id(call.func): call for call in calls}
    for node in nodes:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield from _import_findings(node)
        elif isinstance(node, ast.Name):
            yield from _name_findings(node, id(node) in bases, callers.get(id(node)), aliases)
        elif isinstance(node, ast.Attribute):
            yield from _attribute_findings(node, id(node) in bases, aliases)


def _literal_public_name(call: ast.Call) -> bool:
    if len(call.args) < 2 or call.keywords:
        return False
    name = call.args[1]
    return isinstance(name, ast.Constant) and isinstance(name.value, str) and not name.value.startswith("_")


def _use(rule: str, node: ast.AST) -> ForbiddenUse:
    written = ast.unparse(node)
    written = written if len(written) <= 60 else written[:57] + "..."
    return ForbiddenUse(rule, getattr(node, "lineno", 0), written)


def _import_findings(node: ast.Import | ast.ImportFrom) -> Iterable[ForbiddenUse]:
    if isinstance(node, ast.ImportFrom) and (node.level or not node.module):
        yield _use("a relative import", node)
        return
    names = (
        [alias.name for alias in node.names]
        if isinstance(node, ast.Import)
        else [node.module if alias.name == "*" else f"{node.module}.{alias.name}" for alias in node.names]
    )
    for name in names:
        rule = _name_rule(name) or _unresolvable_rule(name)
        if rule:
            yield _use(rule, node)


def _unresolvable_rule(name: str) -> str | None:
    """A torch or numpy module the grader has not loaded cannot be checked statically (its
    names are unknown here): importing it is not allowed.  (`from M import x`: M must be loaded.)"""
    if name.split(".")[0] not in ("torch", "numpy"):
        return None
    module = name if resolve_static(name) is not NOT_FOUND else name.rsplit(".", 1)[0]
    if "." in module and resolve_static(module) is NOT_FOUND:
        return f"the module {module}, which cannot be checked"
    return None


def _name_findings(
    node: ast.Name, is_base: bool, call: ast.Call | None, aliases: dict[str, str]
) -> Iterable[ForbiddenUse]:
    """`call`: the call of which `node` is the function, if any."""
    name = node.id
    if name in BANNED_BUILTINS:
        yield _use(f"{name}()", node)
    elif name in ATTRIBUTE_FUNCTIONS and not (call is not None and _literal_public_name(call)):
        yield _use(f"{name} with a computed or private name", call if call is not None else node)
    elif name.startswith("__") and name.endswith("__"):
        if name not in ALLOWED_DUNDER_NAMES or not isinstance(node.ctx, ast.Load):
            yield _use(name, node)
    elif name in aliases and not is_base and isinstance(node.ctx, ast.Load):
        rule = _name_rule(aliases[name])  # `from operator import *` then `attrgetter`
        if rule:
            yield _use(rule, node)
        elif _is_module(aliases[name]):
            yield _use(f"the module {aliases[name]} used as a value", node)


def _attribute_rule(attr: str) -> str | None:
    """Why reading attribute `attr` of anything is dynamic access, or None."""
    if attr.startswith("__") and attr.endswith("__"):
        return None if attr in ALLOWED_DUNDER_ATTRIBUTES else attr
    if attr in INTROSPECTION_ATTRIBUTES:
        return attr
    if attr in MODULE_ATTRIBUTES:
        return f"the module {attr}"
    return None


def _attribute_findings(node: ast.Attribute, is_base: bool, aliases: dict[str, str]) -> Iterable[ForbiddenUse]:
    attr = node.attr
    rule = _attribute_rule(attr)
    if rule or (attr.startswith("__") and attr.endswith("__")):
        if rule:
            yield _use(rule, node)
        return
    if is_base:
        return  # the outermost attribute of a chain judges the whole chain
    name = qualified_name(node, aliases)
    if name is not None:
        rule = _name_rule(name)
        if rule:
            yield _use(rule, node)
        elif isinstance(node.ctx, ast.Load) and _is_module(name):
            yield _use(f"the module {name} used as a value", node)
        return
    private = _first_private(node)
    if private is not None:
        yield _use(f"the private attribute {private.attr}", private)


def _first_private(node: ast.AST) -> ast.Attribute | None:
    """The first `_private` attribute of a chain not rooted at `self` / `cls`."""
    chain: list[ast.Attribute] = []
    while isinstance(node, ast.Attribute):
        chain.append(node)
        node = node.value
    rooted_at_self = isinstance(node, ast.Name) and node.id in _SELF
    for link in reversed(chain):
        if link.attr.startswith("_") and not (rooted_at_self and link is chain[-1]):
            return link
    return None
