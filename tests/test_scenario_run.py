"""Running scenarios on the simulator: timeline, horizon, notes, relabelling and summaries."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from hydra import OrderStatus, TradingState
from hydra._ids import unstamped
from hydra.scenario import RunPolicy, play, run_scenario, scenario_from_table, summarize
from hydra.scenario._run import summarize_seeds

QUIET = [{"symbol": "ZO", "adv": 0, "daily_volatility": 0.0, "spread_ticks": [[4, 1.0]],
          "displayed_size": {"minimum": 5, "maximum": 5, "mean": 5}}]
BUY = {"kind": "intent", "id": "buy", "at": 0, "symbol": "ZO", "side": "BUY", "quantity": 2}


def _scenario(actions: list[dict[str, Any]], **top: Any) -> Any:
    return scenario_from_table({"markets": QUIET, "actions": actions,
                                "config": {"execution": {"patience": 600.0}}, **top})


async def test_a_cancel_action_cancels_at_its_time(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """The intent rests one tick inside the spread until the cancel at 10 s, and says so; the
    run ends when it has reported."""
    scenario = _scenario([BUY, {"kind": "cancel", "at": 10, "intent": "buy"}])
    result = await play(scenario, seed=1, policy=RunPolicy.HYDRA, journal=tmp_path / "j.sqlite")
    (order,) = result.orders
    assert order.report.children[0].status is OrderStatus.CANCELLED
    assert order.report.children[0].prices == (Decimal("349.75"),)
    assert order.report.end_reason == "stopped: intent buy cancelled"
    assert result.summary.duration == pytest.approx(10.03)


async def test_a_numeric_horizon_then_drains_and_cancels(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Five seconds after the last action Hydra closes: the drain timeout, then the cancel."""
    scenario = _scenario([BUY], horizon=5, config={
        "execution": {"patience": 600.0}, "shutdown": {"drain_timeout": 2.0}})
    result = await play(scenario, seed=1, policy=RunPolicy.HYDRA, journal=tmp_path / "j.sqlite")
    assert result.orders[0].report.children[0].status is OrderStatus.CANCELLED
    assert result.summary.duration == pytest.approx(7.03)


async def test_an_impossible_close_becomes_a_note(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Closing a position that does not exist is noted; the run goes on."""
    scenario = _scenario([{"kind": "close", "id": "flat", "at": 0, "symbol": "ZO"},
                          {"kind": "kill", "at": 1}])
    result = await play(scenario, seed=1, policy=RunPolicy.HYDRA, journal=tmp_path / "j.sqlite")
    assert result.orders == ()
    assert result.summary.notes == (
        "flat at 0 s: contract: has no position to close, got 'ZO 202505'",)
    assert result.summary.trading_state is TradingState.HALTED


async def test_the_run_policy_applies_only_where_an_intent_has_none(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """--policy passive rests at the near touch; an intent's own policy (cross) wins."""
    scenario = _scenario([BUY, {**BUY, "id": "own", "policy": "cross"},
                          {"kind": "cancel", "at": 5, "intent": "buy"}])
    result = await play(scenario, seed=1, policy=RunPolicy.PASSIVE,
                        journal=tmp_path / "j.sqlite")
    passive, own = (order.report for order in result.orders)
    assert passive.children[0].prices == (Decimal("349.50"),)  # the bid: 350.00 - 2 ticks
    assert own.children[0].prices == (Decimal("350.50"),)  # the ask
    assert own.filled == 2


def test_run_scenario_runs_under_a_virtual_clock() -> None:
    """The synchronous entry point runs an hour-long scenario at once, journal in a temp dir;
    the ladder (600 + 300 + 150 s) has crossed long before the cancel at an hour."""
    scenario = _scenario([BUY, {"kind": "cancel", "at": 3600, "intent": "buy"}])
    result = run_scenario(scenario, seed=2)
    assert result.seed == 2 and result.summary.duration == pytest.approx(3600.0)
    assert result.orders[0].report.filled == 2


def test_a_close_is_named_after_its_action() -> None:
    """A close action's intent takes the action's id, and its order the id's first number."""
    scenario = _scenario([{**BUY, "policy": "cross"},
                          {"kind": "close", "id": "flat", "at": 600, "symbol": "ZO"}])
    closing = run_scenario(scenario).orders[1].report
    assert closing.intent_id == "flat"
    assert [unstamped(c.client_order_id) for c in closing.children] == ["flat.1"]


def test_summaries_of_nothing_and_across_seeds() -> None:
    """No intents summarise to zeros; across seeds the interval needs two runs with fills."""
    empty = summarize([], duration=0.0, trading_state=TradingState.ACTIVE)
    assert (empty.intents, empty.completion, empty.mean_shortfall_bps) == (0, 0, None)
    scenario = _scenario([{**BUY, "policy": "cross"}])
    runs = [run_scenario(scenario, seed=seed) for seed in (1, 2)]
    across = summarize_seeds(runs)
    assert across.runs == 2 and across.mean_completion == 1
    assert across.shortfall_ci95_bps == 0  # a quiet market: every run fills at the ask
    assert summarize_seeds(runs[:1]).shortfall_ci95_bps is None


def test_a_policy_that_fills_less_is_charged_for_the_rest() -> None:
    """--policy cross buys what the book shows at the ask (2 spread ticks: 1 tick over mid)
    and leaves the rest of 10 lots unfilled: IS-complete adds the rest at the far touch when
    the run ends and the commissions of all 10 lots to the filled part's cost."""
    scenario = scenario_from_table({
        "markets": [{**QUIET[0], "spread_ticks": [[2, 1.0]]}],
        "actions": [{**BUY, "quantity": 10}], "horizon": 5})
    result = run_scenario(scenario, seed=1, policy=RunPolicy.CROSS)
    (order,) = result.orders
    filled = order.report.filled
    assert 0 < filled < 10 and order.report.shortfall_bps == Decimal("0.25") / 350 * 10_000
    cost = order.cost
    assert cost is not None and cost.completion == Decimal(filled) / 10
    assert cost.filled_bps == Decimal("0.25") * filled / (350 * 10) * 10_000
    assert cost.opportunity_bps > 0  # the rest: at least the ask at the end, over the mid
    assert cost.commission == Decimal("25.00")
    assert cost.is_complete_bps == cost.filled_bps + cost.opportunity_bps + cost.commission_bps
    assert result.summary.is_complete_bps == cost.is_complete_bps
