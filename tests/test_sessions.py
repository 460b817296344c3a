"""The session calendar (`hydra._core._sessions`) and the TWAP plan inside it."""

from __future__ import annotations

import datetime as dt
import functools
import random
import zoneinfo
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
import trio
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st
from ib_async import ContractDetails
from structlog.testing import capture_logs

from hydra._bracket import BracketIntent
from hydra._contracts import LEAN_HOGS, OATS
from hydra._core._sessions import (
    SessionCalendar,
    held_until,
    ib_zone_id,
    parse_hours,
    weekly_calendar,
)
from hydra._core._twap import plan_twap_in_sessions
from hydra._engine import Engine
from hydra._enums import Policy, Side
from hydra._errors import InvalidValueError, MarketClosedError
from hydra._holidays import early_closes, holidays, overnight_shut
from hydra._ids import ClientOrderId, IntentId
from hydra._journal import EventKind, Journal
from hydra._journal_actor import run_inline
from hydra._open_hydra import open_hydra
from hydra._orders import OrderIntent, OrderRequest
from hydra._runner import run_inbox
from hydra._settings import (
    BrokerSettings,
    ExecutionSettings,
    HydraConfig,
    OutsideHours,
    WorkingHours,
)
from hydra.gateway import serve_gateway
from hydra.gateway._hours import ib_hours
from hydra.ib import open_ib_broker
from hydra.ib._convert import hours_from_ib_details
from hydra.sim import (
    Disconnect,
    MarketParams,
    SimBroker,
    SimExchange,
    SimParams,
    open_sim_exchange,
)
from hydra.sim._hours import sim_calendar, sim_liquid_calendar
from tests.simulated import quiet_oats

CT = zoneinfo.ZoneInfo("America/Chicago")
TRADING = WorkingHours.TRADING
TRADING_HOURS = HydraConfig(execution=ExecutionSettings(hours=TRADING))
"""Hydra in every trading hour, the night session too (the default is the liquid hours)."""
IB_OATS = "20261201:1900-20261202:0745;20261202:0830-20261202:1320;20261205:CLOSED"


def ct(day: int, hour: int, minute: int = 0, month: int = 12, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=CT)


def oats_week(first: dt.date = dt.date(2026, 11, 29), days: int = 14) -> SessionCalendar:
    early = early_closes(first.year)
    return weekly_calendar(OATS.trading_hours, zone="America/Chicago", first=first, days=days,
                           holidays=holidays(first.year), early_closes=early,
                           no_overnight=filter(overnight_shut, early))


# --- parsing IB's text ----------------------------------------------------------------------


def test_ibs_hours_parse_into_sessions_in_the_exchange_zone() -> None:
    """IB's overnight and day sessions are two sessions; a CLOSED day has none."""
    hours = parse_hours(IB_OATS, zone="US/Central")
    assert [(s.open, s.close) for s in hours.sessions] == [
        (ct(1, 19), ct(2, 7, 45)), (ct(2, 8, 30), ct(2, 13, 20))]
    assert hours.zone.key == "America/Chicago"  # IB's US/Central, as the tz database names it
    assert hours.known_from == ct(1, 0) and hours.known_until == ct(6, 0)
    assert not hours.is_open(ct(5, 10))


def test_the_pre_970_format_parses_too() -> None:
    """``YYYYMMDD:HHMM-HHMM`` closes on its day, or the next when it is not after the open;
    commas separate one day's ranges."""
    hours = parse_hours("20261202:0830-1000,1030-1320;20261203:1900-0745", zone="US/Central")
    assert [(s.open, s.close) for s in hours.sessions] == [
        (ct(2, 8, 30), ct(2, 10)), (ct(2, 10, 30), ct(2, 13, 20)), (ct(3, 19), ct(4, 7, 45))]


def test_touching_sessions_are_one() -> None:
    """A session that opens as the one before closes continues it."""
    hours = parse_hours("20261202:0830-20261202:1000;20261202:1000-20261202:1320",
                        zone="America/Chicago")
    assert [(s.open, s.close) for s in hours.sessions] == [(ct(2, 8, 30), ct(2, 13, 20))]


@pytest.mark.parametrize(("text", "message"), [
    ("20261202:0830", "tradingHours: is not YYYYMMDD:HHMM-YYYYMMDD:HHMM or YYYYMMDD:CLOSED, "
                      "got '20261202:0830'"),
    ("20261302:CLOSED", "tradingHours: names a date that does not exist, got '20261302:CLOSED'"),
    ("20261202:1320-20261202:0830", "tradingHours: closes before it opens, "
                                    "got '20261202:1320-20261202:0830'"),
    ("20261202:0861-20261202:0900", "tradingHours: is not YYYYMMDD:HHMM-YYYYMMDD:HHMM or "
                                    "YYYYMMDD:CLOSED, got '20261202:0861-20261202:0900'"),
    ("", "tradingHours: must list days as YYYYMMDD:HHMM-YYYYMMDD:HHMM, got ''"),
])
def test_a_bad_day_is_one_line_naming_the_field_and_the_day(text: str, message: str) -> None:
    """Malformed hours are refused in one line that names the field and shows the day."""
    with pytest.raises(InvalidValueError) as raised:
        parse_hours(text, zone="US/Central", field="tradingHours")
    assert str(raised.value) == message


def test_an_unknown_time_zone_names_time_zone_id() -> None:
    """IB's ``timeZoneId`` is checked too."""
    with pytest.raises(InvalidValueError, match=r"^timeZoneId: is not a known time zone"):
        parse_hours(IB_OATS, zone="Mars/Olympus")


# --- asking the calendar --------------------------------------------------------------------


def test_a_close_is_exclusive_and_an_open_inclusive() -> None:
    """At 07:45 the overnight session is over; at 08:30 the day session has begun."""
    hours = parse_hours(IB_OATS, zone="US/Central")
    assert hours.is_open(ct(2, 7, 44)) and not hours.is_open(ct(2, 7, 45))
    assert hours.close_of(ct(2, 7, 44)) == ct(2, 7, 45) and hours.close_of(ct(2, 8)) is None
    assert hours.next_open(ct(2, 7, 50)) == ct(2, 8, 30)
    assert hours.next_open(ct(2, 9)) == ct(2, 9)
    assert hours.next_open(ct(2, 13, 20)) is None  # nothing later is known


def test_open_seconds_skip_the_break() -> None:
    """From 07:00 to 09:00 the market trades 45 + 30 minutes."""
    hours = parse_hours(IB_OATS, zone="US/Central")
    assert hours.open_seconds(ct(2, 7), ct(2, 9)) == 75 * 60
    assert hours.after_open_seconds(ct(2, 7), 45 * 60) == ct(2, 8, 30)
    assert hours.after_open_seconds(ct(2, 7), 50 * 60) == ct(2, 8, 35)
    assert hours.after_open_seconds(ct(2, 7), 10 * 3600) is None


def test_saturday_waits_for_sunday_evening() -> None:
    """Oats close Friday 13:20 and open again Sunday 19:00, Chicago time."""
    week = oats_week()
    assert week.close_of(ct(4, 13)) == ct(4, 13, 20)
    assert week.next_open(ct(5, 12)) == ct(6, 19)


def test_hogs_trade_the_day_session_only() -> None:
    """Lean hogs open 08:30 and close 13:05, Monday to Friday."""
    week = weekly_calendar(LEAN_HOGS.trading_hours, zone="America/Chicago",
                           first=dt.date(2026, 11, 30), days=7)
    assert week.next_open(ct(1, 14)) == ct(2, 8, 30)
    assert week.open_seconds(ct(1, 0), ct(2, 0)) == (4 * 60 + 35) * 60


def test_a_holiday_closes_its_trading_day_and_the_night_before() -> None:
    """Thanksgiving 2026 (Thursday 26 November): oats close Wednesday 13:20 and open again on
    Friday at 08:30 (no session Thursday evening), to close early at 12:05."""
    week = oats_week(first=dt.date(2026, 11, 23), days=7)
    assert week.close_of(ct(25, 13, month=11)) == ct(25, 13, 20, month=11)
    assert week.next_open(ct(25, 20, month=11)) == ct(27, 8, 30, month=11)
    assert week.close_of(ct(27, 12, month=11)) == ct(27, 12, 5, month=11)


def test_the_hours_of_ibs_zone_names_are_the_tz_databases() -> None:
    """IB's ``US/Central`` and ``US/Eastern`` are read as America/Chicago and America/New_York
    (the old names are links some systems no longer install)."""
    assert parse_hours(IB_OATS, zone="US/Central").zone.key == "America/Chicago"
    assert parse_hours(IB_OATS, zone="US/Eastern").zone.key == "America/New_York"
    assert ib_zone_id("America/Chicago") == "US/Central"
    assert ib_zone_id("Europe/London") == "Europe/London"


def test_the_wait_over_a_change_of_daylight_saving_time_is_exact() -> None:
    """From Friday's close to Sunday's open across the end of daylight saving time (1 November
    2026) is 53 h 40 min of wall clock, plus the hour the clocks go back."""
    week = oats_week(first=dt.date(2026, 10, 29), days=6)
    friday_close, sunday_open = ct(30, 13, 20, month=10), ct(1, 19, month=11)
    assert week.next_open(friday_close) == sunday_open
    assert (sunday_open - friday_close.astimezone(dt.UTC)) == dt.timedelta(hours=54, minutes=40)


def test_the_simulator_knows_the_hours_around_now() -> None:
    """`sim_calendar` covers the day before and two weeks after the moment asked about."""
    hours = sim_calendar(OATS, ct(2, 7, 50))
    assert hours.covers(ct(1, 12)) and hours.covers(ct(14, 12))
    assert hours.next_open(ct(2, 7, 50)) == ct(2, 8, 30)


def test_an_intent_is_held_in_a_break_and_close_to_a_close() -> None:
    """In the break it waits for 08:30; with under a minute left it waits for the next open;
    without hours for now, nothing is held."""
    hours = parse_hours(IB_OATS + ";20261202:1900-20261203:0745", zone="US/Central")
    assert held_until(hours, ct(2, 7, 50), min_left=60) == ct(2, 8, 30)
    assert held_until(hours, ct(2, 9), min_left=60) is None
    assert held_until(hours, ct(2, 13, 19, ), min_left=60) is None
    assert held_until(hours, ct(2, 13, 19, ) + dt.timedelta(seconds=1), min_left=60) == ct(2, 19)
    assert held_until(hours, ct(9, 12), min_left=60) is None  # past what IB said
    assert held_until(None, ct(5, 12), min_left=60) is None
    closed = parse_hours("20261205:CLOSED", zone="US/Central")
    assert held_until(closed, ct(5, 12), min_left=60) == ct(6, 0)  # then ask again


def test_an_intent_before_the_first_day_ib_lists_is_held_for_its_first_session() -> None:
    """IB lists hours from the current trading day: at 20:00 the liquid hours may begin with
    tomorrow's 08:30. Before the first day listed is between sessions, so the intent waits
    for that open (it was worked at once: "hours unknown")."""
    liquid = parse_hours("20261203:0830-20261203:1320;20261204:0830-20261204:1320",
                         zone="US/Central")
    assert held_until(liquid, ct(2, 20), min_left=60) == ct(3, 8, 30)
    assert held_until(liquid, ct(3, 13, 19) + dt.timedelta(seconds=30), min_left=60) == ct(4, 8, 30)


# --- the TWAP inside the sessions -----------------------------------------------------------


def test_a_twap_over_the_close_is_cut_at_the_close() -> None:
    """An hour's TWAP at 13:00 has its 20 minutes to the close."""
    settings = ExecutionSettings(twap_horizon=3600, twap_slices=4, twap_jitter=0.0)
    plan = plan_twap_in_sessions(8, settings=settings, rng=random.Random(1), start=ct(2, 13),
                                 calendar=oats_week())
    assert plan.starts == (0.0, 300.0, 600.0, 900.0) and plan.durations == (300.0,) * 4


def test_a_twap_on_an_early_close_day_is_cut_at_the_early_close() -> None:
    """From the gateway's hours of the Friday after Thanksgiving 2026, an hour's TWAP at 11:45
    has the 20 minutes to the 12:05 early close, not the 95 to 13:20."""
    hours = parse_hours(ib_hours(OATS.trading_hours, dt.date(2026, 11, 27)), zone="US/Central")
    settings = ExecutionSettings(twap_horizon=3600, twap_slices=4, twap_jitter=0.0)
    plan = plan_twap_in_sessions(8, settings=settings, rng=random.Random(1),
                                 start=ct(27, 11, 45, month=11), calendar=hours)
    assert plan.starts == (0.0, 300.0, 600.0, 900.0) and plan.durations == (300.0,) * 4


def test_a_carried_twap_resumes_at_the_next_open() -> None:
    """With carry, the hour is session time: 20 minutes today, 40 from 19:00."""
    settings = ExecutionSettings(twap_horizon=3600, twap_slices=4, twap_jitter=0.0,
                                 twap_carry=True)
    start = ct(2, 13)
    plan = plan_twap_in_sessions(8, settings=settings, rng=random.Random(1), start=start,
                                 calendar=oats_week())
    starts = [start + dt.timedelta(seconds=s) for s in plan.starts]
    assert starts == [ct(2, 13), ct(2, 13, 15), ct(2, 19, 10), ct(2, 19, 25)]
    assert plan.durations == (900.0, 300.0, 900.0, 900.0)  # the second one cut at 13:20


def test_a_twap_outside_the_sessions_is_an_error() -> None:
    """The plan is made only inside a session (the router holds an intent until then)."""
    with pytest.raises(InvalidValueError, match=r"^start: is outside the sessions"):
        plan_twap_in_sessions(8, settings=ExecutionSettings(), rng=random.Random(1),
                              start=ct(5, 12), calendar=oats_week())


week_minutes = st.integers(min_value=0, max_value=7 * 24 * 60 - 1)


@given(minute=week_minutes, quantity=st.integers(1, 200), slices=st.integers(1, 20),
       horizon=st.floats(60, 3 * 86_400), carry=st.booleans(), seed=st.integers(0, 2**32))
def test_every_twap_slice_lies_inside_one_session(
    minute: int, quantity: int, slices: int, horizon: float, carry: bool, seed: int,
) -> None:
    """Whatever the start, horizon and carry, each slice starts and ends inside one session,
    and the slices sum to the quantity."""
    calendar = oats_week()
    start = ct(30, 0, month=11) + dt.timedelta(minutes=minute)
    start = calendar.next_open(start) or start
    if calendar.close_of(start) is None:
        return
    settings = ExecutionSettings(twap_horizon=horizon, twap_slices=slices, twap_carry=carry)
    plan = plan_twap_in_sessions(quantity, settings=settings, rng=random.Random(seed),
                                 start=start, calendar=calendar)
    assert plan.quantity == quantity
    for _, offset, duration in plan.slices():
        begins = start + dt.timedelta(seconds=offset)
        session = calendar.session_at(begins)
        assert session is not None and duration > 0
        assert begins + dt.timedelta(seconds=duration) <= session.close
        assert carry or session.open <= start


# --- Hydra on a simulated exchange that keeps the hours --------------------------------------


class RecordingBroker(SimBroker):
    """A SimBroker that notes the exchange's wall-clock time of every order it sends on."""

    def __init__(self, exchange: SimExchange) -> None:
        super().__init__(exchange, client_id=1)
        self.exchange = exchange
        self.sent: list[tuple[str, dt.datetime]] = []

    def _note(self, kind: str) -> None:
        self.sent.append((kind, self.exchange.timestamp(trio.current_time())))

    async def place(self, request: OrderRequest) -> None:
        self._note("place")
        await super().place(request)

    async def modify(self, client_order_id: ClientOrderId, *, limit_price: Decimal,
                     quantity: int | None = None) -> None:
        self._note("modify")
        await super().modify(client_order_id, limit_price=limit_price, quantity=quantity)

    async def cancel(self, client_order_id: ClientOrderId) -> None:
        self._note("cancel")
        await super().cancel(client_order_id)


def hours_params(start: dt.datetime) -> SimParams:
    """Quiet oats whose exchange opens its simulation at ``start`` and keeps the hours."""
    return attrs.evolve(quiet_oats(), session_start=start.astimezone(dt.UTC), sessions=True)


@asynccontextmanager
async def open_hours_engine(
    exchange: SimExchange, journal: Path, config: HydraConfig | None = None,
) -> AsyncIterator[tuple[Engine, RecordingBroker]]:
    broker = RecordingBroker(exchange)
    async with open_hydra(config or HydraConfig(), broker, journal_path=journal,
                          offload=run_inline,
                          clock=lambda: exchange.timestamp(trio.current_time())) as engine:
        yield engine, broker


def now_of(exchange: SimExchange) -> dt.datetime:
    return exchange.timestamp(trio.current_time()).astimezone(CT)


def oats(quantity: int = 2, **kwargs: object) -> OrderIntent:
    return OrderIntent(contract=OATS, side=Side.BUY, quantity=quantity, **kwargs)  # type: ignore[arg-type]


async def test_an_intent_in_the_grains_break_waits_until_0830(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """Submitted at 07:50 Chicago time, the intent is held (not journaled) and its first order
    goes at 08:30:00 exactly."""
    async with open_sim_exchange(hours_params(ct(2, 7, 50)), seed=1) as exchange:
        async with open_hours_engine(exchange, tmp_path / "j.sqlite") as (engine, broker):
            with capture_logs() as logs:
                handle = await engine.submit(oats())
            assert [e["opens"] for e in logs if e["event"] == "intent_waiting_for_open"] == [
                "2026-12-02T14:30:00+00:00"]
            assert not await engine.was_submitted(handle.intent.intent_id)
            report = await handle.wait_done()
            assert broker.sent[0] == ("place", ct(2, 8, 30))
            assert report.children and await engine.was_submitted(handle.intent.intent_id)


async def test_refuse_mode_refuses_in_one_line(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """With ``outside_hours = "refuse"`` an intent in the break is refused at once, naming the
    next open, and nothing is journaled or sent."""
    config = HydraConfig(execution=ExecutionSettings(outside_hours=OutsideHours.REFUSE))
    async with open_sim_exchange(hours_params(ct(2, 7, 50)), seed=1) as exchange:
        async with open_hours_engine(exchange, tmp_path / "j.sqlite", config) as (engine, broker):
            with pytest.raises(MarketClosedError) as refused:
                await engine.submit(oats(intent_id=IntentId("early")))
            assert not await engine.was_submitted(IntentId("early"))
    assert str(refused.value) == ("intent early refused: ZO's liquid session is closed until "
                                  '2026-12-02 08:30 CST (execution.outside_hours = "refuse", '
                                  'hours = "liquid")')
    assert broker.sent == []


async def test_an_open_after_the_intents_deadline_refuses_it(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """An intent that must be done by 08:00 is refused in the break: the market opens later."""
    async with open_sim_exchange(hours_params(ct(2, 7, 50)), seed=1) as exchange:
        async with open_hours_engine(exchange, tmp_path / "j.sqlite") as (engine, broker):
            with pytest.raises(MarketClosedError, match=r"closed until 2026-12-02 08:30 CST, "
                                                        r"after its deadline 2026-12-02T08:00"):
                await engine.submit(oats(intent_id=IntentId("late")), deadline=ct(2, 8))
    assert broker.sent == []


async def test_saturday_waits_to_sunday_evenings_open(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """In the trading hours, an intent on Saturday noon is worked from Sunday 19:00 Chicago
    time."""
    async with open_sim_exchange(hours_params(ct(5, 12)), seed=1) as exchange:
        async with open_hours_engine(exchange, tmp_path / "j.sqlite", TRADING_HOURS) as (
                engine, broker):
            await (await engine.submit(oats())).wait_done()
    assert broker.sent[0] == ("place", ct(6, 19))


async def test_a_held_intent_cancelled_or_drained_ends_unworked_at_once(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """Cancelling a held intent reports it unworked; closing Hydra does not wait for the open
    (nor the drain timeout) for the others."""
    async with open_sim_exchange(hours_params(ct(5, 12)), seed=1) as exchange:
        async with open_hours_engine(exchange, tmp_path / "j.sqlite") as (engine, broker):
            first, second = await engine.submit(oats()), await engine.submit(oats())
            await trio.sleep(10)
            first.cancel()
            report = await first.wait_done()
            assert report.children == () and now_of(exchange) == ct(5, 12, 0) + dt.timedelta(
                seconds=10)
        assert second.done and second.report is not None and second.report.children == ()
        assert now_of(exchange) == ct(5, 12) + dt.timedelta(seconds=10)
    assert broker.sent == []


async def test_hydras_twap_over_the_close_sends_nothing_after_it(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """An hour's TWAP at 13:00 sends its last order (and its cancel) before 13:20 and nothing
    after: the horizon is cut at the close."""
    config = HydraConfig(execution=ExecutionSettings(twap_horizon=3600, twap_slices=4))
    async with open_sim_exchange(hours_params(ct(2, 13)), seed=1) as exchange:
        async with open_hours_engine(exchange, tmp_path / "j.sqlite", config) as (engine, broker):
            await (await engine.submit(oats(8, policy=Policy.TWAP))).wait_done()
            assert now_of(exchange) <= ct(2, 13, 20)
    assert broker.sent and all(at < ct(2, 13, 20) for _, at in broker.sent)


async def test_hydras_twap_on_an_early_close_day_sends_nothing_after_1205(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """Christmas Eve 2026: an hour's TWAP at 11:45 sends its last order (and its cancel)
    before the 12:05 early close and nothing after."""
    config = HydraConfig(execution=ExecutionSettings(twap_horizon=3600, twap_slices=4))
    async with open_sim_exchange(hours_params(ct(24, 11, 45)), seed=1) as exchange:
        async with open_hours_engine(exchange, tmp_path / "j.sqlite", config) as (engine, broker):
            await (await engine.submit(oats(8, policy=Policy.TWAP))).wait_done()
            assert now_of(exchange) <= ct(24, 12, 5)
    assert broker.sent and all(at < ct(24, 12, 5) for _, at in broker.sent)


async def test_a_carried_twap_goes_on_at_the_next_open(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """With ``twap_carry``, in the trading hours, the TWAP's third slice starts half an hour
    of session time in, after 19:00, and nothing is sent in between."""
    config = HydraConfig(execution=ExecutionSettings(twap_horizon=3600, twap_slices=4,
                                                     twap_jitter=0.0, twap_carry=True,
                                                     hours=TRADING))
    async with open_sim_exchange(hours_params(ct(2, 13)), seed=1) as exchange:
        async with open_hours_engine(exchange, tmp_path / "j.sqlite", config) as (engine, broker):
            await (await engine.submit(oats(8, policy=Policy.TWAP))).wait_done()
    times = [at for _, at in broker.sent]
    assert not [at for at in times if ct(2, 13, 20) <= at < ct(2, 19)]
    # 30 minutes of session time in: 19:55 today (to 13:19:55, the close less CLOSE_MARGIN),
    # then 10:05 from 19:00.
    assert min(at for at in times if at >= ct(2, 19)) == ct(2, 19, 10) + dt.timedelta(seconds=5)


@settings(max_examples=12, deadline=None)
@given(minute=week_minutes, quantity=st.integers(1, 12), twap=st.booleans(),
       carry=st.booleans(), worked_in=st.sampled_from(WorkingHours))
def test_nothing_is_ever_sent_outside_a_session(
    minute: int, quantity: int, twap: bool, carry: bool, worked_in: WorkingHours,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Whenever an intent arrives in the week, patience or TWAP, carried or not, every order,
    change and cancel Hydra sends falls inside one of the contract's sessions of the hours it
    works in (the liquid ones, or all the trading ones)."""
    start = ct(30, 0, month=11) + dt.timedelta(minutes=minute)
    config = HydraConfig(execution=ExecutionSettings(twap_horizon=1800, twap_slices=3,
                                                     twap_carry=carry, hours=worked_in))
    journal = tmp_path_factory.mktemp("j") / "j.sqlite"

    async def main() -> list[tuple[str, dt.datetime]]:
        async with open_sim_exchange(hours_params(start), seed=1) as exchange:
            async with open_hours_engine(exchange, journal, config) as (engine, broker):
                intent = oats(quantity, policy=Policy.TWAP if twap else None)
                await (await engine.submit(intent)).wait_done()
        return broker.sent

    sent = trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    hours = (sim_liquid_calendar if worked_in is WorkingHours.LIQUID else sim_calendar)(
        OATS, start)
    assert sent and all(hours.is_open(at) for _, at in sent)


# --- the hours from each broker ---------------------------------------------------------------


async def test_the_ib_adapter_reads_the_hours_from_contract_details() -> None:
    """IBBroker asks the (simulated) gateway for ZO's contract details and parses its
    ``tradingHours`` in its ``timeZoneId``: the grains' break and the weekend are closed."""
    params = SimParams(markets=(MarketParams.oats(adv=0, daily_volatility=0.0),))
    with trio.fail_after(10):
        async with open_sim_exchange(params, seed=7) as exchange, trio.open_nursery() as nursery:
            gateway = await nursery.start(serve_gateway, exchange)
            async with open_ib_broker(BrokerSettings(port=gateway.port)) as broker:
                hours = await broker.trading_hours(OATS)
            nursery.cancel_scope.cancel(reason="test over")
    assert hours is not None and hours.zone.key == "America/Chicago"
    monday = dt.date(2025, 3, 3)  # the simulated gateway's day
    tuesday_break = dt.datetime.combine(monday + dt.timedelta(days=1), dt.time(7, 50), tzinfo=CT)
    assert hours.next_open(tuesday_break) == tuesday_break.replace(hour=8, minute=30)
    thursday_close = dt.datetime(2025, 3, 6, 14, tzinfo=CT)  # the night session opens at 19:00
    assert hours.next_open(thursday_close) == thursday_close.replace(hour=19)
    assert not hours.is_open(dt.datetime(2025, 3, 8, 12, tzinfo=CT))  # Saturday


async def test_the_ib_adapter_reads_an_early_close_from_the_gateway() -> None:
    """On the Friday after Thanksgiving 2026 the gateway's ``tradingHours`` (in ``US/Central``)
    close oats at 12:05, and IBBroker's calendar says so."""
    params = SimParams(markets=(MarketParams.oats(adv=0, daily_volatility=0.0),),
                       session_start=ct(27, 9, month=11).astimezone(dt.UTC))
    with trio.fail_after(10):
        async with open_sim_exchange(params, seed=7) as exchange, trio.open_nursery() as nursery:
            gateway = await nursery.start(serve_gateway, exchange)
            async with open_ib_broker(BrokerSettings(port=gateway.port)) as broker:
                hours = await broker.trading_hours(OATS)
            nursery.cancel_scope.cancel(reason="test over")
    assert hours is not None and hours.zone.key == "America/Chicago"
    assert hours.close_of(ct(27, 9, month=11)) == ct(27, 12, 5, month=11)
    assert hours.next_open(ct(27, 12, 5, month=11)) == ct(29, 19, month=11)  # Sunday evening


def test_ib_details_without_hours_give_no_calendar() -> None:
    """IB sent no ``tradingHours``: Hydra does not hold intents for the hours."""
    assert hours_from_ib_details(ContractDetails(tradingHours="", timeZoneId="US/Central")) is None
    hours = hours_from_ib_details(ContractDetails(tradingHours=IB_OATS, timeZoneId="US/Central"))
    assert hours is not None and hours.is_open(ct(2, 9))


async def test_a_simulator_without_hours_trades_around_the_clock(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """SimParams' ``sessions`` is off by default: the SimBroker gives no hours."""
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        broker = SimBroker(exchange)
        await broker.connect()
        assert await broker.trading_hours(OATS) is None
        await broker.close()


async def test_an_inbox_line_whose_deadline_comes_before_the_open_is_refused(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """The inbox passes an intent's own deadline: a line at 07:50 due by 08:00 is refused in
    one line naming the open; one without a deadline waits and is worked at 08:30."""
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text(
        '{"symbol": "ZO", "side": "BUY", "quantity": 1, "intent_id": "due",'
        ' "deadline": "2026-12-02T08:00:00-06:00"}\n'
        '{"symbol": "ZO", "side": "BUY", "quantity": 1, "intent_id": "patient"}\n')
    async with open_sim_exchange(hours_params(ct(2, 7, 50)), seed=1) as exchange:
        async with open_hours_engine(exchange, tmp_path / "j.sqlite") as (engine, broker):
            with capture_logs() as logs:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(functools.partial(
                        run_inbox, engine, path=inbox, state=tmp_path / "inbox.state",
                        now=lambda: now_of(exchange), wait=300.0))
                    await trio.sleep(41 * 60)
                    nursery.cancel_scope.cancel(reason="test over")
            assert await engine.was_submitted(IntentId("patient"))
            assert not await engine.was_submitted(IntentId("due"))
    refused = [e for e in logs if e["event"] == "intent_refused"]
    assert [e["intent_id"] for e in refused] == ["due"]
    assert ("ZO's liquid session is closed until 2026-12-02 08:30 CST, after its deadline"
            in refused[0]["error"])
    assert broker.sent[0] == ("place", ct(2, 8, 30))


async def test_a_link_down_at_the_open_delays_the_held_intent_until_it_is_back(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """The link is down from 18:59:50 to 19:00:20 on Sunday (a gateway restart): the held
    intent keeps the hours it had (the trading hours), waits for the session, and is worked
    once it is back."""
    open_at = (ct(6, 19) - ct(5, 12)).total_seconds()
    async with open_sim_exchange(hours_params(ct(5, 12)), seed=1) as exchange:
        exchange.inject(Disconnect(at=open_at - 10, duration=30))
        async with open_hours_engine(exchange, tmp_path / "j.sqlite", TRADING_HOURS) as (
                engine, broker):
            with capture_logs() as logs:
                report = await (await engine.submit(oats())).wait_done()
    assert "intent_waiting_for_session" in [e["event"] for e in logs]
    kind, first = broker.sent[0]
    # the reconnect after the link is back, by the seeded backoff
    assert kind == "place" and first == ct(6, 19) + dt.timedelta(seconds=20.758869)
    assert report.filled == 2


async def test_a_bracket_while_closed_is_refused_whatever_the_mode(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """A bracket's entry price is for now: in the break it is refused in one line, not held."""
    bracket = BracketIntent(contract=OATS, side=Side.BUY, quantity=1, entry_price="349.75",
                            take_profit_price="351", stop_price="349", stop_limit_price="348.75",
                            intent_id=IntentId("b"))
    async with open_sim_exchange(hours_params(ct(2, 7, 50)), seed=1) as exchange:
        async with open_hours_engine(exchange, tmp_path / "j.sqlite") as (engine, broker):
            with pytest.raises(MarketClosedError) as refused:
                await engine.submit_bracket(bracket)
    assert str(refused.value) == ("bracket b refused: ZO's liquid session is closed until "
                                  "2026-12-02 08:30 CST (a bracket is not held for the open)")
    assert broker.sent == []


async def test_a_held_inbox_intent_is_held_again_after_a_restart(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """Hydra stops on Sunday afternoon with an inbox intent held (not journaled): the next
    run re-reads the line, holds it again, and works it at Sunday's open (in the trading
    hours), once."""
    inbox, journal, state = tmp_path / "inbox.jsonl", tmp_path / "j.sqlite", tmp_path / "state"
    inbox.write_text('{"symbol": "ZO", "side": "BUY", "quantity": 1, "intent_id": "weekend"}\n')
    async with open_sim_exchange(hours_params(ct(6, 17, 50)), seed=1) as exchange:

        async def run_for(seconds: float) -> RecordingBroker:
            async with open_hours_engine(exchange, journal, TRADING_HOURS) as (engine, broker):
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(functools.partial(
                        run_inbox, engine, path=inbox, state=state,
                        now=lambda: now_of(exchange), wait=300.0))
                    await trio.sleep(seconds)
                    nursery.cancel_scope.cancel(reason="the runner stops")
            return broker

        first = await run_for(600)
        second = await run_for(5400)
    assert first.sent == []
    assert [kind for kind, _ in second.sent][:1] == ["place"]
    assert second.sent[0][1] == ct(6, 19)
    read = Journal.open_read_only(journal)
    intents = [p for _, kind, p in read.events() if kind is EventKind.INTENT]
    read.close()
    assert [p["intent"]["intent_id"] for p in intents] == ["weekend"]


async def test_an_intent_in_the_last_minute_before_the_close_waits_for_the_next_session(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """At 13:19:30 there is too little left: refused mode says the close is near and when the
    market opens again; wait mode works the intent from 19:00 (in the trading hours)."""
    refuse = HydraConfig(execution=ExecutionSettings(outside_hours=OutsideHours.REFUSE,
                                                     hours=TRADING))
    start = ct(2, 13, 19) + dt.timedelta(seconds=30)
    async with open_sim_exchange(hours_params(start), seed=1) as exchange:
        async with open_hours_engine(exchange, tmp_path / "r.sqlite", refuse) as (engine, _):
            with pytest.raises(MarketClosedError) as refused:
                await engine.submit(oats(intent_id=IntentId("late")))
        async with open_hours_engine(exchange, tmp_path / "w.sqlite", TRADING_HOURS) as (
                engine, broker):
            await (await engine.submit(oats())).wait_done()
    assert str(refused.value) == ('intent late refused: ZO closes within 60 s and opens again at '
                                  '2026-12-02 19:00 CST (execution.outside_hours = "refuse", '
                                  'hours = "trading")')
    assert broker.sent[0] == ("place", ct(2, 19))
