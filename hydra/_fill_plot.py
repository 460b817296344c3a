"""The fill report as a picture: each fill's own predicted slippage against its actual one (one
point per fill), and shortfall over time beside the intents' pre-trade estimates.

matplotlib is optional (the ``plot`` extra): it is imported only when a plot is asked for, and
always with the non-interactive Agg backend, so no display is ever needed.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ._errors import HydraError
from ._fill_report import FillReport, slippage_pairs, verdict

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.axes import Axes
    from numpy.typing import NDArray

INSTALL_HINT = "pip install 'hydra-exec[plot]'"


class PlotUnavailableError(HydraError, ImportError):
    """matplotlib, which --plot needs, is not installed."""


def write_plot(report: FillReport, path: str | os.PathLike[str]) -> None:
    """Draw ``report`` into the PNG file at ``path``."""
    try:
        import matplotlib
    except ImportError as e:
        raise PlotUnavailableError(f"--plot needs matplotlib: {INSTALL_HINT}") from e
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    with matplotlib.rc_context({"date.converter": "concise"}):
        figure = Figure(figsize=(12, 5.5), layout="constrained")
        scatter, timeline = figure.subplots(1, 2, width_ratios=[1, 1.4])
        _draw_scatter(scatter, report)
        _draw_timeline(timeline, report)
        figure.suptitle(
            "Hydra fill report: " + verdict(report.judged, report.settings)
            + "\nPre-trade estimates: " + verdict(report.pre_trade_judged, report.settings),
            fontsize=9)
        figure.savefig(path, format="png", dpi=110)


def _draw_scatter(axes: Axes, report: FillReport) -> None:
    pairs = slippage_pairs(report.fills)
    predicted = [float(p) for p, _ in pairs]
    actual = [float(a) for _, a in pairs]
    axes.scatter(predicted, actual, s=18, alpha=0.7, label=f"fill ({len(pairs)})")
    values = predicted + actual or [0.0, 1.0]
    low, high = min(values), max(values)
    margin = (high - low) * 0.05 or 1.0
    line = [low - margin, high + margin]
    axes.plot(line, line, color="grey", linestyle="--", linewidth=1, label="actual = predicted")
    axes.set_xlabel("the fill's own predicted slippage (bps)")
    axes.set_ylabel("actual slippage (bps)")
    axes.set_title("Per fill: predicted vs actual (positive = cost)")
    axes.legend(loc="best", fontsize=8)
    axes.grid(alpha=0.3)


def _draw_timeline(axes: Axes, report: FillReport) -> None:
    intents = [i for i in report.intents if i.actual_bps is not None]
    fills = [f for f in report.fills if f.actual_bps is not None]
    axes.scatter(_times(f.fill.time for f in fills), [float(f.actual_bps or 0) for f in fills],
                 s=8, color="lightgrey", label="fill, actual")
    axes.scatter(_times(i.recorded_at for i in intents),
                 [float(i.actual_bps or 0) for i in intents], s=28, label="intent shortfall")
    predicted = [i for i in intents if i.predicted_bps is not None]
    axes.scatter(_times(i.recorded_at for i in predicted),
                 [float(i.predicted_bps or 0) for i in predicted],
                 s=28, marker="x", label="intent, pre-trade estimate")
    axes.axhline(0, color="grey", linewidth=1)
    axes.set_xlabel("time (UTC)")
    axes.set_ylabel("slippage vs arrival mid (bps)")
    axes.set_title("Shortfall over time")
    axes.legend(loc="best", fontsize=8)
    axes.grid(alpha=0.3)


def _times(times: Iterable[dt.datetime]) -> NDArray[np.datetime64]:
    """Times as numpy datetimes in UTC, which matplotlib draws on a date axis."""
    import numpy

    naive = [t.astimezone(dt.UTC).replace(tzinfo=None) for t in times]
    return numpy.array(naive, dtype="datetime64[ms]")
