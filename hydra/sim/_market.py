"""One contract's market model: a mid on a random walk or scripted path, a spread and displayed
depth around it, and marketable flow that trades against the book. Pure and synchronous: the
exchange asks for the next event time and steps it; ``random.Random`` is passed in.
"""

from __future__ import annotations

import math
import random
from decimal import Decimal

import attrs

from .._enums import Side
from ._book import Book, Match
from ._params import MarketParams

_MOVE, _SCRIPT, _FLOW = 0, 1, 2  # order of events due at the same instant


@attrs.frozen(kw_only=True)
class Trade:
    """What one market event did: ``matches`` of our orders at time ``time``, and the lowest
    and highest prices it printed (ticks; None when nothing traded)."""

    time: float
    matches: tuple[Match, ...]
    prints: tuple[int, int] | None = None


class Market:
    """The simulated market in one contract, stepped one event at a time."""

    def __init__(self, params: MarketParams, rng: random.Random, *, start: float = 0.0) -> None:
        self.params = params
        self.start = start  # clock time at which the market opened; events are clock times
        self._rng = rng
        self._tick = params.contract.tick_size
        self._fair = float(params.start_mid / self._tick)  # the latent mid, in ticks
        scale = params.step_seconds / params.session_seconds
        self._sigma = params.daily_volatility * self._fair * math.sqrt(scale)
        self._drift = params.drift_per_session * self._fair * scale
        self._spreads = [ticks for ticks, _ in params.spread_ticks]
        self._spread_weights = [weight for _, weight in params.spread_ticks]
        self._max_spread = max(self._spreads)
        self._size_weights = [bucket.weight for bucket in params.flow_sizes]
        size = params.displayed_size
        self._size_p = 1 / (size.mean - size.minimum + 1)
        bid, ask = self._quote_around(self._fair)
        self.book = Book(bid=bid, ask=ask, draw_size=self._draw_size)
        self.last_trade: int | None = None  # ticks
        self.last_size = 0  # lots of the last trade
        self.volume = 0  # lots traded this session, by everyone
        self.events = 0
        self._step_count = 1
        self._next_move = start + params.step_seconds
        self._next_flow = self._draw_flow(start)
        script: list[tuple[float, int, Side | Decimal, int]]
        script = [(start + f.at, 0, f.side, f.quantity) for f in params.flows]
        script += [(start + g.at, 1, g.change, 0) for g in params.gaps]
        self._script = sorted(script, key=lambda item: (item[0], item[1]), reverse=True)

    # --- prices -------------------------------------------------------------------------------

    def price(self, ticks: int) -> Decimal:
        return ticks * self._tick

    def ticks(self, price: Decimal) -> int | None:
        """``price`` in whole ticks, or None when it is off the tick grid."""
        quotient, remainder = divmod(price, self._tick)
        return None if remainder else int(quotient)

    @property
    def mid(self) -> Decimal:
        """The mid of the displayed quote (ours included)."""
        bid, _ = self.book.best(Side.BUY)
        ask, _ = self.book.best(Side.SELL)
        return (self.price(bid) + self.price(ask)) / 2

    # --- scheduling ---------------------------------------------------------------------------

    def next_time(self) -> float:
        """When the next market event is due."""
        script = self._script[-1][0] if self._script else math.inf
        return min(self._next_move, script, self._next_flow[0])

    def next_risk_time(self, *, watching_prints: bool = False) -> float:
        """When the next event that could trade with one of our orders is due (or, when
        ``watching_prints`` for an armed stop, the next that could print at all)."""
        script = self._script[-1][0] if self._script else math.inf
        at, aggressor = self._next_flow
        if watching_prints:
            return min(script, at)
        buys, sells = self.book.has_resting(Side.BUY), self.book.has_resting(Side.SELL)
        if not (buys or sells):
            return math.inf
        hits_ours = sells if aggressor is Side.BUY else buys
        return min(script, at) if hits_ours else script

    def step(self) -> Trade:
        """Run the next market event; return what it did to our orders."""
        self.events += 1
        script = self._script[-1][0] if self._script else math.inf
        flow_at, aggressor = self._next_flow
        if self._next_move <= script and self._next_move <= flow_at:
            return self._move()
        if script <= flow_at:
            return self._scripted()
        self._next_flow = self._draw_flow(flow_at)
        return self._flow(flow_at, aggressor, self._draw_flow_size())

    # --- events -------------------------------------------------------------------------------

    def _move(self) -> Trade:
        now = self._next_move
        self._step_count += 1
        self._next_move = self.start + self._step_count * self.params.step_seconds
        if not self.halted(now):
            self._fair += self._rng.gauss(0.0, self._sigma) + self._drift
            self._normalize()
        return Trade(time=now, matches=())

    def _scripted(self) -> Trade:
        now, kind, what, quantity = self._script.pop()
        if kind == 1:
            assert isinstance(what, Decimal)
            self._fair += float(what / self._tick)
            self._normalize()
            return Trade(time=now, matches=())
        assert isinstance(what, Side)
        return self._flow(now, what, quantity)

    def _flow(self, now: float, aggressor: Side, quantity: int) -> Trade:
        if self.halted(now):
            return Trade(time=now, matches=())
        first = self.book.best_price(aggressor.opposite)
        matches, last = self.book.flow(aggressor, quantity)
        self.record_trade(last, quantity)
        self._fair += aggressor.sign * quantity * self.params.impact_ticks_per_lot
        self._normalize()
        return Trade(time=now, matches=tuple(matches), prints=(min(first, last), max(first, last)))

    def record_trade(self, price: int, quantity: int) -> None:
        """``quantity`` lots traded, the last of them at ``price`` (ticks)."""
        self.last_trade, self.last_size = price, quantity
        self.volume += quantity

    def inject_flow(self, now: float, aggressor: Side, quantity: int) -> Trade:
        """Flow sent by a test or scenario right now (ignored while halted)."""
        return self._flow(now, aggressor, quantity)

    def halted(self, now: float) -> bool:
        since_open = now - self.start
        return any(halt.start <= since_open < halt.end for halt in self.params.halts)

    def normalize(self) -> None:
        """Requote the crowd if our orders left it wider than it would ever stand."""
        self._normalize()

    def _normalize(self) -> None:
        bid, ask = self.book.crowd_bid, self.book.crowd_ask
        if bid <= self._fair <= ask and (ask - bid <= self._max_spread or self._pinned()):
            return
        bid, ask = self._quote_around(self._fair)
        self.book.recenter(bid=bid, ask=ask)

    def _pinned(self) -> bool:
        """True when one of our orders holds the crowd's far side away."""
        book = self.book
        buy, _ = book.best(Side.BUY)
        sell, _ = book.best(Side.SELL)
        return buy + 1 == book.crowd_ask or sell - 1 == book.crowd_bid

    # --- draws --------------------------------------------------------------------------------

    def _quote_around(self, fair: float) -> tuple[int, int]:
        spread = self._rng.choices(self._spreads, self._spread_weights)[0]
        bid = math.floor(fair - (spread - 1) / 2)
        return bid, bid + spread

    def _draw_size(self) -> int:
        size = self.params.displayed_size
        if size.minimum == size.maximum or size.mean == size.minimum:
            return size.minimum
        extra = int(math.log(1.0 - self._rng.random()) / math.log(1.0 - self._size_p))
        return min(size.minimum + extra, size.maximum)

    def _draw_flow(self, now: float) -> tuple[float, Side]:
        rate = self.params.flow_rate
        if rate == 0:
            return math.inf, Side.BUY
        at = now + self._rng.expovariate(rate)
        return at, Side.BUY if self._rng.random() < 0.5 else Side.SELL

    def _draw_flow_size(self) -> int:
        bucket = self._rng.choices(self.params.flow_sizes, self._size_weights)[0]
        return self._rng.randint(bucket.low, bucket.high)
