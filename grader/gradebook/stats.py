"""Item analysis for the class report.

Over the students who submitted something (students with no submission at all are
counted apart, not as zeros, so they do not distort the figures):

* the score histogram: percentages of each student's maximum, in `bins` equal bins over
  [0, 100]; a bin holds [low, high), the last one [low, 100];
* per item: difficulty p = mean(score / max_score) (the classical "p value": 1 is easy);
* per item: discrimination = the item-rest correlation: Pearson's r between the item's
  score fraction and the rest score (the student's total minus this item). For
  all-or-nothing items this is the point-biserial correlation. None when fewer than three
  students have the item or either variable is constant;
* per item: the count of each status and of each misconception tag.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from grader.gradebook.store import ItemInfo, ResultRow


@dataclass(frozen=True)
class Histogram:
    edges: list[float]
    counts: list[int]

    def bin_of(self, percent: float) -> int:
        """Index of the bin holding `percent`."""
        for i in range(len(self.counts)):
            if percent < self.edges[i + 1] or i == len(self.counts) - 1:
                return i
        raise AssertionError("unreachable")


@dataclass(frozen=True)
class ItemStats:
    item: str
    title: str
    kind: str
    n: int
    max_score: float
    mean_score: float
    difficulty: float | None
    discrimination: float | None
    statuses: dict[str, int]
    misconceptions: list[tuple[str, int]]


@dataclass(frozen=True)
class ClassStats:
    roster: int
    submitted: int
    missing_students: int
    percents: list[float]
    mean: float | None
    median: float | None
    stdev: float | None
    histogram: Histogram
    items: list[ItemStats]
    statuses: dict[str, int] = field(default_factory=dict)
    not_graded: int = 0


def histogram(percents: Sequence[float], bins: int = 10) -> Histogram:
    """Counts of `percents` in `bins` equal bins over [0, 100] (see the module docstring)."""
    edges = [100.0 * i / bins for i in range(bins + 1)]
    counts = [0] * bins
    for value in percents:
        index = min(bins - 1, max(0, int(math.floor(value * bins / 100.0 + 1e-9))))
        counts[index] += 1
    return Histogram(edges, counts)


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's correlation, or None for fewer than 3 pairs or a constant variable."""
    n = len(xs)
    if n < 3 or n != len(ys):
        return None
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx <= 1e-12 or syy <= 1e-12:
        return None
    return sxy / math.sqrt(sxx * syy)


def class_stats(
    results: Mapping[str, Sequence[ResultRow]],
    submitted: set[str],
    items: Sequence[ItemInfo],
    bins: int = 10,
    not_graded: set[str] = frozenset(),
) -> ClassStats:
    """The report's figures. results: every roster student's rows; submitted: the ids of
    students with a graded submission; items: every student's items (for titles and
    order); not_graded: students whose submission could not be graded (left out of the
    figures, and not counted as without a submission)."""
    graded = {s: rows for s, rows in results.items() if s in submitted}
    totals = {s: sum(r.score for r in rows) for s, rows in graded.items()}
    maxima = {s: sum(r.max_score for r in rows) for s, rows in graded.items()}
    percents = [100.0 * totals[s] / maxima[s] if maxima[s] > 0 else 0.0 for s in graded]
    order: dict[str, int] = {}
    titles: dict[str, Counter[str]] = {}
    kinds: dict[str, str] = {}
    for info in sorted(items, key=lambda i: i.position):
        order.setdefault(info.item, len(order))
        titles.setdefault(info.item, Counter())[info.title] += 1
        kinds[info.item] = info.kind
    per_item: dict[str, list[tuple[str, ResultRow]]] = {}
    for student, rows in graded.items():
        for row in rows:
            order.setdefault(row.item, len(order))
            per_item.setdefault(row.item, []).append((student, row))
    item_stats = [
        _item_stats(name, per_item.get(name, []), totals, titles.get(name), kinds.get(name, ""))
        for name in sorted(order, key=order.__getitem__)
    ]
    statuses: Counter[str] = Counter(r.status for rows in graded.values() for r in rows)
    return ClassStats(
        roster=len(results),
        submitted=len(graded),
        missing_students=len(results) - len(graded) - len(not_graded & set(results) - set(graded)),
        percents=percents,
        mean=statistics.fmean(percents) if percents else None,
        median=statistics.median(percents) if percents else None,
        stdev=statistics.stdev(percents) if len(percents) > 1 else None,
        histogram=histogram(percents, bins),
        items=item_stats,
        statuses=dict(statuses),
        not_graded=len(not_graded & set(results) - set(graded)),
    )


def _item_stats(
    name: str,
    rows: list[tuple[str, ResultRow]],
    totals: Mapping[str, float],
    titles: Counter[str] | None,
    kind: str,
) -> ItemStats:
    fractions = [r.score / r.max_score if r.max_score > 0 else 0.0 for _, r in rows]
    rest = [totals[s] - r.score for s, r in rows]
    tags = Counter(r.misconception for _, r in rows if r.misconception)
    return ItemStats(
        item=name,
        title=titles.most_common(1)[0][0] if titles else "",
        kind=kind,
        n=len(rows),
        max_score=max((r.max_score for _, r in rows), default=0.0),
        mean_score=statistics.fmean([r.score for _, r in rows]) if rows else 0.0,
        difficulty=statistics.fmean(fractions) if fractions else None,
        discrimination=pearson(fractions, rest),
        statuses=dict(Counter(r.status for _, r in rows)),
        misconceptions=tags.most_common(),
    )
