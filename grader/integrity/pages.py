"""What `grader similarity` writes into the grading folder:

    similarity.csv                   student_a, student_b, kind, score, chance, flagged, evidence, page
    similarity/<a>--<b>--<kind>.html one side-by-side page per flagged pair

kind: `answers` (copied answers across variants), `code` (two students' exercise.py),
`solution` (a student's exercise.py against the instructor's solution), `earlier` (against
an earlier term's file). For answers, score = -log10(chance) and chance is the probability
that two independent students agree like this; for code, score is the share of the
smaller file's fingerprints found in the other (1.0: all), chance is empty.

Never a penalty: the pages say so, and nothing here changes a grade.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

import jinja2
from markupsafe import Markup, escape

from grader.atomic_write import write_atomic
from grader.integrity.answer_pairs import AnswerPair
from grader.integrity.section import SIMILARITY_CSV
from grader.integrity.code_pairs import CodePair
from grader.integrity.winnow import FilePrint

PAGES_DIR = "similarity"
COLUMNS = ["student_a", "student_b", "kind", "score", "chance", "flagged", "evidence", "page"]


@dataclass(frozen=True)
class Row:
    """One line of similarity.csv."""

    a: str
    b: str
    kind: str
    score: float
    chance: float | None
    flagged: bool
    evidence: str
    page: str


def page_name(a: str, b: str, kind: str) -> str:
    slug = lambda s: re.sub(r"[^A-Za-z0-9_.-]+", "_", s)[:80]  # noqa: E731
    return f"{PAGES_DIR}/{slug(a)}--{slug(b)}--{kind}.html"


def code_kind(b: str) -> str:
    from grader.integrity.collect import EARLIER_PREFIX, SOLUTION_ID

    return "solution" if b == SOLUTION_ID else "earlier" if b.startswith(EARLIER_PREFIX) else "code"


def rows(answer_pairs: Sequence[AnswerPair], code_pairs: Sequence[CodePair], near_miss: float) -> list[Row]:
    """The CSV's rows: every flagged pair, and answer pairs scoring at least `near_miss`
    (unflagged, for context); flagged first, then by score."""
    out: list[Row] = []
    for p in answer_pairs:
        if p.flagged or p.score >= near_miss:
            source = p.source
            a, b = (p.b, p.a) if source == p.a else (p.a, p.b)
            out.append(Row(a, b, "answers", p.score, p.chance, p.flagged, p.evidence(),
                           page_name(a, b, "answers") if p.flagged else ""))
    for c in code_pairs:
        kind = code_kind(c.b)
        out.append(Row(c.a, c.b, kind, c.score, None, True, c.evidence(), page_name(c.a, c.b, kind)))
    return sorted(out, key=lambda r: (not r.flagged, r.kind != "answers", -r.score, r.a, r.b))


def similarity_csv(table: Sequence[Row]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in table:
        writer.writerow([r.a, r.b, r.kind, f"{r.score:.3f}", "" if r.chance is None else f"{r.chance:.3g}",
                         int(r.flagged), r.evidence, r.page])
    return buffer.getvalue()


@lru_cache(maxsize=64)
def _escaped_lines(text: str) -> tuple[str, ...]:
    """The file's lines as HTML (a file is shown on many pages: the solution on every one).
    Split at LF only, as Python numbers lines (`fingerprint_file` made every line end LF):
    `splitlines` would also split at a form feed or U+2028 in a comment and shift the page."""
    return tuple(str(escape(line)) or "&nbsp;" for line in text.split("\n"))


def _highlight(text: str, span: tuple[int, int], marked: frozenset[int]) -> Markup:
    lines = _escaped_lines(text)
    first, last = span
    html = []
    for number in range(first, min(last, len(lines)) + 1):
        cls = ' class="hit"' if number in marked else ""
        html.append(f"<span{cls}><i>{number}</i>{lines[number - 1]}</span>")
    return Markup("".join(html))


@lru_cache(maxsize=1)
def _page() -> tuple[jinja2.Template, Markup]:
    """The page template, compiled once, and the report's style sheet."""
    from grader.gradebook.report import css, environment  # report.py imports this module

    return environment().from_string(_PAGE), css()


def _render(**context: Any) -> str:
    template, style = _page()
    return template.render(css=style, **context)


def code_page(title: str, pair: CodePair, kind: str, a: FilePrint, b: FilePrint) -> str:
    functions = []
    for f in sorted(pair.functions, key=lambda f: (-f.score, f.name)):
        fa, fb = a.functions.get(f.name), b.functions.get(f.name)
        if not f.shared or fa is None or fb is None:
            continue
        functions.append({
            "name": f.name, "score": f.score, "shared": f.shared, "smaller": min(f.size_a, f.size_b),
            "left": _highlight(a.text, fa.lines, f.lines_a), "right": _highlight(b.text, fb.lines, f.lines_b),
        })
    return _render(
        title=title, kind=kind, a=pair.a, b=pair.b, score=pair.score, chance=None,
        functions=functions, agreements=[], unshared=sum(1 for f in pair.functions if not f.shared),
    )


def answer_page(title: str, pair: AnswerPair, a: str, b: str, shown: dict[tuple[str, str], dict[str, Any]]) -> str:
    """`shown`: (student, item) -> {answer, key} for the table."""
    agreements = []
    for g in pair.agreements:
        blank = {"answer": "", "key": ""}
        left, right = shown.get((g.a, g.item_a), blank), shown.get((g.b, g.item_b), blank)
        agreements.append({"g": g, "left": left, "right": right})
    return _render(
        title=title, kind="answers", a=a, b=b, score=pair.score, chance=pair.chance,
        functions=[], agreements=agreements, unshared=0,
    )


def write(out: Path, table: Sequence[Row], pages: dict[str, str]) -> dict[str, Path]:
    """Write similarity.csv and the pages (stale pages of earlier runs are removed)."""
    write_atomic(out / SIMILARITY_CSV, similarity_csv(table))
    folder = out / PAGES_DIR
    if folder.is_dir():
        keep = {Path(name).name for name in pages}
        for old in folder.glob("*.html"):
            if old.name not in keep:
                old.unlink()
    for name, html in pages.items():
        write_atomic(out / name, html)
    return {"similarity": out / SIMILARITY_CSV, "similarity_pages": folder}


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Similarity: {{ a }} and {{ b }}</title>
<style>
{{ css }}
body { max-width: 1500px; }
.sbs { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 12px; }
.sbs pre { white-space: pre; overflow-x: auto; line-height: 1.35; }
.sbs pre span { display: block; }
.sbs pre i { display: inline-block; width: 3.2em; color: #8a93a3; font-style: normal; user-select: none; }
.sbs pre span.hit { background: #fff0b3; }
.notice { border-left: 4px solid var(--warn); background: #fff8e8; padding: 8px 12px; margin: 12px 0; }
</style>
</head>
<body>
<h1>{{ a }} &harr; {{ b }}</h1>
<p class="sub">{{ title }} &middot; {{ kind }} &middot; score {{ "%.3f"|format(score) }}{% if chance is not none %} &middot; chance for two independent students {{ "%.2g"|format(chance) }}{% endif %}</p>
<p class="notice">Evidence for a person to judge, never a penalty by itself. Agreement can come from a shared
source, a study group, the same misconception or a standard formulation: look at the evidence below and talk to
the students before concluding anything.</p>
{% if agreements %}
<h2>Agreeing answers</h2>
<table>
<thead><tr><th>kind</th><th>{{ a }}: item, answer (own key)</th><th>{{ b }}: item, answer (own key)</th><th class="num">others</th><th class="num">p</th></tr></thead>
<tbody>
{% for row in agreements %}
<tr>
  <td>{% if row.g.kind == "key" %}{{ row.g.a }} answered with {{ row.g.b }}'s key{% else %}same wrong answer{% endif %}</td>
  <td class="mono">{{ row.g.item_a }}: {{ row.left.answer }} <span class="note">(key {{ row.left.key }})</span></td>
  <td class="mono">{{ row.g.item_b }}: {{ row.right.answer }} <span class="note">(key {{ row.right.key }})</span></td>
  <td class="num">{{ row.g.others }}</td><td class="num">{{ "%.2g"|format(row.g.p) }}</td>
</tr>
{% endfor %}
</tbody>
</table>
<p class="note"><b>others</b>: how many other students of the class gave the same value; <b>p</b>: its chance level, (others + 1) / (students who answered &minus; 1). The pair's chance is the product of the p's.</p>
{% endif %}
{% if functions %}
<h2>Matching functions</h2>
<p class="note">Highlighted lines hold token sequences found in both files after identifiers, literals, comments, blank lines and docstrings were normalized away. Shares are of the smaller function's fingerprints.{% if unshared %} {{ unshared }} function{{ "s" if unshared != 1 }} share nothing.{% endif %}</p>
{% for f in functions %}
<h3 class="mono">{{ f.name }} &middot; {{ "%.0f"|format(100 * f.score) }}% ({{ f.shared }}/{{ f.smaller }})</h3>
<div class="sbs"><div><div class="note">{{ a }}</div><pre>{{ f.left }}</pre></div><div><div class="note">{{ b }}</div><pre>{{ f.right }}</pre></div></div>
{% endfor %}
{% endif %}
</body>
</html>
"""
