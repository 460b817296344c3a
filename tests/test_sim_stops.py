"""Stops: armed stop orders triggered by the prices a market event printed."""

from __future__ import annotations

from hydra._enums import Side
from hydra.sim._stops import Stops


def test_sell_stops_trigger_at_or_below_and_buy_stops_at_or_above() -> None:
    """Prints from 99 to 101 touch a sell stop at 99 and a buy stop at 101, not those beyond."""
    stops = Stops()
    stops.arm("sell", Side.SELL, 99)
    stops.arm("low", Side.SELL, 98)
    stops.arm("buy", Side.BUY, 101)
    stops.arm("high", Side.BUY, 102)
    assert stops.triggered(99, 101) == ["sell", "buy"]
    assert stops.triggered(99, 101) == []  # each triggers once
    assert "low" in stops and "sell" not in stops


def test_rearming_moves_the_stop_and_disarm_forgets_it() -> None:
    """Re-arming a stop moves it; a disarmed stop never triggers."""
    stops = Stops()
    stops.arm("a", Side.SELL, 90)
    stops.arm("a", Side.SELL, 100)
    stops.arm("b", Side.SELL, 100)
    stops.disarm("b")
    assert stops.triggered(100, 100) == ["a"]
    assert not stops
