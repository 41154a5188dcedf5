"""What `run_autograder` runs on Gradescope for one submission.

    python -m grader.gradescope.autograder --root /autograder

Reads `<root>/submission_metadata.json` (who submitted), maps the submitter to a roster id
(the Gradescope SID equal to a roster id, else the email equal to a roster email, else the
bundle's id map from either), grades that student's files from `<root>/submission/` against
their own variant with `grader.gradebook.runner.grade_batch` — the code of `grader grade` —
and writes `<root>/results/results.json` (hidden tests `after_published`, as `grade`'s).

Before any student code runs, every other student's key is deleted from the bundle's copy
(Gradescope starts each submission in a fresh container, so nothing is lost).  A problem
that is not the student's doing (unknown submitter, no sandbox) becomes a results.json
with score 0 and a message that says what to do, never a crash.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from grader.gradebook.submissions import read_id_map
from grader.gradescope.bundle import BUNDLE_INFO, ID_MAP_FILE
from grader.quiz.roster import Student
from grader.quiz.spec import SPEC_FILE, QuizSpec, read_spec

MAX_SUBMISSION_BYTES = 20 * 1024**2


@dataclass(frozen=True)
class Match:
    """The roster student a Gradescope submitter was mapped to, and how."""

    student: Student
    how: str


def _id_map(source: Path, spec: QuizSpec) -> dict[str, str]:
    """The bundle's id map (checked when the bundle was built), read like `grade --id-map`."""
    path = source / ID_MAP_FILE
    return read_id_map(path, spec.students) if path.is_file() else {}


def match_submitter(metadata: dict[str, Any], spec: QuizSpec, id_map: dict[str, str]) -> Match | None:
    """The first submitter of `metadata["users"]` that is on the quiz's roster."""
    by_id = {s.id: s for s in spec.students}
    by_email = {s.email.strip().lower(): s for s in spec.students if s.email.strip()}
    for user in metadata.get("users") or []:
        if not isinstance(user, dict):
            continue
        sid = str(user.get("sid") or "").strip()
        email = str(user.get("email") or "").strip().lower()
        if sid in by_id:
            return Match(by_id[sid], f"Gradescope SID {sid}")
        if email in by_email:
            return Match(by_email[email], f"email {email}")
        for key in (sid, email, str(user.get("id") or "")):
            if key and id_map.get(key) in by_id:
                return Match(by_id[id_map[key]], f"id map entry {key}")
    return None


def _failure(message: str) -> dict[str, Any]:
    return {"score": 0.0, "output": message, "visibility": "visible", "stdout_visibility": "hidden", "tests": []}


def _working_quiz(source: Path, spec: QuizSpec, student: Student, into: Path) -> Path:
    """A quiz folder of this one student and their key; the bundle's keys are deleted."""
    quiz, student_id = into / "quiz", student.id
    (quiz / "key" / student_id).mkdir(parents=True)
    banks = tuple(str((source / "quiz" / bank).resolve()) for bank in spec.bank_dirs)
    (quiz / SPEC_FILE).write_text(replace(spec, bank_dirs=banks, students=(student,)).to_toml(), encoding="utf-8")
    shutil.copy2(source / "quiz" / "key" / student_id / "variant.json", quiz / "key" / student_id / "variant.json")
    shutil.rmtree(source / "quiz" / "key", ignore_errors=True)
    return quiz


def _copy_submission(submission: Path, target: Path) -> list[str]:
    """Copy the regular files of the submission (never a symlink) up to a size cap; returns notes."""
    notes, total = [], 0
    target.mkdir(parents=True)
    for path in sorted(submission.rglob("*")) if submission.is_dir() else []:
        relative = path.relative_to(submission)
        if path.is_symlink():
            notes.append(f"{relative}: a symbolic link, not read")
            continue
        if path.is_dir():
            (target / relative).mkdir(parents=True, exist_ok=True)
            continue
        total += path.stat().st_size
        if total > MAX_SUBMISSION_BYTES:
            notes.append(f"{relative}: over the {MAX_SUBMISSION_BYTES} bytes this submission may hold, not read")
            continue
        shutil.copyfile(path, target / relative)
    return notes


def grade_submission(root: Path) -> dict[str, Any]:
    """Grade the submission laid out under `root`; returns the results.json document."""
    from grader.gradebook.confinement import SandboxUnavailable
    from grader.gradebook.runner import BatchError, grade_batch

    started = time.perf_counter()
    source = root / "source"
    info = json.loads((source / BUNDLE_INFO).read_text(encoding="utf-8"))
    spec = read_spec(source / "quiz")
    try:
        metadata = json.loads((root / "submission_metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return _failure(f"The submission's metadata could not be read ({error}); ask your instructor.")
    match = match_submitter(metadata, spec, _id_map(source, spec))
    if match is None:
        users = ", ".join(str(u.get("email") or u.get("sid") or "?") for u in metadata.get("users") or [] if isinstance(u, dict))
        return _failure(f"Your Gradescope account ({users or 'unknown'}) is not on the roster of "
                        f"{spec.title!r}: ask your instructor to add your email or SID.")
    with tempfile.TemporaryDirectory(prefix="grader-autograder-") as tmp:
        work = Path(tmp)
        quiz = _working_quiz(source, spec, match.student, work)
        notes = _copy_submission(root / "submission", work / "subs" / match.student.id)
        try:
            summary = grade_batch(work / "subs", quiz, out=work / "out", jobs=1,
                                  confined=not info.get("allow_unconfined", False))
        except (BatchError, SandboxUnavailable) as error:
            return _failure(f"Your submission could not be graded: {error}")
        if summary.failed or summary.not_graded:
            return _failure("Your submission could not be graded because of a grader failure; "
                            "ask your instructor to re-run the autograder.")
        document = json.loads((work / "out" / "results" / f"{match.student.id}.json").read_text(encoding="utf-8"))
    lines = [f"Graded as {match.student.name or match.student.id} (roster id {match.student.id}, matched by {match.how})."]
    lines += notes
    if document.get("output"):
        lines.append(str(document["output"]))
    document["output"] = "\n".join(lines)
    document["execution_time"] = round(time.perf_counter() - started, 3)
    return document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("/autograder"))
    args = parser.parse_args(argv)
    document = grade_submission(args.root)
    results = args.root / "results" / "results.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
