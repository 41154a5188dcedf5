"""Planted code copies, the way students disguise them: local names renamed, functions
reordered, comments replaced, blank lines added, numeric literals changed. Works on the
text only (tokenize and ast, never run); the result still parses."""

from __future__ import annotations

import ast
import builtins
import io
import keyword
import random
import token
import tokenize


def _imported(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.update(a.asname or a.name for a in node.names)
    return names


def reorder(source: str, rng: random.Random) -> str:
    """The module's statements with its top-level functions shuffled, comments between
    them replaced by new ones and extra blank lines."""
    tree = ast.parse(source)
    lines = source.splitlines()
    head, defs = [], []
    for node in tree.body:
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        text = "\n".join(lines[first - 1 : node.end_lineno])
        (defs if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else head).append(text)
    rng.shuffle(defs)
    notes = ["# my own version", "# TODO tidy up", "# works now", "# helper"]
    return "\n".join(head) + "\n\n" + "".join(f"\n\n{rng.choice(notes)}\n\n{d}\n" for d in defs)


def rename_and_relabel(source: str, rng: random.Random) -> str:
    """Every local name renamed (not attributes, builtins, imports, top-level function
    names or keyword-argument names), comments dropped, numbers changed."""
    tree = ast.parse(source)
    keep = set(dir(builtins)) | set(keyword.kwlist) | _imported(tree)
    keep |= {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    keep |= {k.arg for n in ast.walk(tree) if isinstance(n, ast.Call) for k in n.keywords if k.arg}
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    out = []
    previous = None
    for tok in tokens:
        kind, text = tok.type, tok.string
        if kind == token.COMMENT:
            continue
        if kind == token.NAME and text not in keep and (previous is None or previous.string != "."):
            text = f"my_{text}"
        elif kind == token.NUMBER:
            text = _other_number(text, rng)
        out.append((kind, text))
        previous = tok
    return tokenize.untokenize(out)


def _other_number(text: str, rng: random.Random) -> str:
    lowered = text.lower()
    if lowered.startswith(("0x", "0o", "0b")) or lowered.endswith("j"):
        return text
    if any(c in lowered for c in ".e"):
        return repr(float(lowered.replace("_", "")) * rng.choice([0.5, 2.0, 1.5]))
    return str(int(lowered.replace("_", "")) + rng.choice([1, 2, 3]))


def disguise(source: str, rng: random.Random) -> str:
    """All of the above: a copy a student hopes nobody notices."""
    return reorder(rename_and_relabel(source, rng), rng)
