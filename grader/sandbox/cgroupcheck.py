"""Can a cgroup v2 with the memory and pids controllers be delegated to grading here?

Trusted side, read-mostly: `cgroup_delegation()` finds the cgroup v2 hierarchy in
/proc/self/mountinfo and this process's cgroup in /proc/self/cgroup, checks that memory
and pids are available to it and that it may create a sub-cgroup, and confirms it by
creating one empty child (removed at once) whose controllers it reads.  It changes no
setting.  Used by `grader doctor`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

NEEDED = ("memory", "pids")
V2_FIX = ("use the unified cgroup v2 hierarchy (boot with systemd.unified_cgroup_hierarchy=1; "
          "Docker: cgroup v2 host with --cgroupns=private)")
DELEGATE_FIX = ("delegate a cgroup to this user with memory and pids enabled "
                "(systemd-run --user --scope -p Delegate=yes ..., or Docker --cgroupns=private)")


@dataclass(frozen=True)
class Delegation:
    """ok: a sub-cgroup with `NEEDED` controllers can be made at `path`; else `problem`
    says why not and `fix` how to fix it."""

    ok: bool
    path: str
    problem: str = ""
    fix: str = ""


def _v2_mount(mountinfo: str = "/proc/self/mountinfo") -> str | None:
    try:
        with open(mountinfo, encoding="utf-8") as handle:
            for line in handle:
                fields = line.split()
                if " - " in line and line.split(" - ", 1)[1].split()[0] == "cgroup2":
                    return fields[4]
    except OSError:
        return None
    return None


def _own_path(cgroup: str = "/proc/self/cgroup") -> str | None:
    try:
        with open(cgroup, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("0::"):
                    return line[3:].strip()
    except OSError:
        return None
    return None


def _read(path: str) -> set[str]:
    try:
        with open(path, encoding="utf-8") as handle:
            return set(handle.read().split())
    except OSError:
        return set()


def cgroup_delegation(mountinfo: str = "/proc/self/mountinfo", cgroup: str = "/proc/self/cgroup") -> Delegation:
    """See the module docstring (the arguments: where to read this process's mounts and
    cgroup)."""
    mount, own = _v2_mount(mountinfo), _own_path(cgroup)
    if mount is None or own is None:
        return Delegation(False, "", "no cgroup v2 hierarchy", V2_FIX)
    here = os.path.normpath(os.path.join(mount, own.lstrip("/")))
    available = _read(os.path.join(here, "cgroup.controllers"))
    missing = [name for name in NEEDED if name not in available]
    if missing:
        where = "cgroup v1 (hybrid) holds them" if os.path.isdir(os.path.join(mount, "..", "memory")) else "not enabled"
        return Delegation(False, here, f"{', '.join(missing)} not available in {here} ({where})", V2_FIX)
    probe = os.path.join(here, f"grader-doctor-{os.getpid()}")
    try:
        os.mkdir(probe)
    except OSError as error:
        return Delegation(False, here, f"cannot create a sub-cgroup of {here} ({error.strerror})", DELEGATE_FIX)
    try:
        enabled = _read(os.path.join(probe, "cgroup.controllers"))
    finally:
        try:
            os.rmdir(probe)
        except OSError:
            pass
    missing = [name for name in NEEDED if name not in enabled]
    if missing:
        return Delegation(False, here, f"{', '.join(missing)} not enabled for sub-cgroups of {here} "
                                       "(cgroup.subtree_control)", DELEGATE_FIX)
    return Delegation(True, here)
