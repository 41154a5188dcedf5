"""The question text of an item as HTML for the feedback page: the prompt the student saw
in quiz.html (math as MathML) or, for code, the function's signature and docstring."""

from __future__ import annotations

from html import escape

from grader.prompts import render_prompt
from grader.quiz.mathml import markdown_to_html
from grader.quiz.model import CodeItem, Question


def question_html(question: Question) -> str:
    """The student's prompt, rendered as in quiz.html ("" if it cannot be rendered)."""
    try:
        return markdown_to_html(render_prompt(question.exercise, question.variant))
    except Exception:  # a prompt that cannot be rendered must not stop grading
        return ""


def code_html(item: CodeItem) -> str:
    """`def f(...):` and the docstring, as in quiz.html."""
    signature = getattr(item.exercise, "signature", f"def {item.function}(...):")
    docstring = getattr(item.exercise, "docstring", "")
    try:
        body = markdown_to_html(docstring, breaks=True)
    except Exception:
        body = f"<p>{escape(docstring)}</p>"
    return f"<pre>{escape(signature)}</pre>{body}"
