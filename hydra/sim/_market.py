"""One contract's market model: a latent mid on a random walk or scripted path, a crowd quoting
a spread and depth around it (refilling gaps, adding and cancelling lots, reacting to an order
that improves its touch), and marketable flow that trades against the book and moves the mid.
Pure and synchronous: the exchange asks for the next event time and steps it.

Each component draws from its own stream (`Streams`), derived from the one ``random.Random``
passed in, and every event of a component draws the same numbers whatever the book looks like,
so the market's exogenous path (the mid walk, the flow's times, sides and sizes, the crowd's
event times) is fixed by the seed, and only our own orders make two runs differ. A mirrored
market (``MarketParams.mirrored``) draws the same numbers and reverses every sign they give, so
it is the seed's market reflected about the start mid.
"""

from __future__ import annotations

import math
import random
from collections import deque
from decimal import Decimal

import attrs

from .._enums import Side
from ._book import Book, Match
from ._params import MarketParams

_STREAMS = ("mid", "flow_times", "flow_sides", "flow_sizes", "spread", "refill", "depth", "crowd")
_MOVE, _SCRIPT, _FLOW, _REFILL, _QUEUE, _REGIME = range(6)  # order at the same instant
_FORESEEN_STEPS = 64  # how far `Market.next_book_time` looks past still steps of the mid
_FORESEEN_QUEUE = 64  # how far `Market.next_quote_time` looks past the crowd's deep events
_CrowdDraws = tuple[float, float, float, float, float]  # side, level, action, position, lots
_BUY, _SELL = Side.BUY, Side.SELL  # faster than the class lookup (3.11)
_OPPOSITE = {_BUY: _SELL, _SELL: _BUY}


class Streams:
    """One random stream per component, each seeded from one draw of ``rng``."""

    def __init__(self, rng: random.Random) -> None:
        base = rng.getrandbits(64)
        for name in _STREAMS:
            setattr(self, name, random.Random(f"{base}:{name}"))

    mid: random.Random
    flow_times: random.Random
    flow_sides: random.Random
    flow_sizes: random.Random
    spread: random.Random
    refill: random.Random
    depth: random.Random
    crowd: random.Random


@attrs.frozen(kw_only=True)
class Print:
    """One trade of the crowd's flow (ours included when it hit our orders): when, the
    aggressor's side, the lots, and the last price (ticks)."""

    time: float
    aggressor: Side
    quantity: int
    price: int


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
        self._rng = Streams(rng)
        self._way = -1 if params.mirrored else 1  # the sign of every move and side drawn
        self._tick = params.contract.tick_size
        self._fair = float(params.start_mid / self._tick)  # the latent mid, in ticks
        self._fair_at_start = self._fair  # a whole number of ticks when mirrored: the centre
        scale = params.step_seconds / params.session_seconds
        self._sigma = params.daily_volatility * self._fair * math.sqrt(scale)
        self._drift = self._way * params.drift_per_session * self._fair * scale
        self._steps: deque[float] = deque()  # the mid's next steps, drawn ahead to foresee them
        # The crowd's next queue events, drawn ahead likewise: each one's draws, and when the
        # one after it is due.
        self._crowd_events: deque[tuple[_CrowdDraws, float]] = deque()
        self._foreseen: tuple[tuple[int, float, bool], float] | None = None  # `_next_change`
        self._spreads = [ticks for ticks, _ in params.spread_ticks]
        self._spread_weights = [weight for _, weight in params.spread_ticks]
        self._max_spread = max(self._spreads)
        self._size_weights = [bucket.weight for bucket in params.flow_sizes]
        size = params.displayed_size
        self._size_p = 1 / (size.mean - size.minimum + 1)
        self._legacy = params.refill_rate == 0
        self._target = self._draw_spread()
        bid, ask = self._quote_around(self._fair, self._target)
        self.book = Book(bid=bid, ask=ask, draw_size=self._draw_size, depth=params.depth_levels,
                         first=self._oriented(_BUY))
        self.last_trade: int | None = None  # ticks
        self.last_size = 0  # lots of the last trade
        self.volume = 0  # lots traded this session, by everyone
        self.events = 0
        self.tape: list[Print] = []  # the flow's trades since the market opened
        self.touches: list[tuple[float, int, int]] = []  # (time, bid, ask) at each change
        self._last_side = self._oriented(_BUY)
        # Event times are kept as offsets from ``start`` (negative during the burn-in), so
        # the same seed gives the same times and ties whatever the clock read at opening.
        opened = -params.burn_in_seconds
        self._next = [math.inf] * 6
        self._step_count = 1
        self._next[_MOVE] = opened + params.step_seconds
        self._next_flow = self._draw_flow(opened)
        self._next[_FLOW] = self._next_flow[0]
        self._next[_REFILL] = self._after(opened, params.refill_rate, self._rng.refill)
        self._next[_QUEUE] = self._after(opened, 2 * params.queue_events_per_second,
                                         self._rng.crowd)
        if not self._legacy:  # the old model draws a spread at each requote instead
            self._next[_REGIME] = self._after(opened, 1 / params.spread_regime_seconds,
                                              self._rng.spread)
        script: list[tuple[float, int, Side | Decimal, int]]
        script = [(f.at, 0, self._oriented(f.side), f.quantity) for f in params.flows]
        script += [(g.at, 1, self._way * g.change, 0) for g in params.gaps]
        self._script = sorted(script, key=lambda item: (item[0], item[1]), reverse=True)
        self._next[_SCRIPT] = self._script[-1][0] if self._script else math.inf
        if params.burn_in_seconds:
            self._burn_in()

    def _burn_in(self) -> None:
        """Run the market until it opens, then move it by whole ticks back to the start mid."""
        while min(self._next) < 0:
            self.step()
        shift = round(float(self.params.start_mid / self._tick) - self._fair)
        self._fair += shift
        self.book.shift(shift)
        if self.last_trade is not None:
            self.last_trade += shift
        self.volume, self.events, self.tape = 0, 0, []

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
        bid, _ = self.book.best(_BUY)
        ask, _ = self.book.best(_SELL)
        return (self.price(bid) + self.price(ask)) / 2

    @property
    def latent_mid(self) -> Decimal:
        """The model's latent price (a real market has none; for tests and benchmarks)."""
        return Decimal(repr(self._fair)) * self._tick

    # --- scheduling ---------------------------------------------------------------------------

    def next_time(self) -> float:
        """When the next market event is due."""
        return self.start + min(self._next)

    def next_book_time(self) -> float:
        """When the next event that may change the book is due: `next_time`, past the steps
        of the latent mid that keep it inside the crowd's quote and the refills that find
        nothing to refill (they change nothing a client sees, and the next that may is
        earlier than any that could; each step is drawn ahead, so the stream draws what it
        always would, and a refill still draws its own when it runs)."""
        return self._next_change(quote=False)

    def next_quote_time(self) -> float:
        """When the next event that may change the best bid or offer is due: `next_book_time`,
        past the crowd's queue events that change only a level below its touch (a watcher of
        the quote cannot see them; each is drawn ahead, as the mid's steps are)."""
        return self._next_change(quote=True)

    def _next_change(self, *, quote: bool) -> float:
        """`next_quote_time` (``quote``) or `next_book_time`, remembered until the market
        steps, its book changes (our orders too) or its latent mid moves (our trades)."""
        key = (self.book.version, self._fair, quote)
        if self._foreseen is not None and self._foreseen[0] == key:
            return self._foreseen[1]
        at = self._foresee(quote=quote)
        self._foreseen = key, at
        return at

    def _foresee(self, *, quote: bool) -> float:
        due, params = self._next, self.params
        later = min(due[_SCRIPT], due[_FLOW], due[_REGIME])
        if due[_REFILL] < later and self._refill_adds():
            later = due[_REFILL]
        later = self._next_seen_queue_event(later) if quote else min(later, due[_QUEUE])
        at, ahead = due[_MOVE], 0
        if self._legacy:
            return self.start + min(at, later)
        fair, bid, ask = self._fair, self.book.crowd_bid, self.book.crowd_ask
        halts = params.halts
        while at < later and ahead < _FORESEEN_STEPS:
            if not halts or not self.halted(self.start + at):
                fair += self._step_ahead(ahead) + self._drift
                if not bid <= fair <= ask:
                    break
            ahead += 1
            at = (self._step_count + ahead) * params.step_seconds - params.burn_in_seconds
        return self.start + min(at, later)

    def _next_seen_queue_event(self, until: float) -> float:
        """When the first of the crowd's queue events before ``until`` may change the best bid
        or offer, ``until`` when none does, the book left alone by everything else till then.

        It may when it lands at the crowd's touch, acts for our order inside the spread, or
        empties a level (a refill would then rebuild it); a lot joining or cancelling at a
        level behind the touch does not. The events' draws are made ahead (`_crowd_ahead`)
        and their effect on the levels behind the touch played on a copy."""
        at, book = self._next[_QUEUE], self.book
        if book.depth is None:
            return min(at, until)
        params = self.params
        improving = params.join_improver_probability + params.step_ahead_probability
        mean, most = params.displayed_size.mean, params.displayed_size.maximum
        copies: dict[Side, list[list[int]]] = {}
        for ahead in range(_FORESEEN_QUEUE):
            if at >= until:
                return until
            (u_side, u_level, u_action, _, _), after = self._crowd_ahead(ahead)
            side = self._oriented(_BUY if u_side < 0.5 else _SELL)
            if u_action < improving and book.improver(side) is not None:
                return at
            if side not in copies:
                copies[side] = [[price, size] for price, size in book.levels(side)]
            levels = copies[side]
            if levels:
                index = min(int(u_level * len(levels)), len(levels) - 1)
                level = levels[index]
                size = level[1]
                cancels = u_action < size / (size + mean)
                if index == 0 or (cancels and size == 1):
                    return at
                if cancels:
                    level[1] = size - 1
                elif size < most:
                    level[1] = size + 1
            at = after
        return min(at, until)

    def _crowd_ahead(self, ahead: int) -> tuple[_CrowdDraws, float]:
        """The draws of the crowd's queue event ``ahead`` events after the next one (0: the
        next) and when the one after it is due, drawn in the order stepping each event draws
        them: the time of the next, then its own."""
        events, rng = self._crowd_events, self._rng.crowd
        rate = 2 * self.params.queue_events_per_second
        while len(events) <= ahead:
            at = events[-1][1] if events else self._next[_QUEUE]
            after = self._after(at, rate, rng)
            draws = (rng.random(), rng.random(), rng.random(), rng.random(), rng.random())
            events.append((draws, after))
        return events[ahead]

    def _step_ahead(self, ahead: int) -> float:
        """The latent mid's step ``ahead`` steps after the next one (0: the next)."""
        while len(self._steps) <= ahead:
            drawn = self._rng.mid.gauss(0.0, self._sigma) if self._sigma else 0.0
            self._steps.append(self._way * drawn)
        return self._steps[ahead]

    def next_risk_time(self, *, watching_prints: bool = False) -> float:
        """When the next event that could trade with one of our orders is due (or, when
        ``watching_prints`` for an armed stop, the next that could print at all)."""
        script = self.start + self._next[_SCRIPT]
        at = self.start + self._next[_FLOW]
        if watching_prints:
            return min(script, at)
        if not (self.book.has_resting(_BUY) or self.book.has_resting(_SELL)):
            return math.inf
        # Flow that cannot hit ours must still run on time: only then is the flow after it,
        # which may, drawn (sleeping past it would deliver that one's fills late).
        return min(script, at)

    def step(self) -> Trade:
        """Run the next market event; return what it did to our orders."""
        self.events += 1
        self._foreseen = None
        due = self._next
        kind = due.index(min(due))
        offset = due[kind]
        now = self.start + offset
        if kind == _MOVE:
            return self._move()
        if kind == _SCRIPT:
            return self._scripted()
        if kind == _FLOW:
            _, aggressor = self._next_flow
            self._next_flow = self._draw_flow(offset)
            due[_FLOW] = self._next_flow[0]
            return self._flow(now, aggressor, self._draw_flow_size())
        if kind == _REFILL:
            due[_REFILL] = self._after(offset, self.params.refill_rate, self._rng.refill)
            self._refill()
        elif kind == _QUEUE:
            draws, due[_QUEUE] = self._crowd_ahead(0)
            self._crowd_events.popleft()
            self._queue_event(draws)
        else:
            due[_REGIME] = self._after(
                offset, 1 / self.params.spread_regime_seconds, self._rng.spread
            )
            self._regime()
        return Trade(time=now, matches=())

    # --- events -------------------------------------------------------------------------------

    def _move(self) -> Trade:
        now = self.start + self._next[_MOVE]
        self._step_count += 1
        params = self.params
        self._next[_MOVE] = self._step_count * params.step_seconds - params.burn_in_seconds
        step = self._step_ahead(0)
        self._steps.popleft()
        if not self.halted(now):
            self._fair += step + self._drift
            self._normalize()
        return Trade(time=now, matches=())

    def _scripted(self) -> Trade:
        at, kind, what, quantity = self._script.pop()
        now = self.start + at
        self._next[_SCRIPT] = self._script[-1][0] if self._script else math.inf
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
        hit = _OPPOSITE[aggressor]
        first = self.book.best_price(hit)
        matches, last = self.book.flow(aggressor, quantity)
        self.record_trade(last, quantity)
        self.tape.append(Print(time=now, aggressor=aggressor, quantity=quantity, price=last))
        move = quantity * self.params.impact_ticks_per_lot
        if self.book.best_price(hit) != first:  # the best queue emptied
            move += self.params.depletion_ticks
        self._fair += aggressor.sign * move
        self._normalize()
        return Trade(time=now, matches=tuple(matches), prints=(min(first, last), max(first, last)))

    def note_touch(self, time: float) -> None:
        """Record the best bid and ask (ticks) at ``time`` when they differ from the last."""
        bid, ask = self.book.best_price(_BUY), self.book.best_price(_SELL)
        touches = self.touches
        if not touches or touches[-1][1] != bid or touches[-1][2] != ask:
            touches.append((time, bid, ask))

    def record_trade(self, price: int, quantity: int) -> None:
        """``quantity`` lots traded, the last of them at ``price`` (ticks)."""
        self.last_trade, self.last_size = price, quantity
        self.volume += quantity

    def inject_flow(self, now: float, aggressor: Side, quantity: int) -> Trade:
        """Flow sent by a test or scenario right now (ignored while halted)."""
        return self._flow(now, aggressor, quantity)

    def taken(self, side: Side, quantity: int, *, emptied: bool) -> None:
        """Our marketable order on ``side`` took ``quantity`` lots: the latent mid moves
        ``own_impact_ticks_per_lot`` per lot its way, and ``own_depletion_ticks`` more when
        the order ``emptied`` the best queue (call before `normalize`)."""
        move = quantity * self.params.own_impact_ticks_per_lot
        if emptied:
            move += self.params.own_depletion_ticks
        self._fair += side.sign * move

    def halted(self, now: float) -> bool:
        since_open = now - self.start
        return any(halt.start <= since_open < halt.end for halt in self.params.halts)

    def normalize(self) -> None:
        """Requote the crowd if the latent mid left its quote (or, in the old model, if our
        orders left it wider than it would ever stand)."""
        self._normalize()

    def _normalize(self) -> None:
        bid, ask = self.book.crowd_bid, self.book.crowd_ask
        inside = bid <= self._fair <= ask
        if inside and (not self._legacy or ask - bid <= self._max_spread or self._pinned()):
            return
        if self._legacy:
            bid, ask = self._quote_around(self._fair, self._draw_spread())
            self.book.recenter(bid=bid, ask=ask)
            return
        bid, ask = self._quote_around(self._fair, self._target)
        self.book.requote(bid=bid, ask=ask)

    def _pinned(self) -> bool:
        """True when one of our orders holds the crowd's far side away."""
        book = self.book
        buy, _ = book.best(_BUY)
        sell, _ = book.best(_SELL)
        return buy + 1 == book.crowd_ask or sell - 1 == book.crowd_bid

    # --- the crowd ----------------------------------------------------------------------------

    def _refill(self) -> None:
        """Close one tick of a gap wider than the target spread, on the side that brings the
        quote's mid nearer the latent mid; else rebuild one missing depth level."""
        rng = self._rng.refill
        coin, lots = rng.random(), self._size_from(rng.random())
        if self._way < 0:  # the coin picks a side below one half: the mirror's, above
            coin = 1 - coin
        book = self.book
        if book.depth is None:
            return
        bid, ask = book.crowd_bid, book.crowd_ask
        if ask - bid > self._target:
            options = []
            if bid + 1 < book.best_price(_SELL):
                options.append((abs((bid + 1 + ask) / 2 - self._fair), 0, _BUY, bid + 1))
            if ask - 1 > book.best_price(_BUY):
                options.append((abs((bid + ask - 1) / 2 - self._fair), 1, _SELL, ask - 1))
            if options:
                if len(options) == 2 and options[0][0] == options[1][0]:
                    choice = options[0] if coin < 0.5 else options[1]
                else:
                    choice = min(options)
                book.add(choice[2], choice[3], lots)
                return
        for side in (_BUY, _SELL) if coin < 0.5 else (_SELL, _BUY):
            price = book.missing_level(side)
            if price is not None:
                book.add(side, price, lots)
                return

    def _refill_adds(self) -> bool:
        """Whether `_refill` would add to the book now: a gap to close, or a missing level."""
        book = self.book
        if book.depth is None:
            return False
        bid, ask = book.crowd_bid, book.crowd_ask
        if ask - bid > self._target and (
            bid + 1 < book.best_price(_SELL) or ask - 1 > book.best_price(_BUY)
        ):
            return True
        return any(book.missing_level(side) is not None for side in (_BUY, _SELL))

    def _queue_event(self, draws: _CrowdDraws) -> None:
        """One crowd lot joins or cancels at one level of one side, or the crowd reacts to our
        order alone inside its spread (joins it, or steps a tick ahead)."""
        u_side, u_level, u_action, u_position, u_lots = draws
        lots = self._size_from(u_lots)
        side = self._oriented(_BUY if u_side < 0.5 else _SELL)
        book, params = self.book, self.params
        mine = book.improver(side)
        if mine is not None:
            if u_action < params.join_improver_probability:
                book.add(side, mine, lots)
                return
            ahead = mine + side.sign
            if u_action < params.join_improver_probability + params.step_ahead_probability:
                if side.sign * ahead < side.sign * book.best_price(_OPPOSITE[side]):
                    book.add(side, ahead, lots)
                return
        levels = book.levels(side)
        if not levels:
            return
        price, size = levels[min(int(u_level * len(levels)), len(levels) - 1)]
        if u_action < size / (size + params.displayed_size.mean):
            book.cancel(side, price, u_position)
        elif size < params.displayed_size.maximum:
            book.add(side, price, 1)

    def _regime(self) -> None:
        """A new target spread; a wider one makes the crowd step back at once, on the side
        farther from the latent mid."""
        self._target = self._draw_spread()
        book = self.book
        if book.depth is None:
            return
        while book.crowd_ask - book.crowd_bid < self._target:
            below, above = self._fair - book.crowd_bid, book.crowd_ask - self._fair
            if self._way < 0:  # seen as the seed's own market, so that a tie breaks alike
                below, above = above, below
            side = self._oriented(_BUY if below > above else _SELL)
            if book.improver(_OPPOSITE[side]) is not None:
                side = _OPPOSITE[side]  # our order holds that side: widen the crowd's other side
            book.withdraw_touch(side)

    # --- draws --------------------------------------------------------------------------------

    def _oriented(self, side: Side) -> Side:
        """``side`` as drawn, or the other one in a mirrored market."""
        return side if self._way > 0 else _OPPOSITE[side]

    @staticmethod
    def _after(now: float, rate: float, rng: random.Random) -> float:
        return now + rng.expovariate(rate) if rate > 0 else math.inf

    def _draw_spread(self) -> int:
        return self._rng.spread.choices(self._spreads, self._spread_weights)[0]

    def _quote_around(self, fair: float, spread: int) -> tuple[int, int]:
        """A quote of ``spread`` ticks around ``fair``; in a mirrored market the reflection of
        the seed's own quote around the reflected ``fair`` (a latent mid on a tick is a tie)."""
        if self._way < 0:
            centre = 2 * self._fair_at_start
            bid, ask = self._quote_around_unmirrored(centre - fair, spread)
            return int(centre) - ask, int(centre) - bid
        return self._quote_around_unmirrored(fair, spread)

    @staticmethod
    def _quote_around_unmirrored(fair: float, spread: int) -> tuple[int, int]:
        bid = math.floor(fair - (spread - 1) / 2)
        return bid, bid + spread

    def _draw_size(self) -> int:
        return self._size_from(self._rng.depth.random())

    def _size_from(self, uniform: float) -> int:
        size = self.params.displayed_size
        if size.minimum == size.maximum or size.mean == size.minimum:
            return size.minimum
        extra = int(math.log(1.0 - uniform) / math.log(1.0 - self._size_p))
        return min(size.minimum + extra, size.maximum)

    def _draw_flow(self, now: float) -> tuple[float, Side]:
        rate = self.params.flow_rate
        if rate == 0:
            return math.inf, _BUY
        at = now + self._rng.flow_times.expovariate(rate)
        rng = self._rng.flow_sides
        repeat, coin = rng.random(), rng.random()
        if repeat < self.params.flow_sign_persistence:
            side = self._last_side
        else:
            side = self._oriented(_BUY if coin < 0.5 else _SELL)
        self._last_side = side
        return at, side

    def _draw_flow_size(self) -> int:
        rng = self._rng.flow_sizes
        bucket = rng.choices(self.params.flow_sizes, self._size_weights)[0]
        return rng.randint(bucket.low, bucket.high)
