"""Markdown with LaTeX math -> HTML with MathML, converted at generation time (no network,
no JavaScript in the page).

Math is `$...$` (inline) or `$$...$$` (display).  It is cut out before the Markdown is
rendered (so Markdown never mangles a formula), converted with latex2mathml, and put back.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

from latex2mathml.converter import convert
from markdown_it import MarkdownIt

_MATH = re.compile(r"\$\$(.+?)\$\$|\$([^$\n]+?)\$", re.DOTALL)
_PLACEHOLDER = "\u2063MATH{}\u2063"
_PLACEHOLDER_RE = re.compile("\u2063MATH(\\d+)\u2063")


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")


@lru_cache(maxsize=20000)
def latex_to_mathml(latex: str, display: bool = False) -> str:
    """One formula as a <math> element; a formula latex2mathml cannot read is shown as code."""
    try:
        return convert(latex.strip(), display="block" if display else "inline")
    except Exception:  # latex2mathml raises many types on malformed input
        return f"<code class=\"math-error\">{html.escape(latex)}</code>"


def markdown_to_html(text: str) -> str:
    """Markdown with $math$ -> an HTML fragment with MathML."""
    formulas: list[str] = []

    def cut(match: re.Match[str]) -> str:
        display = match.group(1) is not None
        formulas.append(latex_to_mathml(match.group(1) or match.group(2), display))
        return _PLACEHOLDER.format(len(formulas) - 1)

    rendered = _markdown().render(_MATH.sub(cut, text))
    return _PLACEHOLDER_RE.sub(lambda m: formulas[int(m.group(1))], rendered)

