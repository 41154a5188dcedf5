"""`grader doctor`: one line per check, exit 0 only when grading can run confined."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from grader.cli_doctor import doctor
from grader.doctor import diagnose
from grader.sandbox.cgroupcheck import cgroup_delegation
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


def _fake_cgroup(tmp_path: Path, controllers: str) -> tuple[str, str]:
    mount = tmp_path / "cg"
    (mount / "grading").mkdir(parents=True)
    (mount / "grading" / "cgroup.controllers").write_text(controllers + "\n")
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(f"41 31 0:38 / {mount} rw,relatime - cgroup2 cgroup2 rw\n")
    cgroup = tmp_path / "cgroup"
    cgroup.write_text("0::/grading\n")
    return str(mountinfo), str(cgroup)


def test_cgroup_delegation_needs_memory_and_pids(tmp_path: Path) -> None:
    found = cgroup_delegation(*_fake_cgroup(tmp_path, "cpu memory"))
    assert not found.ok and found.problem.startswith("pids not available") and found.fix
    # both available, but a sub-cgroup does not get them (a plain folder has no controllers)
    found = cgroup_delegation(*_fake_cgroup(tmp_path / "b", "cpu memory pids"))
    assert not found.ok and "not enabled for sub-cgroups" in found.problem
    assert list((tmp_path / "b" / "cg" / "grading").iterdir()) == [tmp_path / "b" / "cg" / "grading" / "cgroup.controllers"]


def test_cgroup_delegation_without_cgroup_v2(tmp_path: Path) -> None:
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text("35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n")
    found = cgroup_delegation(str(mountinfo), "/proc/self/cgroup")
    assert not found.ok and found.problem == "no cgroup v2 hierarchy"
