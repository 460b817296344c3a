"""Hydra's start-up step that reads ADV and daily volatility from the broker's daily bars
(`hydra._market_facts`), on the simulated exchange."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio
from hypothesis import given
from hypothesis import strategies as st
from structlog.testing import capture_logs

from hydra import OATS, HydraConfig, OrderIntent, Side
from hydra._contracts import ContractSpec
from hydra._core._market_stats import DailyBar, market_stats
from hydra._errors import BrokerError, InvalidValueError
from hydra._ids import ClientOrderId, IntentId
from hydra._journal import EventKind, Journal
from hydra._journal_actor import run_inline
from hydra._market_facts import Source, choose
from hydra._open_hydra import open_hydra
from hydra._orders import OrderRequest
from hydra._settings import BrokerSettings, MarketFactsSettings, SlippageSettings
from hydra.gateway import serve_gateway
from hydra.ib import open_ib_broker
from hydra.sim import MarketParams, SimBroker, SimExchange, SimParams, open_sim_exchange
from hydra.sim._daily_history import past_daily_bars
from tests.simulated import open_engine, quiet_oats

LIVELY = SimParams(markets=(MarketParams.oats(),))  # ADV 1,500 and 1.2% a day (MARKETS.md)
SESSION_DAY = dt.date(2025, 3, 3)
HANG_GUARD = 30  # seconds: the gateway runs on the real clock


def _facts(logs: list[dict[str, Any]], symbol: str) -> dict[str, Any]:
    (line,) = [e for e in logs if e["event"] == "market_facts" and e["symbol"] == symbol]
    return line


def _expected(seed: int, sessions: int = 20) -> tuple[int, Decimal]:
    """What 20 sessions of the lively oats market measure, computed apart from Hydra."""
    bars = past_daily_bars(LIVELY.markets[0], seed=f"{seed}:ZO:", today=SESSION_DAY,
                           sessions=sessions + 1)
    stats = market_stats(bars, before=SESSION_DAY, sessions=sessions, min_sessions=10)
    assert stats.adv is not None and stats.volatility_bps is not None
    return stats.adv, stats.volatility_bps


def _notes(path: Path, what: str) -> list[dict[str, Any]]:
    journal = Journal.open(path)
    try:
        return [p for _, kind, p in journal.events()
                if kind is EventKind.NOTE and p["what"] == what]
    finally:
        journal.close()


async def _submitted(engine: Any, quantity: int, logs: list[dict[str, Any]]) -> str:
    handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=quantity))
    (line,) = [e for e in logs if e["event"] == "intent_submitted"
               and e["intent_id"] == handle.intent.intent_id]
    engine.cancel(handle.intent.intent_id)
    return str(line["route"])


async def test_adv_and_volatility_come_from_the_bars(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """With a configured ADV of a million, 20 lots would be worked patiently; the bars say
    about 1,500 a day, so they go to TWAP, and the prediction's impact uses the measured
    volatility. The log says both came from the bars."""
    adv, volatility = _expected(seed=2)
    config = HydraConfig(adv={"ZO": 1_000_000})
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(LIVELY, seed=2) as exchange:
        with capture_logs() as logs:
            async with open_engine(exchange, path, config) as engine:
                assert await _submitted(engine, 20, logs) == "twap"
    line = _facts(logs, "ZO")
    assert (line["adv"], line["adv_source"], line["adv_problem"]) == (adv, "bars", None)
    assert line["volatility_bps"] == str(volatility)
    assert (line["volatility_source"], line["month"], line["sessions"]) == ("bars", "202505", 20)
    assert line["log_level"] == "info"
    (predicted,) = _notes(path, "slippage_predicted")
    impact = Decimal("0.5") * volatility * (Decimal(20) / adv).sqrt()
    assert Decimal(predicted["impact_bps"]) == impact


async def test_an_override_keeps_the_configured_figures(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A symbol in [market_facts.override] runs on its configured ADV and volatility."""
    config = HydraConfig(adv={"ZO": 1_000_000},
                         slippage=SlippageSettings(volatility_bps={"ZO": 77}),
                         market_facts=MarketFactsSettings(override={"ZO": True}))
    async with open_sim_exchange(LIVELY, seed=2) as exchange:
        with capture_logs() as logs:
            async with open_engine(exchange, tmp_path / "j.sqlite", config) as engine:
                assert await _submitted(engine, 20, logs) == "patience"
    line = _facts(logs, "ZO")
    assert (line["adv"], line["adv_source"]) == (1_000_000, "config override")
    assert (line["volatility_bps"], line["volatility_source"]) == ("77", "config override")


async def test_too_few_bars_fall_back_to_the_configuration_and_say_why(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A market without trades has no daily bars: the configured ADV and the configured
    volatility are used, with a warning that names why; a symbol the exchange does not trade
    (HE here) falls back with the broker's refusal."""
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        with capture_logs() as logs:
            async with open_engine(exchange, tmp_path / "j.sqlite"):
                pass
    line = _facts(logs, "ZO")
    assert (line["adv"], line["adv_source"]) == (1500, "config fallback")
    assert (line["volatility_bps"], line["volatility_source"]) == ("120", "config fallback")
    assert line["adv_problem"] == "0 complete daily bars, fewer than the 10 needed"
    assert line["log_level"] == "warning"
    hogs = _facts(logs, "HE")
    assert hogs["log_level"] == "info"  # expected: this exchange does not trade hogs
    assert hogs["adv_source"] == "config fallback" and hogs["adv"] == 30000
    assert hogs["month"] == "202504" and hogs["adv_problem"] == (
        "the broker's daily bars failed: symbol: is not traded here (known: ZO), "
        "got 'HE 202504'")


async def test_from_bars_false_reads_nothing(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """``market_facts.from_bars = false``: the configured figures, and the log says so."""
    config = HydraConfig(market_facts=MarketFactsSettings(from_bars=False))
    async with open_sim_exchange(LIVELY, seed=2) as exchange:
        broker = _Counting(exchange, client_id=1)
        with capture_logs() as logs:
            async with open_engine_on(broker, exchange, tmp_path / "j.sqlite", config):
                pass
    assert broker.asked == []
    line = _facts(logs, "ZO")
    assert line["log_level"] == "info"
    assert (line["adv_source"], line["adv_problem"]) == (
        "config fallback", "market_facts.from_bars is false")


class _Counting(SimBroker):
    """A SimBroker that records the daily bars asked of it."""

    def __init__(self, exchange: SimExchange, *, client_id: int) -> None:
        super().__init__(exchange, client_id=client_id)
        self.asked: list[tuple[ContractSpec, int]] = []

    async def daily_bars(self, contract: ContractSpec, *, sessions: int) -> tuple[DailyBar, ...]:
        self.asked.append((contract, sessions))
        return await super().daily_bars(contract, sessions=sessions)


class _Silent(SimBroker):
    """A broker whose daily bars never come (a gateway that never answers)."""

    async def daily_bars(self, contract: ContractSpec, *, sessions: int) -> tuple[DailyBar, ...]:
        await trio.sleep_forever()
        raise AssertionError("never")


class _Failing(SimBroker):
    """A broker whose historical data service refuses."""

    async def daily_bars(self, contract: ContractSpec, *, sessions: int) -> tuple[DailyBar, ...]:
        await trio.lowlevel.checkpoint()
        raise BrokerError("historical data farm is down (162)")


def open_engine_on(broker: SimBroker, exchange: SimExchange, path: Path,
                   config: HydraConfig | None = None) -> Any:
    """Hydra on ``broker`` (a SimBroker of ``exchange``, or a fake built on one)."""
    return open_hydra(config or HydraConfig(), broker, journal_path=path, offload=run_inline,
                      clock=lambda: exchange.timestamp(trio.current_time()))


async def test_a_broker_that_never_answers_delays_the_start_by_wait_only(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Bars that never come hold the start for exactly ``market_facts.wait`` seconds (7.5
    here); then every symbol falls back to its configured figures."""
    config = HydraConfig(market_facts=MarketFactsSettings(wait=7.5))
    async with open_sim_exchange(LIVELY, seed=2) as exchange:
        start = trio.current_time()
        with capture_logs() as logs:
            async with open_engine_on(_Silent(exchange, client_id=1), exchange,
                                      tmp_path / "j.sqlite", config):
                assert trio.current_time() - start == 7.5
    for symbol in ("HE", "ZO"):
        line = _facts(logs, symbol)
        assert (line["adv_source"], line["adv_problem"]) == (
            "config fallback", "no daily bars within market_facts.wait (7.5 s)")


async def test_a_broker_that_fails_falls_back_with_its_error(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A broker error for the bars is a fallback, not a failed start, and the log line
    carries the broker's words."""
    async with open_sim_exchange(LIVELY, seed=2) as exchange:
        with capture_logs() as logs:
            async with open_engine_on(_Failing(exchange, client_id=1), exchange,
                                      tmp_path / "j.sqlite"):
                pass
    line = _facts(logs, "ZO")
    assert line["log_level"] == "warning" and line["volatility_problem"] == (
        "the broker's daily bars failed: historical data farm is down (162)")


async def _buy(exchange: SimExchange, contract: ContractSpec, quantity: int) -> None:
    """Another session of the account buys ``quantity`` at the ask."""
    other = SimBroker(exchange, client_id=9)
    await other.connect()
    await other.place(OrderRequest(
        client_order_id=ClientOrderId("other.1"), intent_id=IntentId("other"),
        contract=contract, side=Side.BUY, quantity=quantity,
        limit_price=exchange.quote(contract).ask + contract.tick_size))
    await trio.sleep(1)


@pytest.mark.parametrize(("month", "warned"), [("202505", True), ("202507", False)])
async def test_a_position_near_its_delivery_window_is_warned_about(
    autojump_clock: trio.testing.MockClock, tmp_path: Path, month: str, warned: bool
) -> None:
    """On 2025-04-28 a long ZOK5 is two days from its first notice (2025-04-30), within the
    default five roll days: a delivery_window note and a warning, and a warning that the
    broker's front month (its only one here) is that close. ZON5 is far from it."""
    contract = OATS.for_month(month)
    params = attrs.evolve(quiet_oats(contract=contract),
                          session_start=dt.datetime(2025, 4, 28, 14, 30, tzinfo=dt.UTC))
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(params, seed=1) as exchange:
        await _buy(exchange, contract, 3)
        with capture_logs() as logs:
            async with open_engine(exchange, path):
                pass
    notes = _notes(path, "delivery_window")
    lines = [e for e in logs if e["event"] == "position_in_delivery_window"]
    fronts = [e for e in logs if e["event"] == "broker_front_month_near_delivery"]
    if not warned:
        assert notes == lines == fronts == []
        return
    (front,) = fronts  # the broker's only month is what an intent naming none would trade
    assert (front["broker_month"], front["days_to_window"], front["front_month"]) == (
        "202505", 2, "202507")
    (note,), (line,) = notes, lines
    expected = {"symbol": "ZO", "month": "202505", "quantity": 3, "days_to_window": 2,
                "window_opens": "2025-04-30", "roll_days": 5}
    assert {k: note[k] for k in expected} == expected
    assert line["log_level"] == "warning" and line["days_to_window"] == 2


@pytest.fixture
async def lively_gateway() -> AsyncIterator[tuple[int, SimExchange]]:
    """``hydra sim-gateway`` on 127.0.0.1 over the lively oats market: its port and exchange."""
    with trio.fail_after(HANG_GUARD):
        async with open_sim_exchange(LIVELY, seed=5) as exchange, trio.open_nursery() as nursery:
            gateway = await nursery.start(functools.partial(
                serve_gateway, exchange, quote_interval=0.005))
            yield gateway.port, exchange
            nursery.cancel_scope.cancel(reason="test over")


async def test_through_ib_the_gateways_daily_bars_set_the_adv(
    lively_gateway: tuple[int, SimExchange], tmp_path: Path
) -> None:
    """Through IBBroker and the simulated gateway, the start reads ZOK5's daily bars (the
    front month on the session's day, 2025-03-03) and runs on what they measure: about the
    model's 1,500 a day. HE, which this gateway does not trade, falls back."""
    port, exchange = lively_gateway
    settings = BrokerSettings(port=port)
    with trio.fail_after(HANG_GUARD), capture_logs() as logs:
        async with open_ib_broker(settings) as broker:
            async with open_hydra(HydraConfig(broker=settings), broker,
                                  journal_path=tmp_path / "j.sqlite", offload=run_inline,
                                  clock=lambda: exchange.timestamp(trio.current_time())):
                pass
    line = _facts(logs, "ZO")
    assert (line["month"], line["sessions"], line["adv_source"]) == ("202505", 20, "bars")
    assert 1000 <= line["adv"] <= 2000
    assert line["volatility_source"] == "bars" and Decimal(line["volatility_bps"]) > 0
    hogs = _facts(logs, "HE")
    assert hogs["adv_source"] == "config fallback"
    assert hogs["adv_problem"] == ("the broker's daily bars failed: contract: IB lists no such "
                                   "futures contract, got 'HE 202504'")


async def test_a_product_hydra_has_no_dates_for_is_neither_warned_of_nor_measured(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A position in a product of the account's own (not built in) is not judged by the
    grains' dates, and its figures are the configured ones, saying why."""
    own = ContractSpec(symbol="ZQ", exchange="CBOT", tick_size="0.25", multiplier=5000,
                       price_magnifier=100, months=("K",), expiry="202505")
    params = attrs.evolve(quiet_oats(contract=own),
                          session_start=dt.datetime(2025, 4, 28, 14, 30, tzinfo=dt.UTC))
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(params, seed=1) as exchange:
        await _buy(exchange, own, 2)
        with capture_logs() as logs:
            async with open_engine(exchange, path, HydraConfig(adv={"ZQ": 50})):
                pass
    assert _notes(path, "delivery_window") == []
    line = _facts(logs, "ZQ")
    assert (line["adv"], line["adv_source"], line["adv_problem"]) == (
        50, "config fallback", "not a contract whose delivery months Hydra knows")


class _BadBars(SimBroker):
    """A broker that sends a bar with IB's "no value" volume."""

    async def daily_bars(self, contract: ContractSpec, *, sessions: int) -> tuple[DailyBar, ...]:
        await trio.lowlevel.checkpoint()
        raise InvalidValueError("volume", -1, "must be a whole number of contracts")


async def test_a_bad_bar_is_a_fallback_with_a_warning(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Bars the boundary refuses are not measured; the start goes on, warning why."""
    async with open_sim_exchange(LIVELY, seed=2) as exchange:
        with capture_logs() as logs:
            async with open_engine_on(_BadBars(exchange, client_id=1), exchange,
                                      tmp_path / "j.sqlite"):
                pass
    line = _facts(logs, "ZO")
    assert (line["log_level"], line["adv_source"]) == ("warning", "config fallback")
    assert line["adv_problem"] == ("the broker's daily bars failed: volume: must be a whole "
                                   "number of contracts, got -1")


async def test_through_ib_a_read_cut_short_by_wait_leaves_the_session_working(
    lively_gateway: tuple[int, SimExchange], tmp_path: Path
) -> None:
    """A ``wait`` that ends before the gateway answers cancels what is in flight inside
    ib_async (ZO's month of history takes the gateway far longer than a millisecond to build;
    HE's refusal may beat it): both symbols fall back, and the same IB session then quotes
    and reads bars as before."""
    port, exchange = lively_gateway
    settings = BrokerSettings(port=port)
    config = HydraConfig(broker=settings, market_facts=MarketFactsSettings(wait=0.001))
    with trio.fail_after(HANG_GUARD), capture_logs() as logs:
        async with open_ib_broker(settings) as broker:
            async with open_hydra(config, broker, journal_path=tmp_path / "j.sqlite",
                                  offload=run_inline,
                                  clock=lambda: exchange.timestamp(trio.current_time())):
                bars = await broker.daily_bars(OATS.for_month("202505"), sessions=5)
                await broker.subscribe_quotes(OATS)
                assert broker.quote_nowait(OATS).bid > 0
    assert len(bars) >= 5
    line = _facts(logs, "ZO")
    assert (line["adv_source"], line["log_level"], line["adv_problem"]) == (
        "config fallback", "warning", "no daily bars within market_facts.wait (0.001 s)")
    assert _facts(logs, "HE")["adv_source"] == "config fallback"


figures = st.none() | st.decimals(min_value=0, max_value=10**6, places=2)


@given(measured=figures, configured=figures, override=st.booleans())
def test_the_figure_run_on_is_the_override_else_the_bars_else_the_configured(
    measured: Decimal | None, configured: Decimal | None, override: bool
) -> None:
    """An override always gives the configured figure; without one the bars' figure wins
    when there is one, and a fallback keeps the reason."""
    figure = choose(measured, configured, override=override, problem="why")
    if override:
        assert (figure.value, figure.source, figure.problem) == (
            configured, Source.OVERRIDE, None)
    elif measured is None:
        assert (figure.value, figure.source, figure.problem) == (
            configured, Source.FALLBACK, "why")
    else:
        assert (figure.value, figure.source, figure.problem) == (measured, Source.BARS, None)


async def test_through_ib_a_front_month_near_delivery_is_warned_about(tmp_path: Path) -> None:
    """On 2025-04-28 the gateway's front oats month is ZOK5 (first notice 2025-04-30): what an
    intent naming no month would trade through IB is two days from delivery, and the start
    says so, naming ZON5 as Hydra's front month."""
    params = attrs.evolve(LIVELY, session_start=dt.datetime(2025, 4, 28, 14, 30,
                                                            tzinfo=dt.UTC))
    with trio.fail_after(HANG_GUARD), capture_logs() as logs:
        async with open_sim_exchange(params, seed=5) as exchange, trio.open_nursery() as nursery:
            gateway = await nursery.start(functools.partial(
                serve_gateway, exchange, quote_interval=0.005))
            settings = BrokerSettings(port=gateway.port)
            async with open_ib_broker(settings) as broker:
                async with open_hydra(HydraConfig(broker=settings), broker,
                                      journal_path=tmp_path / "j.sqlite", offload=run_inline,
                                      clock=lambda: exchange.timestamp(trio.current_time())):
                    pass
            nursery.cancel_scope.cancel(reason="test over")
    (front,) = [e for e in logs if e["event"] == "broker_front_month_near_delivery"]
    assert (front["symbol"], front["broker_month"], front["days_to_window"]) == ("ZO", "202505", 2)
    assert front["front_month"] == "202507"
