"""Fingerprinting a class in worker processes: the same fingerprints as in this process,
and the caller's `__main__` is never re-imported by the workers."""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap
from pathlib import Path

from grader.code.stubs import SOLUTION_PATH, stub_file
from grader.integrity.collect import PARALLEL_FROM, fingerprint_many
from grader.integrity.winnow import fingerprint_file

from .planting import disguise

SOLUTION = SOLUTION_PATH.read_text(encoding="utf-8")


def _class_of_files(count: int) -> dict[str, bytes]:
    rng = random.Random(7)
    files = {f"s{i:03d}": disguise(SOLUTION, rng).encode() for i in range(count - 3)}
    files["syntax"] = b"def broken(:\n    pass\n"
    files["latin1"] = SOLUTION.encode() + b"\n# \xff\n"
    files["empty"] = b""
    return files


def _as_plain(prints) -> dict:
    return {k: (p.text, p.error, {n: (f.lines, f.hashes) for n, f in p.functions.items()}) for k, p in prints.items()}


def test_workers_give_the_fingerprints_of_this_process():
    files = _class_of_files(PARALLEL_FROM + 5)
    from grader.bank import default_bank

    stub = fingerprint_file(stub_file(default_bank().select(kind="code")))
    expected = {k: fingerprint_file(v, stub) for k, v in files.items()}
    assert _as_plain(fingerprint_many(files, stub, jobs=2)) == _as_plain(expected)
    assert _as_plain(fingerprint_many(files, None, jobs=3)) == _as_plain({k: fingerprint_file(v) for k, v in files.items()})
    assert expected["syntax"].error and expected["latin1"].error and not expected["s000"].error


def test_the_workers_do_not_import_the_callers_main(tmp_path: Path):
    marker = tmp_path / "imported"
    script = tmp_path / "caller.py"
    script.write_text(textwrap.dedent(f"""
        from pathlib import Path
        with open({str(marker)!r}, "a") as handle:  # a __main__ with a cost at import
            handle.write("x")
        if __name__ == "__main__":
            from grader.integrity.collect import PARALLEL_FROM, fingerprint_many
            files = {{f"s{{i}}": f"def f(x):\\n    return x * {{i}} + 1\\n".encode() for i in range(PARALLEL_FROM + 1)}}
            prints = fingerprint_many(files, None, jobs=2)
            print(sum(p.size for p in prints.values()))
    """), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 0
    assert marker.read_text() == "x"  # the script's own run only


def test_the_workers_import_nothing_from_the_current_folder(tmp_path: Path, monkeypatch):
    """Red team 4: `python -m` puts the current folder first on sys.path, ahead of the
    standard library. `grade` run from a folder holding a student's `json.py` (say, inside
    an unpacked submission) would have run that file, unsandboxed, in every worker."""
    marker = tmp_path / "ran"
    (tmp_path / "json.py").write_text(f"open({str(marker)!r}, 'a').close()\nraise SystemExit(3)\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    files = {f"s{i}": f"def f(x):\n    return x * {i} + 1\n".encode() for i in range(PARALLEL_FROM + 1)}
    prints = fingerprint_many(files, None, jobs=2)
    assert not marker.exists()
    assert _as_plain(prints) == _as_plain({k: fingerprint_file(v) for k, v in files.items()})
