"""report.html: the class report, a standalone page (inline CSS and SVG, no JavaScript, no
network) built from the gradebook: the score histogram, per-item difficulty and
discrimination (see `stats`), the most common misconceptions, counts of timeouts, invalid
and missing items, and the students with links to their feedback pages.  Submissions that
could not be graded show "not graded (grader failure: ...)"; submissions graded in a run
without the sandbox (`--no-sandbox`) are marked "unconfined", with a banner."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from functools import lru_cache
from typing import Any, Mapping, Sequence

import jinja2
from markupsafe import Markup

from grader.gradebook.adjust import DROPPED, Total, late_text, totals
from grader.gradebook.charts import histogram_svg, meter_svg, scatter_chart
from grader.rounding import score_text
from grader.wording import plural
from grader.gradebook.stats import ClassStats, class_stats
from grader.gradebook.confinement import UNCONFINED
from grader.gradebook.store import Gradebook, ItemInfo, ResultRow, SubmissionRow
from grader.gradebook.submissions import CODE_FILE
from grader.gradebook.ungraded import FAILED, failure_of
from grader.integrity.section import report_section as similarity_section

PROBLEM_STATUSES = ("timeout", "invalid", "error", "crashed", "memory", "forbidden")


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The templates of this package, HTML-escaped by default."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("grader.gradebook", "templates"),
        autoescape=jinja2.select_autoescape(["html.j2"], default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(num=number, pct=percent, fixed=fixed, plural=plural, meter=lambda f: Markup(meter_svg(f)))
    return env


def css() -> Markup:
    return Markup(environment().get_template("base.css.j2").render())


number = score_text


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}%"


def fixed(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _misconceptions(
    stats: ClassStats, item_exercises: Mapping[str, Counter[str]], sentences: Mapping[tuple[str, str], str]
) -> list[dict[str, Any]]:
    rows = []
    for item in stats.items:
        for tag, count in item.misconceptions:
            exercises = [e for e, _ in item_exercises.get(item.item, Counter()).most_common()]
            sentence = next((sentences[(e, tag)] for e in exercises if (e, tag) in sentences), "")
            rows.append(
                {"item": item.item, "tag": tag, "count": count,
                 "share": 100.0 * count / item.n if item.n else None, "feedback": sentence}
            )
    return sorted(rows, key=lambda r: (-r["count"], r["item"], r["tag"]))


def _students(
    gradebook: Gradebook, results: Mapping[str, Sequence[ResultRow]], submissions: Mapping[str, SubmissionRow],
    final: Mapping[str, Total],
    unconfined: set[str],
) -> list[dict[str, Any]]:
    rows = []
    for student, name, _email in gradebook.students():
        mine = results.get(student, [])
        t = final.get(student) or Total(sum(r.score for r in mine), sum(r.max_score for r in mine))
        total, maximum = t.total, t.maximum
        sub = submissions.get(student)
        problems = Counter(r.status for r in mine if r.status in PROBLEM_STATUSES)
        rows.append({
            "id": student, "name": name, "total": total, "max": maximum, "raw": t.raw,
            "penalty": t.penalty, "late": late_text(t),
            "adjusted": [r.item for r in mine if r.adjustment],
            "percent": 100.0 * total / maximum if maximum else None,
            "status": sub.status if sub else "missing",
            "failure": failure_of(mine) if sub and sub.status == FAILED else None,
            "unconfined": student in unconfined,
            "graded_at": sub.graded_at.replace("T", " ").replace("+00:00", " UTC") if sub else "",
            "problems": sorted(problems.items()),
        })
    return rows


def _ran_code(row: SubmissionRow) -> bool:
    """The submission's exercise.py was handed to the sandbox (graded, or failed there)."""
    return row.status in ("graded", FAILED) and any(
        f.get("name") == CODE_FILE and not f.get("error") for f in row.files
    )


def report_page(
    gradebook: Gradebook,
    results: Mapping[str, Sequence[ResultRow]],
    items: Sequence[ItemInfo] | None = None,
    submissions: Mapping[str, SubmissionRow] | None = None,
    final: Mapping[str, Total] | None = None,
) -> str:
    """The HTML of report.html from the gradebook and every roster student's results
    (`items` and `submissions`: the gradebook's, when the caller already read them)."""
    submissions = gradebook.submissions() if submissions is None else submissions
    submitted = {s for s, row in submissions.items() if row.status == "graded"}
    failed = {s for s, row in submissions.items() if row.status == FAILED}
    sandboxes = gradebook.run_sandboxes()
    unconfined = {s for s, row in submissions.items() if sandboxes.get(row.run_id) == UNCONFINED and _ran_code(row)}
    items = gradebook.items() if items is None else items
    dropped = sorted({r.item for rows in results.values() for r in rows if r.status == DROPPED})
    counted = {s: [r for r in rows if r.status != DROPPED] for s, rows in results.items()}
    stats = class_stats(counted, submitted, [i for i in items if i.item not in dropped], not_graded=failed)
    item_exercises: dict[str, Counter[str]] = {}
    for info in items:
        item_exercises.setdefault(info.item, Counter())[info.exercise] += 1
    counts = Counter()
    for status, n in stats.statuses.items():
        counts[status] += n
    points = [(i.item, i.difficulty, i.discrimination) for i in stats.items
              if i.difficulty is not None and i.discrimination is not None]
    scatter = scatter_chart(points) if len(points) >= 2 else None
    quiz = gradebook.db.execute("SELECT quiz_id, title FROM quiz").fetchone() or ("", "")
    return environment().get_template("report.html.j2").render(
        title=quiz[1],
        quiz_id=quiz[0],
        generated=datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z").strip(),
        css=css(),
        stats=stats,
        counts={"timeout": counts["timeout"], "invalid": counts["invalid"], "missing": counts["missing"]},
        histogram=Markup(histogram_svg(stats.histogram, title="score histogram")),
        bin_width=f"{stats.histogram.edges[1] - stats.histogram.edges[0]:g}",
        scatter=Markup(scatter.svg) if scatter else "",
        unlabeled=scatter.unlabeled if scatter else [],
        dropped=dropped,
        misconceptions=_misconceptions(stats, item_exercises, gradebook.misconception_sentences()),
        students=_students(gradebook, results, submissions, totals(gradebook, results) if final is None else final, unconfined),
        unrecognized=sum(1 for row in submissions.values() if row.status == "unrecognized"),
        unconfined=sorted(s for s in unconfined if s in results),
        similarity=similarity_section(gradebook.path.parent),
    )
