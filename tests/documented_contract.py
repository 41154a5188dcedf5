"""The student code contract as documented in docs/design.md, parsed from its table: an
independent source the tests compare the bank's code exercises (and the instructor's
solution) against.  One row per function, in the table's order."""

from __future__ import annotations

import ast
import fnmatch
import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DESIGN = Path(__file__).resolve().parents[1] / "docs" / "design.md"
HEADING = "## Student-facing code contract"
NO_DEFAULT: Any = object()
"""The default of a parameter the table gives without one."""

AUTOGRAD = ("torch.Tensor.backward", "torch.autograd.grad", "torch.autograd.backward")
"""What the table's bare word "autograd" in the "not allowed" column stands for."""


@dataclass(frozen=True)
class DocumentedFunction:
    """One row of the table: `section | function(params) | returns | agrees with | not allowed`."""

    section: int
    name: str
    parameters: tuple[tuple[str, Any], ...]  # (name, default or NO_DEFAULT), in order
    not_allowed: tuple[str, ...]  # as written: `F.conv2d`, `nn.BatchNorm*`, `torch.optim`, autograd


def documented_contract(path: Path = DESIGN) -> list[DocumentedFunction]:
    """The rows of the contract table of docs/design.md, in order."""
    text = path.read_text(encoding="utf-8")
    after = text.split(HEADING, 1)[1]
    rows = []
    for line in after.splitlines():
        if line.startswith("## "):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 5 or not cells[0].isdigit():
            continue
        rows.append(_row(int(cells[0]), cells[1], cells[4]))
    return rows


def _row(section: int, function_cell: str, not_allowed_cell: str) -> DocumentedFunction:
    call = function_cell.split("`")[1]  # `conv2d(x, weight, bias=None, stride=1, padding=0)`
    node = ast.parse(f"def {call}: pass").body[0]
    assert isinstance(node, ast.FunctionDef)
    names = [a.arg for a in node.args.args]
    defaults = [NO_DEFAULT] * (len(names) - len(node.args.defaults)) + [
        ast.literal_eval(d) for d in node.args.defaults
    ]
    not_allowed = tuple(item.strip().strip("`") for item in not_allowed_cell.split(",") if item.strip())
    return DocumentedFunction(section, node.name, tuple(zip(names, defaults)), not_allowed)


def qualified_names(entry: str) -> list[str]:
    """The qualified torch names one "not allowed" entry of the table denotes: `F.` is
    torch.nn.functional, `nn.` torch.nn, a `*` matches the attributes of its parent."""
    if entry == "autograd":
        return list(AUTOGRAD)
    for short, long in (("F.", "torch.nn.functional."), ("nn.", "torch.nn.")):
        if entry.startswith(short):
            entry = long + entry[len(short):]
    if "*" not in entry:
        return [entry]
    parent, pattern = entry.rsplit(".", 1)
    found = sorted(f"{parent}.{name}" for name in dir(importlib.import_module(parent)) if fnmatch.fnmatch(name, pattern))
    assert found, entry
    return found
