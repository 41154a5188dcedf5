"""`grader export gradescope`: the autograder zip an instructor uploads to Gradescope.

Layout of the zip (Gradescope unpacks it into `<root>/source`, root `/autograder`):

    setup.sh            installs Python packages, bubblewrap and this project (run once per image)
    run_autograder      grades one submission: `python -m grader.gradescope.autograder`
    grader-src/         this project's source (pyproject.toml and its packages)
    quiz/quiz.toml      the quiz spec (roster with ids and emails; no secret)
    quiz/key/<id>/variant.json   every student's variant: questions, keys, code seeds
    quiz/bank/<n>/      copies of the quiz's instructor bank folders, if any
    id_map.csv          optional: LMS/Gradescope ids (`lms_id,id`) to roster ids
    bundle.json         what the bundle was built from, and its options

The bundle carries every student's keys and the hidden tests (they run on Gradescope's
side, never on a student's machine): do not hand it to students.  The secret, the handouts
and the filled answer sheets stay out of it.
"""

from __future__ import annotations

import json
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import grader
from grader.errors import GraderError
from grader import __version__
from grader.quiz.spec import SPEC_FILE, SpecError, read_spec

PROJECT_PACKAGES = ("grader", "reference", "solutions", "exercises")
PROJECT_FILES = ("pyproject.toml", "README.md")
BUNDLE_INFO = "bundle.json"
ID_MAP_FILE = "id_map.csv"

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image.  It needs Python >= 3.11
# (choose an Ubuntu 24.04 base image).  TORCH_REQUIREMENT picks the torch build.
set -euo pipefail
root="${AUTOGRADER_ROOT:-/autograder}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends python3 python3-pip python3-venv bubblewrap
python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "grader needs Python >= 3.11: choose a newer base image")'
python3 -m venv "$root/venv"
"$root/venv/bin/pip" install -q "${TORCH_REQUIREMENT:-torch>=2.2,<3}"
"$root/venv/bin/pip" install -q "$root/source/grader-src"
"$root/venv/bin/python3" -m grader.cli doctor || echo "grader doctor: grading cannot run confined on this image"
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for every submission.  AUTOGRADER_ROOT replaces /autograder (tests).
set -uo pipefail
root="${AUTOGRADER_ROOT:-/autograder}"
python="$root/venv/bin/python3"
[ -x "$python" ] || python="$(command -v python3)"
exec "$python" -m grader.gradescope.autograder --root "$root"
"""


class BundleError(GraderError, ValueError):
    """The bundle cannot be built (the message says why)."""


@dataclass(frozen=True)
class BundleInfo:
    """What `build_bundle` wrote."""

    path: Path
    students: int
    files: tuple[str, ...]
    size: int


def project_root() -> Path:
    """The folder holding this project's packages and pyproject.toml."""
    return Path(grader.__file__).resolve().parent.parent


def _copy_tree(source: Path, target: Path) -> None:
    shutil.copytree(source, target, symlinks=False, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))


def _stage(quiz_dir: Path, stage: Path, id_map: Path | None, allow_unconfined: bool) -> int:
    try:
        spec = read_spec(quiz_dir)
    except SpecError as error:
        raise BundleError(str(error)) from None
    root = project_root()
    missing = [name for name in PROJECT_FILES[:1] + PROJECT_PACKAGES if not (root / name).exists()]
    if missing:
        raise BundleError(f"{root}: this installation has no {', '.join(missing)}; install grader from its source folder")
    for name in PROJECT_PACKAGES:
        _copy_tree(root / name, stage / "grader-src" / name)
    for name in PROJECT_FILES:
        if (root / name).exists():
            shutil.copy2(root / name, stage / "grader-src" / name)
    banks = []
    for index, bank in enumerate(spec.bank_dirs):
        if not Path(bank).is_dir():
            raise BundleError(f"the quiz's bank folder {bank} is missing")
        _copy_tree(Path(bank), stage / "quiz" / "bank" / str(index))
        banks.append(f"bank/{index}")
    (stage / "quiz").mkdir(parents=True, exist_ok=True)
    (stage / "quiz" / SPEC_FILE).write_text(replace(spec, bank_dirs=tuple(banks)).to_toml(), encoding="utf-8")
    for student in spec.students:
        variant = quiz_dir / "key" / student.id / "variant.json"
        if not variant.is_file():
            raise BundleError(f"{variant}: missing; is this a complete quiz folder?")
        (stage / "quiz" / "key" / student.id).mkdir(parents=True)
        shutil.copy2(variant, stage / "quiz" / "key" / student.id / "variant.json")
    if id_map is not None:
        from grader.gradebook.submissions import IdMapError, read_id_map

        try:
            read_id_map(id_map, spec.students)  # refused now, not on Gradescope
        except IdMapError as error:
            raise BundleError(str(error)) from None
        shutil.copy2(id_map, stage / ID_MAP_FILE)
    info = {"grader_version": __version__, "quiz_id": spec.quiz_id, "title": spec.title,
            "allow_unconfined": allow_unconfined, "id_map": id_map is not None}
    (stage / BUNDLE_INFO).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    for name, text in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER)):
        (stage / name).write_text(text, encoding="utf-8")
    return len(spec.students)


def build_bundle(quiz_dir: Path, out: Path, id_map: Path | None = None, allow_unconfined: bool = False) -> BundleInfo:
    """Write the autograder zip for the quiz at `quiz_dir` to `out`.

    allow_unconfined: on an image where bubblewrap cannot run, grade without the sandbox
    (recorded on the student's results) instead of refusing; off by default.
    """
    quiz_dir, out = Path(quiz_dir), Path(out)
    with tempfile.TemporaryDirectory(prefix="grader-gradescope-") as tmp:
        stage = Path(tmp)
        students = _stage(quiz_dir, stage, id_map, allow_unconfined)
        names = []
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(out.name + ".partial")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(p for p in stage.rglob("*") if p.is_file()):
                name = path.relative_to(stage).as_posix()
                entry = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
                executable = name in ("setup.sh", "run_autograder")
                entry.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
                entry.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(entry, path.read_bytes())
                names.append(name)
        partial.replace(out)
    return BundleInfo(out, students, tuple(names), out.stat().st_size)
