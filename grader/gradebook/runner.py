"""`grader grade`: grade a class's submissions into the gradebook, then write the exports.

The run, in order:

1. open the quiz (an unusable quiz folder is a `BatchError`), the gradebook
   `OUT/gradebook.sqlite` (one quiz per gradebook) and a lock on OUT (one run at a time);
2. find the submissions (`submissions.discover`) and hash each student's files; a student
   whose content hash and key hash (their variant.json and the grader's version) are those
   already recorded is skipped, unless `force`; students without any file are recorded as
   `missing`;
3. grade the others: answers in this process's main thread (where answer checks can use
   their time budget), code on ONE `ExecutorPool(workers=jobs)` driven by `jobs` threads;
   each submission is committed in its own transaction as soon as it is graded;
4. rewrite every output file from the gradebook (`exports.write_outputs`; each student's
   files in a process of their own while the similarity analysis runs: `student_files`).

A run killed at any point and started again grades each submission exactly once: the
committed ones have their hash recorded and are skipped, the others were never written.
A submission whose grading raised (a grader or sandbox failure, not the student's doing)
is recorded as not graded (`ungraded`: "not graded (grader failure: ...)", never as missing
or 0), reported as failed, and graded again by the next run.

Fail closed (`confinement`): when the quiz has code, student code runs only in a working
sandbox; without one the run refuses to start (`SandboxUnavailable`) unless
`confined=False`, and then the run is recorded as "unconfined".
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import os
import statistics
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

from grader.errors import GraderError
from grader import __version__
from grader.bank import BankError
from grader.gradebook import exports, student_files
from grader.gradebook.folder import default_out
from grader.heap import freeze_long_lived
from grader.gradebook.adjust import LATE_POLICY_META, accepted_answers
from grader.gradebook.backend import BackendFactory, LocalBackend, PoolFactory
from grader.gradebook.late import submission_time
from grader.rounding import score_text
from grader.gradebook.confinement import (
    CONFINED,
    UNCONFINED,
    SandboxUnavailable,
    pool_isolation,
    sandbox_mode,
    start_sandbox_check,
)
from grader.gradebook.grade_one import Graded, grade_answers
from grader.gradebook.reporting import Reporter, SilentReporter
from grader.gradebook.store import GRADEBOOK_FILE, Gradebook, GradebookError, ItemInfo
from grader.gradebook.submissions import (
    CODE_FILE,
    DEFAULT_MAX_FILE_BYTES,
    Discovery,
    Found,
    IdMapError,
    LoadedSubmission,
    Unmatched,
    discover,
    load,
    read_id_map,
)
from grader.gradebook.ungraded import FAILED, failure_of, not_graded_items
from grader.integrity.api import Prefetch, after_grading, start_prefetch
from grader.quiz.load import LoadedQuiz, load_quiz
from grader.quiz.model import StudentQuiz
from grader.quiz.policy import QuizPolicy, read_policy
from grader.quiz.spec import QuizSpec, SpecError
from grader.results import ItemResult

LOCK_FILE = ".grader-grade.lock"
UNRECOGNIZED = "unrecognized"  # a submission's status: files handed in, none under a known name


class BatchError(GraderError, ValueError):
    """The run cannot start: a usage error or an unusable quiz folder (message says why)."""


@dataclass
class BatchSummary:
    """What a run did, and where its files are.

    graded / skipped / missing / failed: student ids graded in this run, skipped because
    unchanged, without a submission, and whose grading failed (to retry); unrecognized:
    (student id, file names) of students who handed in files under names that are not
    recognized (graded 0, never reported as "no submission"). not_graded: every
    roster student the gradebook holds as not graded, with its "not graded (grader
    failure: ...)" text (this run's failures and older ones it did not retry). sandbox: how
    this run ran student code ("bwrap", "unconfined"; None: it ran none). Class figures
    (mean, median, misconceptions) are over every student with a submission in the
    gradebook, not only those graded in this run.
    """

    quiz_id: str
    title: str
    out: Path
    students: int
    graded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    unrecognized: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    not_graded: list[tuple[str, str]] = field(default_factory=list)
    sandbox: str | None = None
    unmatched: tuple[Unmatched, ...] = ()
    max_total: float = 0.0
    mean: float | None = None
    median: float | None = None
    misconceptions: list[tuple[str, str, int]] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def complete(self) -> bool:
        """Every submission was graded (none failed or left not graded, no interruption)."""
        return not self.failed and not self.not_graded and not self.interrupted


@dataclass
class _Job:
    """One submission to grade."""

    quiz: StudentQuiz
    found: Found
    key_hash: str


@dataclass
class _InFlight:
    job: _Job
    loaded: LoadedSubmission
    answers: Graded


def _default_pool(jobs: int, isolation: str = "bwrap") -> Any:
    import warnings

    from grader.sandbox import ExecutorPool, SandboxWarning

    with warnings.catch_warnings():  # an unconfined run has its own banner
        warnings.simplefilter("ignore", SandboxWarning)
        return ExecutorPool(workers=jobs, isolation=isolation)


def _key_hash(quiz_dir: Path, student: str, policy: QuizPolicy | None = None) -> str:
    """What a grade depends on besides the submission: the student's variant.json (keys,
    misconception answers, hidden-test seeds), the grader's version and the quiz's
    partial-credit rules. A change of any regrades the student's submission."""
    rules = policy.grading_fingerprint() if policy else ""
    digest = hashlib.sha256(f"grader-key-v1\0{__version__}\0{rules}\0".encode())
    path = quiz_dir / "key" / student / "variant.json"
    if path.is_file():
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _lock(out: Path) -> int:
    try:
        fd = os.open(out / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        raise BatchError(f"{out}: cannot write there ({error.strerror})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise BatchError(f"{out}: another `grader grade` is writing there; wait for it to finish") from None
    return fd


def _refuse_inside(submissions: Path, **folders: Path) -> None:
    """A quiz or output folder inside the submissions folder would be read as submissions
    (a key folder could be linked to, or planted): a BatchError."""
    root = os.path.realpath(submissions)
    for option, folder in folders.items():
        real = os.path.realpath(folder)
        if real == root or real.startswith(root + os.sep):
            raise BatchError(
                f"--{option} {folder} lies inside the submissions folder {submissions}; "
                "put it somewhere else"
            )


def _open_quiz(quiz_dir: Path) -> tuple[LoadedQuiz, QuizPolicy]:
    try:
        return load_quiz(quiz_dir), read_policy(quiz_dir)
    except (SpecError, BankError) as error:
        raise BatchError(str(error)) from None


def _student_quizzes(loaded: LoadedQuiz) -> dict[str, StudentQuiz]:
    quizzes: dict[str, StudentQuiz] = {}
    for student in loaded.student_ids():
        try:
            quizzes[student] = loaded.student_quiz(student)
        except (SpecError, BankError, KeyError, TypeError, ValueError) as error:
            raise BatchError(f"the quiz folder is unusable: {error}") from None
    return quizzes


def _items(quizzes: dict[str, StudentQuiz], known: dict[tuple[str, str, str], str] | None = None) -> list[ItemInfo]:
    """Every student's items; the question text is rendered once per item and then reused
    from `known` ((student, item, exercise) -> prompt HTML already in the gradebook)."""
    from grader.gradebook.prompt_html import code_html, question_html

    known = known or {}
    items: list[ItemInfo] = []
    code_prompts: dict[str, str] = {}  # a code item's text is the same for every student
    for student, quiz in quizzes.items():
        position = 0
        for question in quiz.questions:
            prompt = known.get((student, question.qid, question.exercise.id)) or question_html(question)
            items.append(ItemInfo(student, question.qid, position, "answer", question.exercise.id,
                                  question.exercise.title, float(question.points), prompt))
            position += 1
        for code in quiz.code:
            prompt = known.get((student, code.function, code.exercise.id))
            if not prompt:
                if code.exercise.id not in code_prompts:
                    code_prompts[code.exercise.id] = code_html(code)
                prompt = code_prompts[code.exercise.id]
            items.append(ItemInfo(student, code.function, position, "code", code.exercise.id,
                                  code.exercise.title, float(code.points), prompt))
            position += 1
    return items


def _sentences(quizzes: dict[str, StudentQuiz]) -> list[tuple[str, str, str]]:
    exercises = {q.exercise.id: q.exercise for quiz in quizzes.values() for q in quiz.questions}
    exercises.update({c.exercise.id: c.exercise for quiz in quizzes.values() for c in quiz.code})
    return [
        (exercise_id, m.tag, m.feedback)
        for exercise_id, exercise in exercises.items()
        for m in getattr(exercise, "misconceptions", ())
    ]


def _check_only(only: Sequence[str] | None, known: Sequence[str]) -> set[str] | None:
    if only is None:
        return None
    wanted = {s.strip() for s in only if s.strip()}
    unknown = sorted(wanted - set(known))
    if unknown:
        raise BatchError(f"--only: not students of this quiz: {', '.join(unknown)}")
    if not wanted:
        raise BatchError("--only: give at least one student id")
    return wanted


def grade_batch(
    submissions: Path,
    quiz_dir: Path,
    out: Path | None = None,
    jobs: int | None = None,
    force: bool = False,
    only: Sequence[str] | None = None,
    id_map: Path | None = None,
    progress: Reporter | None = None,
    *,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    pool_factory: PoolFactory | None = None,
    backend_factory: BackendFactory | None = None,
    confined: bool = True,
) -> BatchSummary:
    """Grade the class's submissions (see the module docstring); returns the summary.

    submissions: the folder of submissions (per-student folders and/or an LMS export);
    out: where the gradebook and exports go (default `<quiz_dir>/grading`);
    jobs: sandbox workers and code-grading threads (default: the number of cores);
    force: regrade unchanged submissions; only: grade (or mark missing) these ids only;
    id_map: a CSV `lms_id,id` mapping LMS ids to roster ids;
    pool_factory: makes the sandbox pool from `jobs` (default: an ExecutorPool of the mode
    below); confined: False allows running student code without a working sandbox;
    backend_factory: where code is graded instead of the local pool (e.g. a Dask cluster,
    `grader.cluster`, which checks its own workers' sandboxes), called with `jobs` and the
    quiz once there is something to grade.
    Raises BatchError for usage errors and unusable quiz folders, SandboxUnavailable when
    the quiz has code, the sandbox does not work here and `confined` (nothing is written
    then); student files never make it raise.
    """
    started = time.perf_counter()
    reporter = progress or SilentReporter()
    submissions, quiz_dir = Path(submissions), Path(quiz_dir)
    if not submissions.is_dir():
        raise BatchError(f"{submissions}: no such folder of submissions")
    jobs = jobs or os.cpu_count() or 1
    if jobs < 1:
        raise BatchError("--jobs must be at least 1")
    loaded, policy = _open_quiz(quiz_dir)
    if backend_factory is None and loaded.spec.kind != "answer":
        start_sandbox_check()  # its worker boots while the students' variants are rebuilt
    quizzes = _student_quizzes(loaded)
    wanted = _check_only(only, loaded.student_ids())
    has_code = any(quiz.code for quiz in quizzes.values())
    # a backend checks its own workers' sandboxes: this machine may have none
    mode = sandbox_mode(confined) if has_code and backend_factory is None else CONFINED
    try:
        mapping = read_id_map(id_map, loaded.spec.students) if id_map else {}
    except IdMapError as error:
        raise BatchError(str(error)) from None
    out = Path(out) if out else default_out(quiz_dir)
    _refuse_inside(submissions, quiz=quiz_dir, out=out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BatchError(f"{out}: cannot create the output folder ({error.strerror})") from None
    lock = _lock(out)
    try:
        try:
            gradebook = Gradebook(out / GRADEBOOK_FILE)
        except GradebookError as error:
            raise BatchError(str(error)) from None
        with gradebook:
            batch = _Batch(
                loaded, quizzes, gradebook, submissions, out, jobs, force, wanted, mapping,
                reporter, max_file_bytes,
                pool_factory or functools.partial(_default_pool, isolation=pool_isolation(mode)),
                policy, confined, backend_factory,
            )
            summary = batch.run()
    finally:
        os.close(lock)
    summary.seconds = time.perf_counter() - started
    return summary


@dataclass
class _Batch:
    """One run's context; `run` does steps 2-4 of the module docstring."""

    loaded: LoadedQuiz
    quizzes: dict[str, StudentQuiz]
    gradebook: Gradebook
    submissions: Path
    out: Path
    jobs: int
    force: bool
    wanted: set[str] | None
    mapping: dict[str, str]
    reporter: Reporter
    cap: int
    pool_factory: PoolFactory
    policy: QuizPolicy = field(default_factory=QuizPolicy)
    confined: bool = True
    backend_factory: BackendFactory | None = None
    run_id: int = 0
    alternatives: dict[str, list[str]] = field(default_factory=dict)
    early_pool: Any = None  # started before the plan, so its workers boot meanwhile
    prefetch: Prefetch | None = None  # fingerprints computed while grading (stopped when it ends)

    def run(self) -> BatchSummary:
        spec = self.loaded.spec
        try:
            self.gradebook.set_quiz(spec.quiz_id, spec.title, spec.mode, str(self.loaded.path.resolve()))
        except GradebookError as error:
            raise BatchError(str(error)) from None
        if self.backend_factory is None and any(quiz.code for quiz in self.quizzes.values()):
            self.early_pool = self.pool_factory(self.jobs)
        try:
            return self._run(spec)
        finally:
            if self.early_pool is not None:  # no submission needed it
                self.early_pool.close()
                self.early_pool = None

    def _run(self, spec: QuizSpec) -> BatchSummary:
        known = {(i.student, i.item, i.exercise): i.prompt for i in self.gradebook.items() if i.prompt}
        self.gradebook.set_roster(
            [(s.id, s.name, s.email) for s in spec.students], _items(self.quizzes, known), _sentences(self.quizzes)
        )
        self.gradebook.set_meta("submissions_dir", str(self.submissions.resolve()))
        self.gradebook.set_meta(LATE_POLICY_META, self.policy.late.to_json() if self.policy.late else "")
        self.alternatives = accepted_answers(self.gradebook.adjustments())
        summary = BatchSummary(spec.quiz_id, spec.title, self.out, len(spec.students))
        try:
            discovery = discover(self.submissions, spec.students, self.mapping)
        except OSError as error:
            raise BatchError(f"{self.submissions}: cannot read the submissions ({error.strerror})") from None
        summary.unmatched = discovery.unmatched
        for item in discovery.unmatched:
            self.reporter.warn(f"{item.origin}: {item.reason}")
        self.run_id = self.gradebook.start_run(self.jobs, self.force, sorted(self.wanted) if self.wanted else None)
        queue = self._plan(discovery, summary)
        status = "finished"
        try:
            self._grade(queue, summary)
        except KeyboardInterrupt:
            summary.interrupted = True
            status = "interrupted"
        except SandboxUnavailable:
            self.gradebook.finish_run(self.run_id, "refused", 0, len(summary.skipped), len(summary.missing), 0)
            raise
        finally:
            self.reporter.finish()
        if summary.failed and status == "finished":
            status = "incomplete"
        writer = student_files.start(self.out)  # while the similarity analysis runs
        if not summary.interrupted:
            after_grading(self.gradebook, self.quizzes, self.submissions, self.out, self.reporter.warn, self.prefetch)
        written = writer is not None and writer.finished()
        summary.files = exports.write_outputs(self.gradebook, self.out, student_files=not written)
        _class_figures(self.gradebook, summary)
        summary.not_graded = _not_graded(self.gradebook)
        if summary.not_graded and status == "finished":
            status = "incomplete"
        self.gradebook.finish_run(
            self.run_id, status, len(summary.graded), len(summary.skipped), len(summary.missing), len(summary.failed)
        )
        return summary

    def _plan(self, discovery: Discovery, summary: BatchSummary) -> list[_Job]:
        """The submissions to grade; records students without one as missing, and notes
        the unchanged ones as skipped."""
        recorded = self.gradebook.submissions()
        resume_from = self._force_resume_from() if self.force else None
        queue: list[_Job] = []
        for student in self.loaded.student_ids():
            if self.wanted is not None and student not in self.wanted:
                continue
            quiz = self.quizzes[student]
            key_hash = _key_hash(self.loaded.path, student, self.policy)
            found = discovery.found.get(student)
            previous = recorded.get(student)
            if found is not None and not found.files and found.unrecognized:
                summary.unrecognized.append((student, found.unrecognized))
                self._record_missing(quiz, key_hash, found)
                continue
            if found is None or not found.files:
                summary.missing.append(student)
                unchanged = previous is not None and previous.status == "missing" and previous.key_hash == key_hash
                if self.force or not unchanged:
                    self._record_missing(quiz, key_hash, found)
                continue
            fresh = not self.force or (
                resume_from is not None and previous is not None and (previous.run_id or 0) >= resume_from
            )
            if (
                fresh
                and previous is not None
                and previous.status == "graded"
                and previous.key_hash == key_hash
                and load(found, self.submissions, self.cap).content_hash == previous.content_hash
            ):
                summary.skipped.append(student)
                continue
            queue.append(_Job(quiz, found, key_hash))
        return queue

    def _force_resume_from(self) -> int | None:
        """The first run of the unfinished `--force` runs (same --only) that this one
        continues: students graded since then are not graded again. None: start over."""
        runs = [r for r in self.gradebook.runs() if r.id != self.run_id]
        only = ",".join(sorted(self.wanted)) if self.wanted else None
        first = None
        for run in reversed(runs):
            if not run.force or run.only_ids != only or run.status not in ("running", "interrupted", "incomplete"):
                break
            first = run.id
        return first

    def _record_missing(self, quiz: StudentQuiz, key_hash: str, found: Found | None) -> None:
        """Record every item as missing: status `missing`, or `unrecognized` when files were
        handed in under names that are not recognized (the items' feedback lists them)."""
        status, why = "missing", "No submission."
        if found is not None and found.unrecognized:
            shown = ", ".join(found.unrecognized[:5]) + (" ..." if len(found.unrecognized) > 5 else "")
            status, why = UNRECOGNIZED, f"Submitted but not recognized: {shown}."
        results = [ItemResult(q.qid, 0.0, q.points, "missing", why) for q in quiz.questions]
        results += [ItemResult(c.function, 0.0, c.points, "missing", why) for c in quiz.code]
        self.gradebook.record(
            quiz.student.id, results, status=status, content_hash=None, key_hash=key_hash,
            files=[], notes=list(found.notes) if found else [], duration=0.0, run_id=self.run_id,
            count_grading=False,
        )

    def _grade(self, queue: list[_Job], summary: BatchSummary) -> None:
        """Grade and commit every job: answers in this thread, code on the backend (by
        default `jobs` threads that share one sandbox pool); at most twice the backend's
        capacity of submissions are in flight."""
        self.reporter.start(len(queue))
        if not queue:
            return
        if self.backend_factory is not None:  # the backend runs code elsewhere, confined as it checked
            self._record_sandbox(summary, CONFINED if self.confined else UNCONFINED)
            backend = self.backend_factory(self.jobs, self.loaded)
        else:
            backend = LocalBackend(self.jobs, lambda jobs: self._open_pool(summary))
        freeze_long_lived()
        self.prefetch = prefetch = start_prefetch(self.quizzes, self.out)  # the similarity analysis's, on idle cores
        inflight: dict[Future[Graded], _InFlight] = {}
        pending: Iterator[_Job] = iter(queue)
        try:
            while True:
                while len(inflight) < 2 * max(1, backend.capacity) and (job := next(pending, None)) is not None:
                    loaded = load(job.found, self.submissions, self.cap)
                    code_file = loaded.files.get(CODE_FILE)
                    if prefetch is not None and code_file is not None and code_file.data:
                        prefetch.add(code_file.data)
                    future = backend.submit(job.quiz, loaded)
                    answers = grade_answers(job.quiz, loaded, self.policy, self.alternatives)
                    inflight[future] = _InFlight(job, loaded, answers)
                if not inflight:
                    break
                done, _ = wait(list(inflight), timeout=0.5, return_when=FIRST_COMPLETED)
                for future in done:
                    self._commit(inflight.pop(future), future, summary)
        finally:
            for future in inflight:
                future.cancel()
            backend.close()
            if prefetch is not None:
                prefetch.stop()

    def _open_pool(self, summary: BatchSummary) -> Any:
        """The sandbox pool (the one started early, if any); SandboxUnavailable when it is
        not confined and must be.  Records how this run runs student code."""
        pool, self.early_pool = self.early_pool or self.pool_factory(self.jobs), None
        sandbox = CONFINED if getattr(pool, "isolation", None) == "bwrap" else UNCONFINED
        if sandbox == UNCONFINED and self.confined:
            pool.close()
            raise SandboxUnavailable(
                f"the grading pool is not confined (isolation {getattr(pool, 'isolation', None)!r})"
            )
        self._record_sandbox(summary, sandbox)
        return pool

    def _record_sandbox(self, summary: BatchSummary, sandbox: str) -> None:
        """Record how this run runs student code."""
        self.gradebook.set_run_sandbox(self.run_id, sandbox)
        summary.sandbox = sandbox

    def _commit(self, entry: _InFlight, future: Future[Graded], summary: BatchSummary) -> None:
        """Record one graded submission in its own transaction (or, when its grading raised,
        record it as not graded)."""
        student = entry.job.quiz.student.id
        try:
            code = future.result()
        except Exception as error:  # not the student's doing: retried by the next run
            message = f"{type(error).__name__}: {error}"
            summary.failed.append((student, message))
            self.reporter.warn(f"{student}: grading failed ({message}); it will be retried by the next run")
            self._record_failed(entry, message)
            return
        results = entry.answers.results + code.results
        duration = entry.answers.seconds + code.seconds
        submitted_at, time_source = submission_time(entry.job.found)
        self.gradebook.record(
            student, results, status="graded", content_hash=entry.loaded.content_hash,
            key_hash=entry.job.key_hash, files=entry.loaded.manifest(),
            notes=list(entry.loaded.notes) + entry.answers.notes + code.notes,
            duration=duration, durations=entry.answers.durations + code.durations, run_id=self.run_id,
            submitted_at=submitted_at, time_source=time_source,
        )
        summary.graded.append(student)
        score = sum(r.score for r in results)
        points = sum(r.max_score for r in results)
        self.reporter.graded(student, f"{score_text(score)}/{score_text(points)} in {duration:.1f} s")

    def _record_failed(self, entry: _InFlight, message: str) -> None:
        """Record a submission whose code could not be graded: its answers as graded, its
        code items as not graded (never missing, never a silent 0)."""
        quiz = entry.job.quiz
        results = entry.answers.results + not_graded_items([(c.function, c.points) for c in quiz.code], message)
        self.gradebook.record(
            quiz.student.id, results, status=FAILED, content_hash=None, key_hash=entry.job.key_hash,
            files=entry.loaded.manifest(), notes=list(entry.loaded.notes) + entry.answers.notes,
            duration=entry.answers.seconds, durations=entry.answers.durations + [0.0] * len(quiz.code),
            run_id=self.run_id, count_grading=False,
        )


def _not_graded(gradebook: Gradebook) -> list[tuple[str, str]]:
    """Roster students recorded as not graded, with their "not graded (...)" text."""
    rows = gradebook.submissions()
    failed = [s for s, _, _ in gradebook.students() if s in rows and rows[s].status == FAILED]
    return [(s, failure_of(gradebook.results(s)) or "not graded") for s in failed]


def _class_figures(gradebook: Gradebook, summary: BatchSummary) -> None:
    from grader.gradebook.adjust import totals as student_totals

    rows = gradebook.submissions()
    roster = {s[0] for s in gradebook.students()}
    final = student_totals(gradebook, exports.class_results(gradebook))
    totals = [final[s].total for s, r in rows.items() if s in roster and r.status == "graded"]
    maxima = [final[s].maximum for s in rows if s in roster]
    summary.max_total = max(maxima) if maxima else 0.0
    if totals:
        summary.mean = statistics.fmean(totals)
        summary.median = statistics.median(totals)
    counts: Counter[tuple[str, str]] = Counter(
        (r.item, r.misconception) for r in gradebook.results() if r.misconception and r.student in roster
    )
    summary.misconceptions = [(item, tag, n) for (item, tag), n in counts.most_common(5)]
