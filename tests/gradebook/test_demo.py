"""`grader demo` end to end: a real quiz from the built-in bank, fabricated submissions,
grading in the sandbox, and the reports, in under a minute."""

from __future__ import annotations

import csv
import subprocess
import sys
import time
from pathlib import Path

import pytest


@pytest.mark.slow
def test_demo_runs_the_whole_loop(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "grader.cli", "demo", "--out", str(out)],
        capture_output=True, text=True, timeout=180,
    )
    seconds = time.monotonic() - start
    assert result.returncode == 0, result.stdout + result.stderr
    assert seconds < 60, f"the demo took {seconds:.0f} s"
    grading = out / "grading"
    with (grading / "grades.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    by_student: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_student.setdefault(row["student"], []).append(row)
    assert sorted(by_student) == ["s1", "s2", "s3", "s4", "s5", "s6"]
    answers = [r for r in by_student["s1"] if r["item"].startswith("q")]
    code = [r for r in by_student["s1"] if not r["item"].startswith("q")]
    assert len(answers) >= 4 and 4 <= len(code) <= 6
    assert {r["status"] for r in by_student["s1"]} == {"correct"}  # the key scores full marks
    assert {r["status"] for r in by_student["s6"]} == {"missing"}
    assert any(r["misconception"] for r in by_student["s2"] if r["item"].startswith("q"))
    assert any(r["misconception"] for r in by_student["s2"] if not r["item"].startswith("q"))
    s3 = {r["status"] for r in by_student["s3"] if r["item"].startswith("q")}
    assert {"invalid", "missing"} <= s3
    assert "timeout" in {r["status"] for r in by_student["s4"]}
    assert {r["status"] for r in by_student["s5"] if not r["item"].startswith("q")} == {"missing"}
    assert (grading / "report.html").is_file() and len(list((grading / "feedback").glob("*.html"))) == 6
    assert str(grading / "report.html") in result.stdout
