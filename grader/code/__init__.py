"""Code exercises: declarations (`exercise`), reading a submission without running it
(`source`, `scan`, `signature`), comparing outputs (`compare`), the trusted judge
(`judge`), stubs and keys (`stubs`), `grader check exercise.py` (`check`) and `grader
preview` details (`preview`).

This package's `__init__` imports nothing heavy, so `grader check` can start its sandbox
worker before the trusted side imports torch.
"""
