"""Checking a student's `def` line against the contract's, with `ast` only (no execution).

The tests call contract functions with the contract's parameter names, positionally and by
keyword, so what matters is: every contract parameter present, in order, under its name,
callable positionally; a contract default kept (same literal value); any extra parameter
must have a default.  Type hints are ignored; adding a default where the contract has none
is fine.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

_NO_DEFAULT = object()


@dataclass(frozen=True)
class Parameter:
    """One parameter of a `def`: name, whether it can be passed positionally, its default
    (the literal value, or the source text when it is not a literal)."""

    name: str
    positional: bool
    default: Any = _NO_DEFAULT

    @property
    def has_default(self) -> bool:
        return self.default is not _NO_DEFAULT


def parameters(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> list[Parameter]:
    """The named parameters of a function node, in order (`*args`/`**kwargs` left out)."""
    args = node.args
    positional = [*args.posonlyargs, *args.args]
    defaults = [_NO_DEFAULT] * (len(positional) - len(args.defaults)) + list(args.defaults)
    found = [Parameter(a.arg, True, _literal(d)) for a, d in zip(positional, defaults)]
    for arg, default in zip(args.kwonlyargs, args.kw_defaults):
        found.append(Parameter(arg.arg, False, _NO_DEFAULT if default is None else _literal(default)))
    return found


def _literal(node: Any) -> Any:
    if node is _NO_DEFAULT:
        return node
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _Source(ast.unparse(node))


@dataclass(frozen=True)
class _Source:
    """A default that is not a literal, kept as its source text."""

    text: str

    def __repr__(self) -> str:
        return self.text


def contract_parameters(signature: str) -> list[Parameter]:
    """The parameters of a contract `def` line."""
    node = ast.parse(signature.strip() + "\n    ...\n").body[0]
    if not isinstance(node, ast.FunctionDef):
        raise ValueError(f"not a def line: {signature!r}")
    return parameters(node)


def check_signature(node: ast.AST, signature: str) -> list[str]:
    """Problems with a student's definition `node` against the contract `signature`
    (empty when it is compatible).  A name bound by something other than `def` cannot be
    checked statically and gives no problem."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return []
    expected = contract_parameters(signature)
    got = parameters(node)
    has_var_positional = node.args.vararg is not None
    problems: list[str] = []
    contract_names = [p.name for p in expected]
    got_names = [p.name for p in got]
    if got_names[: len(contract_names)] != contract_names and not has_var_positional:
        problems.append(
            f"parameters are ({', '.join(got_names)}); the contract is ({', '.join(contract_names)})"
        )
    by_name = {p.name: p for p in got}
    for index, want in enumerate(expected):
        have = by_name.get(want.name)
        if have is None:
            if not has_var_positional:
                continue  # already reported in the parameter list
            problems.append(f"parameter {want.name!r} is missing")
            continue
        if not have.positional:
            problems.append(f"parameter {want.name!r} must be positional, not keyword-only")
        if want.has_default:
            if not have.has_default:
                problems.append(f"parameter {want.name!r} needs the default {want.default!r}")
            elif not _same_default(have.default, want.default):
                problems.append(f"parameter {want.name!r} should default to {want.default!r}, not {have.default!r}")
    for extra in got[len(expected):]:
        if extra.name not in contract_names and not extra.has_default and extra.positional:
            problems.append(f"extra parameter {extra.name!r} has no default, so calls with the contract's arguments fail")
        elif extra.name not in contract_names and not extra.has_default:
            problems.append(f"keyword-only parameter {extra.name!r} has no default, so calls with the contract's arguments fail")
    return problems


def _same_default(have: Any, want: Any) -> bool:
    if isinstance(have, _Source) or isinstance(want, _Source):
        return have == want
    if type(have) is bool or type(want) is bool or have is None or want is None:
        return have is want
    if isinstance(have, (int, float)) and isinstance(want, (int, float)):
        return float(have) == float(want)
    return type(have) is type(want) and have == want
