"""Inline SVG line charts for printed reports: axes, labels, threshold line, gaps kept.

Returns SVG markup as a string (no scripts, no external references). Every piece of text
is XML-escaped here, so templates may insert the result with `|safe`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape

from kinesio_tui.export.fmt import number, with_unit

#: Stroke patterns that stay distinguishable on a black-and-white printout.
DASHES = ("", "6 3", "2 3", "8 3 2 3")
COLOURS = ("#1f5f99", "#b3541e", "#2e7d32", "#6a1b9a")


@dataclass(frozen=True)
class Series:
    """One line: `points` are (visit number in the programme, value)."""

    name: str
    points: Sequence[tuple[int, float]]


@dataclass(frozen=True)
class Chart:
    title: str
    unit: str
    y_min: float
    y_max: float
    series: Sequence[Series]
    x_max: int  # the programme's visits (the protocol says how many)
    x_ticks: Sequence[int]  # where its doctor's appointments fall
    threshold: float | None = None
    threshold_label: str = ""
    missing: frozenset[int] = field(default_factory=frozenset)  # visits not attended


def _finite(points: Iterable[tuple[int, float]]) -> list[tuple[int, float]]:
    return sorted((int(x), float(y)) for x, y in points if math.isfinite(float(y)))


def runs(
    points: Sequence[tuple[int, float]], missing: frozenset[int]
) -> list[list[tuple[int, float]]]:
    """Split a series where a missed visit lies between two recorded values."""
    out: list[list[tuple[int, float]]] = []
    for point in points:
        if out and not any(out[-1][-1][0] < m < point[0] for m in missing):
            out[-1].append(point)
        else:
            out.append([point])
    return out


def nice_ticks(low: float, high: float, target: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5, 5 x 10^k) covering [low, high]."""
    if not high > low:
        return [low]
    raw = (high - low) / target
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    return ticks


def render_svg(chart: Chart, *, width: int = 640, height: int = 230) -> str:
    """The chart as one `<svg>` element."""
    left, right, top, bottom = 52, 14, 30, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    x_max = max(chart.x_max, 2)
    y_min, y_max = chart.y_min, chart.y_max if chart.y_max > chart.y_min else chart.y_min + 1

    def sx(x: float) -> float:
        return left + (x - 1) / (x_max - 1) * plot_w

    def sy(y: float) -> float:
        y = min(max(y, y_min), y_max)
        return top + (1 - (y - y_min) / (y_max - y_min)) * plot_h

    label = escape(chart.title)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{label}">',
        f"<title>{label}</title>",
        f'<text x="{left}" y="16" class="chart-title" font-size="13" font-weight="bold">{label}</text>',
    ]
    # axes
    parts.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'stroke="#333" stroke-width="1"/>'
    )
    parts.append(
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#333" stroke-width="1"/>'
    )
    for tick in nice_ticks(y_min, y_max):
        y = sy(tick)
        parts.append(
            f'<line x1="{left - 4}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
            'stroke="#ddd" stroke-width="0.5"/>'
        )
        parts.append(
            f'<text x="{left - 7}" y="{y + 4:.1f}" font-size="10" text-anchor="end">'
            f"{escape(number(tick))}</text>"
        )
    for tick in chart.x_ticks:
        if 1 <= tick <= x_max:
            x = sx(tick)
            parts.append(
                f'<line x1="{x:.1f}" y1="{top + plot_h}" x2="{x:.1f}" y2="{top + plot_h + 4}" '
                'stroke="#333" stroke-width="1"/>'
            )
            parts.append(
                f'<text x="{x:.1f}" y="{top + plot_h + 15}" font-size="10" '
                f'text-anchor="middle">{tick}</text>'
            )
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" font-size="10" '
        'text-anchor="middle">Visit in the programme</text>'
    )
    parts.append(
        f'<text x="12" y="{top + plot_h / 2:.1f}" font-size="10" text-anchor="middle" '
        f'transform="rotate(-90 12 {top + plot_h / 2:.1f})">{escape(chart.unit or "value")}</text>'
    )
    for seq in sorted(chart.missing):
        if 1 <= seq <= x_max:
            x = sx(seq)
            parts.append(
                f'<line class="missed" x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" '
                'stroke="#bbb" stroke-width="1" stroke-dasharray="1 3"/>'
            )
    if chart.threshold is not None and math.isfinite(chart.threshold):
        y = sy(chart.threshold)
        parts.append(
            f'<line class="threshold" x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
            'stroke="#c62828" stroke-width="1.2" stroke-dasharray="5 4"/>'
        )
        text = escape(chart.threshold_label or with_unit(number(chart.threshold), chart.unit))
        parts.append(
            f'<text x="{left + plot_w - 2}" y="{y - 4:.1f}" font-size="9.5" text-anchor="end" '
            f'fill="#c62828">{text}</text>'
        )
    drawn = 0
    for index, series in enumerate(chart.series):
        colour = COLOURS[index % len(COLOURS)]
        dash = DASHES[index % len(DASHES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        points = _finite(series.points)
        for run in runs(points, chart.missing):
            if len(run) > 1:
                coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in run)
                parts.append(
                    f'<polyline points="{coords}" fill="none" stroke="{colour}" '
                    f'stroke-width="1.8"{dash_attr}/>'
                )
        for x, y in points:
            parts.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.6" fill="{colour}"/>')
        drawn += len(points)
        if len(chart.series) > 1:
            lx = left + plot_w - 150
            ly = top + 12 + index * 13
            parts.append(
                f'<line x1="{lx}" y1="{ly - 3}" x2="{lx + 22}" y2="{ly - 3}" stroke="{colour}" '
                f'stroke-width="1.8"{dash_attr}/>'
            )
            parts.append(
                f'<text x="{lx + 27}" y="{ly}" font-size="10">{escape(series.name)}</text>'
            )
    if drawn == 0:
        parts.append(
            f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h / 2:.1f}" font-size="11" '
            'text-anchor="middle">No values recorded</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


class LazySvg:
    """A chart drawn only when a template prints it (Markdown reports never do).

    Jinja2 and markupsafe call `__html__`, so `{{ chart.svg }}` inserts it as markup.
    """

    def __init__(self, chart: Chart) -> None:
        self.chart = chart
        self._svg: str | None = None

    def __html__(self) -> str:
        if self._svg is None:
            self._svg = render_svg(self.chart)
        return self._svg

    def __str__(self) -> str:
        return self.__html__()
