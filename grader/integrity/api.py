"""`grader similarity`: evidence of copied answers and copied code in a graded quiz.

Reads the grading folder's gradebook (answers as submitted, which files each student
handed in and where), the quiz's keys and the submissions folder the gradebook was filled
from (recorded by `grade`; or given), then writes similarity.csv and one page per flagged
pair (`pages`). `grade` runs it after grading, so report.html has the section.
"""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

from grader.errors import GraderError
from grader.gradebook.store import GRADEBOOK_FILE, Gradebook, GradebookError
from grader.integrity import answer_pairs as answers_mod
from grader.integrity import code_pairs as code_mod
from grader.integrity import cache, collect, pages
from grader.integrity.prefetch import Prefetch
from grader.integrity.winnow import FilePrint
from grader.integrity.section import SIMILARITY_CSV
from grader.quiz.model import StudentQuiz

SUBMISSIONS_KEY = "similarity.submissions"
DIGEST_KEY = "similarity.inputs"


class SimilarityError(GraderError, ValueError):
    """The analysis cannot run (no gradebook, unknown submissions folder); says why."""


@dataclass
class SimilarityResult:
    """What the analysis found and wrote. `answer_threshold`: the score an answer pair
    needs to be flagged in this class; `code_threshold`: the share of fingerprints."""

    answer_pairs: list[answers_mod.AnswerPair] = field(default_factory=list)
    code_pairs: list[code_mod.CodePair] = field(default_factory=list)
    rows: list[pages.Row] = field(default_factory=list)
    answer_threshold: float = 0.0
    code_threshold: float = code_mod.THRESHOLD
    files: dict[str, Path] = field(default_factory=dict)
    code_files: int = 0
    unread: list[str] = field(default_factory=list)
    references: int = 0
    seconds: float = 0.0

    @property
    def flagged(self) -> list[pages.Row]:
        return [r for r in self.rows if r.flagged]


def remember_submissions(gradebook: Gradebook, submissions: Path) -> None:
    """Record where the gradebook's submissions were read from (a `meta` row), so that a
    later `grader similarity` finds the code without being told."""
    gradebook.set_meta(SUBMISSIONS_KEY, str(Path(submissions).resolve()))


def recorded_submissions(gradebook: Gradebook) -> Path | None:
    row = gradebook.db.execute("SELECT value FROM meta WHERE key = ?", (SUBMISSIONS_KEY,)).fetchone()
    return Path(row[0]) if row else None


def _quizzes(quiz_dir: Path) -> dict[str, StudentQuiz]:
    from grader.bank import BankError
    from grader.quiz.load import load_quiz
    from grader.quiz.spec import SpecError

    try:
        loaded = load_quiz(quiz_dir)
        return {s: loaded.student_quiz(s) for s in loaded.student_ids()}
    except (SpecError, BankError) as error:
        raise SimilarityError(str(error)) from None


def analyse(
    gradebook: Gradebook,
    quizzes: Mapping[str, StudentQuiz],
    submissions: Path | None,
    out: Path,
    against: Sequence[Path] = (),
    *,
    solution: Path | None = collect.SOLUTION_PATH,
    known: Mapping[str, FilePrint] | None = None,
) -> SimilarityResult:
    """Run both analyses on an open gradebook and write the outputs into `out`; `known`:
    fingerprints a `Prefetch` computed (cache entry -> fingerprints)."""
    started = time.perf_counter()
    students = len(gradebook.students())
    result = SimilarityResult(answer_threshold=answers_mod.threshold(students))
    stub = collect.boilerplate(quizzes)
    with ThreadPoolExecutor(max_workers=1) as background:  # its worker processes fingerprint the code...
        printing = None if submissions is None else background.submit(
            collect.fingerprints, collect.student_sources(gradebook, submissions, unread=result.unread), stub,
            out / pages.PAGES_DIR / cache.FOLDER, None, known,
        )
        records = collect.answer_records(gradebook, quizzes)  # ...while this thread finds the answer pairs
        result.answer_pairs = answers_mod.find_pairs(records, students=students)
        code = {} if printing is None else printing.result()
    references = collect.reference_code(against, stub, solution=solution) if code else {}
    result.code_files, result.references = len(code), len(references)
    result.code_pairs = code_mod.find_pairs(code, references, uncapped=[collect.SOLUTION_ID])
    result.rows = pages.rows(result.answer_pairs, result.code_pairs, near_miss=result.answer_threshold / 2)
    title = gradebook.quiz_title()
    written: dict[str, str] = {}
    by_pair = {(p.a, p.b): p for p in result.answer_pairs}
    on_pages = {student for p in result.answer_pairs if p.flagged for student in (p.a, p.b)}
    shown = {
        (r.student, r.item): {"answer": r.answer, "key": r.expected}
        for r in (gradebook.results() if on_pages else ()) if r.student in on_pages
    }
    for row in result.flagged:
        if row.kind == "answers":
            pair = by_pair.get((row.a, row.b)) or by_pair[(row.b, row.a)]
            written[row.page] = pages.answer_page(title, pair, row.a, row.b, shown)
    for pair in result.code_pairs:
        other = references.get(pair.b) or code[pair.b]
        kind = pages.code_kind(pair.b)
        written[pages.page_name(pair.a, pair.b, kind)] = pages.code_page(title, pair, kind, code[pair.a], other)
    result.files = pages.write(out, result.rows, written)
    result.seconds = time.perf_counter() - started
    return result


def run_similarity(
    quiz_dir: Path,
    out: Path | None = None,
    submissions: Path | None = None,
    against: Sequence[Path] = (),
) -> SimilarityResult:
    """`grader similarity`: analyse the graded quiz in `out` (default QUIZ/grading) and
    rewrite report.html with the section. `submissions`: where the code is (default: the
    folder `grade` read). Raises SimilarityError for usage errors."""
    from grader.atomic_write import write_atomic
    from grader.gradebook.exports import REPORT_HTML, class_results
    from grader.gradebook.report import report_page
    from grader.gradebook.folder import default_out

    quiz_dir = Path(quiz_dir)
    out = Path(out) if out else default_out(quiz_dir)
    path = out / GRADEBOOK_FILE
    if not path.is_file():
        raise SimilarityError(f"{path}: no gradebook; run `grader grade SUBMISSIONS --quiz {quiz_dir}` first")
    for folder in against:
        if not Path(folder).is_dir():
            raise SimilarityError(f"--against {folder}: no such folder")
    try:
        gradebook = Gradebook(path)
    except GradebookError as error:
        raise SimilarityError(str(error)) from None
    with gradebook:
        submissions = Path(submissions) if submissions else recorded_submissions(gradebook)
        if submissions is not None and not submissions.is_dir():
            raise SimilarityError(f"{submissions}: the submissions folder is gone; give --submissions DIR")
        result = analyse(gradebook, _quizzes(quiz_dir), submissions, out, against)
        write_atomic(out / REPORT_HTML, report_page(gradebook, class_results(gradebook)))
    return result


def inputs_digest(gradebook: Gradebook, submissions: Path, solution: Path | None = collect.SOLUTION_PATH) -> str:
    """What the analysis depends on: every submission's content and key hashes and status,
    the submissions folder, the solution file and this module's version."""
    digest = hashlib.sha256(f"similarity-v1\0{Path(submissions).resolve()}\0".encode())
    for student, row in sorted(gradebook.submissions().items()):
        digest.update(f"{student}\0{row.content_hash}\0{row.key_hash}\0{row.status}\0".encode())
    digest.update(",".join(s for s, _, _ in gradebook.students()).encode())
    if solution is not None and solution.is_file():
        digest.update(solution.read_bytes())
    return digest.hexdigest()


def start_prefetch(quizzes: Mapping[str, StudentQuiz], out: Path) -> Prefetch | None:
    """Begin fingerprinting the code `grade` reads, on idle cores, into the cache that
    `analyse` reads from `out` (see `prefetch`); None when the quiz has no code or the
    worker cannot start (the analysis then does it all, as before)."""
    stub = collect.boilerplate(quizzes)
    if stub is None:
        return None
    try:
        return Prefetch(stub, out / pages.PAGES_DIR / cache.FOLDER)
    except OSError:
        return None


def after_grading(gradebook: Gradebook, quizzes: Mapping[str, StudentQuiz], submissions: Path, out: Path,
                  warn: Callable[[str], None], prefetch: Prefetch | None = None) -> None:
    """The step `grade` runs before writing its exports: record the submissions folder and
    write similarity.csv and the pair pages, unless nothing they depend on changed since
    the last time (a rerun that graded nothing costs a hash of the submissions table). A
    failure here costs a warning, never the grading run."""
    try:
        remember_submissions(gradebook, submissions)
        digest = inputs_digest(gradebook, submissions)
        row = gradebook.db.execute("SELECT value FROM meta WHERE key = ?", (DIGEST_KEY,)).fetchone()
        if row and row[0] == digest and (out / SIMILARITY_CSV).is_file():
            return
        analyse(gradebook, quizzes, submissions, out, known=prefetch.prints if prefetch else None)
        gradebook.set_meta(DIGEST_KEY, digest)
    except Exception as error:  # evidence is optional; the grades are not
        warn(f"similarity analysis skipped ({type(error).__name__}: {error})")
