"""Copies a student can hand in that `grade` grades exactly like the original: the
similarity analysis must still compare them with it. Functions are compared by the name
`grade` calls them by, wherever the module binds that name."""

from __future__ import annotations

import ast
import csv
import textwrap
import time
from pathlib import Path

import pytest

from grader.code.stubs import SOLUTION_PATH
from grader.gradebook.runner import grade_batch
from grader.integrity.code_pairs import THRESHOLD, compare
from grader.integrity.winnow import fingerprint_file
from grader.quiz.create import new_quiz
from grader.quiz.roster import Student
from grader.quiz.spec import QuizSpec

from .answer_classes import EXERCISES

SOLUTION = SOLUTION_PATH.read_text(encoding="utf-8")


def _only(source: str, name: str) -> str:
    """`source` without its functions other than `name`."""
    tree = ast.parse(source)
    kept = [n for n in tree.body if not isinstance(n, ast.FunctionDef) or n.name == name]
    return "\n\n".join(ast.get_source_segment(source, n) or "" for n in kept) + "\n"


ORIGINAL = _only(SOLUTION, "softmax_cross_entropy")


def renamed(source: str) -> str:
    """Each function defined as `_impl_<name>`, then bound to its name: `name = _impl_name`."""
    tree = ast.parse(source)
    lines = source.split("\n")
    names = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            lines[node.lineno - 1] = lines[node.lineno - 1].replace(f"def {node.name}(", f"def _impl_{node.name}(", 1)
    return "\n".join(lines) + "\n" + "".join(f"{name} = _impl_{name}\n" for name in names)


def nested(source: str) -> str:
    """The whole module inside `if True:` (and a `try:` for good measure)."""
    return "try:\n    if True:\n" + textwrap.indent(source, "        ") + "except ImportError:\n    pass\n"


def wrapped(source: str) -> str:
    """Each function renamed `_impl_<name>`, called by a `name` that only forwards to it."""
    tree = ast.parse(source)
    copy = renamed(source).split("\n")
    names = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    kept = [line for line in copy if not any(line == f"{name} = _impl_{name}" for name in names)]
    return "\n".join(kept) + "".join(
        f"\n\ndef {name}(*args, **kwargs):\n    return _impl_{name}(*args, **kwargs)\n" for name in names)


def test_the_copies_still_fingerprint_like_the_original() -> None:
    original = fingerprint_file(SOLUTION)
    for how in (renamed, nested, wrapped):
        copy = how(SOLUTION)
        assert copy != SOLUTION and original.size > 0
        assert compare(original, fingerprint_file(copy)).score >= THRESHOLD, how.__name__


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_grade_scores_them_like_the_original_and_flags_them(tmp_path: Path) -> None:
    quiz, subs = tmp_path / "quiz", tmp_path / "subs"
    students = tuple(Student(f"s{i:02d}", f"Student {i}") for i in range(5))
    exercises = EXERCISES[:1] + ("code_softmax_cross_entropy",)
    new_quiz(quiz, QuizSpec(students=students, exercises=exercises, title="Evasion"))
    texts = {"s00": ORIGINAL, "s01": renamed(ORIGINAL), "s02": nested(ORIGINAL), "s03": wrapped(ORIGINAL),
             "s04": "import torch\n"}
    for student, text in texts.items():
        (subs / student).mkdir(parents=True)
        (subs / student / "exercise.py").write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    assert grade_batch(subs, quiz, out=out, jobs=1).complete
    code = {r["student"]: r["score"] for r in _csv(out / "grades.csv") if r["item"] == "softmax_cross_entropy"}
    assert code["s00"] == code["s01"] == code["s02"] == code["s03"] != code["s04"]  # graded alike
    pairs = {(r["student_a"], r["student_b"]) for r in _csv(out / "similarity.csv") if r["flagged"] == "1"}
    assert {("s00", "s01"), ("s00", "s02"), ("s00", "s03"), ("s01", "s02"), ("s01", "s03")} <= pairs


@pytest.mark.parametrize("many", [
    lambda count: "".join(f"a{i} = long\n" for i in range(count)),  # aliases of it
    lambda count: "".join(f"def f{i}(x):\n    return long(x)\n" for i in range(count)),  # forwarders to it
], ids=["aliases", "forwarders"])
def test_many_names_for_one_long_function_cost_a_few_passes_not_one_each(many: object) -> None:
    """Each graded name is compared with the code it runs, but a file of 20 000 names for one
    function of 10 000 lines must not be fingerprinted 20 000 times (it took minutes)."""
    source = "def long(x):\n" + "".join(f"    x = x + {i} * x\n" for i in range(10_000))
    source += many(20_000)  # type: ignore[operator]
    started = time.process_time()
    prints = fingerprint_file(source)
    assert len(prints.functions) == 20_001 and prints.functions["long"].size > 0
    assert time.process_time() - started < 15  # about 1 s here; one pass per name: over 60 s


def test_a_copy_spelled_in_fullwidth_letters_is_the_same_copy() -> None:
    """Python reads identifiers in NFKC form: `ｔｏｒｃｈ.ｗｈｅｒｅ` is `torch.where`, and
    `ｒａｎｇｅ` the builtin; a copy spelled so runs the same and must compare the same."""
    import builtins
    import keyword
    import re

    from grader.code.source import check_source

    def fullwidth(word: str) -> str:
        return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in word)

    kept = (set(dir(builtins)) | {"torch", "F", "math"}) - set(keyword.kwlist)
    copy = re.sub(r"(?<=\.)([A-Za-z_]\w*)", lambda m: fullwidth(m.group(1)), SOLUTION)  # attributes
    copy = re.sub(r"\b([A-Za-z_]\w*)\b", lambda m: fullwidth(m.group(1)) if m.group(1) in kept else m.group(1), copy)
    assert copy != SOLUTION and check_source(copy.encode()).error == ""
    original = fingerprint_file(SOLUTION)
    assert compare(original, fingerprint_file(copy)).score == 1.0
