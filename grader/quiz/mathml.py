r"""Markdown with LaTeX math -> HTML with MathML, converted at generation time (no network,
no JavaScript in the page).

Math is `$...$` (inline) or `$$...$$` (display).  It is cut out before the Markdown is
rendered (so Markdown never mangles a formula), converted with latex2mathml, and put back.
Display formulas are wrapped in `<span class="math-display">` so a wide one scrolls instead of
overflowing the page; one made of several equations separated by `\quad` (at the top level)
becomes one display-style formula per equation, which wrap onto new lines like words when the
page is narrow (browsers do not break a single formula).

Matrix delimiters (`bmatrix`, `pmatrix`, `vmatrix`) become a CSS class on the `<mtable>`
instead of `<mo>` brackets: a browser stretches an `<mo>` only with an OpenType math font,
which many machines lack, while the page's CSS draws the class's brackets at any height.

Both conversions are cached, with the numbers masked (`grader.quiz.number_mask`): a quiz
repeats the same formulas and the same Markdown around them for every student, with only the
numbers changed.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

from latex2mathml.converter import convert
from markdown_it import MarkdownIt

from grader.quiz.number_mask import convert_masked

_MATH = re.compile(r"\$\$(.+?)\$\$|\$([^$\n]+?)\$", re.DOTALL)
_FORMULA = "\u2063MATH\u2063"  # where a formula was cut out of the Markdown

# Numbers latex2mathml writes as one <mn> (not part of a macro name like \frac12 or x2)
_LATEX_NUMBER = re.compile(r"(?<![A-Za-z\\\d.^_])\d+(?:\.\d+)?")
# Numbers in Markdown text, except where a digit means something: list markers ("2. ",
# "3) ") and character references (&#35; &#x1F;)
_TEXT_NUMBER = re.compile(r"(?<![\w#])\d+(?![\d.)]*(?:[.)]\s|[.)]$|;))")
_TEXT_MASK = "\ue000"  # private use: Markdown treats it as a letter, as it does digits

# (opening <mo>, closing <mo>) as latex2mathml writes them -> the class drawn by the CSS
_FENCES = {
    ("<mo>&#x0005B;</mo>", "<mo>&#x0005D;</mo>"): "fence-bracket",
    ("<mo>&#x00028;</mo>", "<mo>&#x00029;</mo>"): "fence-paren",
    ("<mo>&#x0007C;</mo>", "<mo>&#x0007C;</mo>"): "fence-bar",
}
_TABLE_TAG = re.compile(r"<mtable>|</mtable>")
_SPLIT_TOKENS = re.compile(r"\\(?:begin|end)\{[^{}]*\}|\\left\b|\\right\b|\\q?quad\b|\\[{}]|[{}]")
_OPENING = ("{", "\\begin{", "\\left")
_CLOSING = ("}", "\\end{", "\\right")


@lru_cache(maxsize=2)
def _markdown(breaks: bool = False) -> MarkdownIt:
    options = {"html": False, "typographer": False, "breaks": breaks}
    return MarkdownIt("commonmark", options).enable("table")


def css_fences(mathml: str) -> str:
    """Replace `<mo>[</mo><mtable>...</mtable><mo>]</mo>` (and the same with parentheses
    and bars) by `<mtable class="fence-bracket">...</mtable>`; unmatched fences stay."""
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement), non-overlapping
    stack: list[tuple[int, str]] = []  # per open <mtable>: its position, the <mo> before it
    for tag in _TABLE_TAG.finditer(mathml):
        if tag.group(0) == "<mtable>":
            opener = next((o for o, _ in _FENCES if mathml.endswith(o, 0, tag.start())), "")
            stack.append((tag.start(), opener))
            continue
        if not stack:
            return mathml
        start, opener = stack.pop()
        closer = next((c for o, c in _FENCES if o == opener and mathml.startswith(c, tag.end())), "")
        if opener and closer:
            css_class = _FENCES[(opener, closer)]
            edits.append((start - len(opener), start + len("<mtable>"), f'<mtable class="{css_class}">'))
            edits.append((tag.start(), tag.end() + len(closer), "</mtable>"))
    for start, end, replacement in sorted(edits, reverse=True):
        mathml = mathml[:start] + replacement + mathml[end:]
    return mathml


def split_equations(latex: str) -> list[str]:
    """`a = 1,\\quad b = 2` -> [`a = 1,`, `b = 2`]: the pieces between top-level \\quad
    and \\qquad (not inside braces, environments or \\left...\\right)."""
    pieces, depth, start = [], 0, 0
    for token in _SPLIT_TOKENS.finditer(latex):
        text = token.group(0)
        if text.startswith(_OPENING):
            depth += 1
        elif text.startswith(_CLOSING):
            depth = max(0, depth - 1)
        elif text.endswith("quad") and depth == 0:
            pieces.append(latex[start:token.start()])
            start = token.end()
    pieces.append(latex[start:])
    return [piece.strip() for piece in pieces if piece.strip()]


@lru_cache(maxsize=20_000)
def _convert_exactly(latex: str, display: bool) -> str:
    return css_fences(convert(latex.strip(), display="block" if display else "inline"))


def _convert(latex: str, display: bool) -> str:
    masked = convert_masked(
        latex, _LATEX_NUMBER, "7", "<mn>7</mn>", lambda n: f"<mn>{n}</mn>",
        lambda text: _convert_exactly(text, display),
    )
    return masked if masked is not None else _convert_exactly(latex, display)


@lru_cache(maxsize=50_000)
def latex_to_mathml(latex: str, display: bool = False) -> str:
    """One formula as MathML; a formula latex2mathml cannot read is shown as code."""
    try:
        if not display:
            return _convert(latex, display=False)
        pieces = split_equations(latex)
        if len(pieces) <= 1:
            return f'<span class="math-display">{_convert(latex, display=True)}</span>'
        equations = [
            _convert(piece, display=False).replace(' display="inline">', ' display="inline" displaystyle="true">', 1)
            for piece in pieces
        ]
        return f'<span class="math-display math-lines">{" ".join(equations)}</span>'
    except Exception:  # latex2mathml raises many types on malformed input
        return f'<code class="math-error">{html.escape(latex)}</code>'


@lru_cache(maxsize=20_000)
def _render_exactly(text: str, breaks: bool = False) -> str:
    return _markdown(breaks).render(text)


def _render_markdown(text: str, breaks: bool) -> str:
    masked = convert_masked(
        text, _TEXT_NUMBER, _TEXT_MASK, _TEXT_MASK, lambda n: n, lambda t: _render_exactly(t, breaks)
    )
    return masked if masked is not None else _render_exactly(text, breaks)


def markdown_to_html(text: str, *, breaks: bool = False) -> str:
    """Markdown with $math$ -> an HTML fragment with MathML; with `breaks`, every line
    break of the text is kept (for docstrings written line by line)."""
    formulas: list[str] = []

    def cut(match: re.Match[str]) -> str:
        display = match.group(1) is not None
        formulas.append(latex_to_mathml(match.group(1) or match.group(2), display))
        return _FORMULA

    parts = _render_markdown(_MATH.sub(cut, text.replace(_FORMULA, "")), breaks).split(_FORMULA)
    pieces = [parts[0]]
    for formula, part in zip(formulas, parts[1:]):
        pieces += [formula, part]
    return "".join(pieces)
