"""The similarity section of report.html, read from what `grader similarity` wrote:
no import of the analysis, so the report can show it without running it."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

SIMILARITY_CSV = "similarity.csv"
SECTION_ROWS = 10


def report_section(out: Path, limit: int = SECTION_ROWS) -> dict[str, Any] | None:
    """The data of report.html's similarity section, read from `out/similarity.csv`: the
    top flagged pairs (with links to their pages), the flagged count per kind; None when
    the analysis has not run."""
    path = Path(out) / SIMILARITY_CSV
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    flagged = [r for r in csv.DictReader(io.StringIO(text)) if r.get("flagged") == "1"]
    counts: dict[str, int] = {}
    for r in flagged:
        counts[r["kind"]] = counts.get(r["kind"], 0) + 1
    return {"rows": flagged[:limit], "total": len(flagged), "counts": sorted(counts.items())}
