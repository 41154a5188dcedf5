"""`grader demo`: the whole loop on the built-in bank, in a temporary folder (or `--out`).

1. a quiz for six students: up to 8 answer questions spread over the sections and 4-6
   code functions (chosen from what the bank holds at run time);
2. fabricated submissions, from the keys, with typical mistakes:
   s1 submits the key (full marks); s2 answers with misconceptions and has a typical bug
   in one function; s3 has an unreadable answer, a blank answer and another typical bug;
   s4 has an infinite loop in one function; s5 submits answers only; s6 submits nothing;
3. `grade_batch` on them, with short sandbox time limits so the infinite loop costs
   seconds, not minutes;
4. the summary, and where the reports are.

This module returns data and never prints: `run_demo` tells a `DemoNarrator` what it did
(the command line's narrator, `grader.cli.demo`, prints it) and a `Reporter` how grading
goes.
"""

from __future__ import annotations

import functools
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, Sequence

from grader.errors import GraderError
from grader.bank import Bank, default_bank
from grader.exercise import AnswerExercise, Exercise
from grader.gradebook.reporting import Reporter
from grader.quiz.create import QuizSummary, new_quiz
from grader.quiz.roster import Student
from grader.quiz.spec import QuizSpec
from grader.tomlfmt import toml_value

ANSWER_QUESTIONS = 8
CODE_FUNCTIONS = (4, 6)

STUDENTS = (
    Student("s1", "Ada Lovelace", "ada@example.org"),
    Student("s2", "Alan Turing", "alan@example.org"),
    Student("s3", "Grace Hopper", "grace@example.org"),
    Student("s4", "Edsger Dijkstra", "edsger@example.org"),
    Student("s5", "Barbara Liskov", "barbara@example.org"),
    Student("s6", "Donald Knuth", "donald@example.org"),
)

# Typical bugs, each a complete replacement of one contract function, appended to the key
# so that it overrides the correct definition.
BUGS: dict[str, tuple[str, str]] = {
    "batchnorm_forward": ("unbiased batch variance", '''
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=0)
    var = x.var(dim=0, unbiased=True)  # the bug: batch norm uses the biased variance
    return gamma * (x - mean) / torch.sqrt(var + eps) + beta
'''),
    "scaled_dot_product_attention": ("no 1/sqrt(d_k)", '''
def scaled_dot_product_attention(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1)  # the bug: not divided by sqrt(d_k)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights
'''),
    "layer_norm": ("unbiased variance", '''
def layer_norm(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=-1, keepdim=True)
    var = x.var(dim=-1, keepdim=True, unbiased=True)  # the bug: biased variance expected
    return gamma * (x - mean) / torch.sqrt(var + eps) + beta
'''),
    "relu_backward": ("gradient passed where x <= 0", '''
def relu_backward(dout, x):
    return dout * (x >= 0).to(dout.dtype) + dout * (x < 0).to(dout.dtype) * 0.5  # the bug
'''),
    "diffusion_loss": ("sum instead of mean", '''
def diffusion_loss(eps_pred, eps):
    return ((eps_pred - eps) ** 2).sum()  # the bug: the loss is a mean
'''),
}
PREFERRED_CODE = ("batchnorm_forward", "scaled_dot_product_attention", "layer_norm", "relu_backward", "diffusion_loss", "conv2d")


class DemoError(GraderError, RuntimeError):
    """The demo cannot run (an --out folder that is not empty, an empty bank)."""


class DemoNarrator(Protocol):
    """Told what the demo does, as it does it (before grading starts)."""

    def making_quiz(self, quiz: Path, students: int) -> None:
        """A quiz for `students` students is about to be written to `quiz`."""

    def quiz_made(self, summary: QuizSummary) -> None:
        """The quiz folder is written."""

    def fabricated(self, students: Sequence[Student], story: dict[str, str]) -> None:
        """The submissions are written: {student id: what they did}."""


class SilentNarrator:
    """Tells nothing."""

    def making_quiz(self, quiz: Path, students: int) -> None:
        pass

    def quiz_made(self, summary: QuizSummary) -> None:
        pass

    def fabricated(self, students: Sequence[Student], story: dict[str, str]) -> None:
        pass


@dataclass(frozen=True)
class DemoResult:
    root: Path
    quiz: Path
    submissions: Path
    out: Path
    summary: Any
    story: dict[str, str]


def choose_exercises(bank: Bank) -> tuple[list[Exercise], list[Exercise]]:
    """Up to 8 answer exercises spread round-robin over the sections, and 4-6 code
    exercises (those with a scripted bug first)."""
    by_section: dict[int, list[Exercise]] = {}
    for exercise in bank:
        if isinstance(exercise, AnswerExercise):
            by_section.setdefault(exercise.section, []).append(exercise)
    answers: list[Exercise] = []
    while len(answers) < ANSWER_QUESTIONS and any(by_section.values()):
        for section in sorted(by_section):
            if by_section[section] and len(answers) < ANSWER_QUESTIONS:
                answers.append(by_section[section].pop(0))
    code_all = [e for e in bank if e.kind == "code"]
    by_function = {getattr(e, "function", e.id): e for e in code_all}
    code = [by_function[f] for f in PREFERRED_CODE if f in by_function][: CODE_FUNCTIONS[1]]
    for exercise in code_all:
        if len(code) >= CODE_FUNCTIONS[0]:
            break
        if exercise not in code:
            code.append(exercise)
    return answers, code


def _sheet(answers: dict[str, Any]) -> str:
    return "".join(f"{qid} = {toml_value(value)}\n" for qid, value in answers.items())


def _variant(quiz: Path, student: str) -> dict[str, Any]:
    return json.loads((quiz / "key" / student / "variant.json").read_text(encoding="utf-8"))


def _answers(quiz: Path, student: str, wrong: Sequence[int] = (), unreadable: int | None = None,
             blank: int | None = None) -> tuple[dict[str, Any], list[str]]:
    """The key's answers with misconceptions at the `wrong` positions (where the question
    has one), an unreadable and a blank answer; returns (answers, what was done)."""
    answers: dict[str, Any] = {}
    done: list[str] = []
    for index, question in enumerate(_variant(quiz, student)["questions"]):
        qid = question["question"]
        answers[qid] = question["answer"]
        if index in wrong and question["misconceptions"]:
            tag, value = next(iter(question["misconceptions"].items()))
            answers[qid] = value
            done.append(f"{qid}: {tag}")
        elif index == unreadable:
            answers[qid] = "no idea, sorry"
            done.append(f"{qid}: unreadable")
        elif index == blank:
            answers[qid] = ""
            done.append(f"{qid}: blank")
    return answers, done


def _code_with(quiz: Path, student: str, replacement: str) -> str:
    key = (quiz / "key" / student / "exercise.py").read_text(encoding="utf-8")
    return key.rstrip("\n") + "\n\n# --- the student's version ---\n" + replacement.lstrip("\n")


def _infinite_loop(function: str) -> str:
    return f"\ndef {function}(*args, **kwargs):\n    while True:\n        pass\n"


def _cheapest_to_loop(quiz: Path, functions: Sequence[str]) -> str | None:
    """The function with the fewest tests: each of its calls runs into the time limit."""
    counts = {c["function"]: c.get("hidden_tests", 0) for c in _variant(quiz, "s4")["code"]}
    return min(functions, key=lambda f: (counts.get(f, 0), f), default=None)


def fabricate(quiz: Path, submissions: Path, functions: Sequence[str]) -> dict[str, str]:
    """Write the six students' submissions; returns {student: what they did}."""
    bugs = [f for f in functions if f in BUGS]
    loop_target = _cheapest_to_loop(quiz, [f for f in functions if f not in bugs[:2]])
    story: dict[str, str] = {}

    def write(student: str, answers: dict[str, Any] | None, code: str | None) -> None:
        folder = submissions / student
        folder.mkdir(parents=True)
        if answers is not None:
            (folder / "answers.toml").write_text(_sheet(answers), encoding="utf-8")
        if code is not None:
            (folder / "exercise.py").write_text(code, encoding="utf-8")

    has_code = bool(functions)
    key_code = (lambda s: (quiz / "key" / s / "exercise.py").read_text(encoding="utf-8")) if has_code else (lambda s: None)

    answers, _ = _answers(quiz, "s1")
    write("s1", answers, key_code("s1"))
    story["s1"] = "submits the key: full marks"

    answers, done = _answers(quiz, "s2", wrong=range(0, 8, 2))
    code, what = key_code("s2"), []
    if bugs:
        code = _code_with(quiz, "s2", BUGS[bugs[0]][1])
        what.append(f"{bugs[0]}: {BUGS[bugs[0]][0]}")
    write("s2", answers, code)
    story["s2"] = "; ".join(done + what)

    answers, done = _answers(quiz, "s3", wrong=(3,), unreadable=1, blank=2)
    code, what = key_code("s3"), []
    if len(bugs) > 1:
        code = _code_with(quiz, "s3", BUGS[bugs[1]][1])
        what.append(f"{bugs[1]}: {BUGS[bugs[1]][0]}")
    write("s3", answers, code)
    story["s3"] = "; ".join(done + what)

    answers, done = _answers(quiz, "s4", wrong=(1, 5))
    code, what = key_code("s4"), []
    if loop_target:
        code = _code_with(quiz, "s4", _infinite_loop(loop_target))
        what.append(f"{loop_target}: infinite loop")
    write("s4", answers, code)
    story["s4"] = "; ".join(done + what)

    answers, done = _answers(quiz, "s5", wrong=(0, 1, 6))
    write("s5", answers, None)
    story["s5"] = "; ".join(done + ["no exercise.py"])

    story["s6"] = "submits nothing"
    return story


def _demo_pool(jobs: int, isolation: str = "bwrap") -> Any:
    import warnings

    from grader.sandbox import ExecutorPool, Limits, SandboxWarning

    limits = Limits(cpu_per_test=1.0, cpu_per_submission=20.0, wall_per_submission=30.0)
    with warnings.catch_warnings():  # an unconfined demo has its own banner
        warnings.simplefilter("ignore", SandboxWarning)
        return ExecutorPool(workers=jobs, limits=limits, isolation=isolation)


def run_demo(out: Path | None = None, confined: bool = True, narrator: DemoNarrator | None = None,
             progress: Reporter | None = None) -> DemoResult:
    """Run the demo into `out` (created; must be new or empty) or a temporary folder.

    confined: False allows grading without a working sandbox (see
    `grader.gradebook.confinement`); otherwise SandboxUnavailable is raised before
    anything is written.  `DemoResult.summary.complete` is False when a submission could
    not be graded."""
    from grader.gradebook.confinement import pool_isolation, sandbox_mode
    from grader.gradebook.runner import grade_batch

    narrator = narrator or SilentNarrator()
    mode = sandbox_mode(confined)
    if out is not None:
        root = Path(out)
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise DemoError(f"{root}: already exists and is not empty; choose a new folder")
        root.mkdir(parents=True, exist_ok=True)
    else:
        root = Path(tempfile.mkdtemp(prefix="grader-demo-"))
    bank = default_bank()
    answer_exercises, code_exercises = choose_exercises(bank)
    if not answer_exercises and not code_exercises:
        raise DemoError("the exercise bank is empty")
    quiz = root / "quiz"
    spec = QuizSpec(
        title="grader demo quiz", students=STUDENTS, quiz_id="demo",
        exercises=tuple(e.id for e in answer_exercises + code_exercises),
    )
    narrator.making_quiz(quiz, len(STUDENTS))
    narrator.quiz_made(new_quiz(quiz, spec, bank=bank))
    submissions = root / "submissions"
    functions = [getattr(e, "function", e.id) for e in code_exercises]
    story = fabricate(quiz, submissions, functions)
    narrator.fabricated(STUDENTS, story)
    grading = root / "grading"
    summary = grade_batch(
        submissions, quiz, out=grading, jobs=None, progress=progress,
        pool_factory=functools.partial(_demo_pool, isolation=pool_isolation(mode)), confined=confined,
    )
    return DemoResult(root, quiz, submissions, grading, summary, story)
