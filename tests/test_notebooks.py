"""Reading exercise.ipynb as a module, and writing the notebook handout."""

from __future__ import annotations

import ast
import json

import nbformat
import pytest
from nbformat import v4

from grader.notebooks import NotebookError, handout_notebook, notebook_source


def _notebook(*cells: tuple[str, str]) -> str:
    made = [v4.new_code_cell(text) if kind == "code" else v4.new_markdown_cell(text) for kind, text in cells]
    return nbformat.writes(v4.new_notebook(cells=made))


def test_code_cells_in_order_become_the_module_and_markdown_is_left_out() -> None:
    text = _notebook(("markdown", "# Title\n\ndef not_code(): pass"), ("code", "import torch"),
                     ("code", "def double(x):\n    return 2 * x"))
    result = notebook_source(text)
    tree = ast.parse(result.source)
    assert [type(n).__name__ for n in tree.body] == ["Import", "FunctionDef"]
    assert result.source.index("import torch") < result.source.index("def double(x):")
    assert "not_code" not in result.source and result.notes == ()


def test_magics_and_shell_lines_are_dropped_with_a_note_and_blocks_stay_valid() -> None:
    text = _notebook(
        ("code", "%matplotlib inline\n!pip install torch\nimport math"),
        ("code", "def f(x):\n    files = !ls\n    %time y = x\n    return x + 1"),
        ("code", "%%bash\necho hi"),
        ("code", "%%time\nz = f(1)"),
    )
    result = notebook_source(text)
    tree = ast.parse(result.source)  # still valid Python
    names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert names == {"f"}
    assert "echo hi" not in result.source and "!pip" not in result.source and "%matplotlib" not in result.source
    assert "z = f(1)" in result.source
    joined = "\n".join(result.notes)
    for dropped in ("%matplotlib inline", "!pip install torch", "files = !ls", "%time y = x", "%%bash", "%%time"):
        assert dropped in joined, dropped
    assert len(result.notes) == 6


@pytest.mark.parametrize("text, message", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "not an nbformat 4 notebook"),
    (json.dumps({"nbformat": 3, "nbformat_minor": 0, "worksheets": []}), "nbformat 3"),
    (json.dumps({"nbformat": 4, "nbformat_minor": 5, "cells": "oops", "metadata": {}}), "not a valid notebook"),
    ("[" * 100_000 + "]" * 100_000, "not"),
])
def test_a_broken_notebook_is_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(NotebookError, match=message):
        notebook_source(text)


def test_the_handout_is_a_valid_notebook_whose_stubs_read_back() -> None:
    stub = 'def double(x):\n    """Twice x."""\n    raise NotImplementedError\n'
    text = handout_notebook("Week 5", [("Doubling", "Twice x.", stub)], "python check.pyz exercise.ipynb")
    notebook = nbformat.reads(text, as_version=4)
    nbformat.validate(notebook)
    kinds = [c.cell_type for c in notebook.cells]
    assert kinds == ["markdown", "markdown", "code", "markdown", "code"]
    assert "Twice x." in notebook.cells[1].source and notebook.cells[2].source == stub
    assert notebook.cells[-1].source == "!python check.pyz exercise.ipynb"
    source = notebook_source(text)
    assert "def double(x):" in source.source and len(source.notes) == 1  # the check cell's shell line
