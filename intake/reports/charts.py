"""Charts drawn on the server as SVG markup: bars, stacked bars and lines. No JavaScript, no CDN.

Colours are given as SVG presentation attributes (not `style=`), so the pages' strict Content
Security Policy allows them, and they come from the Okabe–Ito palette, which people with the common
colour-vision deficiencies can tell apart. Every chart has a <title> and a text description; the
table beside it carries the same numbers for screen readers.
"""

from __future__ import annotations

import math
from html import escape

from intake.reports.tables import Chart

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
WIDTH = 720
HEIGHT = 280
MARGIN_LEFT = 64
MARGIN_RIGHT = 12
MARGIN_TOP = 36
MARGIN_BOTTOM = 84
MAX_LABEL_CHARACTERS = 18


def nice_maximum(value: float, *, whole_numbers: bool = False) -> float:
    """A round axis top at or above `value`, split into four equal steps (1, 2, 2.5, 5 × 10ⁿ each;
    whole steps only for counts)."""
    if value <= 0:
        return 4.0 if whole_numbers else 1.0
    raw_step = value / 4
    power = 10 ** math.floor(math.log10(raw_step))
    steps = (1, 2, 5, 10) if whole_numbers else (1, 2, 2.5, 5, 10)
    step = next(s * power for s in steps if raw_step <= s * power)
    if whole_numbers:
        step = max(step, 1)
    return float(4 * step)


def _format(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL_CHARACTERS else label[: MAX_LABEL_CHARACTERS - 1] + "…"


def render_svg(chart: Chart, *, chart_id: str) -> str:
    """The chart as an inline <svg> element (empty-state text when there is nothing to draw)."""
    title = escape(chart.title or "Chart")
    if not chart.labels or not chart.series or all(not any(values) for _, values in chart.series):
        return (
            f'<svg class="chart chart--empty" viewBox="0 0 {WIDTH} 60" role="img" aria-labelledby="{chart_id}-t">'
            f'<title id="{chart_id}-t">{title}: nothing to show for this period</title>'
            f'<text x="{WIDTH / 2}" y="34" text-anchor="middle" class="chart__empty">Nothing to show for this period</text>'
            "</svg>"
        )
    plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    if chart.unit == "%":
        top = 100.0
    elif chart.style == "stacked":
        top = nice_maximum(
            max(sum(v[i] for _, v in chart.series) for i in range(len(chart.labels))), whole_numbers=True
        )
    else:
        whole = all(float(v).is_integer() for _, values in chart.series for v in values)
        top = nice_maximum(max(max(values) for _, values in chart.series), whole_numbers=whole)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{chart_id}-t">{title}</title>',
        f'<desc id="{chart_id}-d">{escape(_describe(chart))}</desc>',
    ]
    parts += _axis(top, chart.unit, plot_width, plot_height)
    step = plot_width / len(chart.labels)
    if chart.style == "line":
        parts += _lines(chart, top, step, plot_height)
    else:
        parts += _bars(chart, top, step, plot_height)
    parts += _x_labels(chart.labels, step)
    if len(chart.series) > 1:
        parts += _legend(chart)
    parts.append("</svg>")
    return "".join(parts)


def _y(value: float, top: float, plot_height: float) -> float:
    return MARGIN_TOP + plot_height * (1 - value / top)


def _axis(top: float, unit: str, plot_width: float, plot_height: float) -> list[str]:
    parts = []
    for tick in range(5):
        value = top * tick / 4
        y = _y(value, top, plot_height)
        parts.append(
            f'<line class="chart__grid" x1="{MARGIN_LEFT}" x2="{MARGIN_LEFT + plot_width}" y1="{y:.1f}" '
            f'y2="{y:.1f}" stroke="#b1b4b6" stroke-width="{1 if tick == 0 else 0.5}"/>'
        )
        parts.append(
            f'<text class="chart__tick" x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" '
            f'font-size="11">{_format(value)}{"%" if unit == "%" else ""}</text>'
        )
    return parts


def _bars(chart: Chart, top: float, step: float, plot_height: float) -> list[str]:
    parts = []
    stacked = chart.style == "stacked"
    groups = 1 if stacked else len(chart.series)
    bar_width = max(step * 0.7 / groups, 1.0)
    for index, label in enumerate(chart.labels):
        x0 = MARGIN_LEFT + index * step + step * 0.15
        base = 0.0
        for number, (name, values) in enumerate(chart.series):
            value = values[index]
            if stacked:
                y_top, y_bottom = _y(base + value, top, plot_height), _y(base, top, plot_height)
                x = x0
                base += value
            else:
                y_top, y_bottom = _y(value, top, plot_height), _y(0, top, plot_height)
                x = x0 + number * bar_width
            if value <= 0:
                continue
            parts.append(
                f'<rect class="chart__bar" x="{x:.1f}" y="{y_top:.1f}" width="{bar_width:.1f}" '
                f'height="{max(y_bottom - y_top, 0.5):.1f}" fill="{PALETTE[number % len(PALETTE)]}">'
                f"<title>{escape(label)} — {escape(name)}: {_format(value)}{escape(chart.unit)}</title></rect>"
            )
    return parts


def _lines(chart: Chart, top: float, step: float, plot_height: float) -> list[str]:
    parts = []
    for number, (name, values) in enumerate(chart.series):
        colour = PALETTE[number % len(PALETTE)]
        points = [
            (MARGIN_LEFT + (i + 0.5) * step, _y(value, top, plot_height)) for i, value in enumerate(values)
        ]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(
            f'<polyline class="chart__line" points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
        )
        for (x, y), label, value in zip(points, chart.labels, values, strict=True):
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}">'
                f"<title>{escape(label)} — {escape(name)}: {_format(value)}{escape(chart.unit)}</title></circle>"
            )
    return parts


def _x_labels(labels: tuple[str, ...], step: float) -> list[str]:
    rotate = len(labels) > 6 or max(len(label) for label in labels) * 6.5 > step
    parts = []
    for index, label in enumerate(labels):
        x = MARGIN_LEFT + (index + 0.5) * step
        y = HEIGHT - MARGIN_BOTTOM + 14
        transform = f' transform="rotate(-35 {x:.1f} {y:.1f})"' if rotate else ""
        anchor = "end" if rotate else "middle"
        parts.append(
            f'<text class="chart__label" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="11"{transform}>'
            f"{escape(_short(label))}</text>"
        )
    return parts


def _legend(chart: Chart) -> list[str]:
    parts = []
    x = MARGIN_LEFT
    for number, (name, _) in enumerate(chart.series):
        colour = PALETTE[number % len(PALETTE)]
        parts.append(f'<rect x="{x}" y="10" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text class="chart__legend" x="{x + 16}" y="20" font-size="12">{escape(name)}</text>')
        x += 24 + 7 * len(name)
    return parts


def _describe(chart: Chart) -> str:
    """The numbers in words, for assistive technology."""
    pieces = []
    for name, values in chart.series:
        items = ", ".join(
            f"{label} {_format(v)}{chart.unit}" for label, v in zip(chart.labels, values, strict=True)
        )
        pieces.append(f"{name}: {items}")
    return "; ".join(pieces)
