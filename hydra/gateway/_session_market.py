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
from ._unserved import NO_SECURITY

Replies = list[r.Reply]


@attrs.frozen
class _Ticks:
    quote: Quote
    last: Decimal | None
    last_size: int
    volume: int


class SessionMarketData:
    """The contracts and quotes one client asked for."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._exchange = registry.exchange
        self._tickers: dict[int, Listing] = {}
        self._sent: dict[int, _Ticks] = {}

    def contract_details(self, req_id: int, contract: q.ContractFields) -> Replies:
        found = self._registry.catalog.matches(contract)
        if not found:
            return [r.ErrorMessage(req_id=req_id, code=200, message=NO_SECURITY)]
        details: Replies = [self._registry.catalog.details(req_id, x) for x in found]
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
        now = _Ticks(
            quote=exchange.quote(spec),
            last=exchange.last_trade(spec),
            last_size=exchange.last_size(spec),
            volume=exchange.volume(spec),
        )
        before = self._sent.get(ticker_id)
        self._sent[ticker_id] = now
        return _tick_replies(ticker_id, before, now)


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
    return replies
