"""LaTeX math made readable in a terminal: common macros become Unicode (\\times -> ×,
\\sqrt{x} -> √(x), \\frac{a}{b} -> (a)/(b), Greek letters, \\hat{m} -> m̂, \\mathbb{R} -> ℝ),
sub- and superscripts become Unicode scripts where every character has one (β_1^t -> β₁ᵗ;
otherwise x^(a b)), and matrices become rows ([1 2; 3 4])."""

from __future__ import annotations

import re

_SYMBOLS = {
    r"\times": "×", r"\cdot": "·", r"\odot": "⊙", r"\otimes": "⊗", r"\le": "≤", r"\ge": "≥",
    r"\leq": "≤", r"\geq": "≥", r"\neq": "≠", r"\approx": "≈", r"\to": "→", r"\rightarrow": "→",
    r"\leftarrow": "←", r"\mapsto": "↦", r"\infty": "∞", r"\sum": "Σ", r"\prod": "Π",
    r"\nabla": "∇", r"\partial": "∂", r"\in": "∈", r"\pm": "±", r"\lfloor": "⌊", r"\rfloor": "⌋",
    r"\lceil": "⌈", r"\rceil": "⌉", r"\top": "⊤", r"\intercal": "⊤", r"\cdots": "⋯",
    r"\ldots": "…", r"\dots": "…", r"\langle": "⟨", r"\rangle": "⟩",
    r"\alpha": "α", r"\beta": "β", r"\gamma": "γ", r"\delta": "δ", r"\epsilon": "ε",
    r"\varepsilon": "ε", r"\zeta": "ζ", r"\eta": "η", r"\theta": "θ", r"\kappa": "κ",
    r"\lambda": "λ", r"\mu": "μ", r"\nu": "ν", r"\xi": "ξ", r"\pi": "π", r"\rho": "ρ",
    r"\sigma": "σ", r"\tau": "τ", r"\phi": "φ", r"\varphi": "φ", r"\chi": "χ", r"\psi": "ψ",
    r"\omega": "ω", r"\Gamma": "Γ", r"\Delta": "Δ", r"\Theta": "Θ", r"\Lambda": "Λ",
    r"\Sigma": "Σ", r"\Phi": "Φ", r"\Psi": "Ψ", r"\Omega": "Ω", r"\ell": "ℓ",
    r"\log": "log", r"\exp": "exp", r"\max": "max", r"\min": "min", r"\arg": "arg",
    r"\lVert": "‖", r"\rVert": "‖", r"\Vert": "‖", r"\|": "‖", r"\lvert": "|", r"\rvert": "|",
    r"\quad": "  ", r"\qquad": "    ", r"\,": " ", r"\;": " ", r"\:": " ", r"\!": "",
    r"\left": "", r"\right": "",
}
_DOUBLE_STRUCK = {"R": "ℝ", "N": "ℕ", "Z": "ℤ", "Q": "ℚ", "C": "ℂ", "E": "𝔼", "P": "ℙ"}
_ACCENTS = {"hat": "\u0302", "widehat": "\u0302", "bar": "\u0304", "overline": "\u0304",
            "tilde": "\u0303", "widetilde": "\u0303", "dot": "\u0307", "vec": "\u20d7"}
_SUPERSCRIPT = dict(zip(
    "0123456789+-=()niabcdefghjklmoprstuvwxyzABDEGHIJKLMNOPRTUVW⊤′*",
    "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵃᵇᶜᵈᵉᶠᵍʰʲᵏˡᵐᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂᵀ′*",
))
_SUBSCRIPT = dict(zip("0123456789+-=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ"))

_FRAC = re.compile(r"\\[dt]?frac\{([^{}]*)\}\{([^{}]*)\}")
_SQRT = re.compile(r"\\sqrt\{([^{}]*)\}")
_TEXT = re.compile(r"\\(?:text|mathrm|operatorname|mathbf|boldsymbol|mathit|mathcal)\{([^{}]*)\}")
_BB = re.compile(r"\\mathbb\{?([A-Z])\}?")
_ACCENT = re.compile(r"\\(" + "|".join(_ACCENTS) + r")(?:\{([^{}]*)\}|\s*([A-Za-z0-9]|\\[A-Za-z]+))")
_MATRIX = re.compile(r"\\begin\{[bpvBV]?matrix\}(.*?)\\end\{[bpvBV]?matrix\}", re.DOTALL)
_MACRO = re.compile(r"\\[A-Za-z]+|\\[,;:!|]")
_OPEN_BRACE, _CLOSE_BRACE = "\x00", "\x01"  # literal \{ and \} while groups are removed


def _matrix(match: re.Match[str]) -> str:
    rows = [r.strip() for r in match.group(1).split(r"\\")]
    return "[" + "; ".join(" ".join(c.strip() for c in row.split("&")) for row in rows if row) + "]"


def _accent(match: re.Match[str]) -> str:
    base = match.group(2) if match.group(2) is not None else match.group(3)
    base = _SYMBOLS.get(base, base)
    mark = _ACCENTS[match.group(1)]
    return base + mark if len(base) == 1 else f"({base}){mark}"


def _group(text: str, start: int) -> tuple[str, int]:
    """The script argument starting at `start` (a {...} group or one character) and the
    index after it."""
    if start >= len(text):
        return "", start
    if text[start] != "{":
        return text[start], start + 1
    depth = 0
    for index in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return text[start + 1:index], index + 1
    return text[start + 1:], len(text)


def _scripts(text: str) -> str:
    """x^{2} -> x², x_t -> xₜ, θ_{t-1} -> θₜ₋₁; x^{a b} -> x^(a b) when a character has
    no Unicode script form."""
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char not in "^_":
            out.append(char)
            index += 1
            continue
        content, index = _group(text, index + 1)
        content = _scripts(content).replace(" ", "")
        table = _SUPERSCRIPT if char == "^" else _SUBSCRIPT
        if content and all(c in table for c in content):
            out.append("".join(table[c] for c in content))
        else:
            out.append(char + (content if len(content) <= 1 else f"({content})"))
    return "".join(out)


def latex_to_text(latex: str) -> str:
    """One LaTeX formula as plain Unicode text."""
    text = latex.replace(r"\{", _OPEN_BRACE).replace(r"\}", _CLOSE_BRACE)
    text = _MATRIX.sub(_matrix, text)
    text = _TEXT.sub(r"\1", text)
    text = _BB.sub(lambda m: _DOUBLE_STRUCK.get(m.group(1), m.group(1)), text)
    for _ in range(3):  # nested fractions, roots and accents, innermost first
        text = _FRAC.sub(r"(\1)/(\2)", text)
        text = _SQRT.sub(r"√(\1)", text)
        text = _ACCENT.sub(_accent, text)
    text = _MACRO.sub(lambda m: _SYMBOLS.get(m.group(0), m.group(0)[1:]), text)
    text = _scripts(text)
    text = text.replace("{", "").replace("}", "").replace("\\", "")
    return text.replace(_OPEN_BRACE, "{").replace(_CLOSE_BRACE, "}")


def _formula(match: re.Match[str]) -> str:
    if match.group(2) is not None:
        return latex_to_text(match.group(2))
    from grader.quiz.mathml import split_equations

    # a displayed formula is a paragraph of its own, one equation a line (Markdown hard breaks)
    equations = "  \n".join(latex_to_text(piece) for piece in split_equations(match.group(1)))
    return f"\n\n{equations}\n\n"


def markdown_for_terminal(markdown: str) -> str:
    """Replace every $...$ / $$...$$ formula by its Unicode text (a displayed one as its own
    paragraph)."""
    text = re.sub(r"\$\$(.+?)\$\$|\$([^$\n]+?)\$", _formula, markdown, flags=re.DOTALL)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
