"""Rendering one student's quiz: quiz.md (Markdown with LaTeX) and quiz.html (standalone,
math as MathML converted at generation time, print CSS, no JavaScript)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jinja2

from grader.prompts import render_prompt
from grader.quiz.mathml import markdown_to_html
from grader.quiz.model import StudentQuiz


def points_text(points: float) -> str:
    return f"{points:g} point" + ("" if points == 1 else "s")


@lru_cache(maxsize=2)
def _environment(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("grader.quiz", "templates"),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["pts"] = points_text
    return env


def _context(title: str, quiz_id: str, mode: str, quiz: StudentQuiz) -> dict[str, Any]:
    questions = []
    for q in quiz.questions:
        prompt = render_prompt(q.exercise, q.variant)
        entry = {
            "qid": q.qid,
            "title": q.exercise.title,
            "points": q.points,
            "prompt": prompt,
            "format": q.check.describe(q.variant.key),
        }
        entry["prompt_html"] = jinja2.utils.markupsafe.Markup(markdown_to_html(prompt))
        questions.append(entry)
    code = []
    for item in quiz.code:
        docstring = getattr(item.exercise, "docstring", "")
        entry = {
            "function": item.function,
            "points": item.points,
            "signature": getattr(item.exercise, "signature", f"def {item.function}(...):"),
            "docstring": docstring,
        }
        entry["docstring_html"] = jinja2.utils.markupsafe.Markup(markdown_to_html(docstring, breaks=True))
        code.append(entry)
    return {
        "title": title,
        "quiz_id": quiz_id,
        "mode": mode,
        "student": quiz.student,
        "total": quiz.total_points,
        "questions": questions,
        "code": code,
    }


def render_pages(title: str, quiz_id: str, mode: str, quiz: StudentQuiz) -> tuple[str, str]:
    """(quiz.md, quiz.html) of one student."""
    context = _context(title, quiz_id, mode, quiz)
    markdown = _environment(False).get_template("quiz.md.j2").render(**context)
    html = _environment(True).get_template("quiz.html.j2").render(**context)
    return markdown, html
