"""Rendering an exercise's prompt: a jinja2 template (Markdown with LaTeX math) filled with a
variant's parameters.

Filters available to templates: `latex_matrix` (a nested list as a LaTeX bmatrix),
`latex_vector` (a list as a column vector), `num` (a number with up to 4 significant digits
and no trailing zeros), `a` (the value with its indefinite article: "an 8", "a 7"),
`letters` (option labels A, B, ...).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Sequence

import jinja2

from grader.exercise import AnswerExercise
from grader.wording import with_article
from grader.variant import Variant


def num(value: Any, digits: int = 4) -> str:
    """A number in short form: ints as they are, floats with `digits` significant digits."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    text = f"{float(value):.{digits}g}"
    return "0" if text == "-0" else text


def latex_matrix(rows: Sequence[Sequence[Any]] | Sequence[Any], digits: int = 4) -> str:
    """A nested list as `\\begin{bmatrix} a & b \\\\ c & d \\end{bmatrix}`; a flat list as a row."""
    rows = [rows] if rows and not isinstance(rows[0], (list, tuple)) else rows
    body = r" \\ ".join(" & ".join(num(x, digits) for x in row) for row in rows)
    return r"\begin{bmatrix} " + body + r" \end{bmatrix}"


def latex_vector(values: Sequence[Any], digits: int = 4) -> str:
    """A list as a column vector."""
    return latex_matrix([[v] for v in values], digits)


def letters(count: int) -> list[str]:
    return [chr(ord("A") + i) for i in range(count)]


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(num=num, latex_matrix=latex_matrix, latex_vector=latex_vector, a=with_article)
    env.globals.update(letters=letters, zip=zip, enumerate=enumerate, range=range, len=len)
    return env


@lru_cache(maxsize=512)
def _template(source: str) -> jinja2.Template:
    return _environment().from_string(source)


def render_prompt(exercise: AnswerExercise, variant: Variant) -> str:
    """The variant's prompt as Markdown with LaTeX math."""
    return _template(exercise.prompt).render(**variant.params).strip()
