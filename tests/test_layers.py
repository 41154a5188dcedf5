"""The layer rule: the engine returns data; only the CLI wing (`grader/cli/`) presents it.

Checked on the source with `ast` (nothing is imported or run): no module of `grader/`
outside `grader/cli/` imports click, rich or `grader.cli`, and none prints (a `print()`
call, `click.echo`, a write on `sys.stdout` / `sys.stderr`) except the student kit's own
command line, which runs standalone inside check.pyz.  (The sandbox worker and the kit's
test runner talk over their own pipes with file objects of their own; they are not
printing to the user.)
"""

from __future__ import annotations

import ast
from pathlib import Path

import grader

PACKAGE = Path(grader.__file__).resolve().parent
PRESENTATION = ("click", "rich", "grader.cli")
MAY_PRINT = {"kit/main.py"}  # check.pyz's __main__: no console of ours exists there


def _engine_modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0] != "cli")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path, tree: ast.AST) -> set[str]:
    """Every module name an import statement in `tree` names (relative ones resolved)."""
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _is_presentation(name: str) -> bool:
    return any(name == layer or name.startswith(layer + ".") for layer in PRESENTATION)


def _output_calls(tree: ast.AST) -> list[int]:
    """Lines calling print(), click.echo or sys.stdout/sys.stderr .write."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "print":
            lines.append(node.lineno)
        elif isinstance(func, ast.Attribute):
            target = ast.unparse(func)
            if target in ("click.echo", "click.secho", "sys.stdout.write", "sys.stderr.write"):
                lines.append(node.lineno)
    return lines


def _trees() -> list[tuple[str, ast.AST, Path]]:
    return [(str(p.relative_to(PACKAGE)), ast.parse(p.read_text(encoding="utf-8")), p) for p in _engine_modules()]


def test_the_rule_sees_the_whole_engine() -> None:
    names = {name for name, _, _ in _trees()}
    assert {"api.py", "demo.py", "gradebook/runner.py", "kit/main.py"} <= names
    assert not any(name.startswith("cli/") for name in names)


def test_no_engine_module_imports_click_rich_or_the_cli() -> None:
    offenders = {
        name: sorted(n for n in _imported(path, tree) if _is_presentation(n))
        for name, tree, path in _trees()
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_no_engine_module_prints() -> None:
    offenders = {name: _output_calls(tree) for name, tree, _ in _trees() if name not in MAY_PRINT}
    assert {name: lines for name, lines in offenders.items() if lines} == {}


def test_the_detectors_find_what_they_look_for() -> None:
    source = "import rich.text\nfrom ..cli import console\nprint('x')\nimport sys\nsys.stderr.write('y')\n"
    tree = ast.parse(source)
    imported = _imported(PACKAGE / "quiz" / "x.py", tree)
    assert {"rich.text", "grader.cli", "grader.cli.console"} <= imported
    assert all(_is_presentation(n) for n in ("rich.text", "grader.cli.console"))
    assert not _is_presentation("richer") and not _is_presentation("grader.clinic")
    assert _output_calls(tree) == [3, 5]
