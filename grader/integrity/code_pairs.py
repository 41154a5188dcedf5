"""Pairs of exercise.py files with much code in common, found through a fingerprint index.

The score of a pair is, over the functions both files define, the shared fingerprints
divided by the fingerprints of the smaller of each two functions (so 1.0 means every
function of one is contained in the other's). Fingerprints of the same function only are
compared: reordering functions changes nothing, and two different functions that happen
to share a line do not count.

Candidate pairs come from an index of every fingerprint (sorted numpy arrays: key ->
the students holding it): only pairs sharing at least MIN_SHARED fingerprints are ever
scored, never all n(n-1)/2. Fingerprints found in more than `cap` students' files are
common code (everyone writes `x.sum(dim=0)`), not evidence, and are ignored between
students and against earlier terms; against the instructor's solution every fingerprint
counts, so a solution that leaked to a quarter of the class is still found.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import AbstractSet, Iterable, Iterator, Mapping

import numpy as np

from grader.integrity.winnow import FilePrint, span

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


def _lines(packed: Iterable[int]) -> set[int]:
    """The source lines the packed spans cover (neighbouring fingerprints share spans)."""
    out: set[int] = set()
    for value in set(packed):
        first, last = span(value)
        out.update(range(first, last + 1))
    return out


def compare(
    a: FilePrint, b: FilePrint, ignore: AbstractSet[int] = frozenset(), *, with_lines: bool = False
) -> CodePair:
    """Score two files (see the module docstring); `ignore`: fingerprints that are common
    code; `with_lines`: also collect the shared fingerprints' lines."""
    matches: list[FunctionMatch] = []
    shared_total = denominator = 0
    for name, fa in a.functions.items():
        fb = b.functions.get(name)
        if fb is None:
            continue
        ha = fa.hashes.keys() - ignore if ignore else fa.hashes.keys()
        hb = fb.hashes.keys() - ignore if ignore else fb.hashes.keys()
        if not ha or not hb:
            continue
        common = ha & hb
        lines_a = frozenset(_lines(fa.hashes[h] for h in common)) if with_lines else frozenset()
        lines_b = frozenset(_lines(fb.hashes[h] for h in common)) if with_lines else frozenset()
        matches.append(FunctionMatch(name, len(common), len(ha), len(hb), lines_a, lines_b))
        shared_total += len(common)
        denominator += min(len(ha), len(hb))
    score = shared_total / denominator if denominator else 0.0
    return CodePair("", "", score, shared_total, tuple(matches))


def default_cap(students: int) -> int:
    """MOSS ignores passages found in more than 10 programs; here the larger of 10 and 5%
    of the class."""
    return max(10, math.ceil(0.05 * students))


@dataclass
class FingerprintIndex:
    """Every student's fingerprints, sorted: `keys[i]` was found in student `docs[i]`;
    `starts`/`ends` delimit each distinct key's run (a document appears once per key:
    fingerprints are unique within a function and salted per function)."""

    ids: list[str]
    keys: np.ndarray
    docs: np.ndarray
    starts: np.ndarray
    ends: np.ndarray

    @classmethod
    def build(cls, students: Mapping[str, FilePrint]) -> "FingerprintIndex":
        ids = list(students)
        chunks, owners = [], []
        for number, doc_id in enumerate(ids):
            for f in students[doc_id].functions.values():
                if f.hashes:
                    chunks.append(np.fromiter(f.hashes.keys(), dtype=np.uint64, count=len(f.hashes)))
                    owners.append(np.full(len(f.hashes), number, dtype=np.int32))
        keys = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.uint64)
        docs = np.concatenate(owners) if owners else np.zeros(0, dtype=np.int32)
        order = np.argsort(keys, kind="stable")
        keys, docs = keys[order], docs[order]
        change = np.flatnonzero(np.diff(keys)) + 1
        starts = np.concatenate(([0], change)) if len(keys) else np.zeros(0, dtype=np.int64)
        ends = np.concatenate((change, [len(keys)])) if len(keys) else np.zeros(0, dtype=np.int64)
        return cls(ids, keys, docs, starts, ends)

    def common(self, cap: int) -> set[int]:
        """Keys found in more than `cap` students."""
        runs = (self.ends - self.starts) > cap
        return set(self.keys[self.starts[runs]].tolist())

    def shared_runs(self, cap: int) -> Iterator[np.ndarray]:
        """The students of each key found in 2..cap students."""
        length = self.ends - self.starts
        wanted = (length >= 2) & (length <= cap)
        for start, end in zip(self.starts[wanted].tolist(), self.ends[wanted].tolist()):
            yield self.docs[start:end]

    def lookup(self, keys: np.ndarray) -> Iterator[np.ndarray]:
        """The students holding each of `keys` (absent keys give nothing)."""
        if not len(self.keys) or not len(keys):
            return
        at = np.searchsorted(self.keys, keys)
        found = at < len(self.keys)
        found[found] = self.keys[at[found]] == keys[found]
        run_index = np.searchsorted(self.starts, at[found], side="right") - 1
        for r in run_index.tolist():
            yield self.docs[self.starts[r] : self.ends[r]]


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
    index = FingerprintIndex.build(students)
    common = index.common(cap)
    n = len(index.ids)
    counts: dict[int, int] = defaultdict(int)
    for run in index.shared_runs(cap):
        members = sorted(run.tolist())
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                counts[a * n + b] += 1
    candidates = [(index.ids[key // n], index.ids[key % n]) for key, c in counts.items() if c >= min_shared]
    for ref_id, ref in references.items():
        keys = [h for f in ref.functions.values() for h in f.hashes]
        if ref_id not in uncapped:
            keys = [h for h in keys if h not in common]
        seen: dict[int, int] = defaultdict(int)
        for run in index.lookup(np.array(keys, dtype=np.uint64)):
            for doc in run.tolist():
                seen[doc] += 1
        candidates += [(index.ids[doc], ref_id) for doc, c in seen.items() if c >= min_shared]
    pairs: list[CodePair] = []
    for a, b in candidates:
        other = references[b] if b in references else students[b]
        ignore: AbstractSet[int] = frozenset() if b in uncapped else common
        pair = compare(students[a], other, ignore)
        if pair.score >= threshold and pair.shared >= min_shared:
            pair = compare(students[a], other, ignore, with_lines=True)
            pairs.append(CodePair(a, b, pair.score, pair.shared, pair.functions))
    return sorted(pairs, key=lambda p: (-p.score, -p.shared, p.a, p.b))
