"""Fixtures of the student-kit tests: small quizzes (exam and practice) made by the real
`grader new-quiz`, built once per session, and a runner for `python check.pyz` in a
subprocess where the project's packages (and numpy) cannot be imported."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.cli import main
from click.testing import CliRunner

CODE = ("code_diffusion_loss", "code_layer_norm", "code_conv2d", "code_dropout", "code_fgsm", "code_skipgram_pairs")
ANSWER = ("optimization_sgd_step", "fundamentals_diagnose_fit", "fundamentals_fit_remedies", "optimization_relu_backward")

BLOCKER = '''
import sys

class _Blocker:
    """Importing the project's packages fails, as on a student's machine; numpy too (torch
    does not need it)."""
    blocked = ("grader", "reference", "solutions", "exercises", "numpy")

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in self.blocked:
            raise ModuleNotFoundError(f"No module named {name!r} (blocked)", name=name)
        return None

sys.meta_path.insert(0, _Blocker())
'''

NO_LINUX_FACILITIES = '''
import os, signal
for _module, _name in ((os, "pidfd_open"), (signal, "pidfd_send_signal")):
    if hasattr(_module, _name):
        delattr(_module, _name)
_Blocker.blocked = _Blocker.blocked + ("resource",)
'''


def _new_quiz(out: Path, mode: str) -> Path:
    result = CliRunner().invoke(
        main, ["new-quiz", "--out", str(out), "--students", "ana", "--exercises", ",".join(CODE + ANSWER), "--mode", mode],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def exam_quiz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _new_quiz(tmp_path_factory.mktemp("kit") / "exam", "exam")


@pytest.fixture(scope="session")
def practice_quiz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _new_quiz(tmp_path_factory.mktemp("kit") / "practice", "practice")


@pytest.fixture(scope="session")
def run_kit(tmp_path_factory: pytest.TempPathFactory):
    """run_kit(kit, file, *args, linux=True) -> CompletedProcess: `python check.pyz FILE`
    in a fresh folder, with an import blocker in sitecustomize (and, with linux=False,
    without pidfd, `resource` and, where bwrap can hide it, /proc)."""
    folders = {}
    for linux in (True, False):
        folder = tmp_path_factory.mktemp("blocker")
        (folder / "sitecustomize.py").write_text(BLOCKER + ("" if linux else NO_LINUX_FACILITIES))
        folders[linux] = folder

    def run(kit: Path, file: Path, *args: str, linux: bool = True) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env.update(PYTHONPATH=str(folders[linux]), COLUMNS="80", PYTHONDONTWRITEBYTECODE="1")
        command = [sys.executable, str(kit), str(file), *args]
        if not linux and shutil.which("bwrap") and os.geteuid() == 0:
            command = ["bwrap", "--bind", "/", "/", "--tmpfs", "/proc", "--dev", "/dev", *command]
        return subprocess.run(command, capture_output=True, text=True, env=env, cwd=file.parent, timeout=600)

    return run
