"""Inline SVG charts for the report, written by hand: no JavaScript, no network, no fonts
beyond the page's own. Every label is XML-escaped."""

from __future__ import annotations

from html import escape
from typing import Sequence

from grader.gradebook.stats import Histogram


def _nice_step(maximum: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if maximum / step <= 6:
            return step
    return max(1, maximum // 5)


def histogram_svg(hist: Histogram, width: int = 1000, height: int = 260, title: str = "") -> str:
    """Bars of `hist` (x: percent of the maximum score, y: number of students), the count
    written above every non-empty bar."""
    left, right, top, bottom = 44, 12, 16, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(hist.counts, default=0)
    step = _nice_step(max(peak, 1))
    y_max = max(step, ((peak + step - 1) // step) * step)
    n = len(hist.counts)
    bar_w = plot_w / max(n, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{escape(title or "score histogram")}" class="chart">'
    ]
    for tick in range(0, y_max + 1, step):
        y = top + plot_h - plot_h * tick / y_max
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{tick}</text>')
    for i, count in enumerate(hist.counts):
        x = left + i * bar_w
        h = plot_h * count / y_max
        y = top + plot_h - h
        label = f"{hist.edges[i]:g}-{hist.edges[i + 1]:g}%: {count} student{'s' if count != 1 else ''}"
        parts.append(
            f'<rect x="{x + 2:.1f}" y="{y:.1f}" width="{bar_w - 4:.1f}" height="{h:.1f}" class="bar" '
            f'data-count="{count}"><title>{escape(label)}</title></rect>'
        )
        if count:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" class="count">{count}</text>')
    for i, edge in enumerate(hist.edges):
        x = left + i * bar_w
        parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle" class="tick">{edge:g}</text>')
    parts.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" class="axis"/>'
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" class="label">'
        "score (% of the maximum)</text>"
        f'<text x="12" y="{top + plot_h / 2:.1f}" text-anchor="middle" class="label" '
        f'transform="rotate(-90 12 {top + plot_h / 2:.1f})">students</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def meter_svg(fraction: float | None, width: int = 90, height: int = 12) -> str:
    """A small horizontal bar for a value in [0, 1] (difficulty); empty for None."""
    if fraction is None:
        return ""
    filled = max(0.0, min(1.0, fraction)) * width
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" class="meter" '
        f'viewBox="0 0 {width} {height}"><rect width="{width}" height="{height}" class="meter-bg"/>'
        f'<rect width="{filled:.1f}" height="{height}" class="meter-fill"/></svg>'
    )


def scatter_svg(points: Sequence[tuple[str, float, float]], width: int = 1000, height: int = 300) -> str:
    """Items as labelled points: x = difficulty in [0, 1], y = discrimination in [-1, 1],
    with the usual "discriminates poorly" band (r < 0.2) shaded. Items at the same place
(to two decimals) share one point and one label."""
    left, right, top, bottom = 44, 16, 14, 40
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(x: float) -> float:
        return left + plot_w * max(0.0, min(1.0, x))

    def py(y: float) -> float:
        return top + plot_h * (1 - (max(-1.0, min(1.0, y)) + 1) / 2)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="difficulty and discrimination" class="chart">',
        f'<rect x="{left}" y="{py(0.2):.1f}" width="{plot_w}" height="{py(-1) - py(0.2):.1f}" class="band"/>',
    ]
    for tick in (-1.0, -0.5, 0.0, 0.5, 1.0):
        y = py(tick)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{tick:g}</text>')
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<text x="{px(tick):.1f}" y="{top + plot_h + 16}" text-anchor="middle" class="tick">{tick:g}</text>')
    merged: dict[tuple[float, float], list[str]] = {}
    for name, x, y in points:
        merged.setdefault((round(x, 2), round(y, 2)), []).append(name)
    placed: list[tuple[float, float, float, float]] = []
    for (x, y), names in sorted(merged.items(), key=lambda kv: -kv[0][1]):
        name = ", ".join(names)
        cx, cy = px(x), py(y)
        label_w = 6.2 * len(name)
        # labels go right of the point, or left of it near the right edge; a label that
        # would overlap one already placed moves down a line at a time
        lx = cx + 6 if cx + 6 + label_w <= width - 2 else cx - 6 - label_w
        ly = cy - 5
        for _ in range(12):
            box = (lx, ly - 10, lx + label_w, ly + 2)
            if not any(_overlap(box, other) for other in placed):
                break
            ly += 12
        placed.append((lx, ly - 10, lx + label_w, ly + 2))
        parts.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" class="dot"><title>{escape(name)}: '
            f"difficulty {x:.2f}, discrimination {y:.2f}</title></circle>"
            f'<text x="{lx:.1f}" y="{ly:.1f}" class="dot-label">{escape(name)}</text>'
        )
    parts.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" class="axis"/>'
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" class="label">'
        "difficulty p (share of the points earned)</text>"
        f'<text x="12" y="{top + plot_h / 2:.1f}" text-anchor="middle" class="label" '
        f'transform="rotate(-90 12 {top + plot_h / 2:.1f})">discrimination r</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
