"""Finding the submissions of a class and reading them safely.

Two layouts are accepted, and may be mixed in one folder:

* one folder per student, named by the student's id (or by an LMS id of the `--id-map`),
  holding `answers.toml` and/or `exercise.py` (or holding one folder that holds them:
  files are looked for one level down too);
* an LMS bulk export: a flat folder of files named the way Canvas
  (`doejane_12345_67890_exercise.py`, `doejane_LATE_12345_67890_answers.toml`) or Moodle
  (`Jane Doe_12345_assignsubmission_file_exercise.py`, or a folder
  `Jane Doe_12345_assignsubmission_file_/` holding the files) name them.

Both layouts accept the same file names (`submitted_name`): `answers.toml` and
`exercise.py` in any letter case, with a copy suffix (`exercise-1.py` from an LMS,
`exercise (1).py` from a browser); the highest copy number wins.  A student whose files
are all named otherwise is "submitted but not recognized" (`Found.unrecognized`), never
"no submission".

The export format is decided once per folder (`export_format`: the naming scheme most of
its files follow), and a file's LMS id is read only from that format's own fields, never
from the part of the name the student chose (a Canvas upload named
`x_1001_assignsubmission_file_exercise.py` stays the uploader's file).  An LMS id is
mapped to a roster id through the id map (`lms_id,id` CSV) first, then by equality with a
roster id, then by the student's name when exactly one roster name matches. Anything that
cannot be mapped is returned as `Unmatched`, with the reason.

Submissions are hostile. A symbolic link is never followed (it is listed as unmatched and
noted for its student); only regular files are read (never FIFOs or devices, opened
non-blocking, by `grader.student_file.read`); a file larger than the cap is not loaded
(its first bytes and its size enter the content hash); names are shown through
`display_name`.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from grader.errors import GraderError
from grader.notebooks import NOTEBOOK_FILE, code_file_source
from grader.quiz.roster import Student, read_csv
from grader.student_file import MAX_BYTES, StudentFileError, too_large_message
from grader.student_file import read as read_student_file

ANSWERS_FILE = "answers.toml"
CODE_FILE = "exercise.py"
SUBMISSION_FILES = (ANSWERS_FILE, CODE_FILE, NOTEBOOK_FILE)
"""exercise.ipynb stands in for exercise.py: its code cells are the module (`grader.notebooks`)."""
DEFAULT_MAX_FILE_BYTES = MAX_BYTES  # grader.student_file: one limit for every student file
LINK_NOT_FOLLOWED = "a symbolic link; links are not followed"

_CANVAS = re.compile(
    r"^(?P<name>[^_]+?)(?P<late>_LATE)?_(?P<lms>\d+)_(?P<sub>\d+)_(?P<file>.+)$"
)
_MOODLE = re.compile(r"^(?P<name>.+?)_(?P<lms>\d+)_assignsubmission_[a-z]+_(?P<file>.*)$")
_UPLOAD_NAME = re.compile(
    r"^(?P<stem>answers|exercise)(?:-(?P<copy>\d+)|\s*\((?P<paren>\d+)\))?\.(?P<ext>toml|py|ipynb)$", re.I
)


class IdMapError(GraderError, ValueError):
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
    unrecognized: tuple[str, ...] = ()  # files handed in under names that are not recognized


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
        return " is too large (" in self.error


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
    rows, columns = read_csv(path, IdMapError)
    if "lms_id" not in columns or "id" not in columns:
        raise IdMapError(f"{path}: the id map needs a header row with columns lms_id,id")
    known = {s.id for s in students}
    mapping: dict[str, str] = {}
    for line, row in rows:
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


def submitted_name(file_name: str) -> tuple[str, int] | None:
    """The canonical name a submitted file stands for, and its copy number:
    `exercise-2.py` -> ("exercise.py", 2), `Answers (1).TOML` -> ("answers.toml", 1),
    `answers.toml` -> ("answers.toml", 0); None for any other name."""
    match = _UPLOAD_NAME.match(file_name)
    if not match:
        return None
    canonical = f"{match['stem'].lower()}.{match['ext'].lower()}"
    if canonical not in SUBMISSION_FILES:
        return None
    return canonical, int(match["copy"] or match["paren"] or 0)


def _is_link(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_symlink()
    except OSError:
        return True


class _Collector:
    def __init__(self) -> None:
        self.files: dict[str, dict[str, list[FileRef]]] = {}
        self.notes: dict[str, list[str]] = {}
        self.unrecognized: dict[str, list[str]] = {}
        self.unmatched: list[Unmatched] = []

    def add(self, student: str, ref: FileRef) -> None:
        self.files.setdefault(student, {}).setdefault(ref.name, []).append(ref)

    def note(self, student: str, text: str) -> None:
        self.notes.setdefault(student, []).append(text)

    def not_recognized(self, student: str, origin: str) -> None:
        self.unrecognized.setdefault(student, []).append(origin)

    def link(self, student: str | None, origin: str) -> None:
        """A symbolic link: never followed; listed for the summary and noted for its student."""
        self.unmatched.append(Unmatched(origin, LINK_NOT_FOLLOWED))
        if student is not None:
            self.note(student, f"{origin}: {LINK_NOT_FOLLOWED}, so it was not graded")
            self.not_recognized(student, origin)

    def result(self) -> Discovery:
        found: dict[str, Found] = {}
        for student in sorted(set(self.files) | set(self.notes) | set(self.unrecognized)):
            by_name = self.files.get(student, {})
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
            if CODE_FILE in chosen and NOTEBOOK_FILE in chosen:
                ignored = chosen.pop(NOTEBOOK_FILE)
                notes.append(f"{ignored.origin}: ignored, {CODE_FILE} was handed in too and was graded")
            unrecognized = tuple(self.unrecognized.get(student, ()))
            shown = ", ".join(unrecognized[:10]) + (" ..." if len(unrecognized) > 10 else "")
            if unrecognized and not chosen:
                notes.append(
                    f"Submitted but not recognized: {shown}. Name the files {ANSWERS_FILE} and {CODE_FILE}."
                )
            elif unrecognized:
                notes.append(f"ignored (not {ANSWERS_FILE} or {CODE_FILE}): {shown}")
            found[student] = Found(student, chosen, tuple(notes), unrecognized)
        return Discovery(found, tuple(sorted(self.unmatched, key=lambda u: u.origin)))


def export_format(names: Iterable[str]) -> str | None:
    """"canvas" or "moodle": the LMS naming scheme most of a folder's entries follow (None
    when no entry follows either, or as many follow each).  A Moodle name never fits the
    Canvas pattern, but a Canvas upload can carry a Moodle-looking name the student chose,
    so a name fitting both counts for Canvas."""
    canvas = moodle = 0
    for name in names:
        if _CANVAS.match(name):
            canvas += 1
        elif _MOODLE.match(name):
            moodle += 1
    if canvas == moodle:
        return None
    return "canvas" if canvas > moodle else "moodle"


def discover(
    root: Path,
    students: Sequence[Student],
    id_map: Mapping[str, str] | None = None,
    exclude: Iterable[Path] = (),
) -> Discovery:
    """Find every student's files under `root` (see the module docstring).

    `exclude`: paths inside `root` to pass over silently. Names starting with "." are
    passed over too.
    """
    root = Path(root)
    excluded = {os.path.realpath(p) for p in exclude}
    resolver = _Resolver(students, id_map or {})
    collector = _Collector()
    entries = [
        e for e in sorted(os.scandir(root), key=lambda e: e.name)
        if not e.name.startswith(".") and os.path.realpath(e.path) not in excluded
    ]
    lms = export_format(e.name for e in entries if not _is_link(e) and (e.is_file() or _is_moodle_folder(e.name)))
    for entry in entries:
        origin = display_name(entry.name)
        path = Path(entry.path)
        if _is_link(entry):
            collector.link(resolver.folder(entry.name), origin)
        elif entry.is_dir(follow_symlinks=False):
            _scan_folder(path, entry.name, lms, resolver, collector)
        elif entry.is_file(follow_symlinks=False):
            _scan_lms_file(path, entry.name, lms, resolver, collector)
        else:
            collector.unmatched.append(Unmatched(origin, "not a regular file or folder"))
    return collector.result()


def _is_moodle_folder(name: str) -> bool:
    match = _MOODLE.match(name)
    return bool(match) and not match["file"]


def _scan_folder(path: Path, name: str, lms: str | None, resolver: _Resolver, collector: _Collector) -> None:
    origin = display_name(name)
    student = resolver.folder(name)
    rank: tuple[int, ...] = (1_000_000_000,)  # a student's own folder beats LMS files
    if student is None and _is_moodle_folder(name):
        moodle = _MOODLE.match(name)
        assert moodle is not None
        if lms != "moodle":
            collector.unmatched.append(Unmatched(origin, _other_format("Moodle", lms)))
            return
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
    found_any = _scan_student_files(path, origin, student, rank, collector, ignored)
    if not found_any:  # one level down: u2024025/week5_submission/answers.toml
        for sub in _subfolders(path, origin, student, collector):
            found_any |= _scan_student_files(
                Path(sub.path), f"{origin}/{display_name(sub.name)}", student, rank[:1] + (-1,), collector, ignored
            )
    if ignored and not found_any:
        for item in ignored:
            collector.not_recognized(student, item)
    elif ignored:
        collector.note(student, f"{origin}: ignored {', '.join(ignored[:10])}" + (" ..." if len(ignored) > 10 else ""))
    if student not in collector.files and student not in collector.notes and student not in collector.unrecognized:
        collector.note(student, f"{origin}: empty folder")


def _listing(path: Path, origin: str, student: str, collector: _Collector) -> list[os.DirEntry[str]]:
    try:
        return sorted(os.scandir(path), key=lambda e: e.name)
    except OSError as error:
        collector.note(student, f"{origin}: cannot list the folder ({error.strerror})")
        return []


def _subfolders(path: Path, origin: str, student: str, collector: _Collector) -> list[os.DirEntry[str]]:
    return [
        e for e in _listing(path, origin, student, collector)
        if not e.name.startswith(".") and not _is_link(e) and e.is_dir(follow_symlinks=False)
    ]


def _scan_student_files(
    path: Path, origin: str, student: str, rank: tuple[int, ...], collector: _Collector, ignored: list[str]
) -> bool:
    """Add the submitted files directly in `path`; the other names go to `ignored`.
    Returns whether a submitted file was found."""
    found = False
    for entry in _listing(path, origin, student, collector):
        if entry.name.startswith("."):
            continue
        inner = f"{origin}/{display_name(entry.name)}"
        if _is_link(entry):
            collector.link(student, inner)
            continue
        if entry.is_dir(follow_symlinks=False):
            continue
        submitted = submitted_name(entry.name)
        if submitted is None:
            ignored.append(inner)
            continue
        canonical, copy = submitted
        collector.add(student, FileRef(canonical, Path(entry.path), inner, rank + (copy,)))
        found = True
    return found


def _other_format(kind: str, lms: str | None) -> str:
    if lms is None:
        return f"named like a {kind} export, in a folder that mixes Canvas and Moodle names equally"
    return f"named like a {kind} export, but this folder is a {lms.capitalize()} export"


def _scan_lms_file(path: Path, name: str, lms: str | None, resolver: _Resolver, collector: _Collector) -> None:
    origin = display_name(name)
    canvas = _CANVAS.match(name)
    moodle = _MOODLE.match(name)
    if lms == "canvas" and canvas:
        lms_id, person, file_name = canvas["lms"], canvas["name"], canvas["file"]
        submission = int(canvas["sub"])
    elif lms == "moodle" and moodle and moodle["file"] and not canvas:
        lms_id, person, file_name, submission = moodle["lms"], moodle["name"], moodle["file"], 0
    elif canvas or moodle:
        collector.unmatched.append(Unmatched(origin, _other_format("Canvas" if canvas else "Moodle", lms)))
        return
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
    upload = submitted_name(file_name)
    if upload is None:
        collector.not_recognized(student, origin)
        return
    canonical, copy = upload
    collector.add(student, FileRef(canonical, path, origin, (submission, copy)))


def read_capped(path: Path, root_real: str, cap: int, name: str | None = None) -> tuple[int, bytes, str]:
    """(size, bytes, error) of a regular file inside the submissions folder, read by
    `grader.student_file.read` (a symlink is refused).

    At most cap + 1 bytes are read; error is "" when the whole file was read within the cap.
    `name`: the file's name in the messages (default: its own).
    """
    name = name or path.name
    if not _inside(root_real, path.parent):
        return 0, b"", f"{name}: {LINK_NOT_FOLLOWED}"
    try:
        size, data = read_student_file(path, cap)
    except StudentFileError as error:
        return 0, b"", str(error).replace(path.name, name, 1)
    if len(data) > cap or size > cap:
        return size, data, too_large_message(name, size, cap)
    return size, data, ""


def load(found: Found, root: Path, cap: int = DEFAULT_MAX_FILE_BYTES) -> LoadedSubmission:
    """Read a student's files (each at most `cap` bytes) and hash them.

    The content hash is SHA-256 over each file's canonical name, size and bytes (for a file
    over the cap: its first cap + 1 bytes), in name order.
    """
    root_real = os.path.realpath(root)
    digest = hashlib.sha256(b"grader-submission-v1\0")
    files: dict[str, LoadedFile] = {}
    notes = list(found.notes)
    for name in sorted(found.files):
        ref = found.files[name]
        size, data, error = read_capped(ref.path, root_real, cap, name)
        digest.update(f"{name}\0{size}\0{error}\0{len(data)}\0".encode())
        digest.update(data)
        if name == NOTEBOOK_FILE:
            name, data, error = CODE_FILE, *_notebook_module(data, error, notes)
        files[name] = LoadedFile(name, ref.origin, size, None if error else data, error)
    return LoadedSubmission(found.student, files, digest.hexdigest(), tuple(notes))


def _notebook_module(data: bytes, error: str, notes: list[str]) -> tuple[bytes, str]:
    """exercise.ipynb read as exercise.py: (source, error); the dropped lines go to `notes`."""
    if error:
        return b"", f"(handed in as {NOTEBOOK_FILE}): {error}"
    try:
        source, dropped = code_file_source(NOTEBOOK_FILE, data)
    except ValueError as problem:  # NotebookError, StudentFileError: the student's message
        return b"", f"(handed in as {NOTEBOOK_FILE}) could not be read: {problem}"
    notes.extend(dropped)
    return source, ""
