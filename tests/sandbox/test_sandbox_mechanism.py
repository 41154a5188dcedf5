"""Detecting whether a cgroup v2 subtree could be delegated (fake /proc and cgroupfs trees)."""

from __future__ import annotations

from pathlib import Path

from grader.sandbox import limits_mechanism
from grader.sandbox.mechanism import cgroup_v2_problem


def _fake(tmp_path: Path, controllers: str | None, mount_type: str = "cgroup2") -> Path:
    proc = tmp_path / "proc"
    proc.mkdir()
    point = tmp_path / "unified"
    group = point / "grading"
    group.mkdir(parents=True)
    if controllers is not None:
        (group / "cgroup.controllers").write_text(controllers + "\n")
        (group / "cgroup.procs").write_text("")
        (group / "cgroup.subtree_control").write_text("")
    (proc / "mountinfo").write_text(
        "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
        f"41 31 0:38 / {point} rw,relatime - {mount_type} {mount_type} rw\n"
    )
    (proc / "cgroup").write_text("4:memory:/elsewhere\n0::/grading\n")
    return proc


def test_only_hugetlb_is_not_delegable(tmp_path):
    problem = cgroup_v2_problem(str(_fake(tmp_path, "hugetlb")))
    assert problem is not None and "offers only hugetlb" in problem and "memory, pids, cpu" in problem


def test_a_writable_subtree_with_the_controllers_is_delegable(tmp_path):
    assert cgroup_v2_problem(str(_fake(tmp_path, "cpuset cpu io memory pids"))) is None


def test_no_cgroup2_mount(tmp_path):
    assert cgroup_v2_problem(str(_fake(tmp_path, "memory pids cpu", mount_type="cgroup"))) == "no cgroup v2 hierarchy is mounted"


def test_the_mechanism_in_use_is_reported_with_its_reason():
    mechanism, why = limits_mechanism()
    assert mechanism == "proc"  # cgroups are detected, not used yet
    assert why and ("no delegated cgroup v2" in why or "does not use cgroups" in why)
