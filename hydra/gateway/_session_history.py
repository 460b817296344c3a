"""One client's historical data: bars (``TRADES``, ``MIDPOINT``, ``BID``, ``ASK``,
``BID_ASK``; 1 second to 1 month), the head timestamp and the price histogram, from the
market's generated past and the exchange's record of the live session (`_history`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator, Sequence
from decimal import Decimal
from zoneinfo import ZoneInfo

import structlog
import trio

from . import _replies as r
from . import _requests as q
from ._bar_table import wire_rows
from ._catalog import Listing
from ._history import WHAT, Bar, BarBuilder, Print, Touch
from ._message_ids import ServerMessage as S
from ._periods import PeriodError, bar_size, check_span, duration, end_time
from ._registry import Registry
from ._unserved import NO_SECURITY
from ._wire import decimal_text

log = structlog.get_logger()

Replies = list[r.Reply]

_HMDS = "Historical Market Data Service error message:"

ROWS_AT_ONCE = 16_384
"""Bars whose rows are made between two checkpoints (some 15 ms of work)."""


def _error(req_id: int, code: int, message: str) -> Replies:
    return [r.ErrorMessage(req_id=req_id, code=code, message=message)]


class SessionHistory:
    """Historical data requests of one client."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._exchange = registry.exchange

    def bars(self, request: q.RequestHistoricalData) -> Replies:
        """The answer to ``request``, made in one go."""
        steps = self._bars_in_steps(request)
        while True:
            try:
                next(steps)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]

    async def bars_with_checkpoints(self, request: q.RequestHistoricalData) -> Replies:
        """The answer to ``request``, with a checkpoint after each step of making it (a block
        of the past drawn, the bars built, `ROWS_AT_ONCE` rows made), so the gateway serves
        its other clients meanwhile: a cold year is some 65 blocks and 9 runs of rows."""
        steps = self._bars_in_steps(request)
        while True:
            try:
                next(steps)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            await trio.lowlevel.checkpoint()

    def _bars_in_steps(self, request: q.RequestHistoricalData) -> Generator[None, None, Replies]:
        """Makes the answer to ``request``, yielding between steps; returns it."""
        listing = self._registry.catalog.resolve(request.contract)
        if listing is None:
            return _error(request.req_id, 200, NO_SECURITY)
        what = request.what_to_show.upper()
        if what not in WHAT:
            return _error(request.req_id, 162, f"{_HMDS}invalid whatToShow {what!r}")
        zone = self.zone(listing)
        try:
            size = bar_size(request.bar_size)
            seconds = duration(request.duration)
            check_span(size, seconds)
            end = end_time(request.end, now=self._now(), zone=zone)
        except PeriodError as e:
            return _error(request.req_id, 162, f"{_HMDS}{e}")
        if request.keep_up_to_date and request.end.strip():
            text = f"{_HMDS}end date/time must be empty with keepUpToDate"
            return _error(request.req_id, 162, text)
        start = end.timestamp() - seconds
        past = self._registry.past(listing)
        while not past.reach_some(start):
            yield
        table = self._builder(listing, what, size, start, end.timestamp(),
                              use_rth=request.use_rth).table()  # fmt: skip
        log.info("gateway_history", req_id=request.req_id, what=what, bars=len(table))
        runs = []
        for first in range(0, len(table), ROWS_AT_ONCE):
            yield
            runs.append(wire_rows(table.part(first, first + ROWS_AT_ONCE),
                                  listing.spec.tick_size, format_date=request.format_date,
                                  zone=zone))  # fmt: skip
        return [r.HistoricalData(req_id=request.req_id, start=_stamp(start, 1, zone),
                                 end=_stamp(end.timestamp(), 1, zone), count=len(table),
                                 rows="\0".join(runs))]  # fmt: skip

    def build(
        self, listing: Listing, what: str, size: int | str, start: float, end: float, *,
        use_rth: bool,
    ) -> list[Bar]:  # fmt: skip
        """The bars of ``listing`` from ``start`` to ``end`` (epoch seconds)."""
        builder = self._builder(listing, what, size, start, end, use_rth=use_rth)
        return builder.bars(listing.spec.tick_size)

    def _builder(
        self, listing: Listing, what: str, size: int | str, start: float, end: float, *,
        use_rth: bool,
    ) -> BarBuilder:  # fmt: skip
        past = self._registry.past(listing)
        builder = BarBuilder(what=what, size=size, start=start, end=end, use_rth=use_rth,
                             sessions=past.sessions)  # fmt: skip
        opening = self._exchange.params.session_start.timestamp()
        if start < opening:
            builder.add_past(past)
        if end > opening:
            builder.add_live(*self.live(listing))
        return builder

    def live(self, listing: Listing) -> tuple[Sequence[Touch], Sequence[Print]]:
        """The exchange's record of the live session, in epoch seconds and ticks."""
        exchange, spec = self._exchange, listing.spec
        tick = spec.tick_size
        epoch = exchange.params.session_start.timestamp() - exchange.origin
        touches = [
            Touch(time=time + epoch, bid=int(bid / tick), ask=int(ask / tick))
            for time, bid, ask in exchange.touches(spec)
        ]
        prints = [
            Print(time=p.time + epoch, price=p.price, quantity=p.quantity)
            for p in exchange.tape(spec)
        ]
        return touches, prints

    def head_timestamp(self, request: q.RequestHeadTimestamp) -> Replies:
        listing = self._registry.catalog.resolve(request.contract)
        if listing is None:
            return _error(request.req_id, 200, NO_SECURITY)
        head = self._registry.past(listing).head
        stamp = _stamp(head, request.format_date, self.zone(listing))
        return [r.HeadTimestamp(req_id=request.req_id, timestamp=stamp)]

    def histogram(self, request: q.RequestHistogram) -> Replies:
        """Lots traded at each price over the period (``"3 days"``, ``"1 week"`` …)."""
        listing = self._registry.catalog.resolve(request.contract)
        if listing is None:
            return _error(request.req_id, 200, NO_SECURITY)
        count, _, unit = request.period.partition(" ")
        units = {"day": "D", "days": "D", "week": "W", "weeks": "W", "month": "M",
                 "months": "M", "year": "Y", "years": "Y"}  # fmt: skip
        try:
            seconds = duration(f"{count} {units.get(unit.strip(), '?')}")
        except PeriodError:
            return _error(request.req_id, 162, f"{_HMDS}invalid period {request.period!r}")
        end = self._now().timestamp()
        lots: dict[Decimal, int] = {}
        for bar in self.build(listing, "TRADES", 60, end - seconds, end, use_rth=False):
            lots[bar.close] = lots.get(bar.close, 0) + bar.volume
        return [r.Histogram(req_id=request.req_id, rows=tuple(sorted(lots.items())))]

    def ticks(self, request: q.RequestHistoricalTicks) -> Replies:
        """Up to ``count`` ticks (at most 1000) from ``start`` on, or else up to ``end``: the
        live record's quote changes or trades, and one tick a minute before the session."""
        listing = self._registry.catalog.resolve(request.contract)
        if listing is None:
            return _error(request.req_id, 200, NO_SECURITY)
        kinds = {"MIDPOINT": S.HISTORICAL_TICKS, "BID_ASK": S.HISTORICAL_TICKS_BID_ASK,
                 "TRADES": S.HISTORICAL_TICKS_LAST}  # fmt: skip
        kind = kinds.get(request.what_to_show.upper())
        if kind is None:
            return _error(request.req_id, 162, f"{_HMDS}invalid whatToShow")
        zone, now = self.zone(listing), self._now()
        try:
            start = end_time(request.start, now=now, zone=zone) if request.start else None
            end = end_time(request.end, now=now, zone=zone)
        except PeriodError as e:
            return _error(request.req_id, 162, f"{_HMDS}{e}")
        count = max(1, min(request.count, 1000))
        begin = start.timestamp() if start is not None else end.timestamp() - 7 * 86_400
        what = request.what_to_show.upper()
        rows = self._past_ticks(listing, what, begin, end.timestamp())
        rows += _live_ticks(*self.live(listing), what, listing.spec.tick_size, begin,
                            end.timestamp())  # fmt: skip
        rows = rows[:count] if start is not None else rows[-count:]
        return [r.HistoricalTicks(req_id=request.req_id, kind=kind, rows=tuple(rows))]

    def _past_ticks(self, listing: Listing, what: str, begin: float, end: float) -> list[_Tick]:
        """One tick a minute before the session: the minute's close (BID_ASK: its bid and
        ask at the close)."""
        end = min(end, self._exchange.params.session_start.timestamp())
        if begin >= end:
            return []
        if what == "BID_ASK":
            bids = self.build(listing, "BID", 60, begin, end, use_rth=False)
            asks = self.build(listing, "ASK", 60, begin, end, use_rth=False)
            return [(b.start, b.close, a.close, 0) for b, a in zip(bids, asks, strict=True)]
        bars = self.build(listing, what, 60, begin, end, use_rth=False)
        return [(b.start, b.close, b.close, b.volume) for b in bars]

    def zone(self, listing: Listing) -> ZoneInfo:
        return self._registry.past(listing).sessions.zone

    def _now(self) -> dt.datetime:
        return self._exchange.timestamp(trio.current_time())


_Tick = tuple[int, Decimal, Decimal, int]


def _live_ticks(
    touches: Sequence[Touch], prints: Sequence[Print], what: str, tick: Decimal, begin: float,
    end: float,
) -> list[_Tick]:  # fmt: skip
    """The live record's ticks between ``begin`` and ``end``: each trade, or each change of
    the quote."""
    if what == "TRADES":
        return [(int(p.time), p.price * tick, p.price * tick, p.quantity)
                for p in prints if begin <= p.time < end]  # fmt: skip
    found: list[_Tick] = []
    for t in touches:
        if begin <= t.time < end:
            bid, ask = t.bid * tick, t.ask * tick
            first = bid if what == "BID_ASK" else (bid + ask) / 2
            found.append((int(t.time), first, ask, 0))
    return found


def _stamp(epoch: float, format_date: int, zone: dt.tzinfo) -> str:
    """IB's date-time text: epoch seconds (formatDate 2) or local time with its zone."""
    if format_date == 2:
        return str(int(epoch))
    local = dt.datetime.fromtimestamp(epoch, zone)
    return f"{local:%Y%m%d %H:%M:%S} {zone}"


def bar_row(bar: Bar, format_date: int, zone: dt.tzinfo) -> r.HistoricalBar:
    date = f"{bar.day:%Y%m%d}" if bar.day is not None else _stamp(bar.start, format_date, zone)
    return r.HistoricalBar(
        date, decimal_text(bar.open), decimal_text(bar.high), decimal_text(bar.low),
        decimal_text(bar.close), str(bar.volume), decimal_text(bar.wap), str(bar.trades),
    )  # fmt: skip
