"""`grader grade --scheduler ADDRESS` / `--cluster local:N`: grading code on a Dask cluster.

Needs the optional `distributed` package (`pip install 'grader[dask]'`); importing this
package does not. See docs/distributed.md for running a cluster.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from grader.errors import GraderError


class ClusterError(GraderError, ValueError):
    """The cluster cannot be used: unreachable, a bad --cluster value, mismatched versions,
    or Dask's `distributed` is not installed (the message says which)."""


def open_cluster(scheduler: str | None = None, cluster: str | None = None, **options: Any) -> AbstractContextManager:
    """`grader.cluster.backend.open_cluster` (ClusterError without `distributed`)."""
    try:
        from grader.cluster.backend import open_cluster as opener
    except ImportError as error:
        if getattr(error, "name", "") in ("distributed", "dask"):
            raise ClusterError("--scheduler/--cluster need Dask: pip install 'grader[dask]'") from None
        raise
    return opener(scheduler, cluster, **options)
