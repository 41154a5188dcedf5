"""Code exercises: declarations (`exercise`), comparison of outputs (`compare`), the AST
scans of a submission (`scan`), the trusted judge (`judge`), stubs and keys (`stubs`) and
`grader check exercise.py` (`check`).

This package's `__init__` imports nothing heavy, so `grader check` can start its sandbox
worker before the trusted side imports torch.
"""
