"""The Python API behind the command line: everything `grader` does is callable from here.

    list_exercises(topic=None)              -> [{id, title, section, topic, kind, points}]
    preview_exercise(exercise_id, seed=0)   -> Preview (prompt, key, misconceptions)
    make_variant(exercise, seed)            -> Variant            (grader.variant)
    render_prompt(exercise, variant)        -> Markdown with LaTeX (grader.prompts)
    grade_answer(exercise, variant, raw)    -> ItemResult          (grader.grading)
    create_quiz(out, ...)                   -> QuizSummary
    check_answers(path, quiz_dir=None)      -> AnswerCheckReport   (grader.quiz.check)
    check_file(path, quiz_dir=None)         -> CodeReport | AnswerReport (`grader check`)
    grade_submissions(submissions, quiz, ...) -> BatchSummary      (`grader grade`)
    run_demo(out=None, ...)                 -> DemoResult          (`grader demo`, grader.demo)

Every function returns data and never prints; errors in what the caller gave are
`grader.errors.GraderError`s.  The command line (`grader.cli`) is a thin layer over it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from grader.bank import Bank, default_bank, load_bank, resolve_topic
from grader.exercise import AnswerExercise, Exercise
from grader.grading import grade_answer
from grader.prompts import render_prompt
from grader.quiz.check import CheckUsageError, check_answers
from grader.quiz.create import QuizSummary, new_quiz
from grader.quiz.roster import read_roster, students_from_ids
from grader.quiz.spec import QuizSpec
from grader.variant import Variant, make_variant

if TYPE_CHECKING:
    from grader.demo import DemoNarrator, DemoResult
    from grader.gradebook.reporting import Reporter
    from grader.gradebook.runner import BatchSummary
    from grader.kit.answer_report import AnswerReport
    from grader.kit.report import CodeReport

__all__ = [
    "Preview", "list_exercises", "preview_exercise", "make_variant", "render_prompt",
    "grade_answer", "create_quiz", "check_answers", "bank_for", "check_file", "grade_submissions",
    "run_demo",
]


def bank_for(bank_dirs: Sequence[str | Path] = ()) -> Bank:
    return load_bank(bank_dirs) if bank_dirs else default_bank()


def list_exercises(topic: str | None = None, bank_dirs: Sequence[str | Path] = ()) -> list[dict[str, Any]]:
    """The bank as rows of {id, title, section, topic, kind, points}."""
    bank = bank_for(bank_dirs)
    wanted = resolve_topic(topic) if topic else None
    return [
        {"id": e.id, "title": e.title, "section": e.section, "topic": e.topic, "kind": e.kind, "points": e.points}
        for e in bank
        if wanted is None or e.topic == wanted
    ]


@dataclass(frozen=True)
class Preview:
    """One variant of an exercise as an instructor previews it."""

    exercise: Exercise
    seed: int
    prompt: str
    answer_format: str = ""
    key: str = ""
    key_toml: Any = None
    misconceptions: list[tuple[str, str, str]] = field(default_factory=list)  # tag, answer, feedback
    extra: dict[str, Any] = field(default_factory=dict)


def _answer_preview(exercise: AnswerExercise, seed: int) -> Preview:
    variant: Variant = make_variant(exercise, seed)
    check = exercise.check_for(variant.params)
    feedback = {m.tag: m.feedback for m in exercise.misconceptions}
    return Preview(
        exercise=exercise,
        seed=seed,
        prompt=render_prompt(exercise, variant),
        answer_format=check.describe(variant.key),
        key=check.to_text(variant.key),
        key_toml=check.to_toml(variant.key),
        misconceptions=[(t, check.to_text(a), feedback[t]) for t, a in variant.misconceptions.items()],
    )


def _code_preview(exercise: Exercise, seed: int) -> Preview:
    from grader.code.preview import code_preview_details

    details = code_preview_details(exercise, seed)  # type: ignore[arg-type]
    return Preview(
        exercise=exercise,
        seed=seed,
        prompt=details["prompt"],
        answer_format=f"function `{getattr(exercise, 'function', '?')}` in exercise.py",
        key=str(details["solution"]),
        misconceptions=[tuple(row) for row in details["misconceptions"]],
        extra=details,
    )


def preview_exercise(exercise_id: str, seed: int = 0, bank_dirs: Sequence[str | Path] = ()) -> Preview:
    exercise = bank_for(bank_dirs).get(exercise_id)
    if isinstance(exercise, AnswerExercise):
        return _answer_preview(exercise, seed)
    return _code_preview(exercise, seed)


def create_quiz(
    out: Path,
    *,
    title: str = "Quiz",
    student_ids: Iterable[str] = (),
    roster: Path | None = None,
    topics: Sequence[str] = (),
    exercise_ids: Sequence[str] = (),
    kind: str = "all",
    count: int = 0,
    shuffle_exercises: bool = False,
    mode: str = "exam",
    handout: str = "script",
    secret_file: Path | None = None,
    bank_dirs: Sequence[str | Path] = (),
    progress: Any = None,
    workers: int | None = None,
) -> QuizSummary:
    """`grader new-quiz`: see grader.quiz.create for the files written.  `progress(done,
    total)` is called as students are written; `workers` processes write them (default:
    2 for a large class on Linux)."""
    students = read_roster(roster) if roster else students_from_ids(student_ids)
    resolved_topics = tuple(resolve_topic(t) for t in topics)  # before the (slow) bank loads
    bank = bank_for(bank_dirs)
    spec = QuizSpec(
        title=title,
        students=tuple(students),
        mode=mode,
        kind=kind,
        topics=resolved_topics,
        exercises=tuple(exercise_ids),
        count=count,
        shuffle_exercises=shuffle_exercises,
        handout=handout,
        bank_dirs=tuple(str(Path(d).resolve()) for d in bank_dirs),
    )
    return new_quiz(Path(out), spec, secret_file=secret_file, bank=bank, progress=progress, workers=workers)


def check_file(path: Path, quiz_dir: Path | None = None) -> CodeReport | AnswerReport:
    """`grader check`: an exercise.py or exercise.ipynb (`grader.code.check`: public tests
    in the sandbox) or an answers.toml (`grader.quiz.check`); `report.exit_code` is 1 when
    it found problems.  CheckUsageError for any other kind of file."""
    path = Path(path)
    if path.suffix in (".py", ".ipynb"):
        from grader.code.check import check_exercise_file

        return check_exercise_file(path, quiz_dir=quiz_dir)
    if path.suffix != ".toml":
        raise CheckUsageError(f"{path}: expected answers.toml, exercise.py or exercise.ipynb")
    return check_answers(path, quiz_dir)


def grade_submissions(
    submissions: Path,
    quiz_dir: Path,
    *,
    out: Path | None = None,
    jobs: int | None = None,
    force: bool = False,
    only: Sequence[str] | None = None,
    id_map: Path | None = None,
    progress: Reporter | None = None,
    confined: bool = True,
    scheduler: str | None = None,
    cluster: str | None = None,
) -> BatchSummary:
    """`grader grade`: `grader.gradebook.runner.grade_batch`, with the code graded on a Dask
    cluster when `scheduler` (an address) or `cluster` ("local:N") is given (then `jobs`
    must be None: the workers' threads decide).  `progress` is told how the run goes."""
    from grader.gradebook.runner import grade_batch

    def run(backend_factory: Any = None) -> BatchSummary:
        return grade_batch(
            Path(submissions), Path(quiz_dir), out=out, jobs=jobs, force=force, only=only, id_map=id_map,
            progress=progress, confined=confined, backend_factory=backend_factory,
        )

    if scheduler is None and cluster is None:
        return run()
    from grader.cluster import ClusterError, open_cluster

    if jobs is not None:
        raise ClusterError("--jobs applies to the local sandbox pool; on a cluster the workers' threads decide")
    with open_cluster(scheduler, cluster, confined=confined) as backend_factory:
        return run(backend_factory)


def run_demo(out: Path | None = None, *, confined: bool = True, narrator: DemoNarrator | None = None,
             progress: Reporter | None = None) -> DemoResult:
    """`grader demo`: see `grader.demo.run_demo`."""
    from grader import demo

    return demo.run_demo(out, confined=confined, narrator=narrator, progress=progress)
