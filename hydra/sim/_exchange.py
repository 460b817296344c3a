"""The simulated exchange: markets, orders, the account and the link to its clients.

Determinism: the exchange is ONE Trio task. Everything timed (market events, ack and fill
deliveries, faults) is processed by `SimExchange._catch_up` in (time, sequence) order, both by
that task when it wakes and by every client call before it acts, so which of two tasks waking
at the same instant Trio runs first makes no difference. The task sleeps until the next event
that a client could see (a delivery, a fault, flow that may trade with a resting order, or any
flow while a stop is armed, since its print may trigger it, or an event that may change what
a task awaits: the best bid or offer of a market, in `SimExchange.wait_quote_changed`, or any
level of its book, in `wait_book_changed`); market events nobody can see yet are run in bulk,
synchronously, when someone next looks. Orders live in the `Desk` (`_desk`).
"""

from __future__ import annotations

import datetime as dt
import functools
import heapq
import itertools
import math
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal

import attrs
import trio

from .._contracts import ContractSpec
from .._core._positions import Position
from .._enums import Side
from .._errors import BrokerConnectionError, InvalidValueError
from .._ids import ClientOrderId
from .._orders import Fill
from .._quotes import Quote
from ..brokers import (
    AccountSnapshot,
    BrokerEvent,
    ConnectionLost,
    ConnectionRestored,
    OpenOrder,
)
from ._desk import ClientId as ClientId  # re-exported for SimBroker
from ._desk import Desk
from ._fault_state import FaultState
from ._faults import Disconnect, Fault, StaleQuotes
from ._ledger import Ledger
from ._market import Market, Print
from ._params import MarketKey, SimParams, find_market
from ._rules import UNPRICED
from ._ticket import OrderTicket

EventSink = Callable[[BrokerEvent], None]
_BUY, _SELL = Side.BUY, Side.SELL  # faster than the class lookup (3.11)


@attrs.frozen(kw_only=True)
class SimStatistics:
    """Counts since the exchange opened."""

    market_events: int
    deliveries: int
    dropped_while_down: int
    executions: int
    orders: int


class SimExchange:
    """The market state shared by every client; clients hold their own link state.

    Open it with `open_sim_exchange`. Its methods are synchronous and act at the current Trio
    time; they are the exchange's own entry point (a `SimBroker` or a gateway calls them).
    """

    def __init__(self, params: SimParams, *, seed: int) -> None:
        self.params = params
        self.seed = seed
        self.origin = trio.current_time()
        self._markets = {
            m.key: Market(m, random.Random(_seed(seed, m.key)), start=self.origin)
            for m in params.markets
        }
        # Watchers: tasks parked per market until its book changes (any level) or its quote
        # does (`_quote_lots`: most book changes leave the best bid and offer as they were),
        # how many of both and of the book's, the book version they saw and the best bid and
        # offer.
        self._lots = {key: trio.lowlevel.ParkingLot() for key in self._markets}
        self._quote_lots = {key: trio.lowlevel.ParkingLot() for key in self._markets}
        self._watchers: dict[MarketKey, int] = {}
        self._book_watchers: dict[MarketKey, int] = {}
        self._seen: dict[MarketKey, int] = {}
        self._tops: dict[MarketKey, _Top] = {}
        self._ledger = Ledger(starting_cash=params.starting_cash)
        self._heap: list[tuple[float, int, Callable[[float], None]]] = []
        self._sequence = itertools.count()
        self._clients: dict[ClientId, EventSink] = {}
        self._named: dict[int, ClientId] = {}  # IB-style client ids of attached sessions
        self._client_ids = itertools.count(1)
        self._link_up = True
        self._faults = FaultState()
        self._desk = Desk(
            params,
            self._markets,
            ledger=self._ledger,
            faults=self._faults,
            send=self._send,
            timestamp=self.timestamp,
        )
        self._sleep: trio.CancelScope | None = None
        self._deliveries = self._dropped = 0
        for market in self._markets.values():
            market.note_touch(self.origin)
        for fault in params.faults:
            self.inject(fault)

    # --- the one task -------------------------------------------------------------------------

    async def serve(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run the exchange until cancelled."""
        task_status.started()
        while True:
            self._catch_up()
            with trio.CancelScope(deadline=self._next_wake()) as self._sleep:
                await trio.sleep_forever()

    def _catch_up(self) -> None:
        """Process every timed event due by now, in (time, sequence) order."""
        now = trio.current_time()
        markets = list(self._markets.values())
        heap = self._heap
        while True:
            market = min(markets, key=Market.next_time)
            due = market.next_time()
            if heap and heap[0][0] < due:
                if heap[0][0] > now:
                    break
                time, _, action = heapq.heappop(heap)
                action(time)
            elif due <= now:
                trade = market.step()
                if trade.prints is not None:  # it traded
                    self._desk.fill(market, trade.time, trade.matches, trade.prints)
                market.note_touch(trade.time)
            else:
                break
        if self._watchers:
            self._notify()

    def _next_wake(self) -> float:
        first = self._heap[0][0] if self._heap else math.inf
        desk = self._desk
        wake = min(
            first,
            *(
                m.next_risk_time(watching_prints=desk.watching_prints(key))
                for key, m in self._markets.items()
            ),
        )
        for key in self._watchers:  # a watched book may change at any event that moves it
            market = self._markets[key]
            if key in self._book_watchers:
                wake = min(wake, market.next_book_time())
            else:  # its quote's watchers see only the best bid and offer
                wake = min(wake, market.next_quote_time())
        return wake

    def _reschedule(self) -> None:
        now = trio.current_time()
        for market in self._markets.values():  # orders placed, moved or cancelled
            market.note_touch(now)
        if self._watchers:
            self._notify()
        if self._sleep is not None:
            self._sleep.deadline = self._next_wake()

    def _notify(self) -> None:
        """Wake the watchers of each market whose book changed since they looked, and its
        quote watchers when the best bid or offer changed with it."""
        for key in self._watchers:
            market = self._markets[key]
            version = market.book.version
            if version == self._seen[key]:
                continue
            self._seen[key] = version
            self._lots[key].unpark_all()
            if self._quote_lots[key]:
                top = _book_top(market)
                if top != self._tops[key]:
                    self._tops[key] = top
                    self._quote_lots[key].unpark_all()

    def _wake_watchers(self, _: float) -> None:
        for lot in (*self._lots.values(), *self._quote_lots.values()):
            lot.unpark_all()

    def _at(self, time: float, action: Callable[[float], None]) -> None:
        heapq.heappush(self._heap, (time, next(self._sequence), action))
        if self._sleep is not None and time < self._sleep.deadline:
            self._sleep.deadline = time  # wake the task earlier for this event

    # --- clients ------------------------------------------------------------------------------

    def attach(self, sink: EventSink, *, client_id: int | None = None) -> ClientId:
        """Register a client; its events go to ``sink`` from now on.

        With ``client_id`` (like IB's), a later session under the same id takes over the
        earlier one's orders and events, as a restarted program does at IB."""
        client = self._named.get(client_id) if client_id is not None else None
        if client is None:
            client = next(self._client_ids)
            if client_id is not None:
                self._named[client_id] = client
        self._clients[client] = sink
        return client

    def detach(self, client: ClientId) -> None:
        self._clients.pop(client, None)

    @property
    def link_up(self) -> bool:
        """False while a `Disconnect` fault holds the link down."""
        return self._link_up

    def _send(self, time: float, client: ClientId | None, event: BrokerEvent) -> None:
        """Deliver ``event`` at ``time`` to ``client`` (every client when None)."""
        self._at(time, functools.partial(self._deliver, client, event))

    def _deliver(self, client: ClientId | None, event: BrokerEvent, _: float = 0.0) -> None:
        if not self._link_up:
            self._dropped += 1
            return
        self._deliveries += 1
        sinks = self._clients.values() if client is None else [self._clients.get(client)]
        for sink in list(sinks):
            if sink is not None:
                sink(event)

    def _require_link(self) -> None:
        if not self._link_up:
            raise BrokerConnectionError("the simulated exchange link is down")

    # --- order entry (the desk does the work) -------------------------------------------------

    def place(self, client: ClientId, ticket: OrderTicket) -> None:
        """A new order arrives now: refused, or acknowledged, then held or matched."""
        self._catch_up()
        self._require_link()
        self._desk.place(client, ticket, trio.current_time())
        self._reschedule()

    def modify(
        self,
        client: ClientId,
        key: ClientOrderId,
        *,
        limit_price: Decimal,
        quantity: int | None = None,
        stop_price: Decimal | None = None,
    ) -> None:
        """Reprice (and optionally resize, or move the stop of) a working order; a new price
        loses queue priority, a smaller quantity at the same price keeps it."""
        self._catch_up()
        self._require_link()
        now = trio.current_time()
        self._desk.modify(
            client, key, now, limit_price=limit_price, quantity=quantity, stop_price=stop_price
        )
        self._reschedule()

    def cancel(self, client: ClientId, key: ClientOrderId) -> None:
        """Take a working order out now (and its bracket children); CANCELLED is reported
        after the ack latency."""
        self._catch_up()
        self._require_link()
        self._desk.cancel(client, key, trio.current_time())
        self._reschedule()

    # --- time and faults ----------------------------------------------------------------------

    def timestamp(self, time: float) -> dt.datetime:
        """The wall-clock time of Trio time ``time``: session start + seconds since opening."""
        return self.params.session_start + dt.timedelta(seconds=time - self.origin)

    def inject(self, fault: Fault) -> None:
        """Schedule ``fault`` at ``fault.at`` seconds after the exchange opened."""
        self._catch_up()
        at = self.origin + fault.at
        if at < trio.current_time():
            raise InvalidValueError("at", fault.at, "is in the past of the simulated exchange")
        self._at(at, functools.partial(self._start_fault, fault))
        self._reschedule()

    def _start_fault(self, fault: Fault, now: float) -> None:
        if not isinstance(fault, Disconnect):
            self._faults.start(fault, now, symbols=self._markets, fresh_quote=self._fresh_quote)
            if isinstance(fault, StaleQuotes):  # watchers look again when quotes thaw
                self._at(now + fault.duration, self._wake_watchers)
            return
        self._link_up = False
        for sink in list(self._clients.values()):
            sink(ConnectionLost(reason="simulated disconnect"))
        self._at(now + fault.duration, self._restore)

    def _restore(self, _: float) -> None:
        self._link_up = True
        self._deliver(None, ConnectionRestored())

    def inject_flow(self, symbol: str | ContractSpec, aggressor: Side, quantity: int) -> None:
        """Marketable flow of ``quantity`` lots by ``aggressor`` trades now (for tests) in the
        market of ``symbol`` (a contract selects its delivery month)."""
        self._catch_up()
        market = self._market(symbol)
        trade = market.inject_flow(trio.current_time(), aggressor, quantity)
        self._desk.fill(market, trade.time, trade.matches, trade.prints)
        self._reschedule()

    # --- looking ---------------------------------------------------------------------------

    def _key(self, what: str | ContractSpec) -> MarketKey:
        """The market a symbol (its default market, else its first) or a contract names."""
        if isinstance(what, str):
            key = find_market(self._markets, what, None) or next(
                (k for k in self._markets if k[0] == what), None
            )
        else:
            key = find_market(self._markets, what.symbol, what.expiry)
        if key is None:
            known = ", ".join(f"{s} {e}" if e else s for s, e in self._markets)
            name = what if isinstance(what, str) else f"{what.symbol} {what.expiry or ''}"
            raise InvalidValueError("symbol", name.strip(), f"is not traded here (known: {known})")
        return key

    def _market(self, what: str | ContractSpec) -> Market:
        return self._markets[self._key(what)]

    def contract(self, symbol: str | ContractSpec) -> ContractSpec:
        """The contract traded as ``symbol`` (its default or first market; a contract selects
        its delivery month); an unknown one is an `InvalidValueError`."""
        return self._market(symbol).params.contract

    def quote(self, symbol: str | ContractSpec) -> Quote:
        """The quote now (or the frozen one while a `StaleQuotes` fault holds it)."""
        self._catch_up()
        return self._quote(self._key(symbol), trio.current_time())

    def bad_quote(self, symbol: str | ContractSpec) -> str | None:
        """What is wrong (crossed, one-sided, zero, nan) with the quote a broker sees now for
        ``symbol`` while a `BadQuotes` fault holds it; None otherwise."""
        self._catch_up()
        return self._faults.bad_quote(self._key(symbol), trio.current_time())

    def _quote(self, key: MarketKey, now: float) -> Quote:
        return self._faults.stale_quote(key, now) or self._fresh_quote(key, now)

    def _fresh_quote(self, key: MarketKey, now: float) -> Quote:
        market = self._markets[key]
        bid, bid_size = market.book.best(_BUY)
        ask, ask_size = market.book.best(_SELL)
        return Quote(
            bid=market.price(bid),
            ask=market.price(ask),
            bid_size=bid_size,
            ask_size=ask_size,
            time=now,
        )

    async def wait_quote_changed(self, symbol: str | ContractSpec, since: Quote) -> Quote:
        """Wait until the quote of ``symbol`` differs from ``since`` (price or size; not its
        time) and return it; at once when it already does.

        While someone waits, the exchange wakes at each event of that market that may change
        its best bid or offer instead of running them in bulk later; nobody waiting costs
        nothing."""
        await trio.lowlevel.checkpoint()
        key = self._key(symbol)
        while True:
            self._catch_up()
            quote = self._quote(key, trio.current_time())
            if _top(quote) != _top(since):
                return quote
            await self._park(key, quote=True)

    def book_version(self, symbol: str | ContractSpec) -> int:
        """A number that changes whenever the book of ``symbol`` changes (any level, any
        trade), for `wait_book_changed`."""
        self._catch_up()
        return self._market(symbol).book.version

    async def wait_book_changed(self, symbol: str | ContractSpec, since: int) -> int:
        """Wait until the book of ``symbol`` is no longer at version ``since`` and return its
        version now; at once when it already is not. While someone waits, the exchange wakes
        at each event of that market that may change its book (the crowd's queue events
        behind the touch too, which a quote watcher sleeps through)."""
        await trio.lowlevel.checkpoint()
        key = self._key(symbol)
        while True:
            self._catch_up()
            version = self._markets[key].book.version
            if version != since:
                return version
            await self._park(key)

    async def _park(self, key: MarketKey, *, quote: bool = False) -> None:
        """Sleep until the book of market ``key`` changes (with ``quote``, until its best bid
        or offer does), or watchers are woken."""
        market = self._markets[key]
        self._seen[key] = market.book.version
        if quote:
            self._tops[key] = _book_top(market)
        counts = (self._watchers,) if quote else (self._watchers, self._book_watchers)
        for count in counts:
            count[key] = count.get(key, 0) + 1
        self._reschedule()
        try:
            await (self._quote_lots if quote else self._lots)[key].park()
        finally:
            for count in counts:
                count[key] -= 1
                if not count[key]:
                    del count[key]

    def depth(self, symbol: str | ContractSpec, side: Side) -> tuple[tuple[Decimal, int], ...]:
        """The displayed levels on ``side`` (BUY: bids, SELL: offers), best first: price and
        lots, the crowd's and ours together (what a marketable order would walk)."""
        self._catch_up()
        market = self._market(symbol)
        book = market.book
        sizes: dict[int, int] = dict(book.levels(side))
        for order in book.orders():
            if order.side is side:
                sizes[order.price] = sizes.get(order.price, 0) + order.remaining
        ordered = sorted(sizes.items(), key=lambda level: -side.sign * level[0])
        return tuple((market.price(price), lots) for price, lots in ordered if lots)

    def latent_mid(self, symbol: str | ContractSpec) -> Decimal:
        """The market model's latent price now (a real exchange has none: for tests and
        benchmarks)."""
        self._catch_up()
        return self._market(symbol).latent_mid

    def touches(self, symbol: str | ContractSpec) -> tuple[tuple[float, Decimal, Decimal], ...]:
        """The best bid and ask since the exchange opened, one (Trio time, bid, ask) each time
        either changed (the first at opening)."""
        self._catch_up()
        market = self._market(symbol)
        price = market.price
        return tuple((time, price(bid), price(ask)) for time, bid, ask in market.touches)

    def tape(self, symbol: str | ContractSpec) -> tuple[Print, ...]:
        """The crowd's flow since the exchange opened, one `Print` per arrival (time as Trio
        time, aggressor side, lots, last price in ticks)."""
        self._catch_up()
        return tuple(self._market(symbol).tape)

    def last_trade(self, symbol: str | ContractSpec) -> Decimal | None:
        """The price of the market's last trade, anyone's (None before the first)."""
        self._catch_up()
        market = self._market(symbol)
        return None if market.last_trade is None else market.price(market.last_trade)

    def last_size(self, symbol: str | ContractSpec) -> int:
        """The lots of the market's last trade (0 before the first)."""
        self._catch_up()
        return self._market(symbol).last_size

    def volume(self, symbol: str | ContractSpec) -> int:
        """The lots the market traded since it opened, everyone's (ours included)."""
        self._catch_up()
        return self._market(symbol).volume

    def open_orders(self) -> tuple[OpenOrder, ...]:
        """Every working order of the account, oldest first (held orders included), but for
        other clients' MKT and STP orders (armed, held, or resting at their protection), which
        Hydra's types cannot express (`working_orders` has them)."""
        self._catch_up()
        return tuple(
            OpenOrder(
                request=order.ticket.to_request(self._order_contract(order.market, order.ticket)),
                broker_order_id=order.broker_order_id,
                status=order.status,
                filled=order.filled,
                remaining=order.remaining,
            )
            for order in self._desk.working()
            if order.ticket.order_type not in UNPRICED  # no Hydra type expresses them
        )

    def _order_contract(self, key: MarketKey, ticket: OrderTicket) -> ContractSpec:
        contract = self._markets[key].params.contract
        if contract.expiry is None and ticket.expiry is not None:
            return contract.for_month(ticket.expiry)  # as asked, of the product's one market
        return contract

    def working_orders(self) -> frozenset[ClientOrderId]:
        """Every working order of the account: held ones, armed stops and other clients' MKT
        and STP orders included (which `open_orders` leaves out)."""
        self._catch_up()
        return frozenset(order.key for order in self._desk.working())

    def held_orders(self) -> frozenset[ClientOrderId]:
        """Working orders the exchange holds back: staged (``transmit=False``) or waiting for
        their parent to fill (IB's PreSubmitted). An armed stop is live, so not held."""
        self._catch_up()
        return frozenset(order.key for order in self._desk.held())

    def positions(self) -> tuple[Position, ...]:
        """One position per contract and delivery month traded."""
        self._catch_up()
        return self._ledger.positions()

    def completed_orders(self) -> tuple[ClientOrderId, ...]:
        """The client order ids of every order that has ended (filled, cancelled, rejected):
        the simulated exchange keeps the whole session."""
        self._catch_up()
        return tuple(order.key for order in self._desk.ended())

    def executions_since(self, time: dt.datetime) -> tuple[Fill, ...]:
        self._catch_up()
        return self._ledger.executions_since(time)

    def account(self) -> AccountSnapshot:
        self._catch_up()
        return self._ledger.account({key: m.mid for key, m in self._markets.items()})

    def statistics(self) -> SimStatistics:
        return SimStatistics(
            market_events=sum(m.events for m in self._markets.values()),
            deliveries=self._deliveries,
            dropped_while_down=self._dropped,
            executions=len(self._ledger.executions_since(self.params.session_start)),
            orders=len(self._desk),
        )


def _seed(seed: int, key: MarketKey) -> str:
    """Each market's own random stream (a default market's as before months existed)."""
    symbol, expiry = key
    return f"{seed}:{symbol}" if expiry is None else f"{seed}:{symbol}:{expiry}"


def _top(quote: Quote) -> tuple[Decimal, Decimal, int, int]:
    return quote.bid, quote.ask, quote.bid_size, quote.ask_size


_Top = tuple[tuple[int, int], tuple[int, int]]


def _book_top(market: Market) -> _Top:
    """The best bid and offer of ``market``'s book, ticks and lots (what its quote shows)."""
    return market.book.best(_BUY), market.book.best(_SELL)


@asynccontextmanager
async def open_sim_exchange(
    params: SimParams | None = None, *, seed: int
) -> AsyncIterator[SimExchange]:
    """Open a simulated exchange whose one task runs until the block ends."""
    async with trio.open_nursery() as nursery:
        exchange = SimExchange(params or SimParams(), seed=seed)
        await nursery.start(exchange.serve)
        yield exchange
        nursery.cancel_scope.cancel(reason="the simulated exchange is closing")
