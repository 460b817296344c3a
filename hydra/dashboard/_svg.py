"""The slippage charts as SVG, drawn on the server: no charting script in the page.

Pure: a chart is a list of (x, y) points in data units, scaled into a fixed view box.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape

from .._fill_report import FillReport, slippage_pairs

WIDTH, HEIGHT, MARGIN = 360, 220, 32

Point = tuple[float, float]


def _span(values: Sequence[float]) -> tuple[float, float]:
    low, high = min(values, default=0.0), max(values, default=1.0)
    if high - low < 1e-9:
        low, high = low - 1.0, high + 1.0
    return low, high


def _scale(value: float, span: tuple[float, float], size: int) -> float:
    low, high = span
    return MARGIN + (value - low) / (high - low) * (size - 2 * MARGIN)


def _chart(title: str, points: Sequence[Point], *, x_label: str, y_label: str,
           diagonal: bool) -> str:
    xs = _span([x for x, _ in points] + ([y for _, y in points] if diagonal else []))
    ys = xs if diagonal else _span([y for _, y in points] + [0.0])

    def at(x: float, y: float) -> tuple[float, float]:
        return _scale(x, xs, WIDTH), HEIGHT - _scale(y, ys, HEIGHT)

    dots = "".join(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3"/>'
                   for cx, cy in (at(x, y) for x, y in points))
    x0, y0 = at(xs[0], xs[0] if diagonal else 0.0)
    x1, y1 = at(xs[1], xs[1] if diagonal else 0.0)
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f'<rect class="frame" x="{MARGIN}" y="{MARGIN}" width="{WIDTH - 2 * MARGIN}" '
        f'height="{HEIGHT - 2 * MARGIN}"/>'
        f'<line class="guide" x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}"/>'
        f'<g class="dots">{dots}</g>'
        f'<text x="{WIDTH / 2}" y="{HEIGHT - 6}" text-anchor="middle">{escape(x_label)}</text>'
        f'<text x="10" y="{HEIGHT / 2}" transform="rotate(-90 10 {HEIGHT / 2})" '
        f'text-anchor="middle">{escape(y_label)}</text>'
        f'<text x="{MARGIN}" y="{MARGIN - 8}">{len(points)} points</text></svg>'
    )


def predicted_vs_actual(report: FillReport) -> str:
    """Each fill's own predicted slippage (its order's pre-trade estimate for a fill journaled
    before fills had their own) against its actual one, with the line actual = predicted."""
    points = [(float(p), float(a)) for p, a in slippage_pairs(report.fills)]
    return _chart("Per fill: predicted vs actual slippage (bps)", points,
                  x_label="predicted (bps)", y_label="actual (bps)", diagonal=True)


def shortfall_over_time(report: FillReport) -> str:
    """Each intent's shortfall against its arrival mid, by when it was journaled (hours since
    the first intent shown), with the zero line."""
    intents = [i for i in report.intents if i.actual_bps is not None]
    start = min((i.recorded_at for i in intents), default=dt.datetime.now(dt.UTC))
    points = [((i.recorded_at - start) / dt.timedelta(hours=1), float(i.actual_bps or 0))
              for i in intents]
    return _chart("Shortfall over time (bps of the arrival mid)", points,
                  x_label="hours since the first intent", y_label="shortfall (bps)",
                  diagonal=False)
