"""A virtual environment under /tmp: the sandbox mounts its own /tmp, and the interpreter
must still be there (and the project's packages must stay hidden), submission after
submission on the same worker.

Before the fix the quick probe (`python -c pass`) passed and every worker then died with
"did not start: no output".  (Mounted over the private /tmp, the venv's folder then made
the worker's clean-up between submissions fail: it now appears under /hostfs.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .conftest import needs_bwrap

PROJECT = Path(__file__).resolve().parents[2]
SECRET = "project-secret-7f3a9c"

# Runs with the venv's interpreter: probes, then grades one submission under bwrap.  The
# submission reports what it can see; the trusted side prints it as JSON.
SCRIPT = r"""
import json, sys
from grader.sandbox import Call, ExecutorPool
from grader.sandbox.isolation import bwrap_problem, site_dirs

SOURCE = '''
import os, sys, torch, numpy

def look(project):
    try:
        import solutions
        imported = True
    except ImportError:
        imported = False
    site = next(p for p in sys.path if p.endswith("site-packages") and "venv" in p)
    seen = {}
    for name in ("grader", "solutions", "grader-0.1.0.dist-info"):
        folder = os.path.join(site, name)
        seen[name] = sorted(os.listdir(folder)) if os.path.isdir(folder) else None
    return {
        "value": float(torch.tensor([1.5]).numpy()[0] + numpy.float64(2.0)),
        "imported_solutions": imported,
        "hidden": seen,
        "project_visible": os.path.exists(project),
        "site": site,
        "tmp": sorted(os.listdir("/tmp")),
    }
'''

project = sys.argv[1]
problem = bwrap_problem()
with ExecutorPool(workers=1, isolation="bwrap") as pool:  # one worker: three submissions in a row
    results = [pool.run(SOURCE, [Call("look", "look", (project,))]) for _ in range(3)]
print(json.dumps({"problem": problem, "prefix": sys.prefix, "site_dirs": site_dirs(),
                  "runs": [[r.status, r.calls["look"].status, r.calls["look"].message or r.message] for r in results],
                  "seen": results[-1].calls["look"].value}))
"""


def make_venv(root: Path) -> tuple[Path, Path]:
    """A venv that sees the base interpreter's packages (torch), with a planted `grader` and
    `solutions` package and grader install metadata in its own site-packages holding SECRET."""
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
                   check=True, capture_output=True, timeout=120)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               check=True, capture_output=True, text=True).stdout.strip())
    for name in ("grader", "solutions", "grader-0.1.0.dist-info"):
        (site / name).mkdir(parents=True)
        (site / name / "__init__.py").write_text(f"SECRET = {SECRET!r}\n", encoding="utf-8")
    return python, site


def test_a_worker_starts_and_grades_from_a_venv_under_tmp(tmp_path: Path) -> None:
    needs_bwrap()
    assert str(tmp_path).startswith("/tmp/"), "the point is a venv under the sandbox's own /tmp"
    python, site = make_venv(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(PROJECT))  # this checkout wins over the planted package
    done = subprocess.run([str(python), "-c", SCRIPT, str(PROJECT)], capture_output=True, text=True,
                          timeout=300, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["prefix"] == str(tmp_path / "venv")
    assert str(site) in report["site_dirs"]
    assert report["problem"] is None
    assert [run[:2] for run in report["runs"]] == [["ok", "ok"]] * 3, report["runs"]
    seen = report["seen"]
    assert seen["value"] == 3.5  # torch and numpy imported inside the sandbox, from the venv's sys.path
    assert seen["site"] == "/hostfs" + str(site)  # the venv, outside the private /tmp
    assert seen["tmp"] == []  # which holds nothing of the host
    # the project's packages stay hidden: the planted ones are empty, the checkout is absent
    assert seen["hidden"] == {"grader": [], "solutions": [], "grader-0.1.0.dist-info": []}
    assert not seen["imported_solutions"]
    assert not seen["project_visible"]
    assert SECRET not in done.stdout
