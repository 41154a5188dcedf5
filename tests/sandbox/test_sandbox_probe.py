"""The sandbox probe is the real thing: bwrap running `python -c pass` is not enough."""

from __future__ import annotations

import pytest

from grader.sandbox import isolation, probe

from .conftest import needs_bwrap


def test_the_probe_fails_when_a_worker_cannot_start(monkeypatch: pytest.MonkeyPatch) -> None:
    needs_bwrap()
    # bwrap itself is fine, but the worker cannot import torch: no site-packages on its path
    monkeypatch.setattr(isolation, "site_dirs", lambda: [])
    assert probe._bwrap_runs() is None  # the old probe's check passes...
    result = probe._probe()  # ...the real one does not
    assert not result.ok
    assert "does not start" in result.problem and "No module named" in result.problem  # why, not "no output"
    assert result.fix


def test_the_probe_passes_and_times_a_cold_start() -> None:
    needs_bwrap()
    result = probe.probe()
    assert result.ok and result.problem == "" and isolation.bwrap_problem() is None
    assert result.seconds is not None and 0 < result.seconds < 180
    assert probe.probe() is result  # cached per process


def test_a_missing_bwrap_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(probe.shutil, "which", lambda name: None)
    result = probe._probe()
    assert result.problem == "bwrap (bubblewrap) is not installed"
    assert "apt-get install bubblewrap" in result.fix
