"""Math for the page (MathML, CSS-drawn matrix brackets, equations that wrap) and for the
terminal (Unicode), and the quiz folder's JSON formatting."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.quiz.documents import json_text
from grader.quiz.mathml import css_fences, latex_to_mathml, markdown_to_html, split_equations
from grader.cli.terminal_math import latex_to_text, markdown_for_terminal

MATHML = "{http://www.w3.org/1998/Math/MathML}"


def parse(fragment: str) -> ET.Element:
    return ET.fromstring(f"<root>{fragment}</root>")


def test_inline_and_display_math_become_mathml_and_markdown_still_works() -> None:
    html = markdown_to_html("Let $x_1 = \\frac{a}{b}$ and **bold** `code`.\n\n$$y = 2x$$\n\n- item $z$")
    root = parse(html)
    maths = list(root.iter(f"{MATHML}math"))
    assert [m.get("display") for m in maths] == ["inline", "block", "inline"]
    assert root.find(".//p/strong").text == "bold" and root.find(".//p/code").text == "code"
    assert root.find(".//ul/li") is not None
    assert maths[0].find(f".//{MATHML}mfrac") is not None
    assert "$" not in "".join(root.itertext())


def test_markdown_does_not_mangle_underscores_and_stars_inside_math() -> None:
    html = markdown_to_html("$a_1 * b_1 * c$ and $d_2$")
    assert "<em>" not in html and html.count("<math") == 2


def test_text_is_escaped_but_formulas_are_not() -> None:
    html = markdown_to_html("<script>alert(1)</script> $a < b$")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<mo>&lt;</mo>" in html or "&#x0003C;" in html


def test_matrix_brackets_become_a_css_class() -> None:
    mathml = latex_to_mathml(r"W = \begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix} + \begin{pmatrix} 5 \end{pmatrix}")
    root = parse(mathml)
    tables = list(root.iter(f"{MATHML}mtable"))
    assert [t.get("class") for t in tables] == ["fence-bracket", "fence-paren"]
    operators = [mo.text for mo in root.iter(f"{MATHML}mo")]
    assert "[" not in operators and "]" not in operators and "(" not in operators
    assert [mn.text for mn in root.iter(f"{MATHML}mn")] == ["1", "2", "3", "4", "5"]


def test_css_fences_handles_nesting_and_leaves_unmatched_fences() -> None:
    nested = css_fences("<mo>&#x0005B;</mo><mtable><mtr><mtd><mo>&#x00028;</mo><mtable></mtable>"
                        "<mo>&#x00029;</mo></mtd></mtr></mtable><mo>&#x0005D;</mo>")
    assert nested == ('<mtable class="fence-bracket"><mtr><mtd><mtable class="fence-paren"></mtable>'
                      "</mtd></mtr></mtable>")
    mismatched = "<mo>&#x0005B;</mo><mtable></mtable><mo>&#x00029;</mo>"
    assert css_fences(mismatched) == mismatched


@pytest.mark.parametrize(
    ("latex", "pieces"),
    [
        (r"a = 1,\quad b = 2", ["a = 1,", "b = 2"]),
        (r"a \qquad b \quad c", ["a", "b", "c"]),
        (r"\left( a \quad b \right) \quad c", [r"\left( a \quad b \right)", "c"]),
        (r"\begin{bmatrix} 1 \quad 2 \end{bmatrix}", [r"\begin{bmatrix} 1 \quad 2 \end{bmatrix}"]),
        (r"x_{a \quad b} \quadrant", [r"x_{a \quad b} \quadrant"]),
    ],
)
def test_split_equations_at_top_level_quads(latex: str, pieces: list[str]) -> None:
    assert split_equations(latex) == pieces


def test_display_math_of_several_equations_becomes_wrappable_display_style_formulas() -> None:
    root = parse(latex_to_mathml(r"m_t = \frac{1}{2},\quad v_t = 3", display=True))
    span = root.find("span")
    assert span.get("class") == "math-display math-lines"
    maths = span.findall(f"{MATHML}math")
    assert len(maths) == 2 and all(m.get("displaystyle") == "true" for m in maths)
    single = parse(latex_to_mathml(r"y = 2x", display=True)).find("span")
    assert single.get("class") == "math-display" and single.find(f"{MATHML}math").get("display") == "block"


def test_unreadable_latex_is_shown_as_code_not_dropped() -> None:
    html = latex_to_mathml(r"\frac{a}{")
    assert html.startswith('<code class="math-error">') and "\\frac{a}{" in html


@pytest.mark.parametrize(
    ("latex", "text"),
    [
        (r"\hat m_t = \frac{m_t}{1-\beta_1^t}", "m̂ₜ = (mₜ)/(1-β₁ᵗ)"),
        (r"\theta_{t-1} - \eta\,\nabla", "θₜ₋₁ - η ∇"),
        (r"\epsilon = 10^{-8}", "ε = 10⁻⁸"),
        (r"\mathrm{softmax}(QK^\top/\sqrt{d_k})", "softmax(QKᵀ/√(dₖ))"),
        (r"x \in \mathbb{R}^{3 \times 4}", "x ∈ ℝ^(3×4)"),
        (r"H = \begin{bmatrix} -3 & 5 \\ 5 & 2 \end{bmatrix}", "H = [-3 5; 5 2]"),
        (r"\{a, b\}", "{a, b}"),
        (r"\lVert W \rVert_F^2", "‖ W ‖_F²"),
    ],
)
def test_latex_to_text(latex: str, text: str) -> None:
    assert latex_to_text(latex) == text


def test_markdown_for_terminal_replaces_every_formula() -> None:
    assert markdown_for_terminal("Let $x^2$ be\n\n$$\\sum_i a_i$$") == "Let x² be\n\nΣᵢ aᵢ"


def test_displayed_equations_get_a_paragraph_and_a_line_each_in_the_terminal() -> None:
    text = markdown_for_terminal("With $g_t$:\n$$m_t = 1,\\quad v_t = g_t^2.$$\nThen go.")
    assert text == "With gₜ:\n\nmₜ = 1,  \nvₜ = gₜ².\n\nThen go."


def test_json_text_is_json_readable_and_compact_below_the_third_level() -> None:
    document = {"quiz": "q", "questions": [{"question": "q1", "params": {"w": [[1.0, 0.5], [2, 3]]}}],
                "code": [], "student": {"id": "a"}}
    text = json_text(document)
    assert json.loads(text) == document
    assert text.endswith("}\n")
    assert '      "params": {"w": [[1.0, 0.5], [2, 3]]}' in text.splitlines()
    assert re.search(r'^  "code": \[\],$', text, flags=re.M)
    assert json_text({"é": float("inf")}) == '{\n  "é": Infinity\n}\n'


TRICKY = [
    "1. first\n2. second 12\n\n3) third",
    "Give 1.8. Then 2.5, or 0.25; &#35; &#x1F; and &#1234;",
    "**93%** accuracy and *12* and `Conv2d(16, 64, kernel_size=5)` and x2 y_3",
    "| word | vector |\n|---|---|\n| a | (0, -2) |\n| b | 12 |",
    "$x_1 = 0.5$, $\\frac12 + 10^{-8}$ and $$a = 1,\\quad b_{12} = 3.25$$ then $\\text{layer 2} = 7$",
    "$W = \\begin{bmatrix} 1 & 0.5 \\\\ -1.5 & -2 \\end{bmatrix}$ and 7 $x7 + 7$",
    "  4. indented item\n\n    10. code-ish 5",
]


def exact(monkeypatch: pytest.MonkeyPatch, text: str) -> str:
    """markdown_to_html without number masking (and without the caches)."""
    import grader.quiz.mathml as mathml

    with monkeypatch.context() as patch:
        patch.setattr(mathml, "convert_masked", lambda *args: None)
        mathml._convert_exactly.cache_clear()
        mathml._render_exactly.cache_clear()
        mathml.latex_to_mathml.cache_clear()
        result = mathml.markdown_to_html(text)
        mathml.latex_to_mathml.cache_clear()
    return result


@pytest.mark.parametrize("text", TRICKY)
def test_number_masking_never_changes_the_html(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    assert markdown_to_html(text) == exact(monkeypatch, text)


def test_number_masking_is_exact_on_every_fixture_prompt(monkeypatch: pytest.MonkeyPatch, fixture_bank_only) -> None:
    from grader.bank import load_bank
    from grader.prompts import render_prompt
    from grader.variant import make_variant

    for exercise in load_bank([fixture_bank_only]):
        for seed in range(5):
            prompt = render_prompt(exercise, make_variant(exercise, seed))
            assert markdown_to_html(prompt) == exact(monkeypatch, prompt), (exercise.id, seed)


@given(st.text(alphabet="0123456789 .,-+*_`#&;()[]|$\\\nabxq^{}=", max_size=60))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_number_masking_is_exact_on_random_text(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    assert markdown_to_html(text) == exact(monkeypatch, text)


@pytest.mark.parametrize("text", ["$^00$", "$x_12$", "$a^10 + b_23$"])
def test_a_script_takes_one_digit_with_and_without_masking(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    """In LaTeX `x^00` is x^{0}0: masking must not turn "00" into one superscript."""
    assert markdown_to_html(text) == exact(monkeypatch, text)


def test_number_masking_is_exact_on_the_bank_prompts(monkeypatch: pytest.MonkeyPatch) -> None:
    from grader.bank import default_bank
    from grader.exercise import AnswerExercise
    from grader.prompts import render_prompt
    from grader.variant import make_variant

    exercises = [e for e in default_bank() if isinstance(e, AnswerExercise)]
    assert exercises
    for exercise in exercises:
        for seed in range(3):
            prompt = render_prompt(exercise, make_variant(exercise, seed))
            assert markdown_to_html(prompt) == exact(monkeypatch, prompt), (exercise.id, seed)
