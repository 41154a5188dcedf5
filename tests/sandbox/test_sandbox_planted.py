"""Files planted for the next submission (red team, round 3).

bwrap covers the project's packages inside site-packages (`isolation._hidden_entries`)
with tmpfs mounts.  Without root every process of the sandbox runs as one uid, the owner
of those mounts, and the worker wipes only the working directory and /tmp between
submissions: on the old code one submission wrote a file under
site-packages/grader-*.dist-info, and one in the scratch folder above its working
directory, and the next one, in the same worker, read both (and the covers have no size
cap).  The covers are read-only now, and the worker wipes the whole scratch folder."""

from __future__ import annotations

import pytest

from grader.sandbox import Call, ExecutorPool, isolation

from .conftest import TEST_LIMITS, needs_bwrap

WRITE = """
import glob, os, sys
def plant():
    written, places = [], [os.path.dirname(os.getcwd())]  # the scratch folder
    for top in sys.path:
        places += glob.glob(os.path.join(top, "grader*")) + glob.glob(os.path.join(top, "__editable__*"))
    for place in places:
        if os.path.isdir(place):
            try:
                with open(os.path.join(place, "answers.txt"), "w") as handle:
                    handle.write("copied from the neighbour")
                written.append(place)
            except OSError:
                pass
    return written
"""

READ = """
import glob, os, sys
def peek():
    found = []
    paths = [os.path.join(os.path.dirname(os.getcwd()), "answers.txt")]
    for top in sys.path:
        paths += glob.glob(os.path.join(top, "*", "answers.txt"))
    for path in paths:
        if os.path.exists(path):
            with open(path) as handle:
                found.append(handle.read())
    return found
"""


def without_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sandbox as bwrap makes it for a user without root: one uid for every process of the
    sandbox (no uid per submission), and no capabilities."""
    needs_bwrap()
    command = isolation.bwrap_command
    monkeypatch.setattr(isolation, "privileged", lambda: False)
    monkeypatch.setattr(isolation, "bwrap_command", lambda *a: command(*a)[:1] + ["--cap-drop", "ALL"] + command(*a)[1:])


@pytest.mark.skipif(not isolation._hidden_entries(), reason="no project package is installed in site-packages here")
def test_a_file_planted_under_site_packages_does_not_reach_the_next_submission(monkeypatch):
    without_root(monkeypatch)
    with ExecutorPool(workers=1, limits=TEST_LIMITS, isolation="bwrap") as pool:
        first = pool.run(WRITE, [Call("plant", "plant")]).calls["plant"]
        second = pool.run(READ, [Call("peek", "peek")]).calls["peek"]
    assert (first.status, second.status) == ("ok", "ok"), (first.message, second.message)
    assert second.value == [], (first.value, second.value)
    assert not any("site-packages" in place for place in first.value), first.value


TEMPLATE_MEMORY = """
import os
def reach():
    template = os.getppid()  # every child is forked by the template
    try:
        with open(f"/proc/{template}/mem", "r+b"):
            return "opened"
    except OSError as error:
        return type(error).__name__
"""


def test_a_submission_cannot_open_the_template_memory(monkeypatch):
    """Every later child is forked from the template: a submission that could write its
    memory (same uid without root, the template dumpable) would plant data or code in
    the next submissions' processes, and read back what they left there."""
    without_root(monkeypatch)
    with ExecutorPool(workers=1, limits=TEST_LIMITS, isolation="bwrap") as pool:
        call = pool.run(TEMPLATE_MEMORY, [Call("reach", "reach")]).calls["reach"]
    assert (call.status, call.value) == ("ok", "PermissionError"), (call.status, call.value, call.message)
