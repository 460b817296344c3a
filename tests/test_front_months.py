"""The front months as a run goes on (`hydra._front_months`): decided by the engine's clock,
journaled and logged when a new trading day changes them, and a position held into its
delivery window warned about each trading day.

Hydra starts on Thursday 2025-04-24 at 09:30 Chicago time, six days before ZOK5's first notice
(30 April); the trading day of 25 April, five days before it (within ``roll_days``), begins at
17:00 Chicago (22:00 UTC), 7.5 hours later: ZON5 is then the front month."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import trio
import trio.testing
from structlog.testing import capture_logs

from hydra import OATS, HydraConfig, OrderIntent, Side
from hydra._core._positions import Position
from hydra._errors import BrokerConnectionError
from hydra._journal import Journal
from hydra._journal_actor import run_inline
from hydra._open_hydra import open_hydra
from hydra._settings import ExecutionSettings
from hydra.sim import MarketParams, SimBroker, SimParams, open_sim_exchange
from tests.simulated import open_engine

START = dt.datetime(2025, 4, 24, 14, 30, tzinfo=dt.UTC)
ROLLS_AT = 7.5 * 3600  # seconds after START: the trading day of 25 April begins
PARAMS = SimParams(
    markets=tuple(MarketParams.oats(contract=OATS.for_month(m), adv=0, daily_volatility=0.0,
                                    spread_ticks=((1, 1.0),)) for m in ("202505", "202507")),
    session_start=START, ack_latency=0.001, fill_latency=0.001)
FAST = HydraConfig(execution=ExecutionSettings(patience=0.2))


async def test_a_new_trading_day_that_changes_the_front_month_is_journaled_and_logged(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """ZOK5 until 17:00 Chicago, ZON5 from then: the engine says so by its clock, and the
    change is one more ``front_months`` note (today 2025-04-25) and a ``front_months_changed``
    line naming the months before; the next trading day, which changes nothing, adds none."""
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(PARAMS, seed=1) as exchange:
        with capture_logs() as logs:
            async with open_engine(exchange, path, FAST) as engine:
                await trio.sleep(ROLLS_AT - 1)
                before = engine.in_front_month(OATS).expiry, len(_notes(path, "front_months"))
                await trio.sleep(1)
                after = engine.in_front_month(OATS).expiry, dict(engine.front_months())
                await trio.sleep(86400)
    assert before == ("202505", 1)
    assert after == ("202507", {"ZO": "202507", "HE": "202505"})
    start, change = _notes(path, "front_months")
    assert (start["today"], change["today"]) == ("2025-04-24", "2025-04-25")
    assert change["months"] == {"ZO": "202507", "HE": "202505"}
    (line,) = [e for e in logs if e["event"] == "front_months_changed"]
    assert (line["before"], line["months"]) == ({"ZO": "202505", "HE": "202505"},
                                                change["months"])


async def test_a_position_held_into_the_roll_window_is_warned_of_at_the_day_it_enters(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """A long ZOK5 bought at start (six days out: no warning then) is warned of when the
    trading day of 25 April begins (five days out), and again the next trading day."""
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(PARAMS, seed=1) as exchange:
        async with open_engine(exchange, path, FAST) as engine:
            bought = await engine.submit(OrderIntent(contract=OATS.for_month("202505"),
                                                     side=Side.BUY, quantity=1))
            assert (await bought.wait_done()).filled == 1
            await trio.sleep(ROLLS_AT - 1 - trio.current_time() + exchange.origin)
            assert _notes(path, "delivery_window") == []
            await trio.sleep(2 + 86400)
    warned = _notes(path, "delivery_window")
    assert [(n["month"], n["quantity"], n["days_to_window"]) for n in warned] == [
        ("202505", 1, 5), ("202505", 1, 4)]


class PositionsLostBroker(SimBroker):
    """A broker whose positions fail once Hydra has started (the session went down)."""

    started = False

    async def positions(self) -> tuple[Position, ...]:
        if self.started:
            raise BrokerConnectionError("not connected")
        return await super().positions()


async def test_positions_the_broker_cannot_give_skip_the_days_delivery_check(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """The day's check of positions near delivery finds the broker's positions failing: one
    ``delivery_window_unchecked`` warning, and Hydra goes on (the months still change)."""
    async with open_sim_exchange(PARAMS, seed=1) as exchange:
        broker = PositionsLostBroker(exchange, client_id=1)
        with capture_logs() as logs:
            async with open_hydra(FAST, broker, journal_path=tmp_path / "j.sqlite",
                                  offload=run_inline,
                                  clock=lambda: exchange.timestamp(trio.current_time())
                                  ) as engine:
                broker.started = True
                await trio.sleep(ROLLS_AT + 1)
                assert engine.in_front_month(OATS).expiry == "202507"
    (line,) = [e for e in logs if e["event"] == "delivery_window_unchecked"]
    assert (line["today"], line["log_level"]) == ("2025-04-25", "warning")
    assert "not connected" in line["reason"]


def _notes(path: Path, what: str) -> list[dict[str, object]]:
    journal = Journal.open_read_only(path)
    try:
        return journal.notes(what)
    finally:
        journal.close()

