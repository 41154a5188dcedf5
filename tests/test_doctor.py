"""`grader doctor`: one line per check, exit 0 only when grading can run confined."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from grader.cli.doctor import doctor
from grader.doctor import diagnose
from grader.sandbox.isolation import bwrap_problem

NAMES = ["python", "torch", "bwrap", "cgroup", "chromium", "worker"]


def test_doctor_reports_every_check_and_agrees_with_the_probe() -> None:
    diagnosis = diagnose()
    assert [c.name for c in diagnosis.checks] == NAMES
    assert diagnosis.ready == (bwrap_problem() is None)
    worker = diagnosis.checks[-1]
    if worker.ok:
        seconds = float(worker.detail.split("cold start ")[1].split(" s")[0])
        assert 0 < seconds < 180
    result = CliRunner().invoke(doctor, [])
    lines = result.output.strip().splitlines()
    assert [line.replace("(optional)", "").split()[1] for line in lines[:6]] == NAMES
    assert result.exit_code == (0 if diagnosis.ready else 1)
    for line, check in zip(lines, diagnosis.checks):
        assert line.startswith("ok" if check.ok else "missing")
        assert bool(not check.ok and check.fix) == ("; fix: " in line)


def test_doctor_without_bwrap_exits_1_and_names_the_fix(tmp_path: Path) -> None:
    env = dict(os.environ, PATH=str(tmp_path))  # no bwrap to be found
    done = subprocess.run([sys.executable, "-m", "grader.cli", "doctor"], capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    bwrap = next(line for line in done.stdout.splitlines() if line.split()[1:2] == ["bwrap"])
    assert bwrap.startswith("missing") and "apt-get install bubblewrap" in bwrap
    assert next(line for line in done.stdout.splitlines() if " python " in line).startswith("ok")
