"""LaTeX math made readable in a terminal: common macros become Unicode (\\times -> ×,
\\sqrt{x} -> √(x), \\frac{a}{b} -> (a)/(b), Greek letters), matrices become rows."""

from __future__ import annotations

import re

_SYMBOLS = {
    r"\times": "×", r"\cdot": "·", r"\odot": "⊙", r"\le": "≤", r"\ge": "≥", r"\leq": "≤",
    r"\geq": "≥", r"\neq": "≠", r"\approx": "≈", r"\to": "→", r"\rightarrow": "→",
    r"\infty": "∞", r"\sum": "Σ", r"\prod": "Π", r"\nabla": "∇", r"\partial": "∂",
    r"\in": "∈", r"\pm": "±", r"\lfloor": "⌊", r"\rfloor": "⌋", r"\lceil": "⌈", r"\rceil": "⌉",
    r"\alpha": "α", r"\beta": "β", r"\gamma": "γ", r"\delta": "δ", r"\epsilon": "ε",
    r"\varepsilon": "ε", r"\eta": "η", r"\theta": "θ", r"\lambda": "λ", r"\mu": "μ",
    r"\sigma": "σ", r"\tau": "τ", r"\phi": "φ", r"\omega": "ω", r"\Omega": "Ω", r"\ell": "ℓ",
    r"\log": "log", r"\exp": "exp", r"\max": "max", r"\min": "min", r"\mathbb{E}": "𝔼",
    r"\lVert": "‖", r"\rVert": "‖", r"\Vert": "‖", r"\|": "‖", r"\quad": "  ", r"\,": " ", r"\;": " ", r"\!": "", r"\left": "", r"\right": "",
}
_FRAC = re.compile(r"\\[dt]?frac\{([^{}]*)\}\{([^{}]*)\}")
_SQRT = re.compile(r"\\sqrt\{([^{}]*)\}")
_TEXT = re.compile(r"\\(?:text|mathrm|operatorname|mathbf|boldsymbol|mathit)\{([^{}]*)\}")
_MATRIX = re.compile(r"\\begin\{[bp]?matrix\}(.*?)\\end\{[bp]?matrix\}", re.DOTALL)
_MACRO = re.compile(r"\\[A-Za-z]+")


def _matrix(match: re.Match[str]) -> str:
    rows = [r.strip() for r in match.group(1).split(r"\\")]
    return "[" + "; ".join(" ".join(c.strip() for c in row.split("&")) for row in rows if row) + "]"


def latex_to_text(latex: str) -> str:
    text = _MATRIX.sub(_matrix, latex)
    text = _TEXT.sub(r"\1", text)
    for _ in range(3):  # nested fractions and roots, innermost first
        text = _FRAC.sub(r"(\1)/(\2)", text)
        text = _SQRT.sub(r"√(\1)", text)
    text = _MACRO.sub(lambda m: _SYMBOLS.get(m.group(0), m.group(0)[1:]), text)
    for macro in (r"\,", r"\;", r"\!"):
        text = text.replace(macro, _SYMBOLS[macro])
    return text.replace("{", "").replace("}", "")


def markdown_for_terminal(markdown: str) -> str:
    """Replace every $...$ / $$...$$ formula by its Unicode text."""
    return re.sub(
        r"\$\$(.+?)\$\$|\$([^$\n]+?)\$",
        lambda m: latex_to_text(m.group(1) or m.group(2)),
        markdown,
        flags=re.DOTALL,
    )
