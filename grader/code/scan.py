"""Static scans of a submission, in the trusted process: parse only, never execute.

- `top_level_names`: the names a module binds at top level (def, assignment, import).
- `forbidden_uses`: the not-allowed library calls a function refers to, found by resolving
  each name and attribute chain through the module's imports (`F.conv2d`,
  `torch.nn.functional.conv2d`, `from torch import conv2d as c; c(...)`, `getattr(F,
  "conv2d")`, `x.backward()`), following the module-level helpers the function uses.  A name
  under `torch` is also resolved statically (`inspect.getattr_static` on modules already
  imported, so nothing is imported or run on the student's behalf) and compared by identity
  with the forbidden objects, which catches private aliases such as
  `torch._C._VariableFunctions.conv2d`, and a subclass of a forbidden class matches it.
`from module import *` binds the module's public names.  Constructs that reach a call
without naming it are `grader.code.dynamic`'s.  The sandbox checks the same names at run
time.
"""

from __future__ import annotations

import ast
import functools
import inspect
import sys
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

_FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
NOT_FOUND = object()


@dataclass(frozen=True)
class ForbiddenUse:
    """A reference to a not-allowed call: the forbidden name it resolves to, and where."""

    name: str
    line: int
    written: str

    def describe(self) -> str:
        shown = self.written if self.written == self.name else f"{self.written} (= {self.name})"
        return f"{shown} on line {self.line}"


def every_node(root: ast.AST) -> Iterator[ast.AST]:
    """Every node of the tree under `root`, `root` included: the nodes `ast.walk` yields
    (depth first, not breadth first), at a fraction of its cost on a whole submission."""
    stack = [root]
    pop, push, extend = stack.pop, stack.append, stack.extend
    node_type = ast.AST
    while stack:
        node = pop()
        yield node
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, node_type):
                push(value)
            elif type(value) is list:
                extend(item for item in value if isinstance(item, node_type))


def top_level_names(tree: ast.Module) -> dict[str, ast.AST]:
    """Top-level name -> the statement binding it last (def, class, assignment or import)."""
    bound: dict[str, ast.AST] = {}
    for node in tree.body:
        for name in _bound_names(node):
            bound[name] = node
    return bound


def _bound_names(node: ast.AST) -> Iterator[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        yield node.name
    elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Name):
                    yield sub.id
    elif isinstance(node, (ast.Import, ast.ImportFrom)):
        for alias in node.names:
            if alias.name != "*":
                yield alias.asname or alias.name.split(".")[0]
    elif isinstance(node, (ast.If, ast.Try, ast.With)):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                yield from _bound_names(child)


def is_main_guard(node: ast.AST) -> bool:
    """`if __name__ == "__main__":`, whose body never runs when the grader imports the file
    (it imports it as `exercise`; rebinding `__name__` is dynamic access)."""
    test = node.test if isinstance(node, ast.If) else None
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.Eq)
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


def import_aliases(nodes: Iterable[ast.AST]) -> dict[str, str]:
    """Local name -> qualified name for every import statement in `nodes` (walked)."""
    aliases: dict[str, str] = {}
    for root in nodes:
        for node in ast.walk(root):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        aliases[alias.asname] = alias.name
                    else:
                        head = alias.name.split(".")[0]
                        aliases[head] = head
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    if alias.name != "*":
                        aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                    else:
                        aliases.update((name, f"{node.module}.{name}") for name in star_names(node.module))
    return aliases


@functools.lru_cache(maxsize=64)
def star_names(module_name: str) -> tuple[str, ...]:
    """The names `from module_name import *` binds, when that module is already imported
    here (nothing is imported on the student's behalf); () otherwise."""
    module = sys.modules.get(module_name)
    if module is None:
        return ()
    exported = inspect.getattr_static(module, "__all__", None)
    if not isinstance(exported, (list, tuple)):
        exported = [name for name in vars(module) if not name.startswith("_")]
    return tuple(name for name in exported if isinstance(name, str) and name.isidentifier())


def qualified_name(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """`F.conv2d` -> `torch.nn.functional.conv2d` through the import aliases; None when the
    base of the chain is not an imported name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in aliases:
        return None
    return ".".join([aliases[node.id], *reversed(parts)])


@functools.lru_cache(maxsize=8192)
def resolve_static(name: str) -> Any:
    """The object a qualified name (`torch.nn.functional.conv2d`) denotes, looked up without
    importing or running anything (`inspect.getattr_static` from the longest prefix already
    in `sys.modules`)."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        module = sys.modules.get(".".join(parts[:cut]))
        if module is None:
            continue
        obj: Any = module
        for part in parts[cut:]:
            try:
                obj = inspect.getattr_static(obj, part)
            except AttributeError:
                return NOT_FOUND
            obj = getattr(obj, "__func__", obj) if isinstance(obj, (staticmethod, classmethod)) else obj
        return obj
    return NOT_FOUND


class ForbiddenIndex:
    """The forbidden names of one function, by name and by object identity."""

    def __init__(self, forbidden: Iterable[str], objects: dict[str, Any] | None = None) -> None:
        self.names = tuple(forbidden)
        self.methods = {n.rsplit(".", 1)[1]: n for n in self.names if n.startswith("torch.Tensor.")}
        objects = objects if objects is not None else {n: resolve_static(n) for n in self.names}
        self.by_id = {id(obj): name for name, obj in objects.items() if obj is not NOT_FOUND}
        self.classes = tuple((obj, name) for name, obj in objects.items() if isinstance(obj, type))
        self._objects = objects  # keep the objects alive so their ids stay valid

    def match(self, name: str) -> str | None:
        """The forbidden name `name` refers to (itself, a member of it, or an alias)."""
        if name in self.names:
            return name
        for forbidden in self.names:
            if name.startswith(forbidden + "."):
                return forbidden
        obj = resolve_static(name)
        if obj is NOT_FOUND:
            return None
        hit = self.by_id.get(id(obj))
        if hit is None and isinstance(obj, type):  # a subclass: nn.LazyConv2d, a quantized Conv2d
            hit = next((forbidden for cls, forbidden in self.classes if issubclass(obj, cls)), None)
        return hit


class ModuleScan:
    """One parsed submission, indexed with a single walk: what each top-level statement
    refers to and the nodes that could name a library call.  `forbidden_uses` then costs
    a few dictionary look-ups per function."""

    def __init__(self, tree: ast.Module) -> None:
        self.bindings = top_level_names(tree)
        self.binders: dict[str, list[ast.AST]] = {}  # every statement binding a name, not only the last
        for node in tree.body:
            for name in _bound_names(node):
                self.binders.setdefault(name, []).append(node)
        self.aliases = import_aliases(n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom)))
        self._refs: dict[int, set[str]] = {}
        self._candidates: dict[int, list[ast.AST]] = {}
        self._local_imports: dict[int, list[ast.AST]] = {}
        self._name_calls: dict[int, list[ast.Call]] = {}
        self._class_patterns: dict[int, list[ast.MatchClass]] = {}
        for statement in tree.body:
            refs: set[str] = set()
            candidates: list[ast.AST] = []
            local_imports: list[ast.AST] = []
            name_calls: list[ast.Call] = []
            patterns: list[ast.MatchClass] = []
            for node in every_node(statement):
                if isinstance(node, ast.Name):
                    refs.add(node.id)
                    candidates.append(node)
                elif isinstance(node, ast.Attribute):
                    candidates.append(node)
                elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                    name_calls.append(node)
                    if _is_getattr(node):
                        candidates.append(node)
                elif isinstance(node, (ast.Import, ast.ImportFrom)):
                    candidates.append(node)
                    if node is not statement:
                        local_imports.append(node)
                elif isinstance(node, ast.MatchClass):
                    patterns.append(node)
                    candidates.append(node)  # `case object(backward=run)` reads .backward
            self._refs[id(statement)] = refs
            self._class_patterns[id(statement)] = patterns
            self._candidates[id(statement)] = candidates
            self._name_calls[id(statement)] = name_calls
            self._local_imports[id(statement)] = local_imports

    def nodes_of(self, statement: ast.AST) -> tuple[list[ast.AST], list[ast.Call]]:
        """The names, attributes and imports in a top-level statement (and `getattr` calls and
        `match` class patterns, which read attributes),
        and its calls of a plain name (`f(...)`), from the single walk."""
        return self._candidates.get(id(statement), []), self._name_calls.get(id(statement), [])

    def class_patterns(self, statement: ast.AST) -> list[ast.MatchClass]:
        """The `match` class patterns (`case C(attr=...)`) anywhere in a top-level statement."""
        return self._class_patterns.get(id(statement), [])

    def local_imports(self) -> list[ast.AST]:
        """Every import statement that is not at the top level (inside a def, class, if...)."""
        return [node for nodes in self._local_imports.values() for node in nodes]

    def closure(self, function: str) -> list[ast.AST]:
        """The statement binding `function` and every top-level statement it refers to by
        name, transitively (its helpers, module-level aliases, imports; every statement that
        binds a name, since an earlier binding may have been captured before a later one)."""
        start = self.bindings.get(function)
        if start is None:
            return []
        return self.reached([start])

    def reached(self, starts: Iterable[ast.AST], refs_of: Any = None) -> list[ast.AST]:
        """`starts` and the top-level statements they refer to by name, transitively; never
        the body of `if __name__ == "__main__":`.  `refs_of(statement)` may replace the
        names a statement refers to."""
        seen: dict[int, ast.AST] = {}
        pending = list(starts)
        while pending:
            node = pending.pop()
            if id(node) in seen:
                continue
            seen[id(node)] = node
            refs = refs_of(node) if refs_of is not None else None
            for name in self._refs.get(id(node), ()) if refs is None else refs:
                pending.extend(n for n in self.binders.get(name, ()) if not is_main_guard(n))
        return list(seen.values())

    def forbidden_uses(self, function: str, index: ForbiddenIndex) -> list[ForbiddenUse]:
        """The forbidden references in `function` and the module-level helpers it uses."""
        if not index.names:
            return []
        nodes = self.closure(function)
        aliases = dict(self.aliases)
        aliases.update(import_aliases(n for root in nodes for n in self._local_imports.get(id(root), ())))
        uses: dict[tuple[str, int, str], ForbiddenUse] = {}
        for root in nodes:
            for node in self._candidates.get(id(root), ()):
                use = _use_of(node, aliases, index)
                if use is not None:
                    uses.setdefault((use.name, use.line, use.written), use)
        return sorted(uses.values(), key=lambda u: (u.line, u.name))


def forbidden_uses(tree: ast.Module, function: str, index: ForbiddenIndex) -> list[ForbiddenUse]:
    """The forbidden references in `function` of `tree` and the helpers it uses."""
    return ModuleScan(tree).forbidden_uses(function, index)


def _use_of(node: ast.AST, aliases: dict[str, str], index: ForbiddenIndex) -> ForbiddenUse | None:
    if isinstance(node, ast.ImportFrom) and (node.level != 0 or not node.module):
        return None
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        for alias in node.names:
            base = alias.name if isinstance(node, ast.Import) else f"{node.module}.{alias.name}"
            hit = index.match(base)
            if hit:
                return ForbiddenUse(hit, node.lineno, base)
        return None
    if isinstance(node, (ast.Attribute, ast.Name)):
        name = qualified_name(node, aliases)
        if name is not None:
            hit = index.match(name)
            if hit:
                return ForbiddenUse(hit, node.lineno, ast.unparse(node))
        if isinstance(node, ast.Attribute) and node.attr in index.methods:
            return ForbiddenUse(index.methods[node.attr], node.lineno, f".{node.attr}")
        return None
    if isinstance(node, ast.Call):
        return _getattr_use(node, aliases, index)
    if isinstance(node, ast.MatchClass):
        method = next((attr for attr in node.kwd_attrs if attr in index.methods), None)
        if method is not None:
            return ForbiddenUse(index.methods[method], node.lineno, f".{method} (read by a match pattern)")
    return None


def _is_getattr(node: ast.Call) -> bool:
    return isinstance(node.func, ast.Name) and node.func.id == "getattr" and len(node.args) >= 2


def _getattr_use(node: ast.Call, aliases: dict[str, str], index: ForbiddenIndex) -> ForbiddenUse | None:
    attribute = node.args[1]
    if not (isinstance(attribute, ast.Constant) and isinstance(attribute.value, str)):
        return None
    written = f'getattr({ast.unparse(node.args[0])}, "{attribute.value}")'
    base = qualified_name(node.args[0], aliases)
    if base is not None:
        hit = index.match(f"{base}.{attribute.value}")
        if hit:
            return ForbiddenUse(hit, node.lineno, written)
    if attribute.value in index.methods:
        return ForbiddenUse(index.methods[attribute.value], node.lineno, written)
    return None
