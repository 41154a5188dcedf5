"""The code exercises: one declaration per function of the student code contract
(docs/design.md), grouped by section: `s01_foundations` (sections 1-3), `s04_vision` (4-5),
`s06_sequences` (6-8), `s09_transformers` (9-10) and `s11_generative` (11-12); the bank
loads them in that order, which is the contract's."""

from __future__ import annotations

import importlib

MODULES = ("s01_foundations", "s04_vision", "s06_sequences", "s09_transformers", "s11_generative")


def all_code_exercises() -> list:
    """The 28 code exercises in contract order (imports only this package's modules)."""
    found = []
    for name in MODULES:
        found.extend(importlib.import_module(f"{__name__}.{name}").EXERCISES)
    return found
