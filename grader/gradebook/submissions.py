"""Finding the submissions of a class and reading them safely.

Two layouts are accepted, and may be mixed in one folder:

* one folder per student, named by the student's id (or by an LMS id of the `--id-map`),
  holding `answers.toml` and/or `exercise.py`;
* an LMS bulk export: a flat folder of files named the way Canvas
  (`doejane_12345_67890_exercise.py`, `doejane_LATE_12345_67890_answers.toml`, with `-1`,
  `-2` ... before the extension for repeated uploads) or Moodle
  (`Jane Doe_12345_assignsubmission_file_exercise.py`, or a folder
  `Jane Doe_12345_assignsubmission_file_/` holding the files) name them.

An LMS id is mapped to a roster id through the id map (`lms_id,id` CSV) first, then by
equality with a roster id, then by the student's name when exactly one roster name
matches. Anything that cannot be mapped is returned as `Unmatched`, with the reason.

Submissions are hostile. Symlinks are followed only when their target stays inside the
submissions folder; only regular files are read (never FIFOs or devices, opened
non-blocking); a file larger than the cap is not loaded (its first bytes and its size
enter the content hash); names are shown through `display_name`.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from grader.quiz.roster import Student, read_csv

ANSWERS_FILE = "answers.toml"
CODE_FILE = "exercise.py"
SUBMISSION_FILES = (ANSWERS_FILE, CODE_FILE)
DEFAULT_MAX_FILE_BYTES = 1_000_000  # 1 MB, the judge's limit on exercise.py too

_CANVAS = re.compile(
    r"^(?P<name>[^_]+?)(?P<late>_LATE)?_(?P<lms>\d+)_(?P<sub>\d+)_(?P<file>.+)$"
)
_MOODLE = re.compile(r"^(?P<name>.+?)_(?P<lms>\d+)_assignsubmission_[a-z]+_(?P<file>.*)$")
_UPLOAD_NAME = re.compile(r"^(?P<stem>answers|exercise)(?:-(?P<copy>\d+))?\.(?P<ext>toml|py)$", re.I)


class IdMapError(ValueError):
    """The --id-map CSV cannot be used; the message says why."""


@dataclass(frozen=True)
class FileRef:
    """Where one submitted file was found.

    name: its canonical name (`answers.toml` or `exercise.py`); path: the path to open;
    origin: the path relative to the submissions folder, for messages; rank: among several
    candidates for the same name, the highest rank wins (LMS submission id, upload copy).
    """

    name: str
    path: Path
    origin: str
    rank: tuple[int, ...] = (0,)


@dataclass(frozen=True)
class Found:
    """A student's submitted files (canonical name -> reference) and notes about them."""

    student: str
    files: dict[str, FileRef]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Unmatched:
    """A file or folder of the submissions folder that belongs to no student."""

    origin: str
    reason: str


@dataclass(frozen=True)
class Discovery:
    found: dict[str, Found]
    unmatched: tuple[Unmatched, ...]


@dataclass(frozen=True)
class LoadedFile:
    """One submitted file as read: `data` is None when it could not be loaded, and then
    `error` says why (over the size cap, not a regular file, unreadable)."""

    name: str
    origin: str
    size: int
    data: bytes | None
    error: str = ""

    @property
    def too_large(self) -> bool:
        return self.error.startswith("too large")


@dataclass(frozen=True)
class LoadedSubmission:
    student: str
    files: dict[str, LoadedFile]
    content_hash: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    def manifest(self) -> list[dict[str, object]]:
        """JSON-able list of the files: name, origin, size, error."""
        return [
            {"name": f.name, "origin": f.origin, "size": f.size, "error": f.error}
            for f in self.files.values()
        ]


def display_name(name: str, limit: int = 160) -> str:
    """A file name fit for a terminal or a log: undecodable bytes and control characters
    escaped, cut at `limit` characters."""
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def read_id_map(path: Path, students: Sequence[Student]) -> dict[str, str]:
    """`lms_id,id` CSV -> {lms id: roster id}. Ids not in the roster are an error."""
    reader, columns = read_csv(path, IdMapError)
    if "lms_id" not in columns or "id" not in columns:
        raise IdMapError(f"{path}: the id map needs a header row with columns lms_id,id")
    known = {s.id for s in students}
    mapping: dict[str, str] = {}
    for row in reader:
        line = reader.line_num
        lms_id = (row.get(columns["lms_id"]) or "").strip()
        student = (row.get(columns["id"]) or "").strip()
        if not lms_id and not student:
            continue
        if student not in known:
            raise IdMapError(f"{path}, line {line}: {student!r} is not a student of this quiz")
        if lms_id in mapping and mapping[lms_id] != student:
            raise IdMapError(f"{path}, line {line}: LMS id {lms_id!r} is mapped twice")
        mapping[lms_id] = student
    return mapping


def _letters(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def _name_index(students: Sequence[Student]) -> dict[str, set[str]]:
    """Normalized names ("janedoe" and "doejane") -> the ids carrying them."""
    index: dict[str, set[str]] = {}
    for student in students:
        words = student.name.split()
        if not words:
            continue
        for variant in {"".join(words), "".join(words[1:] + words[:1]), "".join(words[-1:] + words[:-1])}:
            index.setdefault(_letters(variant), set()).add(student.id)
    return index


class _Resolver:
    """Maps folder names and LMS (id, name) pairs to roster ids."""

    def __init__(self, students: Sequence[Student], id_map: Mapping[str, str]):
        self.ids = {s.id for s in students}
        self.id_map = dict(id_map)
        self.names = _name_index(students)

    def folder(self, name: str) -> str | None:
        if name in self.ids:
            return name
        return self.id_map.get(name)

    def lms(self, lms_id: str, name: str) -> str | None:
        if lms_id in self.id_map:
            return self.id_map[lms_id]
        if lms_id in self.ids:
            return lms_id
        matches = self.names.get(_letters(name), set())
        return next(iter(matches)) if len(matches) == 1 else None


def _inside(root_real: str, path: Path) -> bool:
    real = os.path.realpath(path)
    return real == root_real or real.startswith(root_real + os.sep)


def _upload_name(file_name: str) -> tuple[str, int] | None:
    """`exercise-2.py` -> ("exercise.py", 2); None for any other file."""
    match = _UPLOAD_NAME.match(file_name)
    if not match:
        return None
    canonical = f"{match['stem'].lower()}.{match['ext'].lower()}"
    if canonical not in SUBMISSION_FILES:
        return None
    return canonical, int(match["copy"] or 0)


class _Collector:
    def __init__(self) -> None:
        self.files: dict[str, dict[str, list[FileRef]]] = {}
        self.notes: dict[str, list[str]] = {}
        self.unmatched: list[Unmatched] = []

    def add(self, student: str, ref: FileRef) -> None:
        self.files.setdefault(student, {}).setdefault(ref.name, []).append(ref)

    def note(self, student: str, text: str) -> None:
        self.notes.setdefault(student, []).append(text)

    def result(self) -> Discovery:
        found: dict[str, Found] = {}
        for student, by_name in sorted(self.files.items()):
            chosen: dict[str, FileRef] = {}
            notes = list(self.notes.get(student, []))
            for name in SUBMISSION_FILES:
                candidates = sorted(by_name.get(name, []), key=lambda r: r.rank)
                if not candidates:
                    continue
                chosen[name] = candidates[-1]
                if len(candidates) > 1:
                    notes.append(
                        f"{name}: {len(candidates)} files found; graded {candidates[-1].origin}"
                    )
            found[student] = Found(student, chosen, tuple(notes))
        for student, notes in self.notes.items():
            if student not in found:
                found[student] = Found(student, {}, tuple(notes))
        return Discovery(found, tuple(sorted(self.unmatched, key=lambda u: u.origin)))


def discover(
    root: Path,
    students: Sequence[Student],
    id_map: Mapping[str, str] | None = None,
    exclude: Iterable[Path] = (),
) -> Discovery:
    """Find every student's files under `root` (see the module docstring).

    `exclude`: paths inside `root` to pass over silently (the output folder, when it lies
    inside the submissions folder). Names starting with "." are passed over too.
    """
    root = Path(root)
    root_real = os.path.realpath(root)
    excluded = {os.path.realpath(p) for p in exclude}
    resolver = _Resolver(students, id_map or {})
    collector = _Collector()
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        origin = display_name(entry.name)
        path = Path(entry.path)
        if entry.name.startswith(".") or os.path.realpath(path) in excluded:
            continue
        if entry.is_symlink() and not _inside(root_real, path):
            collector.unmatched.append(Unmatched(origin, "symlink pointing outside the submissions folder"))
            continue
        if entry.is_dir():
            _scan_folder(path, entry.name, root_real, resolver, collector)
        elif entry.is_file():
            _scan_lms_file(path, entry.name, resolver, collector)
        else:
            collector.unmatched.append(Unmatched(origin, "not a regular file or folder"))
    return collector.result()


def _scan_folder(
    path: Path, name: str, root_real: str, resolver: _Resolver, collector: _Collector
) -> None:
    origin = display_name(name)
    student = resolver.folder(name)
    rank: tuple[int, ...] = (1_000_000_000,)  # a student's own folder beats LMS files
    if student is None:
        moodle = _MOODLE.match(name)
        if moodle and not moodle["file"]:
            student = resolver.lms(moodle["lms"], moodle["name"])
            rank = (0,)
            if student is None:
                collector.unmatched.append(
                    Unmatched(origin, f"no roster student for LMS id {moodle['lms']} (add it to --id-map)")
                )
                return
    if student is None:
        collector.unmatched.append(Unmatched(origin, "folder name is not a student id of this quiz"))
        return
    ignored: list[str] = []
    try:
        entries = sorted(os.scandir(path), key=lambda e: e.name)
    except OSError as error:
        collector.note(student, f"{origin}: cannot list the folder ({error.strerror})")
        return
    for entry in entries:
        inner = f"{origin}/{display_name(entry.name)}"
        if entry.name in SUBMISSION_FILES:
            if entry.is_symlink() and not _inside(root_real, Path(entry.path)):
                collector.note(student, f"{inner}: symlink pointing outside the submissions folder, ignored")
                continue
            collector.add(student, FileRef(entry.name, Path(entry.path), inner, rank))
        elif not entry.name.startswith("."):
            ignored.append(display_name(entry.name))
    if ignored:
        collector.note(student, f"{origin}: ignored {', '.join(ignored[:10])}" + (" ..." if len(ignored) > 10 else ""))
    if student not in collector.files and student not in collector.notes:
        collector.note(student, f"{origin}: empty folder")


def _scan_lms_file(path: Path, name: str, resolver: _Resolver, collector: _Collector) -> None:
    origin = display_name(name)
    canvas = _CANVAS.match(name)
    moodle = _MOODLE.match(name)
    if moodle and moodle["file"]:
        lms_id, person, file_name, submission = moodle["lms"], moodle["name"], moodle["file"], 0
    elif canvas:
        lms_id, person, file_name = canvas["lms"], canvas["name"], canvas["file"]
        submission = int(canvas["sub"])
    else:
        collector.unmatched.append(
            Unmatched(origin, "not in a student folder and not named like a Canvas or Moodle export")
        )
        return
    student = resolver.lms(lms_id, person)
    if student is None:
        collector.unmatched.append(
            Unmatched(origin, f"no roster student for LMS id {lms_id} (add it to --id-map)")
        )
        return
    upload = _upload_name(file_name)
    if upload is None:
        collector.note(student, f"{origin}: not answers.toml or exercise.py, ignored")
        return
    canonical, copy = upload
    collector.add(student, FileRef(canonical, path, origin, (submission, copy)))


def read_capped(path: Path, root_real: str, cap: int) -> tuple[int, bytes, str]:
    """(size, bytes, error) of a regular file inside the submissions folder.

    At most cap + 1 bytes are read; error is "" when the whole file was read within the cap.
    """
    if not _inside(root_real, path):
        return 0, b"", "symlink pointing outside the submissions folder"
    real = os.path.realpath(path)
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        return 0, b"", f"cannot open it ({error.strerror})"
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return 0, b"", "not a regular file"
        chunks: list[bytes] = []
        remaining = cap + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        data = b"".join(chunks)
    except OSError as error:
        return 0, b"", f"cannot read it ({error.strerror})"
    finally:
        os.close(fd)
    size = max(info.st_size, len(data))
    if len(data) > cap:
        return size, data, f"too large: {size} bytes, over the {cap}-byte limit"
    return size, data, ""


def load(found: Found, root: Path, cap: int = DEFAULT_MAX_FILE_BYTES) -> LoadedSubmission:
    """Read a student's files (each at most `cap` bytes) and hash them.

    The content hash is SHA-256 over each file's canonical name, size and bytes (for a file
    over the cap: its first cap + 1 bytes), in name order.
    """
    root_real = os.path.realpath(root)
    digest = hashlib.sha256(b"grader-submission-v1\0")
    files: dict[str, LoadedFile] = {}
    for name in sorted(found.files):
        ref = found.files[name]
        size, data, error = read_capped(ref.path, root_real, cap)
        digest.update(f"{name}\0{size}\0{error}\0{len(data)}\0".encode())
        digest.update(data)
        files[name] = LoadedFile(name, ref.origin, size, None if error else data, error)
    return LoadedSubmission(found.student, files, digest.hexdigest(), found.notes)
