"""Inline SVG charts for the report, written by hand: no JavaScript, no network, no fonts
beyond the page's own. Every label is XML-escaped."""

from __future__ import annotations

from dataclasses import dataclass
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


LABEL_CHAR_WIDTH = 6.8  # px per character of an 11px label, a little over the real width
LABEL_HEIGHT = 12.0
Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Scatter:
    """The SVG, and the items whose label found no free place (listed under the chart)."""

    svg: str
    unlabeled: list[str]


def scatter_svg(points: Sequence[tuple[str, float, float]], width: int = 1000, height: int = 300) -> str:
    return scatter_chart(points, width, height).svg


def scatter_chart(points: Sequence[tuple[str, float, float]], width: int = 1000, height: int = 300) -> Scatter:
    """Items as labelled points: x = difficulty in [0, 1], y = discrimination in [-1, 1],
    with the usual "discriminates poorly" band (r < 0.2) shaded. Items at the same place
    (to two decimals) share one point and one label. No two labels overlap, and no label
    covers a point: each takes the first free place around its point (right, left, above,
    below, then further out with a leader line); a label with no free place is left off
    the chart and listed in `unlabeled` (its point keeps a tooltip)."""
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
    dots = [(px(x), py(y), x, y, ", ".join(names)) for (x, y), names in sorted(merged.items(), key=lambda kv: (-kv[0][1], kv[0][0]))]
    obstacles: list[Box] = [(cx - 5, cy - 5, cx + 5, cy + 5) for cx, cy, *_ in dots]
    area = (left + 1.0, float(top), width - 2.0, top + plot_h - 1.0)
    placed: list[Box] = []
    unlabeled: list[str] = []
    for cx, cy, x, y, name in dots:
        parts.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" class="dot"><title>{escape(name)}: '
            f"difficulty {x:.2f}, discrimination {y:.2f}</title></circle>"
        )
        box = _free_place(cx, cy, LABEL_CHAR_WIDTH * len(name), area, placed, obstacles)
        if box is None:
            unlabeled.append(name)
            continue
        placed.append(box)
        if not _overlap(box, (cx - 9, cy - 9, cx + 9, cy + 9)):  # away from its point: a leader line
            lx = min(max(cx, box[0]), box[2])
            ly = min(max(cy, box[1]), box[3])
            parts.append(f'<line x1="{cx:.1f}" y1="{cy:.1f}" x2="{lx:.1f}" y2="{ly:.1f}" class="leader"/>')
        parts.append(
            f'<text x="{box[0]:.1f}" y="{box[3] - 2:.1f}" class="dot-label" '
            f'data-box="{box[0]:.1f} {box[1]:.1f} {box[2]:.1f} {box[3]:.1f}">{escape(name)}</text>'
        )
    parts.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" class="axis"/>'
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" class="label">'
        "difficulty p (share of the points earned)</text>"
        f'<text x="12" y="{top + plot_h / 2:.1f}" text-anchor="middle" class="label" '
        f'transform="rotate(-90 12 {top + plot_h / 2:.1f})">discrimination r</text>'
    )
    parts.append("</svg>")
    return Scatter("".join(parts), unlabeled)


def _free_place(cx: float, cy: float, w: float, area: Box, placed: list[Box], obstacles: list[Box]) -> Box | None:
    """The first box of width `w` around (cx, cy) inside `area` that overlaps no placed
    label and no point other than its own."""
    h = LABEL_HEIGHT
    for gap in (6.0, 16.0, 28.0, 42.0, 60.0):
        candidates = [
            (cx + gap, cy - h / 2), (cx - gap - w, cy - h / 2),            # right, left
            (cx - w / 2, cy - gap - h), (cx - w / 2, cy + gap),            # above, below
            (cx + gap * 0.7, cy - gap * 0.7 - h), (cx - gap * 0.7 - w, cy - gap * 0.7 - h),
            (cx + gap * 0.7, cy + gap * 0.7), (cx - gap * 0.7 - w, cy + gap * 0.7),
        ]
        for x0, y0 in candidates:
            box = (x0, y0, x0 + w, y0 + h)
            if box[0] < area[0] or box[1] < area[1] or box[2] > area[2] or box[3] > area[3]:
                continue
            own = (cx - 5, cy - 5, cx + 5, cy + 5)
            if any(_overlap(box, other) for other in placed):
                continue
            if any(_overlap(box, dot) for dot in obstacles if dot != own):
                continue
            return box
    return None


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
