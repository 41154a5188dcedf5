"""Copied code: planted copies (renamed, reordered, re-commented, re-spaced, literals
changed) score above the threshold; independent correct implementations of the same
functions (solutions/exercise.py against tests/code/alternatives.py: loops vs einsum vs
unfold) score below it; the fingerprint index finds exactly the pairs a brute-force
comparison of every pair finds."""

from __future__ import annotations

import ast
import itertools
import random
from pathlib import Path

import pytest

from grader.code.stubs import SOLUTION_PATH, stub_file
from grader.integrity.code_pairs import THRESHOLD, compare, find_pairs
from grader.integrity.winnow import fingerprint_file

from .planting import disguise, rename_and_relabel, reorder

ALTERNATIVES = Path(__file__).resolve().parents[1] / "code" / "alternatives.py"
SOLUTION = SOLUTION_PATH.read_text(encoding="utf-8")
ALTERNATIVE = ALTERNATIVES.read_text(encoding="utf-8")


def functions(source: str) -> dict[str, str]:
    tree = ast.parse(source)
    lines = source.splitlines()
    return {
        n.name: "\n".join(lines[n.lineno - 1 : n.end_lineno])
        for n in tree.body if isinstance(n, ast.FunctionDef)
    }


def mix(pick: dict[str, str]) -> str:
    """A file whose function f is taken from pick[f] ('s': solution, 'a': alternative);
    the solution's private helpers are left out (the file is only read, never run)."""
    sol, alt = functions(SOLUTION), functions(ALTERNATIVE)
    chosen = [(sol if pick[name] == "s" else alt)[name] for name in alt]
    return "import math\n\nimport torch\nimport torch.nn.functional as F\n\n\n" + "\n\n\n".join(chosen) + "\n"


def score(a: str, b: str) -> float:
    return compare(fingerprint_file(a), fingerprint_file(b)).score


def test_independent_correct_implementations_score_below_the_threshold() -> None:
    assert score(SOLUTION, ALTERNATIVE) < THRESHOLD


@pytest.mark.parametrize("original", [SOLUTION, ALTERNATIVE], ids=["solution", "alternatives"])
@pytest.mark.parametrize("how", [rename_and_relabel, reorder, disguise])
def test_disguised_copies_score_above_the_threshold(original: str, how: object) -> None:
    copy = how(original, random.Random(7))  # type: ignore[operator]
    ast.parse(copy)
    assert copy != original
    assert score(original, copy) >= THRESHOLD
    assert score(copy, original) >= THRESHOLD


def test_a_disguised_copy_of_two_thirds_of_the_functions_is_above_the_threshold() -> None:
    names = sorted(functions(ALTERNATIVE))
    two_thirds = mix({n: "s" if i % 3 else "a" for i, n in enumerate(names)})
    assert score(disguise(two_thirds, random.Random(1)), SOLUTION) >= THRESHOLD
    assert score(mix({n: "a" for n in names}), SOLUTION) < THRESHOLD


def test_comments_docstrings_and_blank_lines_do_not_change_fingerprints() -> None:
    plain = "def f(x, w):\n    y = x @ w\n    z = torch.relu(y)\n    return z.sum(dim=0) / x.shape[0]\n"
    noisy = (
        'def f(a, b):\n    """Docstring added."""\n    # a comment\n\n    c = a @ b  # trailing\n\n'
        "    d = torch.relu(c)\n    return d.sum(dim=1) / a.shape[2]\n"
    )
    first, second = fingerprint_file(plain), fingerprint_file(noisy)
    assert first.functions["f"].hashes.keys() == second.functions["f"].hashes.keys()
    assert first.size > 0


def test_a_different_api_call_changes_fingerprints() -> None:
    matmul = "def f(x, w):\n    y = torch.matmul(x, w)\n    return y.sum(dim=0) + y.mean(dim=0)\n"
    einsum = "def f(x, w):\n    y = torch.einsum(x, w)\n    return y.sum(dim=0) + y.mean(dim=0)\n"
    a, b = fingerprint_file(matmul).functions["f"], fingerprint_file(einsum).functions["f"]
    assert a.hashes.keys() != b.hashes.keys()


def test_the_handed_out_stub_gives_no_evidence() -> None:
    from grader.bank import default_bank

    stub_text = stub_file(default_bank().select(kind="code"))
    stub = fingerprint_file(stub_text)
    # Two students who handed in the untouched stub share nothing once it is removed.
    assert fingerprint_file(stub_text, stub).size == 0
    assert find_pairs({"x": fingerprint_file(stub_text, stub), "y": fingerprint_file(stub_text, stub)}) == []
    # Removing the stub does not remove the students' own code.
    assert fingerprint_file(SOLUTION, stub).size >= 0.95 * fingerprint_file(SOLUTION).size


def test_functions_are_compared_by_name_only() -> None:
    body = "    y = torch.matmul(x, w)\n    z = torch.relu(y) * 2\n    return z.sum(dim=0) + z.mean(dim=1)\n"
    pair = compare(fingerprint_file(f"def f(x, w):\n{body}"), fingerprint_file(f"def g(x, w):\n{body}"))
    assert pair.score == 0.0 and pair.shared == 0


def test_the_index_finds_the_pairs_brute_force_finds() -> None:
    rng = random.Random(3)
    names = sorted(functions(ALTERNATIVE))
    docs = {}
    for i in range(14):
        # Each "student" mixes the two independent implementations function by function,
        # so many pairs share some functions and a few share most.
        bias = rng.random()
        docs[f"s{i:02d}"] = fingerprint_file(mix({n: "s" if rng.random() < bias else "a" for n in names}))
    docs["copy"] = fingerprint_file(disguise(SOLUTION, rng))
    expected = set()
    for a, b in itertools.combinations(sorted(docs), 2):
        pair = compare(docs[a], docs[b])
        if pair.score >= THRESHOLD and pair.shared >= 12:
            expected.add(frozenset((a, b)))
    found = {frozenset((p.a, p.b)) for p in find_pairs(docs, cap=len(docs))}
    assert expected and found == expected


def test_solution_leak_and_earlier_terms_are_found_and_the_index_ignores_common_code() -> None:
    students = {"leak": fingerprint_file(disguise(SOLUTION, random.Random(5))), "own": fingerprint_file(ALTERNATIVE)}
    earlier = fingerprint_file(reorder(ALTERNATIVE, random.Random(2)))
    refs = {"solution": fingerprint_file(SOLUTION), "earlier:2025/x.py": earlier}
    pairs = {(p.a, p.b) for p in find_pairs(students, refs, uncapped=["solution"])}
    assert pairs == {("leak", "solution"), ("own", "earlier:2025/x.py")}
    # Fingerprints in more than `cap` students are common code: with cap 1, what leak and
    # leak2 share is ignored between them, but still counts against the solution.
    three = {**students, "leak2": students["leak"]}
    capped = {(p.a, p.b) for p in find_pairs(three, refs, uncapped=["solution"], cap=1)}
    assert capped == {("leak", "solution"), ("leak2", "solution"), ("own", "earlier:2025/x.py")}


def test_hostile_files_are_only_read() -> None:
    marker = Path("/tmp/grader-integrity-never-run")
    marker.unlink(missing_ok=True)
    evil = f"import os\nos.system('touch {marker}')\n\ndef f(x):\n    return open('{marker}', 'w')\n"
    assert fingerprint_file(evil).functions.keys() == {"f"}
    assert fingerprint_file(b"\xff\xfe not utf-8").error
    assert fingerprint_file("def f(:\n").error
    assert fingerprint_file("x = (" * 200 + ")" * 200).functions == {}
    assert not marker.exists()


def test_cached_fingerprints_equal_fresh_ones_and_a_damaged_entry_is_a_miss(tmp_path: Path) -> None:
    from grader.integrity import cache

    data = SOLUTION.encode()
    fresh = fingerprint_file(data)
    entry = cache.key(data, cache.stub_digest(None))
    assert cache.load(tmp_path, entry, data) is None
    cache.store(tmp_path, entry, fresh)
    loaded = cache.load(tmp_path, entry, data)
    assert loaded is not None and loaded.text == fresh.text
    assert {n: (f.lines, f.hashes) for n, f in loaded.functions.items()} == {
        n: (f.lines, f.hashes) for n, f in fresh.functions.items()
    }
    (tmp_path / f"{entry}.json").write_text('{"functions": {"f": {"lines": [1]}}}', encoding="utf-8")
    assert cache.load(tmp_path, entry, data) is None
    cache.prune(tmp_path, [])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("encode", [
    lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"),  # a byte-order mark
    lambda text: text.replace("\n", "\r").encode("utf-8"),  # old Mac line endings
    lambda text: text.replace("\n", "\r\n").encode("utf-8"),  # Windows line endings
], ids=["bom", "cr", "crlf"])
def test_a_copy_saved_with_another_encoding_of_lines_is_still_a_copy(encode: object) -> None:
    """A byte-order mark or CR line endings change nothing the grader runs (it drops the
    mark; Python reads CR as a line end), so they must not hide a copy either."""
    from grader.code.source import check_source
    from grader.integrity import cache

    data = encode(SOLUTION)  # type: ignore[operator]
    assert check_source(data).error == ""  # graded like the original
    original, copy = fingerprint_file(SOLUTION.encode()), fingerprint_file(data)
    assert copy.error == "" and copy.size == original.size > 0
    assert compare(original, copy).score == 1.0
    stored = cache.from_json(cache.to_json(copy), data)  # as the cache and the prefetch give it back
    assert stored.text == copy.text
    assert {n: f.lines for n, f in copy.functions.items()} == {n: f.lines for n, f in original.functions.items()}
