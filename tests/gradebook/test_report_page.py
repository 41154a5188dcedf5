"""report.html for a real class (issue 13 §6): 200 students and 12 items. The scatter
plot's labels never overlap (checked on the SVG and, in headless Chromium, on the laid-out
text), the items table stays inside the page, and the student table sorts by a column
(and is complete in roster order without its script). Screenshots go to tests/artifacts/."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from grader.gradebook.charts import scatter_chart
from grader.gradebook.exports import write_outputs
from grader.gradebook.store import Gradebook, ItemInfo
from grader.results import ItemResult
from tests.quiz.test_browser import DevTools, browser, errors_logged, evaluate, open_page, screenshot  # noqa: F401

ITEMS = [f"q{i}" for i in range(1, 11)] + ["conv2d_forward", "multi_head_attention"]


def _boxes(svg: str) -> list[tuple[float, ...]]:
    return [tuple(float(v) for v in m.split()) for m in re.findall(r'data-box="([^"]+)"', svg)]


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_scatter_labels_never_overlap_even_when_items_crowd() -> None:
    rng = np.random.default_rng(3)
    # 30 items crowded in one corner, a few exactly on top of each other
    points = [(f"item_{i:02d}", 0.8 + 0.05 * rng.random(), 0.3 + 0.1 * rng.random()) for i in range(30)]
    points += [("twin_a", 0.5, 0.5), ("twin_b", 0.5, 0.5)]
    chart = scatter_chart(points)
    boxes = _boxes(chart.svg)
    assert not any(_overlap(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    labels = re.findall(r'class="dot-label"[^>]*>([^<]+)<', chart.svg)
    assert "twin_a, twin_b" in labels
    names = {n for label in labels + chart.unlabeled for n in label.split(", ")}
    assert names == {name for name, _, _ in points}  # every item is labelled or listed
    dots = [(float(x), float(y)) for x, y in re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)"', chart.svg)]
    for box in boxes:  # a label covers no point (its own is outside its box too)
        assert not any(box[0] < x < box[2] and box[1] < y < box[3] for x, y in dots)
    for box in boxes:
        assert 44 <= box[0] and box[2] <= 1000 and 14 <= box[1] and box[3] <= 260


def class_of_200(path: Path) -> Gradebook:
    rng = np.random.default_rng(7)
    book = Gradebook(path)
    book.set_quiz("big", "Midterm", "exam", "/nowhere")
    students = [f"u2024{i:03d}" for i in range(200)]
    points = {item: (2.0 if item.startswith("q") else 4.0) for item in ITEMS}
    book.set_roster(
        [(s, f"Student Number {i}", f"{s}@example.org") for i, s in enumerate(students)],
        [ItemInfo(s, item, k, "answer" if item.startswith("q") else "code", f"ex_{item}", f"Exercise {item}", points[item])
         for s in students for k, item in enumerate(ITEMS)],
    )
    ability = rng.normal(size=len(students))
    easiness = np.linspace(-1.5, 1.5, len(ITEMS))
    for s, a in zip(students, ability):
        results = []
        for item, e in zip(ITEMS, easiness):
            p = 1 / (1 + np.exp(-(a + e)))
            score = points[item] * float(rng.random() < p)
            results.append(ItemResult(item, score, points[item], "correct" if score else "incorrect"))
        book.record(s, results, status="graded", content_hash=s, key_hash="k", files=[], notes=[], duration=0.1)
    return book


SORT = """
(() => {
  const header = Array.from(document.querySelectorAll('table.students th')).find(h => h.textContent.trim() === '%s');
  header.click();
  return Array.from(document.querySelectorAll('table.students tbody tr')).map(r => r.cells[%d].dataset.value || r.cells[%d].textContent.trim());
})()
"""

LAYOUT = """
(() => {
  const labels = Array.from(document.querySelectorAll('svg.chart text.dot-label')).map(t => {
    const b = t.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom];
  });
  const items = document.querySelector('table.items').getBoundingClientRect();
  const body = document.body.getBoundingClientRect();
  return {labels, itemsRight: items.right, bodyRight: body.right,
          pageWide: document.documentElement.scrollWidth > window.innerWidth};
})()
"""


def test_report_of_200_students_in_chromium(browser: DevTools, tmp_path: Path) -> None:  # noqa: F811
    book = class_of_200(tmp_path / "gradebook.sqlite")
    write_outputs(book, tmp_path)
    page = tmp_path / "report.html"
    html = page.read_text(encoding="utf-8")
    rows = re.findall(r'<tr>\s*<td class="mono">(u2024\d+)</td>', html.split("<h2>Students</h2>")[1])
    assert rows == [f"u2024{i:03d}" for i in range(200)]  # complete and in roster order without the script

    session = open_page(browser, page.as_uri())
    layout = evaluate(browser, session, LAYOUT)
    assert not layout["pageWide"] and layout["itemsRight"] <= layout["bodyRight"] + 1
    labels = layout["labels"]
    assert len(labels) >= 10
    assert not any(_overlap(a, b) for i, a in enumerate(labels) for b in labels[i + 1:]), "scatter labels overlap"

    totals = evaluate(browser, session, SORT % ("score", 2, 2))  # first click: ascending
    assert [float(v) for v in totals] == sorted(float(v) for v in totals) and len(totals) == 200
    descending = evaluate(browser, session, SORT % ("score", 2, 2))  # second click: descending
    assert [float(v) for v in descending] == sorted((float(v) for v in descending), reverse=True)
    names = evaluate(browser, session, SORT % ("student", 0, 0))
    assert names == sorted(names) and len(set(names)) == 200
    assert errors_logged(browser) == []
    print(f"screenshot: {screenshot(browser, session, 'report_200_students.png')}")


@pytest.mark.parametrize("width", [1280])
def test_feedback_page_in_chromium(browser: DevTools, tmp_path: Path, width: int) -> None:  # noqa: F811
    book = class_of_200(tmp_path / "gradebook.sqlite")
    book.add_adjustment("override", "q3", student="u2024001", score=1.0, note="partial credit on appeal", author="prof")
    write_outputs(book, tmp_path)
    session = open_page(browser, (tmp_path / "feedback" / "u2024001.html").as_uri())
    assert evaluate(browser, session, "document.documentElement.scrollWidth <= window.innerWidth")
    text = evaluate(browser, session, "document.body.innerText")
    assert "partial credit on appeal" in text and "(graded " in text
    assert errors_logged(browser) == []
    print(f"screenshot: {screenshot(browser, session, 'feedback_override.png')}")
