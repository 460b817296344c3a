"""What an intent, bracket, close or roll naming no month trades: Hydra's front month of the
day (tests/test_front_months.py follows a run past a roll date), through the simulator and
through IBBroker against the simulated gateway.

On 2025-04-28 the nearest oats month, ZOK5, is two days from its first notice (2025-04-30):
it is what the broker gives for "ZO" alone, and what Hydra must not trade. ZON5 is Hydra's."""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
import trio
from structlog.testing import capture_logs

from hydra import OATS, BracketIntent, HydraConfig, InvalidValueError, OrderIntent, Side
from hydra._ids import IntentId
from hydra._journal import Journal
from hydra._journal_actor import run_inline
from hydra._open_hydra import open_hydra
from hydra._runner import run_inbox
from hydra._settings import BrokerSettings, ExecutionSettings, WorkingHours
from hydra.gateway import serve_gateway
from hydra.ib import open_ib_broker
from hydra.sim import MarketParams, SimExchange, SimParams, open_sim_exchange
from tests.journal_surgery import Crash, crash_from
from tests.simulated import open_engine

START = dt.datetime(2025, 4, 28, 14, 30, tzinfo=dt.UTC)
NEAR, FRONT, NEXT = "202505", "202507", "202509"
HANG_GUARD = 30  # seconds: the gateway runs on the real clock
PARAMS = SimParams(
    markets=tuple(MarketParams.oats(contract=OATS.for_month(m), adv=0, daily_volatility=0.0,
                                    spread_ticks=((1, 1.0),)) for m in (NEAR, FRONT, NEXT)),
    session_start=START, ack_latency=0.001, fill_latency=0.001,
)
FAST = HydraConfig(execution=ExecutionSettings(patience=0.2))
FAST_AT_NIGHT = HydraConfig(execution=ExecutionSettings(patience=0.2, hours=WorkingHours.TRADING))
"""`FAST` in every trading hour: held after the day's close for the 19:00 night open."""


def _months_traded(exchange: SimExchange) -> set[str | None]:
    return {fill.expiry for fill in exchange.executions_since(START)}


def _journaled_months(path: Path) -> set[str | None]:
    """The months of every intent and order in the journal."""
    journal = Journal.open(path)
    try:
        orders = journal.orders()
        intents = [journal.intent_record(o.request.intent_id) for o in orders]
        return ({o.request.contract.expiry for o in orders}
                | {r.intent.contract.expiry for r in intents if r is not None})
    finally:
        journal.close()


async def test_an_intent_naming_no_month_trades_the_front_month_in_the_sim(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """The intent, its journaled orders, the fills and the report are all of ZON5; the start
    journals and logs the month chosen for each product, once."""
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(PARAMS, seed=1) as exchange:
        with capture_logs() as logs:
            async with open_engine(exchange, path, FAST) as engine:
                handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY,
                                                         quantity=2))
                report = await handle.wait_done()
        assert report.filled == 2
        assert {f.expiry for f in report.fills} == {FRONT} == {handle.intent.contract.expiry}
        assert _months_traded(exchange) == {FRONT} == _journaled_months(path)
    journal = Journal.open(path)
    (note,) = journal.notes("front_months")
    journal.close()
    assert note["months"] == {"ZO": FRONT, "HE": "202505"}
    assert (note["today"], note["roll_days"]) == ("2025-04-28", 5)
    (line,) = [e for e in logs if e["event"] == "front_months"]
    assert line["months"] == note["months"]


async def test_a_bracket_naming_no_month_trades_the_front_month(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A bracket with no month: its entry and exits are all ZON5 orders."""
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(PARAMS, seed=1) as exchange:
        async with open_engine(exchange, path, FAST) as engine:
            bid = exchange.quote(OATS.for_month(FRONT)).bid
            handle = await engine.submit_bracket(BracketIntent(
                contract=OATS, side=Side.BUY, quantity=1, entry_price=bid - Decimal(5),
                take_profit_price=bid + Decimal(5), stop_price=bid - Decimal(10),
                stop_limit_price=bid - Decimal(11)))
            await trio.sleep(1)
            handle.cancel()
            await handle.wait_done()
        assert handle.intent.contract.expiry == FRONT
        assert _journaled_months(path) == {FRONT}


async def test_close_and_roll_naming_no_month_act_on_the_front_month(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A position in ZOK5 is not what "close ZO" closes: refused, naming ZON5. A position in
    ZON5 is closed by "close ZO"; "roll ZO to 202509" rolls the month held nearest delivery
    (ZOK5, tests/test_defects_roll.py), then one from ZON5."""
    async with open_sim_exchange(PARAMS, seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite", FAST) as engine:
            near = await engine.submit(OrderIntent(contract=OATS.for_month(NEAR),
                                                   side=Side.BUY, quantity=1))
            assert (await near.wait_done()).filled == 1
            with pytest.raises(InvalidValueError, match=r"no position to close, got 'ZO 202507'"):
                await engine.close_position(OATS)
            front = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=2))
            assert (await front.wait_done()).filled == 2
            closing = await engine.close_position(OATS)
            closed = await closing.wait_done()
            assert (closing.intent.contract.expiry, closed.side, closed.filled) == (
                FRONT, Side.SELL, 2)
            again = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=1))
            assert (await again.wait_done()).filled == 1
            with pytest.raises(InvalidValueError, match="to_expiry"):
                await engine.roll(OATS, to_expiry=NEAR)
            out_of_near, _ = await engine.roll(OATS, to_expiry=NEXT)
            rolled_from, rolled_to = await engine.roll(OATS, to_expiry=NEXT)
        assert ({f.expiry for f in out_of_near.fills}, out_of_near.filled) == ({NEAR}, 1)
        assert rolled_to is not None
        assert ({f.expiry for f in rolled_from.fills}, rolled_from.side, rolled_from.filled) == (
            {FRONT}, Side.SELL, 1)
        assert ({f.expiry for f in rolled_to.fills}, rolled_to.side, rolled_to.filled) == (
            {NEXT}, Side.BUY, 1)


async def test_through_ib_an_intent_naming_no_month_trades_the_front_month(
    tmp_path: Path,
) -> None:
    """IB's own front month for "ZO" is ZOK5 (what ib_async's qualification would give); the
    order Hydra sends through IBBroker to the simulated gateway is for ZON5, and so are the
    fills, the journal and the report."""
    path = tmp_path / "j.sqlite"
    with trio.fail_after(HANG_GUARD):
        async with open_sim_exchange(PARAMS, seed=5) as exchange, \
                trio.open_nursery() as nursery:
            gateway = await nursery.start(functools.partial(
                serve_gateway, exchange, quote_interval=0.005))
            settings = BrokerSettings(port=gateway.port)
            async with open_ib_broker(settings) as broker:
                async with open_hydra(attrs.evolve(FAST, broker=settings), broker,
                                      journal_path=path, offload=run_inline,
                                      clock=lambda: exchange.timestamp(trio.current_time()),
                                      ) as engine:
                    assert (await broker.contract_details("ZO")).expiry == NEAR
                    handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY,
                                                             quantity=1))
                    report = await handle.wait_done()
            nursery.cancel_scope.cancel(reason="test over")
        assert report.filled == 1
        assert {f.expiry for f in report.fills} == {FRONT}
        assert _months_traded(exchange) == {FRONT} == _journaled_months(path)


async def test_through_the_gateway_a_default_market_trades_hydras_front_month(
    tmp_path: Path,
) -> None:
    """The simulated gateway serving oats' one default market on 2025-04-28 (as `hydra run
    --sim` does): an intent naming no month fills in ZON5."""
    params = SimParams(markets=(MarketParams.oats(adv=0, daily_volatility=0.0,
                                                  spread_ticks=((1, 1.0),)),),
                       session_start=START, ack_latency=0.001, fill_latency=0.001)
    with trio.fail_after(HANG_GUARD):
        async with open_sim_exchange(params, seed=5) as exchange, \
                trio.open_nursery() as nursery:
            gateway = await nursery.start(functools.partial(
                serve_gateway, exchange, quote_interval=0.005))
            settings = BrokerSettings(port=gateway.port)
            async with open_ib_broker(settings) as broker:
                async with open_hydra(attrs.evolve(FAST, broker=settings), broker,
                                      journal_path=tmp_path / "j.sqlite", offload=run_inline,
                                      clock=lambda: exchange.timestamp(trio.current_time()),
                                      ) as engine:
                    handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY,
                                                             quantity=1))
                    report = await handle.wait_done()
            nursery.cancel_scope.cancel(reason="test over")
    assert report.filled == 1


CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
THURSDAY_AFTER_CLOSE = dt.datetime(2025, 4, 24, 16, 0, tzinfo=CHICAGO)
"""ZOK5 is the front month on Thursday's trading day; the 19:00 open is Friday's, of ZON5."""
OPEN = dt.datetime(2025, 4, 24, 19, 0, tzinfo=CHICAGO)
HELD = SimParams(
    markets=tuple(MarketParams.oats(contract=OATS.for_month(m), adv=0, daily_volatility=0.0,
                                    spread_ticks=((1, 1.0),)) for m in (NEAR, FRONT)),
    session_start=THURSDAY_AFTER_CLOSE.astimezone(dt.UTC), ack_latency=0.001,
    fill_latency=0.001, sessions=True)


def _fill_times(exchange: SimExchange) -> list[tuple[str | None, dt.datetime]]:
    """The month and time of every fill since Thursday 13:00 (the earliest start here)."""
    return [(f.expiry, f.time.astimezone(CHICAGO))
            for f in exchange.executions_since(dt.datetime(2025, 4, 24, 13, 0, tzinfo=CHICAGO))]


async def test_an_intent_held_past_the_trading_day_roll_trades_the_new_front_month(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """Asked at 16:00 Thursday (ZOK5 the front month), held for the 19:00 open of Friday's
    trading day: it is journaled and worked in ZON5 at the open, and its handle says so."""
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(HELD, seed=1) as exchange:
        async with open_engine(exchange, path, FAST) as engine:
            assert engine.front_months()["ZO"] == NEAR
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=1))
            assert handle.intent.contract.expiry is None  # not decided while it is held
            report = await handle.wait_done()
            assert engine.front_months()["ZO"] == FRONT
        assert report.filled == 1
        assert handle.intent.contract.expiry == FRONT
        assert [month for month, _ in _fill_times(exchange)] == [FRONT]
        assert min(at for _, at in _fill_times(exchange)) >= OPEN
        assert _journaled_months(path) == {FRONT}


async def test_an_intent_naming_its_month_keeps_it_when_held_past_the_roll(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """The same intent naming ZOK5 is worked in ZOK5 at the open: a month named is the
    trader's, whatever the front month of the day it is released into."""
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(HELD, seed=1) as exchange:
        async with open_engine(exchange, path, FAST) as engine:
            handle = await engine.submit(OrderIntent(contract=OATS.for_month(NEAR),
                                                     side=Side.BUY, quantity=1))
            report = await handle.wait_done()
        assert report.filled == 1
        assert [month for month, _ in _fill_times(exchange)] == [NEAR]
        assert _journaled_months(path) == {NEAR}


async def test_an_inbox_intent_held_past_the_trading_day_roll_trades_the_new_front_month(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """An inbox line naming no month, read at 16:00 Thursday: bought in ZON5 at the 19:00
    open (in the trading hours)."""
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text('{"symbol": "ZO", "side": "BUY", "quantity": 1, "intent_id": "held"}\n')
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(HELD, seed=1) as exchange:
        async with open_engine(exchange, path, FAST_AT_NIGHT) as engine, \
                trio.open_nursery() as nursery:
            nursery.start_soon(functools.partial(
                run_inbox, engine, path=inbox, state=tmp_path / "inbox.state",
                now=lambda: exchange.timestamp(trio.current_time()), wait=300.0))
            await trio.sleep((OPEN - THURSDAY_AFTER_CLOSE).total_seconds() + 600)
            nursery.cancel_scope.cancel(reason="test over")
        assert [month for month, _ in _fill_times(exchange)] == [FRONT]
        assert _journaled_months(path) == {FRONT}


async def test_the_front_months_at_release_are_the_next_opens_while_the_market_is_closed(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """At 16:00 Thursday ZOK5 is today's front month, but an intent submitted now is released
    at the 19:00 open, into Friday's trading day: ZON5. Hogs, which this exchange does not
    trade (no hours), keep today's month (logged)."""
    async with open_sim_exchange(HELD, seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite", FAST) as engine:
            with capture_logs() as logs:
                at_release = await engine.front_months_at_release()
            assert engine.front_months() == {"ZO": NEAR, "HE": "202505"}
    assert at_release == {"ZO": FRONT, "HE": "202505"}
    (unknown,) = [e for e in logs if e["event"] == "release_day_unknown"]
    assert unknown["symbol"] == "HE"


async def test_the_front_months_at_release_are_todays_while_the_market_is_open(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """At 10:00 Thursday the market is open: the months at release are today's."""
    params = attrs.evolve(HELD, session_start=dt.datetime(2025, 4, 24, 10, 0, tzinfo=CHICAGO)
                          .astimezone(dt.UTC))
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite", FAST) as engine:
            assert (await engine.front_months_at_release())["ZO"] == NEAR


async def test_an_intent_resumed_across_the_trading_day_roll_keeps_its_journaled_month(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """An intent naming no month, journaled and sent in ZOK5 at 13:00 Thursday, is cut off by
    a crash at 13:05 (the trader cancels its order in TWS); Hydra restarts at 17:30, in
    Friday's trading day (ZON5 the front month). The resumed intent waits for the 19:00 open
    and is finished in ZOK5, the month its orders were sent in: a restart never moves it."""
    path = tmp_path / "j.sqlite"
    patient = HydraConfig(execution=ExecutionSettings(patience=600.0))
    params = attrs.evolve(HELD, session_start=dt.datetime(2025, 4, 24, 13, 0, tzinfo=CHICAGO)
                          .astimezone(dt.UTC))
    async with open_sim_exchange(params, seed=1) as exchange:
        with pytest.raises(BaseExceptionGroup) as crashed:
            async with open_engine(exchange, path, patient,
                                   offload=crash_from(exchange.origin + 300)) as engine:
                first = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY,
                                                        quantity=2, intent_id=IntentId("cut")))
                assert first.intent.contract.expiry == NEAR
                await trio.sleep(301)
                await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=1))
        assert crashed.group_contains(Crash)
        trader = exchange.attach(lambda _: None, client_id=1)  # in TWS, while Hydra is down
        (order,) = exchange.open_orders()
        exchange.cancel(trader, order.client_order_id)
        exchange.detach(trader)
        await trio.sleep_until(exchange.origin + 4.5 * 3600)  # 17:30
        async with open_engine(exchange, path, patient) as engine:
            assert engine.front_months()["ZO"] == FRONT
            (resumed,) = engine.adopted
            report = await resumed.wait_done()
        assert report.filled == 2
        assert resumed.intent.contract.expiry == NEAR
        assert {month for month, _ in _fill_times(exchange)} == {NEAR}
        assert min(at for _, at in _fill_times(exchange)) >= OPEN
        assert _journaled_months(path) == {NEAR}
