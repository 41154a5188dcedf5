"""The gradebook store (one transaction per submission, exactly-once counters) and the item
analysis of the report against hand-computed values."""

from __future__ import annotations

import math
import re
import sqlite3
from pathlib import Path

import pytest

from grader.gradebook.exports import class_results, write_outputs
from grader.gradebook.stats import class_stats, histogram, pearson
from grader.gradebook.store import Gradebook, GradebookError, ItemInfo
from grader.results import ItemResult

# Five students who submitted and one who did not. Items: A (1 point), B (2), C (1).
SCORES = {
    "s1": (1, 2, 1),
    "s2": (1, 2, 0),
    "s3": (1, 0, 1),
    "s4": (0, 1, 0),
    "s5": (0, 0, 0),
}
MAXIMA = (1.0, 2.0, 1.0)
NAMES = ("A", "B", "C")


def tiny_gradebook(path: Path) -> Gradebook:
    book = Gradebook(path)
    book.set_quiz("tiny", "Tiny quiz", "exam", "/nowhere")
    students = [*SCORES, "s6"]
    items = [
        ItemInfo(s, name, i, "answer", f"ex_{name.lower()}", f"Exercise {name}", MAXIMA[i])
        for s in students for i, name in enumerate(NAMES)
    ]
    book.set_roster([(s, f"Student {s}", "") for s in students], items, [("ex_b", "halved", "You halved it.")])
    for student, scores in SCORES.items():
        results = [
            ItemResult(name, float(score), MAXIMA[i], "correct" if score == MAXIMA[i] else "incorrect",
                       misconception="halved" if name == "B" and score == 1 else None)
            for i, (name, score) in enumerate(zip(NAMES, scores))
        ]
        book.record(student, results, status="graded", content_hash=student, key_hash="k",
                    files=[], notes=[], duration=0.1)
    return book


def test_record_replaces_results_and_counts_gradings(tmp_path: Path) -> None:
    book = tiny_gradebook(tmp_path / "g.sqlite")
    book.record("s1", [ItemResult("A", 0.0, 1.0, "incorrect")], status="graded", content_hash="new",
                key_hash="k", files=[], notes=[], duration=0.2)
    rows = book.results("s1")
    assert [(r.item, r.score) for r in rows] == [("A", 0.0)]
    sub = book.submission("s1")
    assert sub is not None and (sub.graded_count, sub.content_hash, sub.total) == (2, "new", 0.0)
    assert book.submission("s2").graded_count == 1  # type: ignore[union-attr]


def test_a_failing_record_leaves_the_previous_results_intact(tmp_path: Path) -> None:
    book = tiny_gradebook(tmp_path / "g.sqlite")
    before = [(r.item, r.score) for r in book.results("s2")]
    duplicate = [ItemResult("A", 1.0, 1.0, "correct"), ItemResult("A", 0.0, 1.0, "incorrect")]
    with pytest.raises(sqlite3.IntegrityError):
        book.record("s2", duplicate, status="graded", content_hash="x", key_hash="k",
                    files=[], notes=[], duration=0.0)
    assert [(r.item, r.score) for r in book.results("s2")] == before
    assert book.submission("s2").content_hash == "s2"  # type: ignore[union-attr]


def _class_scores(book: Gradebook) -> dict[tuple[str, str], float]:
    return {(r.student, r.item): r.score for r in book.results()}


def test_the_class_results_follow_every_write_to_the_gradebook(tmp_path: Path) -> None:
    """results() is read once per version of the gradebook: a write through this
    connection (record, replace_result, a raw statement, a failed transaction) or a commit
    by another connection must show in the next call."""
    book = tiny_gradebook(tmp_path / "g.sqlite")
    assert _class_scores(book)[("s1", "B")] == 2.0
    book.replace_result("s1", ItemResult("B", 0.5, 2.0, "partial"))
    assert _class_scores(book)[("s1", "B")] == 0.5
    book.record("s5", [ItemResult("A", 1.0, 1.0, "correct")], status="graded", content_hash="again",
                key_hash="k", files=[], notes=[], duration=0.1)
    scores = _class_scores(book)
    assert scores[("s5", "A")] == 1.0 and ("s5", "B") not in scores
    book.db.execute("UPDATE results SET score = 0.25 WHERE student = 's2' AND item = 'C'")
    assert _class_scores(book)[("s2", "C")] == 0.25
    other = Gradebook(tmp_path / "g.sqlite")
    other.db.execute("UPDATE results SET score = 0.75 WHERE student = 's3' AND item = 'A'")
    other.close()
    assert _class_scores(book)[("s3", "A")] == 0.75
    with pytest.raises(sqlite3.IntegrityError):
        book.record("s4", [ItemResult("A", 1.0, 1.0, "correct")] * 2, status="graded", content_hash="x",
                    key_hash="k", files=[], notes=[], duration=0.0)
    assert _class_scores(book)[("s4", "B")] == 1.0  # rolled back: the old rows
    rows = book.results()
    rows.clear()  # a caller's list is its own
    assert len(book.results()) == len(_class_scores(book)) > 0


def test_a_meta_row_keeps_the_class_results_read_but_not_a_commit_elsewhere(tmp_path: Path, monkeypatch) -> None:
    """Writing a meta row (the similarity step's bookkeeping) changes no result: the class's
    results are not read again. A commit by another connection in between still shows."""
    book = tiny_gradebook(tmp_path / "g.sqlite")
    reads = []
    real_read = book._read_results
    monkeypatch.setattr(book, "_read_results", lambda student: reads.append(student) or real_read(student))
    scores = _class_scores(book)
    book.set_meta("similarity.inputs", "abc")
    assert _class_scores(book) == scores and reads == [None]
    assert book.db.execute("SELECT value FROM meta WHERE key = 'similarity.inputs'").fetchone() == ("abc",)
    other = Gradebook(tmp_path / "g.sqlite")
    other.db.execute("UPDATE results SET score = 0.75 WHERE student = 's3' AND item = 'A'")
    other.close()
    book.set_meta("similarity.inputs", "def")
    assert _class_scores(book)[("s3", "A")] == 0.75 and reads == [None, None]


def test_gradebook_is_in_wal_mode_and_belongs_to_one_quiz(tmp_path: Path) -> None:
    book = tiny_gradebook(tmp_path / "g.sqlite")
    assert book.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with pytest.raises(GradebookError, match="'tiny', not 'other'"):
        book.set_quiz("other", "Other", "exam", "/x")


def test_histogram_bins() -> None:
    hist = histogram([0.0, 9.99, 10.0, 55.0, 99.9, 100.0], bins=10)
    assert hist.edges == [0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0]
    assert hist.counts == [2, 1, 0, 0, 0, 1, 0, 0, 0, 2]
    assert histogram([50.0], bins=4).counts == [0, 0, 1, 0]


def test_pearson_undefined_cases() -> None:
    assert pearson([1, 0], [1, 0]) is None  # fewer than three students
    assert pearson([1, 1, 1], [0, 1, 2]) is None  # everyone got it right
    assert pearson([0, 1, 2], [0, 2, 4]) == pytest.approx(1.0)


def test_item_analysis_matches_hand_computed_values(tmp_path: Path) -> None:
    book = tiny_gradebook(tmp_path / "g.sqlite")
    stats = class_stats(class_results(book), {s for s in SCORES}, book.items())
    assert (stats.roster, stats.submitted, stats.missing_students) == (6, 5, 1)
    assert stats.percents == pytest.approx([100.0, 75.0, 50.0, 25.0, 0.0])
    assert stats.histogram.counts == [1, 0, 1, 0, 0, 1, 0, 1, 0, 1]
    by_item = {i.item: i for i in stats.items}
    assert [i.item for i in stats.items] == ["A", "B", "C"]
    # difficulty: mean score fraction
    assert by_item["A"].difficulty == pytest.approx(0.6)
    assert by_item["B"].difficulty == pytest.approx(0.5)
    assert by_item["C"].difficulty == pytest.approx(0.4)
    # discrimination: r(item fraction, total - item), worked out by hand:
    # A: x=(1,1,1,0,0), rest=(3,2,1,1,0): sxy=1.8, sxx=1.2, syy=5.2
    # B: x=(1,1,0,.5,0), rest=(2,1,2,0,0): sxy=0.5, sxx=1, syy=4
    # C: x=(1,0,1,0,0), rest=(3,3,1,1,0): sxy=0.8, sxx=1.2, syy=7.2
    assert by_item["A"].discrimination == pytest.approx(1.8 / math.sqrt(1.2 * 5.2))
    assert by_item["B"].discrimination == pytest.approx(0.25)
    assert by_item["C"].discrimination == pytest.approx(0.8 / math.sqrt(1.2 * 7.2))
    assert by_item["B"].misconceptions == [("halved", 1)]


def test_report_shows_the_same_figures(tmp_path: Path) -> None:
    book = tiny_gradebook(tmp_path / "g.sqlite")
    write_outputs(book, tmp_path)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    counts = [int(c) for c in re.findall(r'class="bar" data-count="(\d+)"', html)]
    assert counts == [1, 0, 1, 0, 0, 1, 0, 1, 0, 1]
    items_table = html.split("<h2>Items</h2>")[1].split("</table>")[0]
    rows = re.findall(r'<tr>\s*<td class="mono">([ABC])<div class="title">.*?</td>(.*?)</tr>', items_table, re.S)
    cells = {item: re.findall(r"<td[^>]*>(.*?)</td>", body, re.S) for item, body in rows}
    assert cells["A"][0] == "0.6 / 1" and "0.60" in cells["A"][1] and cells["A"][2] == "0.72"
    assert cells["B"][0] == "1 / 2" and "0.50" in cells["B"][1] and cells["B"][2] == "0.25"
    assert cells["C"][0] == "0.4 / 1" and "0.40" in cells["C"][1] and cells["C"][2] == "0.27"
    assert "You halved it." in html
    # one inline script (the table sort), nothing fetched from the network
    assert html.count("<script") == 1 and "<script>" in html and " src=" not in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in html
