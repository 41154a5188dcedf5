"""Jupyter notebooks in and out: `exercise.ipynb` read as the module `exercise.py`, and the
notebook handout written by `new-quiz --handout notebook`.

Reading (`notebook_source`): the notebook is parsed as JSON data (never executed in this
process), must be nbformat 4 and valid against its schema (`nbformat`), and its code cells,
in order, become the module's source.  IPython-only lines cannot run in plain Python and are
dropped, each with a note for the feedback page:

- line magics (`%matplotlib inline`) and shell lines (`!pip install ...`, `x = !ls`) become
  `pass` at the same indentation, so the cell's blocks and line count stay as they were;
- a cell magic (`%%time`) whose body is Python (`time`, `timeit`, `capture`, `prun`) loses
  its first line; any other cell magic (`%%bash`, `%%writefile`, ...) drops the whole cell.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Sequence

PYTHON_CELL_MAGICS = frozenset(("time", "timeit", "capture", "prun"))
_LINE_MAGIC = re.compile(r"^(\s*)(?:[%!]|[A-Za-z_][A-Za-z0-9_]*\s*=\s*[%!])")


class NotebookError(ValueError):
    """The file is not a notebook this grader can read (the message says why, for the student)."""


@dataclass(frozen=True)
class NotebookSource:
    """The module made from a notebook's code cells, and what was dropped on the way."""

    source: str
    notes: tuple[str, ...] = field(default_factory=tuple)


def _cell_text(cell: Any) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _python_of(text: str, cell_number: int, notes: list[str]) -> str:
    lines = text.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].lstrip()[2:].split(maxsplit=1)[0] if lines[0].strip() != "%%" else ""
        if magic not in PYTHON_CELL_MAGICS:
            notes.append(f"cell {cell_number}: the %%{magic} cell is not Python and was left out")
            return ""
        notes.append(f"cell {cell_number}: the %%{magic} line was dropped")
        lines = ["pass"] + lines[1:]
    kept = []
    for number, line in enumerate(lines, start=1):
        match = _LINE_MAGIC.match(line)
        if match:
            notes.append(f"cell {cell_number}, line {number}: {line.strip()[:60]!r} is IPython, not Python, and was dropped")
            kept.append(f"{match.group(1)}pass")
        else:
            kept.append(line)
    return "\n".join(kept)


def notebook_source(text: str, name: str = "exercise.ipynb") -> NotebookSource:
    """The Python module of a notebook's code cells (see the module docstring)."""
    import nbformat

    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise NotebookError(f"{name} is not a notebook: it is not valid JSON ({str(error)[:120]})") from None
    if not isinstance(document, dict) or document.get("nbformat") != 4:
        version = document.get("nbformat") if isinstance(document, dict) else None
        raise NotebookError(f"{name} is not an nbformat 4 notebook (nbformat {version!r}); save it from Jupyter 4 or later")
    try:
        from nbformat.validator import normalize

        _, document = normalize(document)  # cells saved without ids by older Jupyter get them
        notebook = nbformat.from_dict(document)
        nbformat.validate(notebook)
    except Exception as error:  # nbformat raises its own ValidationError and others
        first = str(error).strip().splitlines()[0][:160] if str(error).strip() else type(error).__name__
        raise NotebookError(f"{name} is not a valid notebook: {first}") from None
    notes: list[str] = []
    parts = []
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.get("cell_type") == "code":
            python = _python_of(_cell_text(cell), number, notes)
            if python.strip():
                parts.append(python.rstrip() + "\n")
    return NotebookSource("\n\n".join(parts), tuple(notes))


def handout_notebook(title: str, functions: Sequence[tuple[str, str, str]], check_command: str | None) -> str:
    """The notebook a student starts from: for each (title, docstring, stub) a markdown cell
    with the title and the docstring, then a code cell with the stub; a last cell that runs
    `check_command` (the student kit) when there is one.  Returns the .ipynb text."""
    import nbformat
    from nbformat import v4

    cells = [v4.new_markdown_cell(f"# {title}\n\nImplement each function in its cell, run the notebook "
                                  "top to bottom, and hand in this file as `exercise.ipynb`.")]
    for function_title, docstring, stub in functions:
        cells.append(v4.new_markdown_cell(f"## {function_title}\n\n```text\n{docstring.strip()}\n```"))
        cells.append(v4.new_code_cell(stub.rstrip() + "\n"))
    if check_command:
        cells.append(v4.new_markdown_cell("## Check your work\n\nRuns the public tests on this notebook "
                                          "(your grade comes from hidden tests)."))
        cells.append(v4.new_code_cell(f"!{check_command}"))
    notebook = v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                     "language": "python"}})
    nbformat.validate(notebook)
    return nbformat.writes(notebook) + "\n"
