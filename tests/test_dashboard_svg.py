"""The dashboard's slippage charts, drawn as SVG on the server."""

from __future__ import annotations

import re
from pathlib import Path

from hydra._fill_report import fill_report
from hydra._journal_records import read_journal
from hydra._settings import SlippageSettings
from hydra.dashboard._svg import predicted_vs_actual
from tests.paper_journal import own_predictions_journal


def test_the_scatter_has_one_point_per_fill_at_its_own_prediction(tmp_path: Path) -> None:
    """Three fills of one intent (one pre-trade estimate): three points, at three different
    predictions (each fill's own, or its order's for the fill journaled before), not a
    vertical line."""
    paper = own_predictions_journal(tmp_path / "j.sqlite")
    svg = predicted_vs_actual(fill_report(read_journal(paper.path),
                                          settings=SlippageSettings()))
    xs = re.findall(r'<circle cx="([0-9.]+)"', svg)
    assert len(xs) == 3 and len(set(xs)) == 3
    assert "3 points" in svg
