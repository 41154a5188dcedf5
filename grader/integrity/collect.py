"""Reading what the similarity analysis compares: the answers from the gradebook (as the
students wrote them, parsed by each question's own check, with the keys from the quiz's
key/ folder), the exercise.py files from the submissions folder (through the batch
grader's capped, symlink-safe reader), the instructor's solution and earlier terms' files.
Nothing is ever run: code is only tokenized."""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable, Mapping

from grader.answers.base import AnswerParseError
from grader.code.stubs import SOLUTION_PATH, stub_file
from grader.gradebook.store import Gradebook
from grader.gradebook.submissions import CODE_FILE, DEFAULT_MAX_FILE_BYTES, read_capped
from grader.integrity import cache, fingerprint_worker
from grader.integrity.answer_pairs import AnswerRecord
from grader.integrity.winnow import FilePrint, fingerprint_file
from grader.module_process import module_command
from grader.notebooks import code_file_source
from grader.quiz.model import StudentQuiz

SKIPPED_STATUSES = frozenset({"missing", "invalid"})
SOLUTION_ID = "solution"
EARLIER_PREFIX = "earlier:"


def answer_records(gradebook: Gradebook, quizzes: Mapping[str, StudentQuiz]) -> list[AnswerRecord]:
    """Every graded, non-blank answer of a roster student, parsed by its question's check."""
    questions = {s: {q.qid: q for q in quiz.questions} for s, quiz in quizzes.items()}
    graded = {s for s, row in gradebook.submissions().items() if row.status == "graded"}
    records: list[AnswerRecord] = []
    for row in gradebook.results():
        question = questions.get(row.student, {}).get(row.item)
        if question is None or row.student not in graded or row.status in SKIPPED_STATUSES:
            continue
        try:
            parsed = question.check.parse(row.answer)
        except AnswerParseError:
            continue
        except Exception:  # a check's parser failing on its own stored text: skip the item
            continue
        records.append(AnswerRecord(
            row.student, row.item, question.exercise.id, question.check, parsed, row.answer,
            question.variant.key, row.status == "correct",
        ))
    return records


def boilerplate(quizzes: Mapping[str, StudentQuiz]) -> FilePrint | None:
    """The fingerprints of the handed-out stubs of every code exercise of the quiz."""
    exercises = {c.exercise.id: c.exercise for quiz in quizzes.values() for c in quiz.code}
    if not exercises:
        return None
    return fingerprint_file(stub_file(list(exercises.values())))  # type: ignore[arg-type]


def _read(path: Path, root: Path, cap: int) -> bytes | None:
    _size, data, error = read_capped(path, os.path.realpath(root), cap)
    return None if error else data


def _code(path: Path, root: Path, cap: int) -> bytes | None:
    """The code `grade` ran from a student's exercise.py, or from exercise.ipynb its code
    cells (read as `submissions.load` reads them; the notebook's JSON holds no function)."""
    data = _read(path, root, cap)
    if data is None:
        return None
    try:
        return code_file_source(path.name, data)[0]
    except ValueError:  # a notebook grade could not read either
        return None


PARALLEL_FROM = 64


def fingerprint_many(
    sources: Mapping[str, bytes], stub: FilePrint | None, jobs: int | None = None
) -> dict[str, FilePrint]:
    """`fingerprint_file` of each source; from PARALLEL_FROM files on, shared among `jobs`
    processes (default: the number of cores) that run `fingerprint_worker`; in this
    process when they cannot be started or fail."""
    jobs = jobs or os.cpu_count() or 1
    if jobs < 2 or len(sources) < PARALLEL_FROM:
        return {k: fingerprint_file(v, stub) for k, v in sources.items()}
    keys = list(sources)
    shares = [keys[i::jobs] for i in range(jobs)]
    try:
        with ThreadPoolExecutor(max_workers=jobs) as threads:
            parts = list(threads.map(lambda share: _in_worker([sources[k] for k in share], stub), shares))
    except (OSError, ValueError, subprocess.SubprocessError):
        return {k: fingerprint_file(v, stub) for k, v in sources.items()}
    return {k: fp for share, part in zip(shares, parts) for k, fp in zip(share, part)}


def worker_command() -> tuple[list[str], dict[str, str]]:
    """The command line and environment of a `fingerprint_worker` process."""
    return module_command(fingerprint_worker.__name__)


def _in_worker(sources: list[bytes], stub: FilePrint | None) -> list[FilePrint]:
    """Fingerprint `sources` in a `fingerprint_worker` process (ValueError when its
    output does not match its input)."""
    command, env = worker_command()
    done = subprocess.run(command, input=fingerprint_worker.pack(stub, sources), capture_output=True, check=True,
                          env=env)
    lines = done.stdout.splitlines()
    if len(lines) != len(sources):
        raise ValueError(f"the fingerprint worker answered {len(lines)} of {len(sources)} files")
    return [cache.from_json(line, data) for line, data in zip(lines, sources)]


def student_sources(
    gradebook: Gradebook, submissions: Path, cap: int = DEFAULT_MAX_FILE_BYTES, unread: list[str] | None = None
) -> dict[str, bytes]:
    """Each graded student's exercise.py (or the code cells of their exercise.ipynb), found
    where `grade` read it (its recorded origin under `submissions`); students whose file is
    no longer there (changed since, or a name `grade` could only show escaped) are appended
    to `unread`."""
    roster = {s for s, _, _ in gradebook.students()}
    sources: dict[str, bytes] = {}
    # in id order, not grading order: a pair reads the same in every run
    for student, row in sorted(gradebook.submissions().items()):
        if student not in roster or row.status != "graded":
            continue
        for entry in row.files:
            if entry.get("name") == CODE_FILE and not entry.get("error"):
                data = _code(submissions / str(entry["origin"]), submissions, cap)
                if data is not None:
                    sources[student] = data
                elif unread is not None:
                    unread.append(student)
    return sources


def fingerprints(
    sources: Mapping[str, bytes], stub: FilePrint | None, cache_dir: Path, jobs: int | None = None,
    known: Mapping[str, FilePrint] | None = None,
) -> dict[str, FilePrint]:
    """`fingerprint_many` of `sources`, the files fingerprinted by an earlier run read from
    the cache in `cache_dir`, the others added to it; in the order of `sources` (tied
    pairs are listed in that order). Touches no gradebook: it may run in a thread of its
    own. `known`: cache entries already read (by a `Prefetch`), taken as they are."""
    stub_key = cache.stub_digest(stub)
    keys = {student: cache.key(data, stub_key) for student, data in sources.items()}
    prints: dict[str, FilePrint] = {}
    for student, entry in keys.items():
        found = (known or {}).get(entry) or cache.load(cache_dir, entry, sources[student])
        if found is not None:
            prints[student] = found
    fresh = fingerprint_many({s: d for s, d in sources.items() if s not in prints}, stub, jobs)
    for student, fp in fresh.items():
        cache.store(cache_dir, keys[student], fp)
    cache.prune(cache_dir, keys.values())
    found = {**prints, **fresh}
    return {student: found[student] for student in sources}  # in the sources' order, cached or not


def reference_code(
    against: Iterable[Path], stub: FilePrint | None, *, solution: Path | None = SOLUTION_PATH,
    cap: int = DEFAULT_MAX_FILE_BYTES,
) -> dict[str, FilePrint]:
    """The instructor's solution (id `solution`) and every .py file under each `against`
    folder (id `earlier:<folder name>/<path>`)."""
    refs: dict[str, FilePrint] = {}
    if solution is not None and solution.is_file():
        refs[SOLUTION_ID] = fingerprint_file(solution.read_bytes(), stub)
    for folder in against:
        folder = Path(folder)
        for path in sorted(folder.rglob("*.py")):
            data = _read(path, folder, cap)
            if data is not None:
                name = f"{EARLIER_PREFIX}{folder.name}/{path.relative_to(folder).as_posix()}"
                refs[name] = fingerprint_file(data, stub)
    return refs
