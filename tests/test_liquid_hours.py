"""IB's liquid hours, read by each broker and worked in (``[execution] hours``): the router
holds, refuses and fits an intent by the liquid sessions unless told to use every trading hour."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import trio
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st
from ib_async import ContractDetails
from structlog.testing import capture_logs

from hydra._contracts import LEAN_HOGS, OATS, ContractSpec, TradingSession
from hydra._core._sessions import SessionCalendar, liquid_windows
from hydra._engine import Engine
from hydra._enums import Policy
from hydra._errors import InvalidValueError, MarketClosedError
from hydra._ids import IntentId
from hydra._journal_actor import run_inline
from hydra._open_hydra import open_hydra
from hydra._settings import (
    BrokerSettings,
    ExecutionSettings,
    HydraConfig,
    OutsideHours,
    WorkingHours,
)
from hydra.gateway import serve_gateway
from hydra.ib import open_ib_broker
from hydra.ib._convert import hours_from_ib_details, liquid_hours_from_ib_details
from hydra.sim import MarketParams, SimExchange, SimParams, open_sim_exchange
from hydra.sim._hours import sim_calendar, sim_liquid_calendar
from tests.gateway_client import HANG_GUARD, sim_gateway_process
from tests.test_sessions import CT, RecordingBroker, ct, hours_params, oats

TRADING = HydraConfig(execution=ExecutionSettings(hours=WorkingHours.TRADING))


@asynccontextmanager
async def open_engine(broker: RecordingBroker, journal: Path,
                      config: HydraConfig | None = None) -> AsyncIterator[Engine]:
    exchange = broker.exchange
    async with open_hydra(config or HydraConfig(), broker, journal_path=journal,
                          offload=run_inline,
                          clock=lambda: exchange.timestamp(trio.current_time())) as engine:
        yield engine


def first_order_at(broker: RecordingBroker) -> dt.datetime:
    kind, at = broker.sent[0]
    assert kind == "place"
    return at.astimezone(CT)


# --- the calendars ---------------------------------------------------------------------------


def test_the_liquid_windows_are_the_day_sessions() -> None:
    """Oats' liquid window is its day session, not the night; a market of night windows only
    keeps them all; hogs' one day window is its liquid one."""
    assert liquid_windows(OATS.trading_hours) == (
        TradingSession(days="Mon-Fri", open=dt.time(8, 30), close=dt.time(13, 20)),)
    assert liquid_windows(LEAN_HOGS.trading_hours) == LEAN_HOGS.trading_hours
    night = (TradingSession(days="Sun-Fri", open=dt.time(19), close=dt.time(7, 45)),)
    assert liquid_windows(night) == night


def test_the_simulators_liquid_hours_keep_the_holidays_and_early_closes() -> None:
    """Around Thanksgiving 2026 the liquid calendar has no session on the holiday, the day
    session only (to the 12:05 early close) the day after, and nothing at night."""
    hours = sim_liquid_calendar(OATS, ct(25, 12, month=11))
    assert [(s.open, s.close) for s in hours.sessions[:3]] == [
        (ct(24, 8, 30, month=11), ct(24, 13, 20, month=11)),
        (ct(25, 8, 30, month=11), ct(25, 13, 20, month=11)),
        (ct(27, 8, 30, month=11), ct(27, 12, 5, month=11)),
    ]
    assert not hours.is_open(ct(25, 20, month=11))
    assert sim_calendar(OATS, ct(25, 12, month=11)).is_open(ct(24, 20, month=11))


@settings(max_examples=50, deadline=None)
@given(day=st.dates(dt.date(2025, 1, 1), dt.date(2027, 12, 31)),
       contract=st.sampled_from([OATS, LEAN_HOGS]))
def test_the_liquid_sessions_lie_inside_the_trading_sessions(
    day: dt.date, contract: ContractSpec,
) -> None:
    """Whatever the day (holidays, early closes, weekends), every liquid session of the
    simulator is inside one trading session: the liquid hours never open a closed market."""
    now = dt.datetime.combine(day, dt.time(12), tzinfo=CT)
    trading = sim_calendar(contract, now)
    for s in sim_liquid_calendar(contract, now).sessions:
        inside = trading.session_at(s.open)
        assert inside is not None and s.close <= inside.close


def test_ib_liquid_hours_parse_and_name_their_field() -> None:
    """``liquidHours`` parses as ``tradingHours`` does; empty is none; a malformed day is one
    line naming ``liquidHours``, and does not spoil the trading hours beside it."""
    details = ContractDetails(tradingHours="20261201:1900-20261202:0745;"
                                           "20261202:0830-20261202:1320",
                              liquidHours="20261202:0830-20261202:1320;20261203:CLOSED",
                              timeZoneId="US/Central")
    liquid = liquid_hours_from_ib_details(details)
    assert liquid is not None and [(s.open, s.close) for s in liquid.sessions] == [
        (ct(2, 8, 30), ct(2, 13, 20))]
    assert not liquid.is_open(ct(3, 10)) and liquid.covers(ct(3, 10))
    assert liquid_hours_from_ib_details(ContractDetails(liquidHours="")) is None
    details.liquidHours = "20261202:0830-1320;2026120X:0830-20261202:1320"
    with pytest.raises(InvalidValueError) as raised:
        liquid_hours_from_ib_details(details)
    assert str(raised.value) == ("liquidHours: is not YYYYMMDD:HHMM-YYYYMMDD:HHMM or "
                                 "YYYYMMDD:CLOSED, got '2026120X:0830-20261202:1320'")
    assert hours_from_ib_details(details) is not None


async def test_the_ib_adapter_reads_the_liquid_hours_from_the_gateway() -> None:
    """IBBroker parses the simulated gateway's ``liquidHours`` for ZO: the day session is
    liquid, the night is not (Tuesday 20:00 waits for Wednesday 08:30), the weekend neither."""
    params = SimParams(markets=(MarketParams.oats(adv=0, daily_volatility=0.0),))
    with trio.fail_after(10):
        async with open_sim_exchange(params, seed=7) as exchange, trio.open_nursery() as nursery:
            gateway = await nursery.start(serve_gateway, exchange)
            async with open_ib_broker(BrokerSettings(port=gateway.port)) as broker:
                liquid = await broker.liquid_hours(OATS)
                trading = await broker.trading_hours(OATS)
            nursery.cancel_scope.cancel(reason="test over")
    assert liquid is not None and trading is not None and liquid.zone.key == "America/Chicago"
    tuesday_night = dt.datetime(2025, 3, 4, 20, tzinfo=CT)  # the gateway's week of 2025-03-03
    assert trading.is_open(tuesday_night) and not liquid.is_open(tuesday_night)
    assert liquid.next_open(tuesday_night) == dt.datetime(2025, 3, 5, 8, 30, tzinfo=CT)
    assert liquid.close_of(dt.datetime(2025, 3, 5, 9, tzinfo=CT)) == dt.datetime(
        2025, 3, 5, 13, 20, tzinfo=CT)
    assert not liquid.is_open(dt.datetime(2025, 3, 8, 12, tzinfo=CT))  # Saturday


@pytest.mark.parametrize("hours", ["exchange", "none"])
async def test_the_ib_adapter_reads_the_liquid_hours_of_a_sim_gateway_process(
    tmp_path: Path, hours: str,
) -> None:
    """Through ``hydra sim-gateway`` in its own process, IBBroker's liquid hours of ZO are
    its day sessions only (08:30-13:20 Chicago) and its trading hours have the night too;
    with ``--hours none`` the gateway sends neither and IBBroker gives none."""
    with sim_gateway_process(tmp_path / "gateway.log", "--market", "oats",
                             "--hours", hours) as port:
        with trio.fail_after(HANG_GUARD):
            async with open_ib_broker(BrokerSettings(port=port)) as broker:
                liquid, trading = await broker.liquid_hours(OATS), await broker.trading_hours(OATS)
    if hours == "none":
        assert liquid is None and trading is None
        return
    assert liquid is not None and trading is not None
    local = {(s.open.astimezone(CT).time(), s.close.astimezone(CT).time())
             for s in liquid.sessions}
    assert local <= {(dt.time(8, 30), dt.time(13, 20)), (dt.time(8, 30), dt.time(12, 5))}
    assert liquid.sessions and dt.time(19) in {s.open.astimezone(CT).time()
                                               for s in trading.sessions}


# --- Hydra in the chosen hours ----------------------------------------------------------------


async def test_an_oats_intent_at_2000_waits_for_the_liquid_open_at_0830(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """In the liquid hours (the default) an intent at 20:00 Chicago, in the night session,
    is held and its first order placed at 08:30:00 exactly."""
    async with open_sim_exchange(hours_params(ct(1, 20)), seed=1) as exchange:
        broker = RecordingBroker(exchange)
        async with open_engine(broker, tmp_path / "j.sqlite") as engine:
            with capture_logs() as logs:
                handle = await engine.submit(oats())
            report = await handle.wait_done()
    waiting = [e for e in logs if e["event"] == "intent_waiting_for_open"]
    assert [(e["opens"], e["hours"]) for e in waiting] == [("2026-12-02T14:30:00+00:00", "liquid")]
    assert first_order_at(broker) == ct(2, 8, 30)
    assert report.filled == 2


async def test_in_the_trading_hours_the_same_intent_trades_at_once(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """With ``hours = "trading"`` the 20:00 intent is worked in the night session at once."""
    async with open_sim_exchange(hours_params(ct(1, 20)), seed=1) as exchange:
        broker = RecordingBroker(exchange)
        async with open_engine(broker, tmp_path / "j.sqlite", TRADING) as engine:
            await (await engine.submit(oats())).wait_done()
    assert first_order_at(broker) == ct(1, 20)


async def test_a_strategy_may_work_in_the_trading_hours_alone(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """``hours`` is per strategy: the "night" strategy trades at 20:00, the default waits."""
    config = HydraConfig(strategies={"night": ExecutionSettings(hours=WorkingHours.TRADING)})
    async with open_sim_exchange(hours_params(ct(1, 20)), seed=1) as exchange:
        broker = RecordingBroker(exchange)
        async with open_engine(broker, tmp_path / "j.sqlite", config) as engine:
            night = await engine.submit(oats(strategy="night"))
            day = await engine.submit(oats())
            await night.wait_done()
            assert not await engine.was_submitted(day.intent.intent_id)
            await day.wait_done()
    assert [at.astimezone(CT) for kind, at in broker.sent if kind == "place"] == [
        ct(1, 20), ct(2, 8, 30)]


async def test_refused_at_night_names_the_liquid_session(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """With ``outside_hours = "refuse"`` the 20:00 intent is refused in one line naming the
    liquid open and the setting in force."""
    config = HydraConfig(execution=ExecutionSettings(outside_hours=OutsideHours.REFUSE))
    async with open_sim_exchange(hours_params(ct(1, 20)), seed=1) as exchange:
        broker = RecordingBroker(exchange)
        async with open_engine(broker, tmp_path / "j.sqlite", config) as engine:
            with pytest.raises(MarketClosedError) as refused:
                await engine.submit(oats(intent_id=IntentId("night")))
    assert str(refused.value) == (
        "intent night refused: ZO's liquid session is closed until 2026-12-02 08:30 CST "
        '(execution.outside_hours = "refuse", hours = "liquid")')
    assert broker.sent == []


@pytest.mark.parametrize("carry", [False, True])
async def test_a_twap_in_the_liquid_hours_sends_nothing_from_1320_to_0830(
    autojump_clock: trio.testing.MockClock, tmp_path: Path, carry: bool,
) -> None:
    """An hour's TWAP at 13:00 sends nothing in the night session: cut at 13:20, or carried
    (``twap_carry``) into the next day session, whose first slice starts at 08:30:00."""
    config = HydraConfig(execution=ExecutionSettings(twap_horizon=3600, twap_slices=4,
                                                     twap_jitter=0.0, twap_carry=carry))
    async with open_sim_exchange(hours_params(ct(2, 13)), seed=1) as exchange:
        broker = RecordingBroker(exchange)
        async with open_engine(broker, tmp_path / "j.sqlite", config) as engine:
            await (await engine.submit(oats(8, policy=Policy.TWAP))).wait_done()
    times = [at.astimezone(CT) for _, at in broker.sent]
    assert times and not [at for at in times if ct(2, 13, 20) <= at < ct(3, 8, 30)]
    later = [at for at in times if at >= ct(3, 8, 30)]
    # 19 min 55 s of the day's session (to 13:19:55, the close less CLOSE_MARGIN), then the
    # third slice 10 min 5 s after the next liquid open.
    assert min(later, default=None) == (ct(3, 8, 40) + dt.timedelta(seconds=5) if carry
                                        else None)


# --- a broker's liquid hours that are missing, closed or malformed ----------------------------


class LiquidHoursBroker(RecordingBroker):
    """A simulated broker whose liquid hours are IB's ``liquidHours`` text ``text``."""

    def __init__(self, exchange: SimExchange, text: str) -> None:
        super().__init__(exchange)
        self.text = text

    async def liquid_hours(self, contract: ContractSpec) -> SessionCalendar | None:
        await trio.lowlevel.checkpoint()
        details = ContractDetails(liquidHours=self.text, timeZoneId="US/Central")
        return liquid_hours_from_ib_details(details)


async def test_no_liquid_hours_work_in_the_trading_hours(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """A broker that sends an empty ``liquidHours`` gives no liquid calendar: Hydra then works
    in the trading hours (the 20:00 intent trades at once), not around the clock."""
    async with open_sim_exchange(hours_params(ct(1, 20)), seed=1) as exchange:
        broker = LiquidHoursBroker(exchange, "")
        async with open_engine(broker, tmp_path / "j.sqlite") as engine:
            await (await engine.submit(oats())).wait_done()
    assert first_order_at(broker) == ct(1, 20)


async def test_a_closed_liquid_day_holds_the_intent_to_the_next_liquid_session(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """``liquidHours`` says CLOSED for 2 December: an intent at 10:00 that day, though the
    exchange trades, waits for 3 December 08:30."""
    text = "20261202:CLOSED;20261203:0830-20261203:1320"
    async with open_sim_exchange(hours_params(ct(2, 10)), seed=1) as exchange:
        broker = LiquidHoursBroker(exchange, text)
        async with open_engine(broker, tmp_path / "j.sqlite") as engine:
            await (await engine.submit(oats())).wait_done()
    assert first_order_at(broker) == ct(3, 8, 30)


async def test_malformed_liquid_hours_refuse_the_intent_in_one_line(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """A ``liquidHours`` day that is not IB's format refuses the intent with one line naming
    ``liquidHours`` and the day; nothing is journaled or sent. In the trading hours the
    liquid text is not read."""
    async with open_sim_exchange(hours_params(ct(2, 10)), seed=1) as exchange:
        broker = LiquidHoursBroker(exchange, "20261202:0830-20261202:1320;20261203:08:30-13:20")
        async with open_engine(broker, tmp_path / "j.sqlite") as engine:
            with pytest.raises(InvalidValueError) as refused:
                await engine.submit(oats(intent_id=IntentId("bad")))
            assert not await engine.was_submitted(IntentId("bad"))
        assert broker.sent == []
        async with open_engine(broker, tmp_path / "t.sqlite", TRADING) as engine:
            await (await engine.submit(oats())).wait_done()
    assert str(refused.value) == ("liquidHours: is not YYYYMMDD:HHMM-YYYYMMDD:HHMM or "
                                  "YYYYMMDD:CLOSED, got '20261203:08:30-13:20'")
    assert first_order_at(broker) == ct(2, 10)


# --- the setting ------------------------------------------------------------------------------


def test_config_check_refuses_a_bad_hours_value_naming_key_and_line(tmp_path: Path) -> None:
    """``hydra config check`` answers ``hours = "overnight"`` with exit 2 and one line naming
    the key, the choices and the line; a strategy's bad value names its own key."""
    path = tmp_path / "hydra.toml"
    path.write_text('[execution]\npatience = 60.0\nhours = "overnight"\n\n'
                    '[strategies.night]\nhours = "trading"\n')
    done = subprocess.run([sys.executable, "-m", "hydra", "config", "check", str(path)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "config error: execution.hours: must be one of 'liquid', 'trading', got \"overnight\" "
        f"(in {path}, line 3)"]
    path.write_text('[strategies.night]\nhours = 3\n')
    done = subprocess.run([sys.executable, "-m", "hydra", "config", "check", str(path)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and "strategies.night.hours" in done.stderr
    assert "line 2" in done.stderr


def test_the_default_is_the_liquid_hours() -> None:
    """A thin market's trader works its liquid session unless the configuration says not."""
    assert ExecutionSettings().hours is WorkingHours.LIQUID
    assert HydraConfig().execution_for("any").hours is WorkingHours.LIQUID
