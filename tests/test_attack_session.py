"""Attacks on the trading-session work (the hours text, held intents, hook targets, the front
month, the simulated gateway's hours, a restart in the break): each test is a defect a trader
would hit, kept as a strict xfail until it is fixed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import trio
import trio.testing

from hydra._contracts import OATS, ContractSpec
from hydra._core._front_month import front_month
from hydra._core._positions import Position
from hydra._core._sessions import SessionCalendar, parse_hours
from hydra._enums import Policy, Side
from hydra._errors import InvalidValueError, MarketClosedError
from hydra._ids import IntentId
from hydra._journal_actor import run_inline
from hydra._open_hydra import open_hydra
from hydra._orders import OrderIntent
from hydra._runner import _positions
from hydra._settings import (
    BackoffSettings,
    BrokerSettings,
    ExecutionSettings,
    HydraConfig,
    OutsideHours,
)
from hydra._strategy_hook import intents_from
from hydra.gateway import serve_gateway
from hydra.ib import open_ib_broker
from hydra.sim import Disconnect, MarketParams, SimBroker, SimParams, open_sim_exchange
from hydra.sim._hours import sim_calendar
from tests.journal_surgery import Crash, crash_from
from tests.simulated import open_engine
from tests.test_sessions import RecordingBroker, ct, hours_params, oats, open_hours_engine


@pytest.mark.parametrize("text", [";", " ; ; "])
def test_hours_of_separators_only_name_the_field(text: str) -> None:
    """A broker whose ``tradingHours`` holds only ``;`` (no day at all) sends garbage: the
    trader expects the one clear line naming ``tradingHours``, not a traceback from min()."""
    with pytest.raises(InvalidValueError, match="tradingHours"):
        parse_hours(text, zone="America/Chicago", field="tradingHours")


async def test_a_link_down_through_the_whole_session_holds_the_intent_again(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """Held in the grains break at 07:50, the intent waits for 08:30; the link goes down at
    08:29:50 and comes back at 13:30, after the 13:20 close (reconnecting every 30 s all the
    while). The trader expects it held again for the 19:00 open: nothing may be sent while
    the market is closed."""
    patient = HydraConfig(broker=BrokerSettings(backoff=BackoffSettings(max_tries=10_000)))
    start = ct(2, 7, 50)
    down_at = (ct(2, 8, 29) + dt.timedelta(seconds=50) - start).total_seconds()
    up_at = (ct(2, 13, 30) - start).total_seconds()
    async with open_sim_exchange(hours_params(start), seed=1) as exchange:
        exchange.inject(Disconnect(at=down_at, duration=up_at - down_at))
        async with open_hours_engine(exchange, tmp_path / "j.sqlite", patient) as (engine, broker):
            with trio.fail_after(2 * 86400):
                await (await engine.submit(oats())).wait_done()
    assert broker.sent, "nothing was ever sent"
    first = broker.sent[0][1]
    assert sim_calendar(oats().contract, first).is_open(first), f"first order at {first}"


class ClosedWeekBroker(SimBroker):
    """A broker whose hours (trading and liquid) for every contract list only holidays, 2 to
    4 December."""

    async def trading_hours(self, contract: ContractSpec) -> SessionCalendar | None:
        await trio.lowlevel.checkpoint()
        return parse_hours("20261202:CLOSED;20261203:CLOSED;20261204:CLOSED",
                           zone="America/Chicago", field="tradingHours")

    async def liquid_hours(self, contract: ContractSpec) -> SessionCalendar | None:
        return await self.trading_hours(contract)


async def test_hours_of_closed_days_only_name_no_open(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """The broker's hours list three CLOSED days and no session. Refused outside hours, the
    trader expects to be told no open is known, not that ZO "is closed until 2026-12-05
    00:00 CST" (midnight Saturday, when nothing opens: that is only where the list ends)."""
    refuse = HydraConfig(execution=ExecutionSettings(outside_hours=OutsideHours.REFUSE))
    async with open_sim_exchange(hours_params(ct(2, 10)), seed=1) as exchange:
        broker = ClosedWeekBroker(exchange, client_id=1)
        async with open_hydra(refuse, broker, journal_path=tmp_path / "j.sqlite",
                              offload=run_inline,
                              clock=lambda: exchange.timestamp(trio.current_time())) as engine:
            with pytest.raises(MarketClosedError) as refused:
                await engine.submit(oats(intent_id=IntentId("x")))
    assert "2026-12-05 00:00" not in str(refused.value)


class HeldInDecember:
    """A broker's positions: long 3 oats of December 2026, now in its delivery window."""

    async def positions(self) -> tuple[Position, ...]:
        await trio.lowlevel.checkpoint()
        return (Position(contract=OATS.for_month("202612"), quantity=3),)


async def test_a_flat_target_leaves_no_month_open() -> None:
    """On 2026-12-01 the trader holds +3 ZOZ6 (first notice was 30 November) and the hook asks
    for ``{"ZO": 0}``. The trader expects to end flat in every oats month; the runner instead
    sells 3 of the front month, ZOH7: long the delivery month, short the next."""
    held = {p.contract.expiry: p.quantity for p in await HeldInDecember().positions()}
    intents = intents_from({"ZO": 0}, positions=await _positions(HeldInDecember()),  # type: ignore[arg-type]
                           strategy="targets")
    front = front_month(OATS, today=dt.date(2026, 12, 1), roll_days=5)
    after = dict(held)
    for intent in intents:
        month = intent.contract.expiry or front
        after[month] = after.get(month, 0) + intent.signed_quantity
    assert {m: q for m, q in after.items() if q} == {}


async def test_the_simulated_gateways_hours_follow_its_clock(
    mock_clock: trio.testing.MockClock,
) -> None:
    """A simulated gateway left running for nine (virtual) days still answers ZO's contract
    details with the hours of its first week (to 2025-03-10). The trader expects the hours
    around the gateway's own time, as IB sends: else Hydra sees hours that do not cover now,
    holds nothing, and works intents on a Saturday."""
    params = SimParams(markets=(MarketParams.oats(adv=0, daily_volatility=0.0),))
    async with open_sim_exchange(params, seed=7) as exchange, trio.open_nursery() as nursery:
        gateway = await nursery.start(serve_gateway, exchange)
        async with open_ib_broker(BrokerSettings(port=gateway.port)) as broker:
            mock_clock.jump(9 * 86400)
            now = exchange.timestamp(trio.current_time())
            hours = await broker.trading_hours(OATS)
        nursery.cancel_scope.cancel(reason="test over")
    assert now == dt.datetime(2025, 3, 12, 14, 30, tzinfo=dt.UTC)
    assert hours is not None and hours.covers(now)


async def test_a_run_past_the_roll_date_trades_the_new_front_month(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """Hydra starts on Thursday 2025-04-24, six days before ZOK5's first notice (30 April):
    ZOK5 is the front month. It keeps running; a day later, five days before first notice
    (within ``roll_days``), an intent naming no month arrives. The trader expects it in ZON5,
    the front month that day, not a new position in a month about to go to delivery."""
    start = dt.datetime(2025, 4, 24, 14, 30, tzinfo=dt.UTC)
    params = SimParams(
        markets=tuple(MarketParams.oats(contract=OATS.for_month(m), adv=0, daily_volatility=0.0,
                                        spread_ticks=((1, 1.0),))
                      for m in ("202505", "202507")),
        session_start=start, ack_latency=0.001, fill_latency=0.001)
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite",
                               HydraConfig(execution=ExecutionSettings(patience=0.2))) as engine:
            await trio.sleep(86400)
            assert exchange.timestamp(trio.current_time()) == start + dt.timedelta(days=1)
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=1))
            await handle.wait_done()
    assert handle.intent.contract.expiry == "202507"


async def test_a_carried_twap_resumed_in_the_break_waits_for_the_open(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """A carried TWAP (``twap_carry``) starts at 13:00 and waits, after the 13:20 close, for
    19:00 to go on. Hydra dies at 13:25 and is restarted at once. The trader expects the
    resumed TWAP to keep waiting for the open: nothing may be sent between 13:20 and 19:00."""
    config = HydraConfig(execution=ExecutionSettings(twap_horizon=3600, twap_slices=4,
                                                     twap_jitter=0.0, twap_carry=True))
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(hours_params(ct(2, 13)), seed=1) as exchange:
        with pytest.raises(BaseExceptionGroup) as crashed:
            async with open_hydra(config, RecordingBroker(exchange), journal_path=path,
                                  offload=crash_from(25 * 60),
                                  clock=lambda: exchange.timestamp(trio.current_time())
                                  ) as engine:
                await engine.submit(oats(8, policy=Policy.TWAP))
                await trio.sleep(25 * 60 + 1)
                await engine.submit(oats(1))  # the crash, at its journal look-up
        assert crashed.group_contains(Crash)
        async with open_hours_engine(exchange, path, config) as (engine, broker):
            await trio.sleep(6 * 3600)
    assert not [at for _, at in broker.sent if ct(2, 13, 20) <= at < ct(2, 19)]
