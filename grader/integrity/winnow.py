"""Token fingerprints of each function of a Python file (winnowing, Schleimer et al. 2003,
as MOSS does), for finding copied code.

A function's body is tokenized (`lexer`, never run; `ast` only finds the functions
and the docstrings): comments, blank lines, indentation and docstrings are dropped;
numbers become `N` and strings `S`; a name becomes `V` unless it is a keyword, an attribute
(after `.`), a builtin or a name the file imports (`torch`, `F`, `math`): renaming variables,
changing comments, blank lines or literals leaves the fingerprints unchanged, while the API
a function calls (`torch.einsum` vs `F.unfold`) still counts. The signature is left out
(every student has the handed-out one).

Each K-gram of tokens gets a stable 61-bit hash; winnowing keeps the smallest hash of every
window of W consecutive K-grams, so any common run of at least K + W - 1 tokens shares a
fingerprint. A function's fingerprints are then salted with its name (XOR with a hash of
the name), so equal code in two differently named functions never matches and one integer
identifies (function, fingerprint) in an index. Each fingerprint remembers the source
lines it first covered (packed in one int, see `span`), for highlighting.

A function is what `grade` calls by its name, wherever the module binds it: a def inside a
top-level `if`/`try`/`with`, or a plain alias `name = other`; its tokens are followed by
those of the module's functions it calls (each once), so a copy renamed and called through
a one-line forwarder is still the copy.
"""

from __future__ import annotations

import ast
import builtins
import keyword
import unicodedata
import zlib
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterator

from grader.code.scan import every_node
from grader.integrity import lexer

K = 7
WINDOW = 4

_MOD = (1 << 61) - 1
_BASE = 1_000_003
_KEPT_NAMES = frozenset(dir(builtins)) | frozenset(keyword.kwlist) | frozenset(keyword.softkwlist)


@dataclass
class FunctionPrint:
    """The fingerprints of one function: salted hash -> the packed (first, last) source
    lines where it was first selected (`span`); `lines` is the function's whole span."""

    name: str
    lines: tuple[int, int]
    hashes: dict[int, int] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.hashes)


@dataclass
class FilePrint:
    """The fingerprints of a file's top-level functions (by name); `error` when the file
    could not be parsed (then `functions` is empty)."""

    text: str
    functions: dict[str, FunctionPrint]
    error: str = ""

    @property
    def size(self) -> int:
        return sum(f.size for f in self.functions.values())


_SPAN_BITS = 24


def span(packed: int) -> tuple[int, int]:
    """The (first, last) source lines of a packed span."""
    return packed >> _SPAN_BITS, packed & ((1 << _SPAN_BITS) - 1)


def _salt(name: str) -> int:
    data = name.encode("utf-8", "surrogatepass")
    return (zlib.crc32(data) << 29 ^ zlib.adler32(data)) & _MOD


@lru_cache(maxsize=1 << 16)
def _token_id(text: str) -> int:
    return zlib.crc32(text.encode("utf-8", "surrogatepass")) + 1


def _inner_statements(node: ast.stmt) -> list[ast.stmt]:
    """The statements directly inside `node`: its body, else and finally blocks, then its
    handlers' and cases' bodies."""
    inner: list[ast.stmt] = []
    for name in ("body", "orelse", "finalbody"):
        inner += getattr(node, name, None) or []
    for handler in getattr(node, "handlers", None) or []:
        inner += handler.body
    for case in getattr(node, "cases", None) or []:
        inner += case.body
    return inner


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement, nested ones included (expressions are not visited: cheaper than
    ast.walk)."""
    stack = list(reversed(body))
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(_inner_statements(node)))


def _imports_and_docstrings(tree: ast.Module) -> tuple[set[str], set[int]]:
    """The names the file imports, and the lines of every statement that is only a string
    (docstrings, stray strings)."""
    names: set[str] = set()
    lines: set[int] = set()
    for node in _statements(tree.body):
        if isinstance(node, ast.Expr):
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
        elif isinstance(node, ast.Import):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.update(a.asname or a.name for a in node.names)
    return names, lines


def _normalized_tokens(text: str, tree: ast.Module) -> list[tuple[int, int]]:
    """(token id, line) of the file's tokens after normalization, docstrings dropped."""
    imported, skip = _imports_and_docstrings(tree)
    kept = _KEPT_NAMES | imported
    out: list[tuple[int, int]] = []
    previous = ""
    for kind, string, line in lexer.tokens(text):
        if line in skip:
            continue
        if kind == lexer.NAME:
            if not string.isascii():  # Python reads identifiers in NFKC form: ｔｏｒｃｈ is torch
                string = unicodedata.normalize("NFKC", string)
            value = string if (previous == "." or string in kept) else "V"
        elif kind == lexer.NUMBER:
            value = "N"
        elif kind == lexer.STRING:
            value = "S"
        elif kind == lexer.NEWLINE:
            value = ";"
        else:
            value = string
        previous = string
        out.append((_token_id(value), line))
    return out


def winnow(tokens: list[tuple[int, int]], k: int = K, window: int = WINDOW, salt: int = 0) -> dict[int, int]:
    """Winnow a token sequence: hash XOR `salt` -> the packed (first, last) lines of the
    first K-gram selected with that hash. A sequence shorter than K gives no fingerprint."""
    n = len(tokens) - k + 1
    if n <= 0:
        return {}
    top = pow(_BASE, k - 1, _MOD)
    ids = [tid for tid, _ in tokens]
    h = 0
    for tid in ids[: k - 1]:
        h = (h * _BASE + tid) % _MOD
    grams: list[int] = []
    for tid, leaving in zip(ids[k - 1 :], [0, *ids[: n - 1]]):  # the K-gram ending here, rolled from the last
        h = ((h - leaving * top) * _BASE + tid) % _MOD
        grams.append(h)
    selected: dict[int, int] = {}
    last = -1
    for start in range(max(1, n - window + 1)):
        chunk = grams[start : start + window]
        low = min(chunk)
        position = start + len(chunk) - 1 - chunk[::-1].index(low)  # rightmost minimum
        if position != last:
            last = position
            key = low ^ salt
            if key not in selected:
                selected[key] = tokens[position][1] << _SPAN_BITS | tokens[position + k - 1][1]
    return selected


_Function = ast.FunctionDef | ast.AsyncFunctionDef
_BLOCKS = (ast.If, ast.Try, ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While, ast.Match) + (
    (ast.TryStar,) if hasattr(ast, "TryStar") else ())


def _module_functions(body: list[ast.stmt]) -> tuple[dict[str, _Function], list[tuple[str, str]]]:
    """The functions the module defines (name -> def, the last one of a name), at top level
    or inside a top-level `if`, `try`, `with` or loop (the module binds them all the
    same), and its plain aliases `name = other` in order, as (name, other)."""
    defined: dict[str, _Function] = {}
    aliases: list[tuple[str, str]] = []
    stack = list(reversed(body))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.body:
                defined[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Name):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            aliases += [(t.id, node.value.id) for t in targets if isinstance(t, ast.Name)]
        elif isinstance(node, _BLOCKS):
            stack.extend(reversed(_inner_statements(node)))
    return defined, aliases


def _uses(node: _Function, defined: dict[str, _Function]) -> list[_Function]:
    """The module's functions that `node`'s body names (its helpers), by position."""
    found: dict[int, _Function] = {}
    for statement in node.body:
        for current in every_node(statement):
            if type(current) is ast.Name and current.id in defined:
                helper = defined[current.id]
                found[id(helper)] = helper
    return sorted(found.values(), key=lambda f: f.lineno)


def _with_helpers(
    node: _Function, defined: dict[str, _Function], uses: dict[int, list[_Function]]
) -> Iterator[_Function]:
    """`node` and every module function it calls, directly or not, each once, breadth
    first: a function that only calls a renamed copy of another is compared as the copy."""
    seen, queue, at = {id(node)}, [node], 0
    while at < len(queue):
        current = queue[at]
        at += 1
        yield current
        if id(current) not in uses:
            uses[id(current)] = _uses(current, defined)
        for helper in uses[id(current)]:
            if id(helper) not in seen:
                seen.add(id(helper))
                queue.append(helper)


def source_text(source: str | bytes) -> str | None:
    """The text fingerprinted (and shown on the pages) for a file: UTF-8 without a leading
    byte-order mark, every line ending (CR LF, CR) made LF, as Python reads the file and
    the grader runs it; None when the bytes are not UTF-8. The lexer ends lines at LF only:
    a CR-only file would otherwise put every token on line 1, outside every function."""
    if isinstance(source, bytes):
        try:
            source = source.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return source.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def fingerprint_file(source: str | bytes, boilerplate: "FilePrint | None" = None) -> FilePrint:
    """Fingerprints of each top-level function's body (see the module docstring); a
    boilerplate file's fingerprints (the handed-out stubs) are removed function by
    function. Never raises for any input: an unreadable file gives `error`."""
    text = source_text(source)
    if text is None:
        return FilePrint("", {}, "not UTF-8 text")
    try:
        tree = ast.parse(text)
        tokens = _normalized_tokens(text, tree)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        return FilePrint(text, {}, f"cannot be parsed ({type(error).__name__})")
    lines = [t[1] for t in tokens]
    defined, aliases = _module_functions(tree.body)
    for target, source in aliases:  # `conv2d = _my_conv`: graded as conv2d
        if source in defined:
            defined[target] = defined[source]
    uses: dict[int, list[_Function]] = {}  # filled as the helpers are walked
    graded = set(boilerplate.functions) if boilerplate is not None else set()
    # what aliases and helpers may add to the tokens winnowed, beyond each def's own body: a
    # file of many aliases of (or callers of) one long function costs at most a few passes
    spare = len(tokens) * (2 + len(graded & defined.keys()))
    prints: dict[str, FunctionPrint] = {}
    for name, node in sorted(defined.items(), key=lambda item: item[0] not in graded):  # the graded first
        body: list[tuple[int, int]] = []
        folded = boilerplate is None or name in graded  # the graded names' helpers (all without a stub)
        for part in _with_helpers(node, defined, uses) if folded else (node,):
            first, last = part.body[0].lineno, part.end_lineno or part.lineno
            low, high = bisect_left(lines, first), bisect_right(lines, last)
            if part is not node or node.name != name:
                if high - low > spare:
                    break
                spare -= high - low + 1  # + 1: an empty piece still costs its step
            body += tokens[low:high]
        hashes = winnow(body, salt=_salt(name))
        if boilerplate is not None:
            for handed_out in {name, node.name}:
                if handed_out in boilerplate.functions:  # re-salted with the name graded
                    resalt = _salt(handed_out) ^ _salt(name)
                    for h in boilerplate.functions[handed_out].hashes:
                        hashes.pop(h ^ resalt, None)
        start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        prints[name] = FunctionPrint(name, (start, node.end_lineno or node.lineno), hashes)
    functions = {name: prints[name] for name in defined}  # in the module's order
    return FilePrint(text, functions)
