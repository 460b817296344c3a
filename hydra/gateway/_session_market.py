"""One client's market data: contract details and symbol search, and streaming quotes (bid,
ask, last, volume) for each subscription. Synchronous; the server's quote pumps wait for the
exchange to say a quote changed and then ask `SessionMarketData.ticks` what to send."""

from __future__ import annotations

from decimal import Decimal

import attrs

from .._quotes import Quote
from . import _replies as r
from . import _requests as q
from ._catalog import Listing
from ._registry import Registry
from ._session_history import SessionHistory
from ._unserved import NO_SECURITY

Replies = list[r.Reply]


@attrs.frozen
class _Ticks:
    quote: Quote
    last: Decimal | None
    last_size: int
    volume: int  # the trading day's, before the session included
    open: Decimal | None = None  # the trading day's open, high and low
    high: Decimal | None = None
    low: Decimal | None = None


@attrs.frozen
class _Day:
    """What the trading day had traded before the session, and the previous day's close."""

    open: Decimal | None
    high: Decimal | None
    low: Decimal | None
    volume: int
    close: Decimal | None


class SessionMarketData:
    """The contracts and quotes one client asked for."""

    def __init__(self, registry: Registry, history: SessionHistory) -> None:
        self._registry = registry
        self._exchange = registry.exchange
        self._history = history
        self._tickers: dict[int, Listing] = {}
        self._sent: dict[int, _Ticks] = {}
        self._days: dict[int, _Day] = {}

    def contract_details(self, req_id: int, contract: q.ContractFields) -> Replies:
        catalog = self._registry.catalog
        if contract.sec_type == "CONTFUT":
            front = catalog.continuous(contract)
            found: tuple[Listing, ...] = () if front is None else (front,)
        else:
            found = catalog.matches(contract)
        if not found:
            return [r.ErrorMessage(req_id=req_id, code=200, message=NO_SECURITY)]
        details: Replies = [catalog.details(req_id, x) for x in found]
        return [*details, r.ContractDetailsEnd(req_id=req_id)]

    def matching_symbols(self, req_id: int, pattern: str) -> Replies:
        found = self._registry.catalog.products(pattern)
        return [r.SymbolSamples(req_id=req_id, contracts=tuple(x.wire for x in found))]

    def market_rule(self, rule_id: int) -> Replies:
        tick = self._registry.catalog.tick_of_rule(rule_id)
        return [r.MarketRule(rule_id=rule_id, increment=tick)]

    # --- streaming quotes ---------------------------------------------------------------------

    def subscribe(self, request: q.RequestMarketData) -> Replies:
        listing = self._registry.catalog.resolve(request.contract)
        if listing is None:
            return [r.ErrorMessage(req_id=request.ticker_id, code=200, message=NO_SECURITY)]
        ticker_id = request.ticker_id
        replies: Replies = [
            r.MarketDataType(ticker_id=ticker_id),
            r.TickRequestParams(
                ticker_id=ticker_id, min_tick=listing.spec.tick_size, exchange=listing.spec.exchange
            ),
        ]
        self._tickers[ticker_id] = listing
        self._sent.pop(ticker_id, None)
        day = self._days[ticker_id] = self._day_before_session(listing)
        if day.close is not None:
            replies.append(r.TickPrice(ticker_id=ticker_id, tick_type=9, price=day.close))
        replies += self.ticks(ticker_id)
        if request.snapshot:
            del self._tickers[ticker_id]
            self._sent.pop(ticker_id, None)
            replies.append(r.TickSnapshotEnd(ticker_id=ticker_id))
        return replies

    def unsubscribe(self, ticker_id: int) -> Replies:
        """The end of a subscription; IB refuses (300) to cancel one it does not have."""
        self._sent.pop(ticker_id, None)
        if self._tickers.pop(ticker_id, None) is None:
            text = f"Can't find EId with tickerId:{ticker_id}"
            return [r.ErrorMessage(req_id=ticker_id, code=300, message=text)]
        return []

    @property
    def subscriptions(self) -> dict[int, Listing]:
        """The streaming market data subscriptions: ticker id to contract."""
        return dict(self._tickers)

    def last_sent(self, ticker_id: int) -> Quote | None:
        """The quote last sent on ``ticker_id`` (None when it is not subscribed)."""
        sent = self._sent.get(ticker_id)
        return sent.quote if sent is not None and ticker_id in self._tickers else None

    def ticks(self, ticker_id: int) -> Replies:
        """``ticker_id``'s ticks that changed since last sent: bid, ask, last, volume."""
        listing = self._tickers.get(ticker_id)
        if listing is None:
            return []
        spec, exchange = listing.spec, self._exchange
        before, day = self._sent.get(ticker_id), self._days[ticker_id]
        last = exchange.last_trade(spec)
        first = before.open if before is not None else day.open
        high = before.high if before is not None else day.high
        low = before.low if before is not None else day.low
        if last is not None:
            first = last if first is None else first
            high = last if high is None else max(high, last)
            low = last if low is None else min(low, last)
        now = _Ticks(
            quote=exchange.quote(spec),
            last=last,
            last_size=exchange.last_size(spec),
            volume=day.volume + exchange.volume(spec),
            open=first,
            high=high,
            low=low,
        )
        self._sent[ticker_id] = now
        return _tick_replies(ticker_id, before, now)

    def _day_before_session(self, listing: Listing) -> _Day:
        """The trading day so far before the session opened (from the generated past), and
        the close of the day before."""
        opening = self._exchange.params.session_start.timestamp()
        sessions = self._registry.past(listing).sessions
        today, _ = sessions.locate(opening)
        days = self._history.build(listing, "TRADES", "day", opening - 5 * 86_400, opening,
                                   use_rth=False)  # fmt: skip
        before = [d for d in days if d.day is not None and d.day < today]
        close = before[-1].close if before else None
        bar = next((d for d in days if d.day == today), None)
        if bar is None:
            return _Day(open=None, high=None, low=None, volume=0, close=close)
        return _Day(open=bar.open, high=bar.high, low=bar.low, volume=bar.volume, close=close)


def _tick_replies(ticker_id: int, before: _Ticks | None, now: _Ticks) -> Replies:
    """The ticks of ``now`` that differ from ``before`` (all of them when nothing was sent)."""
    quote, replies = now.quote, Replies()
    old = before.quote if before is not None else None
    if old is None or (old.bid, old.bid_size) != (quote.bid, quote.bid_size):
        replies.append(
            r.TickPrice(ticker_id=ticker_id, tick_type=1, price=quote.bid, size=quote.bid_size)
        )
    if old is None or (old.ask, old.ask_size) != (quote.ask, quote.ask_size):
        replies.append(
            r.TickPrice(ticker_id=ticker_id, tick_type=2, price=quote.ask, size=quote.ask_size)
        )
    traded = before is None or before.volume != now.volume
    if now.last is not None and traded:
        replies.append(
            r.TickPrice(ticker_id=ticker_id, tick_type=4, price=now.last, size=now.last_size)
        )
        replies.append(r.TickSize(ticker_id=ticker_id, tick_type=5, size=now.last_size))
    if traded:
        replies.append(r.TickSize(ticker_id=ticker_id, tick_type=8, size=now.volume))
    for tick_type, price, was in (
        (14, now.open, before.open if before else None),
        (6, now.high, before.high if before else None),
        (7, now.low, before.low if before else None),
    ):
        if price is not None and price != was:
            replies.append(r.TickPrice(ticker_id=ticker_id, tick_type=tick_type, price=price))
    return replies
