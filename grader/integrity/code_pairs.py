"""Pairs of exercise.py files with much code in common, found through a fingerprint index.

The score of a pair is, over the functions both files define, the shared fingerprints
divided by the fingerprints of the smaller of each two functions (so 1.0 means every
function of one is contained in the other's). Fingerprints of the same function only are
compared: reordering functions changes nothing, and two different functions that happen
to share a line do not count.

Candidate pairs come from an inverted index (function, hash) -> documents: only pairs that
share at least one fingerprint are ever scored, never all n(n-1)/2. Fingerprints found in
more than `cap` students' files are common code (everyone writes `x.sum(dim=0)`), not
evidence, and are ignored between students and against earlier terms; against the
instructor's solution every fingerprint counts, so a solution that leaked to a quarter of
the class is still found.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from grader.integrity.winnow import FilePrint

THRESHOLD = 0.5
MIN_SHARED = 12


@dataclass(frozen=True)
class FunctionMatch:
    """One function's share of a pair: fingerprints shared, and each side's count;
    `lines_a` / `lines_b` are the source lines of the shared fingerprints."""

    name: str
    shared: int
    size_a: int
    size_b: int
    lines_a: frozenset[int] = frozenset()
    lines_b: frozenset[int] = frozenset()

    @property
    def score(self) -> float:
        smaller = min(self.size_a, self.size_b)
        return self.shared / smaller if smaller else 0.0


@dataclass(frozen=True)
class CodePair:
    a: str
    b: str
    score: float
    shared: int
    functions: tuple[FunctionMatch, ...] = field(default_factory=tuple)

    def evidence(self, limit: int = 6) -> str:
        """`conv2d 100% (45/45); lstm_cell 90% ...`: the most similar functions."""
        ranked = sorted((f for f in self.functions if f.shared), key=lambda f: (-f.score, -f.shared, f.name))
        text = "; ".join(
            f"{f.name} {100 * f.score:.0f}% ({f.shared}/{min(f.size_a, f.size_b)})" for f in ranked[:limit]
        )
        return text + (f"; +{len(ranked) - limit} more functions" if len(ranked) > limit else "")


def _lines(spans: Iterable[tuple[int, int]]) -> set[int]:
    out: set[int] = set()
    for first, last in spans:
        out.update(range(first, last + 1))
    return out


def compare(
    a: FilePrint, b: FilePrint, ignore: frozenset[tuple[str, int]] = frozenset(), *, with_lines: bool = False
) -> CodePair:
    """Score two files (see the module docstring); `ignore`: (function, hash) fingerprints
    that are common code; `with_lines`: also collect the shared fingerprints' lines."""
    matches: list[FunctionMatch] = []
    shared_total = denominator = 0
    for name, fa in a.functions.items():
        fb = b.functions.get(name)
        if fb is None:
            continue
        ha = {h for h in fa.hashes if (name, h) not in ignore} if ignore else set(fa.hashes)
        hb = {h for h in fb.hashes if (name, h) not in ignore} if ignore else set(fb.hashes)
        if not ha or not hb:
            continue
        common = ha & hb
        lines_a = frozenset(_lines(s for h in common for s in fa.hashes[h])) if with_lines else frozenset()
        lines_b = frozenset(_lines(s for h in common for s in fb.hashes[h])) if with_lines else frozenset()
        matches.append(FunctionMatch(name, len(common), len(ha), len(hb), lines_a, lines_b))
        shared_total += len(common)
        denominator += min(len(ha), len(hb))
    score = shared_total / denominator if denominator else 0.0
    return CodePair("", "", score, shared_total, tuple(matches))


def common_fingerprints(students: Mapping[str, FilePrint], cap: int) -> frozenset[tuple[str, int]]:
    """(function, hash) found in more than `cap` of the students' files."""
    counts: dict[tuple[str, int], int] = defaultdict(int)
    for doc in students.values():
        for name, f in doc.functions.items():
            for h in f.hashes:
                counts[(name, h)] += 1
    return frozenset(key for key, n in counts.items() if n > cap)


def default_cap(students: int) -> int:
    """MOSS ignores passages found in more than 10 programs; here the larger of 10 and 5%
    of the class."""
    return max(10, math.ceil(0.05 * students))


def find_pairs(
    students: Mapping[str, FilePrint],
    references: Mapping[str, FilePrint] | None = None,
    *,
    uncapped: Iterable[str] = (),
    threshold: float = THRESHOLD,
    min_shared: int = MIN_SHARED,
    cap: int | None = None,
) -> list[CodePair]:
    """Student-student and student-reference pairs scoring at least `threshold` with at
    least `min_shared` shared fingerprints, best first. A reference in `uncapped` (the
    instructor's solution) is compared on every fingerprint, common ones included."""
    references = references or {}
    uncapped = set(uncapped)
    cap = default_cap(len(students)) if cap is None else cap
    common = common_fingerprints(students, cap)
    index: dict[tuple[str, int], list[str]] = defaultdict(list)
    for doc_id, doc in students.items():
        for name, f in doc.functions.items():
            for h in f.hashes:
                index[(name, h)].append(doc_id)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for key, ids in index.items():
        if key in common or len(ids) < 2:
            continue
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                counts[(a, b)] += 1
    for ref_id, ref in references.items():
        capped = ref_id not in uncapped
        for name, f in ref.functions.items():
            for h in f.hashes:
                if capped and (name, h) in common:
                    continue
                for student in index.get((name, h), ()):
                    counts[(student, ref_id)] += 1
    pairs: list[CodePair] = []
    for (a, b), n in counts.items():
        if n < min_shared:
            continue
        other = references.get(b) if b in references else students[b]
        assert other is not None
        pair = compare(students[a], other, frozenset() if b in uncapped else common)
        if pair.score >= threshold and pair.shared >= min_shared:
            pair = compare(students[a], other, frozenset() if b in uncapped else common, with_lines=True)
            pairs.append(CodePair(a, b, pair.score, pair.shared, pair.functions))
    return sorted(pairs, key=lambda p: (-p.score, -p.shared, p.a, p.b))
