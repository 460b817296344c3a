"""open_hydra on the simulated exchange: the ladder, routing, risk blocks and the handle."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
import trio

from hydra import (
    LEAN_HOGS,
    OATS,
    Distance,
    Engine,
    ExecutionSettings,
    HydraConfig,
    InvalidValueError,
    OrderIntent,
    OrderStatus,
    Policy,
    RiskLimits,
    Side,
)
from hydra._errors import JournalWriteError
from hydra._ids import ClientOrderId, IntentId
from hydra._journal import EventKind, Journal
from hydra._orders import OrderRequest
from hydra._settings import JournalSettings, ShutdownSettings
from hydra.sim import DisplayedSize, MarketParams, SimBroker, SimParams, open_sim_exchange
from tests.simulated import open_engine, quiet_oats
from tests.tiny_disk import mounted_tiny_disk

LADDER = ExecutionSettings(patience=60.0, slippage_guard=Distance.ticks(2))


def _config(**execution: object) -> HydraConfig:
    return HydraConfig(execution=attrs.evolve(LADDER, **execution))


async def _price_at(exchange: object, when: float) -> Decimal | None:
    """The limit price of our one working order at virtual time ``when`` (None if none)."""
    await trio.sleep_until(when)
    orders = exchange.open_orders()  # type: ignore[attr-defined]
    return orders[0].request.limit_price if orders else None


async def test_ladder_stages_at_exact_virtual_times(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """One tick inside at 0, one step at patience, the last stage at +patience/2: one tick
    short of the ask, and the ask at once since this is the intent's final order."""
    async with open_sim_exchange(quiet_oats(spread_ticks=8), seed=1) as exchange:
        # bid 349.00, ask 351.00. Once our bid rests alone at 349.25 it is the displayed
        # touch, but the crowd's bid is still 349.00: the step goes from 349.25, not beyond.
        config = _config(slippage_guard=Distance.ticks(5))
        async with open_engine(exchange, tmp_path / "j.sqlite", config) as engine:
            start = trio.current_time()
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=3))
            assert await _price_at(exchange, start + 59.999) == Decimal("349.25")
            assert await _price_at(exchange, start + 60.001) == Decimal("349.50")
            assert await _price_at(exchange, start + 89.999) == Decimal("349.50")
            report = await handle.wait_done()
            assert trio.current_time() - start == pytest.approx(90.030)
    (child,) = report.children
    assert child.prices == (Decimal("349.25"), Decimal("349.50"), Decimal("351.00"))
    assert child.status is OrderStatus.FILLED
    assert report.average_price == Decimal("351.00")


async def test_ladder_cancels_the_rest_after_a_quarter_patience(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """With the guard below the ask nothing fills, the rest is cancelled at +patience/4, and
    the report says the guard held it."""
    async with open_sim_exchange(quiet_oats(spread_ticks=6), seed=1) as exchange:
        # bid 349.25, ask 350.75; the guard (2 ticks from 350.00) stops the final take at 350.50
        async with open_engine(exchange, tmp_path / "j.sqlite", _config()) as engine:
            start = trio.current_time()
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=3))
            assert await _price_at(exchange, start + 60.001) == Decimal("349.75")
            assert await _price_at(exchange, start + 90.001) == Decimal("350.50")
            assert await _price_at(exchange, start + 104.999) == Decimal("350.50")
            assert await _price_at(exchange, start + 105.001) is None
            report = await handle.wait_done()
            assert trio.current_time() - start == pytest.approx(105.030)
    (child,) = report.children
    assert child.prices == (Decimal("349.50"), Decimal("349.75"), Decimal("350.50"))
    assert child.status is OrderStatus.CANCELLED
    assert report.filled == 0 and report.shortfall_bps is None
    assert report.end_reason == "slippage guard reached at 350.50"


async def test_a_fill_ends_the_ladder_early(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """The step to the ask of a one-tick spread fills at once; the report has the fill and the
    shortfall in bps."""
    async with open_sim_exchange(quiet_oats(spread_ticks=1), seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite", _config()) as engine:
            start = trio.current_time()
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=3))
            report = await handle.wait_done()
            assert trio.current_time() - start == pytest.approx(60.030)
    assert report.filled == 3 and report.completion == 1
    assert report.average_price == Decimal("350.25")
    assert report.arrival_mid == Decimal("350.125")
    assert report.shortfall_bps == Decimal("0.125") / Decimal("350.125") * 10_000
    assert report.children[0].status is OrderStatus.FILLED


async def test_risk_block_sends_nothing_to_the_broker(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """An order over the notional limit is journaled as blocked and never reaches the
    exchange."""
    config = attrs.evolve(_config(), risk=RiskLimits(max_order_notional=10_000))
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite", config) as engine:
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=3))
            report = await handle.wait_done()
            assert exchange.statistics().orders == 0
    assert report.blocked
    assert (report.block_reason or "").startswith("order_notional ")
    assert (report.block_reason or "").endswith(" exceeds limit 10000")
    assert report.children[0].status is OrderStatus.BLOCKED
    journal = Journal.open(tmp_path / "j.sqlite")
    kinds = [kind for _, kind, _ in journal.events()]
    assert EventKind.BLOCKED in kinds and EventKind.ORDER not in kinds


async def test_intent_is_journaled_before_its_order(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """The journal holds the intent, then the order (write-ahead), then its ack and fills."""
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite", _config()) as engine:
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.SELL, quantity=2))
            await handle.wait_done()
    kinds = [kind for _, kind, _ in Journal.open(tmp_path / "j.sqlite").events()]
    assert kinds.index(EventKind.INTENT) < kinds.index(EventKind.ORDER) < kinds.index(
        EventKind.ACK
    ) < kinds.index(EventKind.FILL)


async def test_dry_run_journals_everything_and_sends_nothing(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A dry run goes through routing, risk and the journal (marked dry); the exchange sees
    nothing."""
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite", _config(), dry_run=True) as engine:
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=3))
            report = await handle.wait_done()
            assert exchange.statistics().orders == 0
    assert report.dry_run and report.filled == 0
    (order,) = Journal.open(tmp_path / "j.sqlite").orders()
    assert order.dry and order.request.limit_price == Decimal("350.00")


async def test_cancel_stops_the_intent_and_cancels_its_order(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Cancelling an intent cancels its working order at once; the report still comes."""
    async with open_sim_exchange(quiet_oats(spread_ticks=6), seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite", _config()) as engine:
            intent = OrderIntent(contract=OATS, side=Side.BUY, quantity=3)
            handle = await engine.submit(intent)
            await trio.sleep(10)
            engine.cancel(intent.intent_id)
            report = await handle.wait_done()
            assert trio.current_time() == pytest.approx(10.030)
            assert exchange.open_orders() == ()
    assert report.children[0].status is OrderStatus.CANCELLED


async def test_kill_halts_cancels_and_refuses_new_orders(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """The kill switch cancels every working order and blocks every later intent."""
    async with open_sim_exchange(quiet_oats(spread_ticks=6), seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite", _config()) as engine:
            events = engine.subscribe()
            first = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=3))
            second = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=2))
            await trio.sleep(5)
            await engine.kill("test")
            assert exchange.open_orders() == ()
            assert (await first.wait_done()).children[0].status is OrderStatus.CANCELLED
            assert (await second.wait_done()).children[0].status is OrderStatus.CANCELLED
            late = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=1))
            report = await late.wait_done()
            assert report.blocked and "trading_state HALTED" in (report.block_reason or "")
            stats = engine.statistics()
            assert stats.trading_state.value == "HALTED"
            assert (stats.submitted, stats.finished, stats.blocked) == (3, 3, 1)
            await trio.testing.wait_all_tasks_blocked()
            kinds = []
            while (kind := type(events.receive_nowait()).__name__) != "TradingStateChanged":
                kinds.append(kind)
    # Before the kill: each order sent, its ladder's first stage told and journaled WORKING,
    # and nothing else.
    assert sorted(kinds) == ["OrderSent"] * 2 + ["OrderStatusRecorded"] * 2 + ["StageRecorded"] * 2
    notes = [p for _, kind, p in Journal.open(tmp_path / "j.sqlite").events()
             if kind is EventKind.NOTE and p["what"] == "kill_switch"]
    assert notes == [{"what": "kill_switch", "cause": "kill_switch", "state": "HALTED",
                      "reason": "test", "working": 2}]


async def test_closing_cancels_working_orders_after_the_drain(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Leaving the block waits out the drain deadline, then cancels and journals every order."""
    config = attrs.evolve(_config(patience=600.0), shutdown=ShutdownSettings(drain_timeout=5.0))
    async with open_sim_exchange(quiet_oats(spread_ticks=6), seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite", config) as engine:
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=3))
        assert trio.current_time() == pytest.approx(5.030)
        assert exchange.open_orders() == ()
    assert (await handle.wait_done()).children[0].status is OrderStatus.CANCELLED
    assert [o.status for o in Journal.open(tmp_path / "j.sqlite").orders()] == [
        OrderStatus.CANCELLED
    ]


async def test_submitting_twice_or_unknown_symbol_is_refused(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """The same intent id twice, or a contract without ADV, is a clear error naming the field."""
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite", _config()) as engine:
            intent = OrderIntent(contract=OATS, side=Side.BUY, quantity=1)
            await engine.submit(intent)
            with pytest.raises(InvalidValueError, match="intent_id"):
                await engine.submit(intent)
            hogs = OrderIntent(contract=LEAN_HOGS, side=Side.BUY, quantity=1)
            with pytest.raises(InvalidValueError, match="symbol"):
                await engine.submit(hogs)  # this exchange trades only oats


async def test_close_position_flattens_with_patience(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Closing a long position sells exactly its size; with nothing held it is a clear error."""
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite", _config()) as engine:
            with pytest.raises(InvalidValueError, match="no position to close"):
                await engine.close_position(OATS)
            bought = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=4))
            assert (await bought.wait_done()).filled == 4
            close = await (await engine.close_position(OATS)).wait_done()
            assert (close.side, close.quantity, close.filled) == (Side.SELL, 4, 4)
            (position,) = exchange.positions()
            assert position.quantity == 0


async def test_sync_open_orders_reports_differences(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """An order working at the broker that the journal does not know is reported, not adopted."""
    async with open_sim_exchange(quiet_oats(spread_ticks=6), seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite", _config()) as engine:
            assert await engine.sync_open_orders() == ()
            stranger = SimBroker(exchange)
            await stranger.connect()
            await stranger.place(OrderRequest(
                client_order_id=ClientOrderId("manual-1"), intent_id=IntentId("manual"),
                contract=OATS, side=Side.BUY, quantity=1, limit_price="349.50",
            ))
            (difference,) = await engine.sync_open_orders()
            assert difference.client_order_id == "manual-1"
            assert "not live in the journal" in difference.description


async def test_audit_log_mirrors_the_journal_with_the_intent_as_correlation_id(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Beside the journal, a JSON-lines audit log records the intent, order and fill under
    the intent's id."""
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite", _config()) as engine:
            intent = OrderIntent(contract=OATS, side=Side.BUY, quantity=3)
            await (await engine.submit(intent)).wait_done()
    lines = [json.loads(line) for line in (tmp_path / "j.audit.jsonl").read_text().splitlines()]
    by_event = {line["event"]: line for line in lines}
    for event in ("intent", "order", "ack", "fill"):
        assert by_event[event]["correlation_id"] == intent.intent_id


async def test_every_report_reaches_subscribers_even_at_shutdown(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Events queued when the block closes (the last IntentFinished) are still delivered."""
    async with open_sim_exchange(quiet_oats(spread_ticks=6), seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite", _config()) as engine:
            events = engine.subscribe()
            await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=3))
    received = [event async for event in events]
    assert [type(event).__name__ for event in received][-1] == "IntentFinished"


async def test_roll_moves_a_position_from_one_month_to_the_next(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Rolling 4 lots of May oats closes May and opens 4 of July, each a month of its own."""
    may, july = OATS.for_month("202605"), OATS.for_month("202607")
    markets = tuple(
        MarketParams.oats(contract=contract, adv=0, daily_volatility=0.0,
                          spread_ticks=((2, 1.0),), displayed_size=DisplayedSize.fixed(5)).legacy()
        for contract in (may, july)
    )
    async with open_sim_exchange(SimParams(markets=markets), seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite", _config()) as engine:
            bought = await engine.submit(OrderIntent(contract=may, side=Side.BUY, quantity=4))
            assert (await bought.wait_done()).filled == 4
            with pytest.raises(InvalidValueError, match="to_expiry"):
                await engine.roll(july, to_expiry="202605")
            with pytest.raises(InvalidValueError, match=r"intent_ids.*already submitted"):
                await engine.roll(may, to_expiry="202607",  # the open leg's id is taken
                                  intent_ids=(IntentId("close-may"), bought.intent.intent_id))
            assert exchange.statistics().orders == 1  # refused whole: nothing closed
            closed, opened = await engine.roll(may, to_expiry="202607")
        held = {p.contract.expiry: p.quantity for p in exchange.positions()}
    assert (closed.side, closed.filled) == (Side.SELL, 4)
    assert opened is not None and (opened.side, opened.filled) == (Side.BUY, 4)
    assert held == {"202605": 0, "202607": 4}


async def test_kill_and_broker_events_do_not_wait_behind_queued_orders(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """With 200 orders waiting for the pacing bucket (over 4 s of them), the kill switch does
    not wait its turn: no queued order reaches the exchange after it, and the sent ones are
    cancelled as fast as pacing allows."""
    config = attrs.evolve(_config(), risk=RiskLimits(
        max_open_orders=1000, max_orders_per_minute=1000, max_position=1000))
    async with open_sim_exchange(quiet_oats(spread_ticks=6), seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite", config) as engine:
            handles = [
                await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=1,
                                                policy=Policy.PASSIVE))
                for _ in range(200)
            ]
            await trio.sleep(1.0)
            sent = exchange.statistics().orders
            assert 40 < sent < 100  # the bucket's burst, then 45 a second
            await engine.kill("test")
            # At most the one order already past its checks and waiting for its token gets out
            # (and is cancelled as soon as it is sent); nothing still queued does.
            assert exchange.statistics().orders <= sent + 1
            sent = exchange.statistics().orders
            assert trio.current_time() < 200 / 45  # before the queue could have drained
            reports = [await handle.wait_done() for handle in handles]
            assert exchange.open_orders() == ()
    assert sum(report.blocked for report in reports) == 200 - sent


async def test_an_intent_over_the_order_limit_is_worked_in_orders_within_it(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A 3-lot intent under max_order_quantity 2 goes out as orders of at most 2 lots, not
    blocked whole."""
    config = attrs.evolve(_config(), risk=RiskLimits(max_order_quantity=2))
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite", config) as engine:
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=3))
            report = await handle.wait_done()
    assert not report.blocked
    assert [child.quantity for child in report.children] == [2, 1]


async def test_an_error_inside_the_block_is_journaled_in_one_line(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """An exception that ends open_hydra is noted as unrecoverable_error with one line naming
    its type and message, not an exception-group repr; an outer cancel is a plain stop."""
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        with pytest.RaisesGroup(pytest.RaisesExc(RuntimeError, match="strategy"),
                                flatten_subgroups=True):
            async with open_engine(exchange, path):
                raise RuntimeError("strategy\n blew up")
        with trio.move_on_after(1):
            async with open_engine(exchange, path):
                await trio.sleep_forever()
    notes = [(p["what"], p.get("error", p.get("reason"))) for _, kind, p in
             Journal.open(path).events() if kind is EventKind.NOTE
             and p["what"] in ("unrecoverable_error", "engine_stopped")]
    assert notes == [("unrecoverable_error", "RuntimeError: strategy blew up"),
                     ("engine_stopped", "Cancelled: cancelled due to deadline")]


async def test_a_full_disk_stops_hydra_cleanly_and_the_journal_says_why(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """The journal's disk fills while an order rests: the ladder's step is never sent (its
    journal write failed), Hydra stops with JournalWriteError, the order is cancelled at the
    exchange, and once space is free the journal's last events say why."""
    with mounted_tiny_disk(tmp_path) as disk:
        path = disk.root / "j.sqlite"
        config = attrs.evolve(_config(slippage_guard=Distance.ticks(5)),
                              journal=JournalSettings(audit_path=str(tmp_path / "audit.jsonl")))
        async with open_sim_exchange(quiet_oats(spread_ticks=8), seed=1) as exchange:
            with pytest.RaisesGroup(pytest.RaisesExc(
                    JournalWriteError, match=r"^journal write failed: disk full$"),
                    flatten_subgroups=True):
                async with open_engine(exchange, path, config) as engine:
                    start = trio.current_time()
                    await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=3))
                    assert await _price_at(exchange, start + 30) == Decimal("349.25")
                    disk.fill()
                    try:
                        await trio.sleep(600)  # the step at +60 s needs a journal write
                    finally:
                        assert trio.current_time() - start == pytest.approx(60, abs=0.1)
                        disk.free()
            assert exchange.open_orders() == ()
            assert exchange.statistics().orders == 1
        events = list(Journal.open_read_only(path).events())
    (order,) = [p for _, kind, p in events if kind is EventKind.ORDER]
    assert order["request"]["limit_price"] == "349.25"
    notes = [p for _, kind, p in events if kind is EventKind.NOTE]
    assert not [n for n in notes if n["what"] == "modify"]  # the step was never sent
    failed = next(n for n in notes if n["what"] == "journal_write_failed")
    assert failed["error"] == "disk full"
    assert notes[-1] == {"what": "unrecoverable_error", "error": "journal write failed: disk full"}
    statuses = [p["status"] for _, kind, p in events if kind is EventKind.STATUS]
    assert statuses[-1] == "CANCELLED"
    audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    first = next(a for a in audit if a["event"] == "journal_write_failed")
    assert first["seq"] is None  # in the audit log at once, before the journal took it


async def test_two_submissions_of_one_intent_at_once_journal_it_once(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Two tasks submit the same intent id at once: one is worked, the other is refused as
    already submitted, and the journal holds the intent once (both used to pass the check
    before either was journaled)."""
    path = tmp_path / "j.sqlite"
    outcomes: list[str] = []

    async def submit(engine: Engine) -> None:
        try:
            await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=1,
                                            policy=Policy.CROSS, intent_id="twice"))
            outcomes.append("worked")
        except InvalidValueError:
            outcomes.append("refused")

    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        async with open_engine(exchange, path) as engine, trio.open_nursery() as nursery:
            nursery.start_soon(submit, engine)
            nursery.start_soon(submit, engine)
    assert sorted(outcomes) == ["refused", "worked"]
    intents = [kind for _, kind, _ in Journal.open_read_only(path).events()
               if kind is EventKind.INTENT]
    assert len(intents) == 1
