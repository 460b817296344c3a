"""One run of ``bench/tca.py``: one policy works one order on one seed of the simulated
exchange, under Trio's virtual clock, and what it cost (IS-complete).

Only the simulator's public API is used (`open_sim_exchange`, `SimBroker`, `SimExchange`'s
quote, volume, last trade and executions), so the bench runs whichever simulator is installed.

The run: the exchange opens; after a burn-in (``BURN_IN`` plus up to ``ARRIVAL_SPREAD`` seconds,
drawn per seed, the same for every policy) the order arrives and its arrival mid is read; the
policy works it until the deadline ``T = arrival + horizon``; whatever is unfilled then is swept
(`sweep_rest`); the run goes on ``max(MARKOUTS)`` seconds for the markouts. Every policy's
orders go through a `RecordingBroker` (Hydra's too), which counts messages and remembers when
each order was placed or repriced: a fill at such an instant took liquidity, any other fill was
passive. A `Tape` watches the quote for the whole run in every policy (so every policy reads the
market the same way), keeps the mids for markouts, and plays the front-of-queue oracle.

The ``market`` policy sends a real market order (MKT), which the simulator takes from a client
other than Hydra (`OrderTicket`): it walks the crowd's depth up to ``market_protection_ticks``
past the far touch and its rest, if any, waits in the book at that price until T, as on Globex.
The deadline sweep is an emulated market order without protection: an IOC limit
``FAR_THROUGH`` beyond the arrival mid, so that every policy's rest fills at T and the runs
compare the whole order.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import random
import tempfile
from collections.abc import Awaitable, Callable
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

import attrs
import trio
import trio.testing

from hydra import HydraConfig, OrderIntent, open_hydra
from hydra._contracts import ContractSpec
from hydra._enums import Side, TimeInForce
from hydra._ids import ClientOrderId, IntentId
from hydra._journal_actor import run_inline
from hydra._orders import OrderRequest
from hydra._quotes import Quote
from hydra.sim import OrderTicket, SimBroker, SimExchange, SimParams, open_sim_exchange

BURN_IN = 900.0  # seconds before the first possible arrival: the book reaches its steady state
ARRIVAL_SPREAD = 300.0  # the arrival is drawn uniformly in [BURN_IN, BURN_IN + this] per seed
MARKOUTS = (1.0, 10.0, 60.0, 300.0)  # seconds after a passive fill
FAR_THROUGH = Decimal("0.10")  # an emulated market order's limit: 10% through the arrival mid
ADAPTIVE_STEP = 20.0  # adaptive-proxy reprices this often: mid, ¾ of the way, far touch, …
ADAPTIVE_FRACTIONS = (Decimal("0.5"), Decimal("0.75"), Decimal(1))
# Hydra's journal in memory-backed storage where there is some: its fsyncs would otherwise be
# most of a run's wall time, and its durability is not what this bench measures.
JOURNAL_DIR = "/dev/shm" if Path("/dev/shm").is_dir() else None


@attrs.frozen(kw_only=True)
class Job:
    """What to run: a market and its Hydra configuration, one order, one policy, one seed."""

    sim: SimParams
    config: HydraConfig
    contract: ContractSpec
    side: Side
    quantity: int
    horizon: float  # seconds from arrival to the deadline
    policy: str
    seed: int


@attrs.frozen(kw_only=True)
class Outcome:
    """What one run cost, per intended contract, and how it got there."""

    is_bps: float  # IS-complete: fills before T, the sweep at T and commissions
    is_dollars: float  # the same, in dollars per intended contract
    completion: float  # filled before T / ordered
    passive_share: float  # passive fills / all lots filled before T (nan when none)
    markouts_bps: dict[float, float | None]  # mean over passive lots; positive = adverse
    messages: int  # orders placed, repriced and cancelled (the sweep included)
    oracle_bps: float | None = None  # the front-of-queue oracle (the "oracle" policy only)


def arrival_offset(seed: int) -> float:
    """Seconds after the exchange opened at which the order arrives: a per-seed draw of its
    own, so every policy meets the order at the same time."""
    return BURN_IN + random.Random(f"arrival:{seed}").uniform(0, ARRIVAL_SPREAD)


def move_sign(seed: int) -> int:
    """+1 (up) or −1 (down): the direction of a trending or gappy day, drawn per seed."""
    return 1 if random.Random(f"sign:{seed}").random() < 0.5 else -1


# --- recording what a policy sends ------------------------------------------------------------


class RecordingBroker(SimBroker):
    """A `SimBroker` that counts the messages sent and remembers when each order was placed or
    repriced (a fill at one of those instants took liquidity)."""

    def __init__(self, exchange: SimExchange, *, client_id: int | None = None) -> None:
        super().__init__(exchange, client_id=client_id)
        self.messages = 0
        self.active: dict[str, set[float]] = {}  # client order id → times it could take

    def _record(self, key: str) -> None:
        self.messages += 1
        self.active.setdefault(key, set()).add(trio.current_time())

    async def place(self, request: OrderRequest) -> None:
        self._record(request.client_order_id)
        await super().place(request)

    async def modify(self, client_order_id: ClientOrderId, *, limit_price: Decimal,
                     quantity: int | None = None) -> None:
        self._record(client_order_id)
        await super().modify(client_order_id, limit_price=limit_price, quantity=quantity)

    async def cancel(self, client_order_id: ClientOrderId) -> None:
        self.messages += 1
        await super().cancel(client_order_id)

    async def place_market(self, client_order_id: ClientOrderId, contract: ContractSpec,
                           side: Side, quantity: int) -> None:
        """A market order (MKT, DAY): no Hydra type expresses one, so it goes to the exchange
        as a ticket of another client's program would."""
        self._record(client_order_id)
        await trio.lowlevel.checkpoint()
        self._exchange.place(self._session(), OrderTicket(
            client_order_id=client_order_id, order_ref=IntentId("tca"), symbol=contract.symbol,
            expiry=contract.expiry, side=side, quantity=quantity, order_type="MKT",
            limit_price=None))


# --- the tape: mids for markouts, and the oracle ----------------------------------------------


class Tape:
    """Every quote change of one market, and the front-of-queue oracle's fills on ``side``:
    each marketable order of the other side trades with the oracle first, at the crowd's touch
    just before it, until ``quantity`` lots are filled (between ``start`` and ``end``)."""

    def __init__(self, exchange: SimExchange, contract: ContractSpec) -> None:
        self.exchange, self.contract = exchange, contract
        self.times: list[float] = []
        self.mids: list[Decimal] = []
        self.oracle: list[tuple[Decimal, int]] = []  # (price, lots)
        self._side: Side | None = None
        self._wanted, self._start, self._end = 0, 0.0, 0.0

    def play_oracle(self, side: Side, quantity: int, *, start: float, end: float) -> None:
        self._side, self._wanted, self._start, self._end = side, quantity, start, end

    @property
    def oracle_filled(self) -> int:
        return sum(lots for _, lots in self.oracle)

    def mid_at(self, time: float) -> Decimal:
        """The mid last seen at or before ``time``."""
        return self.mids[max(0, bisect.bisect_right(self.times, time) - 1)]

    async def run(self) -> None:
        exchange, contract = self.exchange, self.contract
        quote, volume = exchange.quote(contract), exchange.volume(contract)
        self._see(quote)
        while True:
            new = await exchange.wait_quote_changed(contract, quote)
            now_volume = exchange.volume(contract)
            if now_volume > volume:
                self._trade(quote, now_volume - volume, exchange.last_trade(contract))
            quote, volume = new, now_volume
            self._see(quote)

    def _see(self, quote: Quote) -> None:
        self.times.append(trio.current_time())
        self.mids.append(quote.mid)

    def _trade(self, before: Quote, lots: int, last: Decimal | None) -> None:
        """``lots`` traded, the last at ``last``: the other side's aggressor hit our touch."""
        side, now = self._side, trio.current_time()
        if side is None or last is None or not self._start <= now < self._end:
            return
        touch = before.bid if side is Side.BUY else before.ask
        if side.sign * (last - touch) > 0:  # printed through the far side: our side's flow
            return
        take = min(lots, self._wanted - self.oracle_filled)
        if take > 0:
            self.oracle.append((touch, take))


# --- what every policy shares ------------------------------------------------------------------


class Desk:
    """One policy's view: the contract, its side, the order, the times, and order entry."""

    def __init__(self, job: Job, exchange: SimExchange, broker: RecordingBroker,
                 *, arrival: float, arrival_mid: Decimal, prefix: str = "bench") -> None:
        self.job, self.exchange, self.broker = job, exchange, broker
        self.contract, self.side, self.quantity = job.contract, job.side, job.quantity
        self.arrival, self.deadline = arrival, arrival + job.horizon
        self.arrival_mid = arrival_mid
        self._ids = itertools.count(1)
        self._prefix = prefix  # client order ids: unlike Hydra's (``tca.N``) and each other's

    # prices

    def quote(self) -> Quote:
        return self.exchange.quote(self.contract)

    def on_tick(self, price: Decimal, *, passive: bool) -> Decimal:
        """``price`` on the tick grid, rounded to the passive side (down for a buy) or not."""
        tick = self.contract.tick_size
        down = (self.side is Side.BUY) == passive
        return (price / tick).to_integral_value(ROUND_FLOOR if down else ROUND_CEILING) * tick

    def near(self, quote: Quote) -> Decimal:
        return quote.bid if self.side is Side.BUY else quote.ask

    def far(self, quote: Quote) -> Decimal:
        return quote.ask if self.side is Side.BUY else quote.bid

    def through(self, fraction: Decimal) -> Decimal:
        """A price ``fraction`` of the arrival mid beyond it, on the aggressive side."""
        return self.on_tick(self.arrival_mid * (1 + self.side.sign * fraction), passive=True)

    # orders

    def filled(self) -> int:
        """Lots filled so far, every order of this run together."""
        return sum(fill.quantity for fill in self.exchange.executions_since(
            self.exchange.params.session_start))

    @property
    def remaining(self) -> int:
        return self.quantity - self.filled()

    def _next_key(self) -> ClientOrderId:
        return ClientOrderId(f"{self._prefix}.{next(self._ids)}")

    async def send(self, quantity: int, price: Decimal, *,
                   tif: TimeInForce = TimeInForce.DAY) -> ClientOrderId:
        key = self._next_key()
        await self.broker.place(OrderRequest(
            client_order_id=key, intent_id=IntentId("tca"), contract=self.contract,
            side=self.side, quantity=quantity, limit_price=price, time_in_force=tif))
        return key

    async def send_market(self, quantity: int) -> None:
        await self.broker.place_market(self._next_key(), self.contract, self.side, quantity)

    async def cancel_all(self) -> None:
        """Cancel every order still working, a market order's rest included (none once Hydra
        has closed)."""
        for key in sorted(self.exchange.working_orders()):
            await self.broker.cancel(key)

    async def sweep(self, lots: int) -> None:
        """``lots`` now, by an emulated market order (an IOC limit far through the book)."""
        if lots > 0:
            await self.send(lots, self.through(FAR_THROUGH), tif=TimeInForce.IOC)


# --- the baselines -----------------------------------------------------------------------------


async def market(desk: Desk) -> None:
    """A market order (MKT) at arrival; a rest past its protection waits at that price."""
    await desk.send_market(desk.quantity)


async def sweep(desk: Desk) -> None:
    """One marketable limit at the slippage guard at once; the rest rests there until T."""
    guard = desk.job.config.execution.slippage_guard
    offset = guard.in_price(reference=desk.arrival_mid, tick_size=desk.contract.tick_size)
    limit = desk.arrival_mid + desk.side.sign * offset
    await desk.send(desk.quantity, desk.on_tick(limit, passive=True))
    await trio.sleep_until(desk.deadline)


async def cross_rest(desk: Desk) -> None:
    """A limit at the far touch, resting at that price until T."""
    await desk.send(desk.quantity, desk.far(desk.quote()))
    await trio.sleep_until(desk.deadline)


async def passive_sweep(desk: Desk) -> None:
    """A limit at the near touch, resting at that price until T (then swept)."""
    await desk.send(desk.quantity, desk.near(desk.quote()))
    await trio.sleep_until(desk.deadline)


async def twap_cross(desk: Desk) -> None:
    """Hydra's schedule (``twap_slices`` equal slices over the horizon), each slice an IOC at
    the far touch for its lots plus whatever the earlier slices left (carry-over)."""
    slices = min(desk.job.config.execution.twap_slices, desk.quantity)
    base, extra = divmod(desk.quantity, slices)
    due = 0
    for index in range(slices):
        await trio.sleep_until(desk.arrival + index * desk.job.horizon / slices)
        due += base + (1 if index < extra else 0)
        lots = due - desk.filled()
        if lots > 0:
            await desk.send(lots, desk.far(desk.quote()), tif=TimeInForce.IOC)
    await trio.sleep_until(desk.deadline)


async def adaptive_proxy(desk: Desk) -> None:
    """Roughly IB's Adaptive algo: the whole rest at mid, then every ``ADAPTIVE_STEP`` seconds
    repriced further toward the far touch (¾ of the way, then the far touch), then re-pegged to
    the far touch each step until filled or T."""
    key: ClientOrderId | None = None
    for step in itertools.count():
        if desk.remaining <= 0 or trio.current_time() >= desk.deadline:
            break
        quote = desk.quote()
        fraction = ADAPTIVE_FRACTIONS[min(step, len(ADAPTIVE_FRACTIONS) - 1)]
        price = desk.on_tick(desk.near(quote) + fraction * (desk.far(quote) - desk.near(quote)),
                             passive=True)
        if key is None or all(o.request.client_order_id != key
                              for o in desk.exchange.open_orders()):
            key = await desk.send(desk.remaining, price)
        else:
            await desk.broker.modify(key, limit_price=price)
        await trio.sleep_until(min(desk.deadline, trio.current_time() + ADAPTIVE_STEP))
    await trio.sleep_until(desk.deadline)


async def nothing(desk: Desk) -> None:
    """The oracle's run: no order until T (the tape plays the oracle)."""
    await trio.sleep_until(desk.deadline)


async def hydra(desk: Desk) -> None:
    """Hydra's own routing through `open_hydra` on its own broker session; cancelled at T."""
    job, exchange = desk.job, desk.exchange
    intent = OrderIntent(contract=job.contract, side=job.side, quantity=job.quantity,
                         intent_id=IntentId("tca"))
    with tempfile.TemporaryDirectory(prefix="hydra-tca-", dir=JOURNAL_DIR) as folder:
        async with open_hydra(
            job.config, desk.broker, journal_path=Path(folder) / "journal.sqlite",
            seed=job.seed, offload=run_inline,  # as `hydra.scenario.play` runs it
            clock=lambda: exchange.timestamp(trio.current_time()),
        ) as engine:
            handle = await engine.submit(intent)
            with trio.move_on_at(desk.deadline):
                await handle.wait_done()
            handle.cancel()  # at T: what is left is swept with every other policy's rest
            await handle.wait_done()


POLICIES: dict[str, Callable[[Desk], Awaitable[None]]] = {
    "hydra": hydra,
    "market": market,
    "sweep": sweep,
    "cross-rest": cross_rest,
    "twap-cross": twap_cross,
    "passive-sweep": passive_sweep,
    "adaptive-proxy": adaptive_proxy,
    "oracle": nothing,
}


# --- one run -----------------------------------------------------------------------------------


def run(job: Job) -> Outcome:
    """Run ``job`` under a virtual clock."""
    return trio.run(functools.partial(play, job),
                    clock=trio.testing.MockClock(autojump_threshold=0))


async def play(job: Job) -> Outcome:
    async with open_sim_exchange(job.sim, seed=job.seed) as exchange:
        tape = Tape(exchange, job.contract)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(tape.run)
            await trio.sleep_until(exchange.origin + arrival_offset(job.seed))
            arrival = trio.current_time()
            quote = exchange.quote(job.contract)
            broker = RecordingBroker(exchange, client_id=1)
            await broker.connect()
            await broker.subscribe_quotes(job.contract)
            desk = Desk(job, exchange, broker, arrival=arrival, arrival_mid=quote.mid)
            if job.policy == "oracle":
                tape.play_oracle(job.side, job.quantity, start=arrival, end=desk.deadline)
            await POLICIES[job.policy](desk)
            await trio.sleep_until(max(trio.current_time(), desk.deadline))
            if broker.connected:  # Hydra's session is closed: it cancelled its own orders
                await desk.cancel_all()
            before = _fills(exchange)
            # The rest at T on a session of its own (Hydra's has closed); the oracle's rest is
            # what the tape left it, swept into the book of a run without our orders.
            sweeper = RecordingBroker(exchange, client_id=9)
            await sweeper.connect()
            rest = (job.quantity - tape.oracle_filled if job.policy == "oracle"
                    else desk.remaining)
            await Desk(job, exchange, sweeper, arrival=arrival, arrival_mid=quote.mid,
                       prefix="sweep").sweep(rest)
            await trio.sleep_until(desk.deadline + max(MARKOUTS) + 1)
            nursery.cancel_scope.cancel(reason="the run is over")
        return _outcome(job, exchange, tape, desk, before, broker, sweeper)


def _fills(exchange: SimExchange) -> list[Any]:
    return list(exchange.executions_since(exchange.params.session_start))


def _outcome(job: Job, exchange: SimExchange, tape: Tape, desk: Desk, before: list[Any],
             broker: RecordingBroker, sweeper: RecordingBroker) -> Outcome:
    fills = _fills(exchange)
    side, arrival = job.side.sign, desk.arrival_mid
    point = job.contract.point_value
    lots = [(f.price, f.quantity) for f in fills]
    commission = sum((f.commission for f in fills), Decimal(0))
    if job.policy == "oracle":
        lots = tape.oracle + lots
        commission += job.sim.commission_per_contract * tape.oracle_filled
    total = sum(q for _, q in lots)
    assert total == job.quantity, f"{job.policy} seed {job.seed}: {total} of {job.quantity}"
    slippage = sum((side * (p - arrival) * q for p, q in lots), Decimal(0))
    dollars = (slippage * point + commission) / job.quantity
    bps = float(dollars / (arrival * point) * 10_000)
    early = tape.oracle if job.policy == "oracle" else [(f.price, f.quantity) for f in before]
    filled = sum(q for _, q in early)
    passive = [f for f in before if not _took(f, broker, exchange)]
    passive_lots = sum(f.quantity for f in passive)
    markouts: dict[float, float | None] = {}
    for horizon in MARKOUTS:
        if passive_lots == 0:
            markouts[horizon] = None
            continue
        cost = sum((side * (f.price - tape.mid_at(_clock(f, exchange) + horizon)) * f.quantity
                    for f in passive), Decimal(0))
        markouts[horizon] = float(cost / passive_lots / arrival * 10_000)
    oracle = bps if job.policy == "oracle" else None
    return Outcome(is_bps=bps, is_dollars=float(dollars), completion=filled / job.quantity,
                   passive_share=(passive_lots / filled) if filled and job.policy != "oracle"
                   else float("nan"),
                   markouts_bps=markouts, messages=broker.messages + sweeper.messages,
                   oracle_bps=oracle)


def _clock(fill: Any, exchange: SimExchange) -> float:
    """The Trio time of a fill's timestamp."""
    return exchange.origin + (fill.time - exchange.params.session_start).total_seconds()


def _took(fill: Any, broker: RecordingBroker, exchange: SimExchange) -> bool:
    """True when ``fill`` came at an instant its order was placed or repriced."""
    return any(exchange.timestamp(t) == fill.time
               for t in broker.active.get(fill.client_order_id, ()))
