"""The exercise bank: the built-in exercises (every module of the `exercises` package that
defines `EXERCISES`) plus, optionally, an instructor's folder of Python files with the same
declaration (`--bank DIR`).  A bank folder with code exercises keeps their solutions in
`DIR/solutions/exercise.py`, as this project keeps its own in `solutions/exercise.py`.

A bank file is trusted instructor code, imported like any module; a file that fails to
import, has no `EXERCISES` list, or declares a duplicate id gives a `BankError` naming it.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import pkgutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from grader.errors import GraderError
from grader.exercise import TOPICS, Exercise
from grader.torch_threads import single_thread


class BankError(GraderError, ValueError):
    """The bank could not be loaded, or a selection from it is empty or unknown."""


@dataclass(frozen=True)
class Bank:
    """An ordered, id-indexed collection of exercises."""

    exercises: tuple[Exercise, ...]

    def __post_init__(self) -> None:
        seen: dict[str, Exercise] = {}
        for exercise in self.exercises:
            if exercise.id in seen:
                raise BankError(f"duplicate exercise id {exercise.id!r}")
            seen[exercise.id] = exercise
        for exercise in self.exercises:
            unknown = [other for other in exercise.excludes if other not in seen]
            if unknown:
                raise BankError(f"{exercise.id}: excludes unknown exercise id {unknown[0]!r}")
        object.__setattr__(self, "_by_id", seen)

    def __iter__(self) -> Iterator[Exercise]:
        return iter(self.exercises)

    def __len__(self) -> int:
        return len(self.exercises)

    def __contains__(self, exercise_id: object) -> bool:
        return exercise_id in self._by_id  # type: ignore[attr-defined]

    def get(self, exercise_id: str) -> Exercise:
        try:
            return self._by_id[exercise_id]  # type: ignore[attr-defined]
        except KeyError:
            raise BankError(f"unknown exercise id {exercise_id!r} (see `grader list`)") from None

    def topics(self) -> list[str]:
        return [topic for topic in TOPICS.values() if any(e.topic == topic for e in self)]

    def select(
        self,
        *,
        topics: Iterable[str] = (),
        exercise_ids: Iterable[str] = (),
        kind: str = "all",
    ) -> list[Exercise]:
        """Exercises matching the topics (names or section numbers), the ids and the kind
        ("answer", "code" or "all"), in bank order.  Unknown names raise BankError."""
        if kind not in ("answer", "code", "all"):
            raise BankError(f"unknown kind {kind!r}: use answer, code or all")
        wanted_topics = {resolve_topic(t) for t in topics}
        wanted_ids = list(exercise_ids)
        for exercise_id in wanted_ids:
            self.get(exercise_id)
        chosen = [
            e
            for e in self
            if (not wanted_topics or e.topic in wanted_topics)
            and (not wanted_ids or e.id in wanted_ids)
            and (kind == "all" or e.kind == kind)
        ]
        if not chosen:
            raise BankError("the selection is empty: no exercise matches these filters")
        return chosen


def resolve_topic(name: str) -> str:
    """A topic name or a section number (as text) -> the topic name."""
    text = name.strip().lower()
    if text.isdigit() and int(text) in TOPICS:
        return TOPICS[int(text)]
    if text in TOPICS.values():
        return text
    raise BankError(f"unknown topic {name!r}: use one of {', '.join(TOPICS.values())} or 1-12")


def _builtin_modules() -> Iterator[object]:
    import exercises

    for info in pkgutil.walk_packages(exercises.__path__, prefix="exercises."):
        try:
            yield importlib.import_module(info.name)
        except Exception as error:  # a broken built-in module: name it, don't traceback
            raise BankError(f"built-in bank module {info.name} failed to load: {type(error).__name__}: {error}") from error


def _exercises_of(module: object, origin: str) -> list[Exercise]:
    declared = getattr(module, "EXERCISES", None)
    if declared is None:
        return []
    declared = list(declared)
    for item in declared:
        if not isinstance(item, Exercise):
            raise BankError(f"{origin}: EXERCISES holds {type(item).__name__}, not an Exercise")
    return declared


SOLUTIONS_IN_BANK = Path("solutions") / "exercise.py"
"""Where a bank folder keeps the instructor's implementations of its code exercises."""


def _with_bank_solution(exercise: Exercise, folder: Path) -> Exercise:
    """A code exercise of a bank folder that holds `solutions/exercise.py` and names no
    solution file of its own takes the folder's."""
    solution = folder / SOLUTIONS_IN_BANK
    if exercise.kind != "code" or getattr(exercise, "solution", None) is not None or not solution.is_file():
        return exercise
    return dataclasses.replace(exercise, solution=solution.resolve())  # type: ignore[type-var]


def _load_file(path: Path) -> list[Exercise]:
    module_name = f"grader_user_bank_{path.stem}_{abs(hash(str(path.resolve())))}"
    try:
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise BankError(f"{path}: not a Python module")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    except BankError:
        raise
    except Exception as error:  # an instructor's file may fail in any way
        raise BankError(f"{path}: could not load bank file: {type(error).__name__}: {error}") from error
    found = _exercises_of(module, str(path))
    if not hasattr(module, "EXERCISES"):
        raise BankError(f"{path}: a bank file must define EXERCISES = [...]")
    return found


def load_bank(extra_dirs: Iterable[str | Path] = (), *, builtin: bool = True) -> Bank:
    """The built-in exercises followed by those of each `--bank` folder (its *.py files in
    name order)."""
    single_thread()  # tiny tensors here; and a process that used several threads hangs its forks
    exercises: list[Exercise] = []
    if builtin:
        for module in _builtin_modules():
            exercises.extend(_exercises_of(module, getattr(module, "__name__", "?")))
    for folder in extra_dirs:
        folder = Path(folder)
        if not folder.is_dir():
            raise BankError(f"{folder}: bank folder does not exist")
        for path in sorted(folder.glob("*.py")):
            exercises.extend(_with_bank_solution(e, folder) for e in _load_file(path))
    try:
        return Bank(tuple(exercises))
    except BankError as error:
        raise BankError(f"{error} (in the bank folders {', '.join(map(str, extra_dirs)) or 'built-in'})") from None


_DEFAULT_BANK: Bank | None = None


def default_bank() -> Bank:
    """The built-in bank, loaded once per process."""
    global _DEFAULT_BANK
    if _DEFAULT_BANK is None:
        _DEFAULT_BANK = load_bank()
    return _DEFAULT_BANK
