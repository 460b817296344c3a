"""One client's streams beyond quotes: market depth from the simulated book, tick-by-tick
(``Last``, ``AllLast``, ``BidAsk``, ``MidPoint``), real-time 5-second bars and historical bars
kept up to date. Synchronous: each stream says what changed since it last sent; the server's
pumps (`_pumps`) decide when to ask."""

from __future__ import annotations

import enum
import math
from decimal import Decimal

import attrs
import trio

from .._enums import Side
from ..sim import SimExchange
from . import _replies as r
from . import _requests as q
from ._catalog import Listing
from ._message_ids import ClientMessage as M
from ._periods import PeriodError, bar_size
from ._registry import Registry
from ._session_history import SessionHistory, bar_row
from ._unserved import NO_SECURITY

Replies = list[r.Reply]

REAL_TIME_BAR_SECONDS = 5
MAX_DEPTH_ROWS = 10
TICK_TYPES = {"Last": 1, "AllLast": 2, "BidAsk": 3, "MidPoint": 4}
_UNKNOWN_CANCELS = {
    M.CANCEL_MKT_DEPTH: (310, "Can't find the subscribed market depth with tickerId:"),
    M.CANCEL_HISTORICAL_DATA: (366, "No historical data query found for ticker id:"),
}


class StreamKind(enum.Enum):
    DEPTH = "depth"
    TICK_BY_TICK = "tick-by-tick"
    REAL_TIME_BARS = "real-time bars"
    BAR_UPDATES = "bar updates"


_CANCELS = {
    M.CANCEL_MKT_DEPTH: StreamKind.DEPTH,
    M.CANCEL_TICK_BY_TICK_DATA: StreamKind.TICK_BY_TICK,
    M.CANCEL_REAL_TIME_BARS: StreamKind.REAL_TIME_BARS,
    M.CANCEL_HISTORICAL_DATA: StreamKind.BAR_UPDATES,
}


@attrs.frozen(kw_only=True)
class Stream:
    """One subscription: its kind, request id and contract; ``what`` is the tick type or
    what-to-show, ``size`` a bar size (seconds, or ``"day"`` …), ``rows`` depth rows."""

    kind: StreamKind
    req_id: int
    listing: Listing
    what: str = ""
    size: int | str = REAL_TIME_BAR_SECONDS
    rows: int = 0
    use_rth: bool = False


def _error(req_id: int, code: int, text: str) -> Replies:
    return [r.ErrorMessage(req_id=req_id, code=code, message=text)]


class SessionStreams:
    """The streams of one client, and what each last sent."""

    def __init__(self, registry: Registry, history: SessionHistory) -> None:
        self._registry = registry
        self._exchange = registry.exchange
        self._history = history
        self._streams: dict[tuple[StreamKind, int], Stream] = {}
        self._depth: dict[int, tuple[list[tuple[Decimal, int]], list[tuple[Decimal, int]]]] = {}
        self._printed: dict[int, int] = {}  # tick-by-tick trades: prints already sent
        self._quoted: dict[int, tuple[object, ...]] = {}  # tick-by-tick quotes: last sent
        self._bar: dict[int, r.HistoricalBar] = {}  # keepUpToDate: last bar sent

    @property
    def exchange(self) -> SimExchange:
        return self._exchange

    @property
    def streams(self) -> dict[tuple[StreamKind, int], Stream]:
        return dict(self._streams)

    def stream(self, kind: StreamKind, req_id: int) -> Stream | None:
        return self._streams.get((kind, req_id))

    def _resolve(self, req_id: int, contract: q.ContractFields) -> Listing | Replies:
        listing = self._registry.catalog.resolve(contract)
        return _error(req_id, 200, NO_SECURITY) if listing is None else listing

    # --- subscribing --------------------------------------------------------------------------

    def depth(self, request: q.RequestMarketDepth) -> Replies:
        """Depth of ``rows`` levels a side (at most `MAX_DEPTH_ROWS`), inserted at once."""
        found = self._resolve(request.req_id, request.contract)
        if isinstance(found, list):
            return found
        rows = max(1, min(request.rows, MAX_DEPTH_ROWS))
        self._add(Stream(kind=StreamKind.DEPTH, req_id=request.req_id, listing=found, rows=rows))
        self._depth[request.req_id] = ([], [])
        return self.depth_changes(request.req_id)

    def tick_by_tick(self, request: q.RequestTickByTick) -> Replies:
        found = self._resolve(request.req_id, request.contract)
        if isinstance(found, list):
            return found
        if request.tick_type not in TICK_TYPES:
            cause = f"Invalid tick type {request.tick_type!r}"
            text = f"Error validating request:-'cD' : cause - {cause}"
            return _error(request.req_id, 321, text)
        stream = Stream(
            kind=StreamKind.TICK_BY_TICK, req_id=request.req_id, listing=found,
            what=request.tick_type,
        )  # fmt: skip
        self._add(stream)
        self._printed[request.req_id] = len(self._exchange.tape(found.spec))
        self._quoted.pop(request.req_id, None)
        return self.ticks(request.req_id)

    def real_time_bars(self, request: q.RequestRealTimeBars) -> Replies:
        found = self._resolve(request.req_id, request.contract)
        if isinstance(found, list):
            return found
        what = request.what_to_show.upper()
        if what not in ("TRADES", "MIDPOINT", "BID", "ASK"):
            return _error(request.req_id, 420, f"Invalid Real-time Query:whatToShow {what!r}")
        stream = Stream(
            kind=StreamKind.REAL_TIME_BARS, req_id=request.req_id, listing=found, what=what
        )
        self._add(stream)
        now = self._exchange.timestamp(trio.current_time()).timestamp()
        last = math.floor(now / REAL_TIME_BAR_SECONDS) * REAL_TIME_BAR_SECONDS
        return self.real_time_bar(request.req_id, last)  # the bar just ended, at once

    def keep_up_to_date(self, request: q.RequestHistoricalData, listing: Listing) -> None:
        """After the bars of a keepUpToDate request: send its newest bar as it changes."""
        try:
            size = bar_size(request.bar_size)
        except PeriodError:
            return
        stream = Stream(
            kind=StreamKind.BAR_UPDATES, req_id=request.req_id, listing=listing,
            what=request.what_to_show.upper(), size=size, use_rth=request.use_rth,
        )  # fmt: skip
        self._add(stream)
        self._bar.pop(request.req_id, None)

    def _add(self, stream: Stream) -> None:
        self._streams[stream.kind, stream.req_id] = stream

    def cancel(self, message: M, req_id: int) -> Replies:
        """The end of a stream; IB refuses cancels of depth and historical data it does not
        have (310, 366) and takes the others in silence."""
        kind = _CANCELS.get(message)
        if kind is not None and self._streams.pop((kind, req_id), None) is not None:
            return []
        if message not in _UNKNOWN_CANCELS:
            return []
        code, text = _UNKNOWN_CANCELS[message]
        return _error(req_id, code, f"{text}{req_id}")

    # --- what changed -------------------------------------------------------------------------

    def depth_changes(self, req_id: int) -> Replies:
        """The depth rows that changed since last sent (insert, update, delete)."""
        stream = self.stream(StreamKind.DEPTH, req_id)
        if stream is None:
            return []
        replies: Replies = []
        sent = self._depth[req_id]
        for index, side in enumerate((Side.SELL, Side.BUY)):  # IB: 0 ask, 1 bid
            now = list(self._exchange.depth(stream.listing.spec, side)[: stream.rows])
            replies += _row_changes(req_id, index, sent[index], now)
            sent[index][:] = now
        return replies

    def ticks(self, req_id: int) -> Replies:
        """Tick-by-tick: the trades printed, or the quote if it changed, since last sent."""
        stream = self.stream(StreamKind.TICK_BY_TICK, req_id)
        if stream is None:
            return []
        spec = stream.listing.spec
        now = int(self._exchange.timestamp(trio.current_time()).timestamp())
        if stream.what in ("Last", "AllLast"):
            tape = self._exchange.tape(spec)
            new = tape[self._printed[req_id] :]
            self._printed[req_id] = len(tape)
            tick, kind = spec.tick_size, TICK_TYPES[stream.what]
            trades: Replies = []
            for p in new:
                when = int(self._exchange.timestamp(p.time).timestamp())
                trades.append(r.TickByTickLast(req_id=req_id, tick_type=kind, time=when,
                                               price=p.price * tick, size=p.quantity,
                                               exchange=spec.exchange))  # fmt: skip
            return trades
        quote = self._exchange.quote(spec)
        if stream.what == "MidPoint":
            key: tuple[object, ...] = (quote.mid,)
            reply: r.Reply = r.TickByTickMidPoint(req_id=req_id, time=now, mid=quote.mid)
        else:
            key = (quote.bid, quote.ask, quote.bid_size, quote.ask_size)
            reply = r.TickByTickBidAsk(
                req_id=req_id, time=now, bid=quote.bid, ask=quote.ask,
                bid_size=quote.bid_size, ask_size=quote.ask_size,
            )  # fmt: skip
        if self._quoted.get(req_id) == key:
            return []
        self._quoted[req_id] = key
        return [reply]

    def real_time_bar(self, req_id: int, end: float) -> Replies:
        """The 5-second bar ending at ``end`` (epoch seconds); a bar with nothing in it (no
        trade, or the session not yet open) shows the standing price, with no volume."""
        stream = self.stream(StreamKind.REAL_TIME_BARS, req_id)
        if stream is None:
            return []
        start = end - REAL_TIME_BAR_SECONDS
        bars = self._history.build(stream.listing, stream.what, REAL_TIME_BAR_SECONDS, start,
                                   end, use_rth=False)  # fmt: skip
        if bars:
            b = bars[-1]
            return [r.RealTimeBar(req_id=req_id, time=int(start), open=b.open, high=b.high,
                                  low=b.low, close=b.close, volume=b.volume, wap=b.wap,
                                  count=b.trades)]  # fmt: skip
        last = self._standing_price(stream)
        if last is None:
            return []
        return [r.RealTimeBar(req_id=req_id, time=int(start), open=last, high=last, low=last,
                              close=last, volume=0, wap=last, count=0)]  # fmt: skip

    def _standing_price(self, stream: Stream) -> Decimal | None:
        """The price a bar with nothing in it shows: the last trade, or the quote."""
        spec = stream.listing.spec
        if stream.what == "TRADES":
            return self._exchange.last_trade(spec)
        quote = self._exchange.quote(spec)
        return {"BID": quote.bid, "ASK": quote.ask}.get(stream.what, quote.mid)

    def bar_update(self, req_id: int) -> Replies:
        """keepUpToDate: the newest bar, when it changed since last sent."""
        stream = self.stream(StreamKind.BAR_UPDATES, req_id)
        if stream is None:
            return []
        now = self._exchange.timestamp(trio.current_time()).timestamp()
        reach = {"day": 2 * 86_400, "week": 8 * 86_400, "month": 32 * 86_400}
        back = reach[stream.size] if isinstance(stream.size, str) else 2 * stream.size
        bars = self._history.build(stream.listing, stream.what, stream.size, now - back,
                                   math.floor(now) + 1, use_rth=stream.use_rth)  # fmt: skip
        if not bars:
            return []
        newest = bar_row(bars[-1], 2, self._history.zone(stream.listing))
        if self._bar.get(req_id) == newest:
            return []
        self._bar[req_id] = newest
        return [r.HistoricalDataUpdate(req_id=req_id, bar=newest)]


def _row_changes(
    req_id: int, side: int, before: list[tuple[Decimal, int]], now: list[tuple[Decimal, int]]
) -> Replies:
    """Depth operations turning rows ``before`` into ``now``: updates where they differ,
    inserts of new rows at the end, deletes of rows gone (from the end)."""
    replies: Replies = []
    for position, (price, size) in enumerate(now):
        if position < len(before) and before[position] == (price, size):
            continue
        operation = 1 if position < len(before) else 0
        replies.append(r.MarketDepth(req_id=req_id, position=position, operation=operation,
                                     side=side, price=price, size=size))
    for position in range(len(before) - 1, len(now) - 1, -1):
        price, size = before[position]
        replies.append(r.MarketDepth(req_id=req_id, position=position, operation=2, side=side,
                                     price=price, size=size))
    return replies
