"""Reading a submission in the trusted process without running it: decode, size cap,
parse and compile (compiling only reports syntax errors with their line; it never
executes anything).  Imports nothing heavy, so `grader check` can use it before torch."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ..student_file import MAX_BYTES, StudentFileError, decode, too_large_message

MAX_SOURCE_BYTES = MAX_BYTES


@dataclass(frozen=True)
class SourceCheck:
    """What the trusted side learns from a source without running it.

    error: a message when the file cannot be used at all (every function scores 0);
    error_status: the item status that error gives (`error` or `missing`);
    tree: the parsed module when there is no error.
    """

    text: str
    tree: ast.Module | None
    error: str = ""
    error_status: str = "error"


def check_source(source: bytes | str, *, compile_check: bool = True) -> SourceCheck:
    """Decode (`grader.student_file.decode`: one size limit, a BOM dropped) and parse a
    submission.  With `compile_check`, also compile it to bytecode,
    which reports the few syntax errors the parser accepts (`return` outside a function,
    ...) with their line; compiling never executes anything."""
    if isinstance(source, str):
        size = len(source.encode("utf-8", "surrogatepass"))
        if size > MAX_SOURCE_BYTES:
            return SourceCheck("", None, too_large_message("exercise.py", size))
        text = source.removeprefix("\ufeff")
    else:
        try:
            text = decode(bytes(source), "exercise.py")
        except StudentFileError as error:
            return SourceCheck("", None, str(error))
    if not text.strip():
        return SourceCheck(text, None, "exercise.py is empty", "missing")
    try:
        tree = ast.parse(text, filename="exercise.py")
        if compile_check:
            compile(tree, "exercise.py", "exec", dont_inherit=True)
    except SyntaxError as error:
        where = f"line {error.lineno}" if error.lineno else "an unknown line"
        return SourceCheck(text, None, f"syntax error on {where}: {error.msg}")
    except (ValueError, RecursionError, MemoryError) as error:
        return SourceCheck(text, None, f"exercise.py cannot be parsed: {type(error).__name__}: {error}")
    return SourceCheck(text, tree)
