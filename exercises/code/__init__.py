"""The code exercises: one declaration per function of the student code contract
(DESIGN.md), grouped by section in `foundations` (1-3), `vision` (4-5), `sequences` (6-8),
`transformers` (9-10) and `generative` (11-12)."""

from __future__ import annotations

import importlib

MODULES = ("foundations", "vision", "sequences", "transformers", "generative")


def all_code_exercises() -> list:
    """The 28 code exercises in contract order (imports only this package's modules)."""
    found = []
    for name in MODULES:
        found.extend(importlib.import_module(f"{__name__}.{name}").EXERCISES)
    return found
