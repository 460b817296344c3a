"""The risk book's throughput, in messages a second, against IB's pacing ceiling of 45 order
messages a second (goal: at least 100× the ceiling, so risk never limits order flow); and the
same traffic through the whole risk actor shell, to show what the journal costs.

The traffic is one seeded script of order lifecycles, the same for every run: about 20 orders
working at any moment over three symbols (oats, lean hogs, corn), each 1-3 lots, marketable
at one tick through a mean-reverting mid. An order is its `Marks` (the open positions' and its
own symbol's mids, as the actor marks before each order), `NewOrder`, `Dispatched` (PLACE,
SENT), `Acked` with a WORKING status (IB's Submitted), then one or two executions, each with
its commission and a status (WORKING while partial, FILLED at the end); one in four is
cancelled instead (`Cancel`, its `Dispatched`, CANCELLED), after a partial fill half the time.
The book's clock advances 1/45 s per order, so its one-minute order-rate window holds what it
would at the pacing ceiling (2,700 orders). The limits are the defaults but for
``max_open_orders`` 50, ``max_orders_per_minute`` 3,000 and the money limits (daily loss,
drawdown, single-trade loss, position value) at $10^9: every check and breaker still runs on
every message, and nothing is refused or trips. Each run checks that no order was refused,
nothing latched, and the book ended empty (a refused order is cheap and would flatter it).

- **book, at the ceiling**: `RiskBook.handle` called directly on the prebuilt messages (effects
  discarded), the clock as above. **book, 1 order/s**: the same messages with the clock
  advancing 1 s per order, so the window holds at most 60 (the default
  ``max_orders_per_minute``): the difference is what the window costs.
- **actor, journal in memory** and **actor, journal on disk**: `run_risk` with a `RiskActor`,
  its sender and a fake `OrderEntry` that records calls, pacing off; the journal actor runs its
  SQLite work inline (``run_inline``), on ``:memory:`` or on a file in a temp dir (WAL,
  ``synchronous=FULL``, every write a commit: as in production). The driver sends the
  `PlaceOrder`, `CancelOrder` and `FromBroker` messages an engine and broker would, awaiting
  each order's answer before going on; the sender supplies the `Dispatched` reports.

Runs alternate between the three so each sees the same conditions; the first of each is a
discarded warm-up. Reported: mean book messages/s over the runs with a 95% Student-t interval,
the order messages (placements and cancels) that makes a second, and both as multiples of 45/s.
The goal is judged both ways: book messages/s against 45, and, like for like, the order
messages a second the book can carry with all the messages each brings.

Run: ``.venv/bin/python bench/risk_book.py``; ``--runs N``, ``--orders N`` (per book run),
``--actor-orders N`` (per actor run), ``--quick`` for a smoke run (its 300 orders never fill the
order-rate window, so its goal lines are not the figure).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import math
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import trio
import trio.testing
from _common import header, load_average, mean_interval

from hydra import LEAN_HOGS, OATS, AccountState, RiskLimits
from hydra._contracts import ContractSpec
from hydra._core._pacing import TokenBucket
from hydra._core._risk_book import RiskBook
from hydra._core._risk_messages import (
    Acked,
    Action,
    Blocked,
    Cancel,
    CommissionAdded,
    Dispatched,
    Effect,
    Executed,
    Marks,
    NewOrder,
    Outcome,
    Reply,
    RiskInput,
    Sent,
    StatusReported,
)
from hydra._enums import OrderStatus, Side, TradingState
from hydra._ids import BrokerOrderId, ClientOrderId, ExecutionId, IntentId
from hydra._journal import Journal
from hydra._journal_actor import JournalClient, JournalWrite, run_inline, run_journal
from hydra._messages import CancelOrder, EngineEvent, FromBroker, PlaceOrder, SessionDown
from hydra._orders import Fill, OrderRequest
from hydra._quotes import Quote
from hydra._risk_actor import RiskActor, run_risk
from hydra._schedule import trading_day
from hydra.brokers import (
    BrokerEvent,
    CommissionReported,
    FillReported,
    OrderAcknowledged,
    OrderStatusChanged,
)

CEILING = 45  # IB's pacing: order messages a second (Hydra's default messages_per_second)
GOAL = 100  # × the ceiling
WORKING = 20
CANCEL_SHARE = 0.25
COMMISSION = Decimal("2.05")
CORN = ContractSpec(symbol="ZC", exchange="CBOT", tick_size=Decimal("0.25"),
                    multiplier=Decimal(5000), price_magnifier=100,
                    months=("H", "K", "N", "U", "Z"))
BASE_MIDS = {OATS: Decimal(400), LEAN_HOGS: Decimal(85), CORN: Decimal(450)}
TIME = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)
DAY = trading_day(TIME).isoformat()
EQUITY = Decimal(1_000_000)
BIG = Decimal(10) ** 9
# Crossing a tick and paying commission on every fill loses the default $10,000 a day within
# ~460 orders and would halt the book; the breakers are still evaluated on every execution,
# commission and mark, against limits the script never reaches.
LIMITS = RiskLimits(max_open_orders=50, max_orders_per_minute=3000, daily_loss_limit=BIG,
                    max_drawdown=BIG, max_single_trade_loss=BIG, max_position_value=BIG)

# --- the script: order lifecycles, interleaved ---------------------------------------------


@attrs.frozen(kw_only=True)
class Place:
    request: OrderRequest
    mids: dict[str, Decimal]  # every symbol's mid when it is placed
    marked: tuple[str, ...]  # the symbols the actor marks first: open positions and its own
    now: float  # the book's clock


@attrs.frozen(kw_only=True)
class Ack:
    request: OrderRequest


@attrs.frozen(kw_only=True)
class Execution:
    fill: Fill
    filled: int  # of the order, after this execution
    quantity: int  # the order's

    @property
    def status(self) -> OrderStatus:
        """The status IB reports after it."""
        return OrderStatus.FILLED if self.filled == self.quantity else OrderStatus.WORKING


@attrs.frozen(kw_only=True)
class CancelIt:
    request: OrderRequest


@attrs.frozen(kw_only=True)
class Cancelled:
    request: OrderRequest
    filled: int


Step = Place | Ack | Execution | CancelIt | Cancelled


def _lifecycle(request: OrderRequest, rng: random.Random) -> Iterator[Step]:
    """The steps of one order after its placement, in order."""
    yield Ack(request=request)
    quantity, coid = request.quantity, request.client_order_id
    cancelled = rng.random() < CANCEL_SHARE
    if cancelled:
        sizes = [1] if quantity > 1 and rng.random() < 0.5 else []
    else:
        sizes = [quantity] if quantity == 1 or rng.random() < 0.5 else [1, quantity - 1]
    filled = 0
    for n, size in enumerate(sizes):
        filled += size
        yield Execution(filled=filled, quantity=quantity, fill=Fill(
            execution_id=ExecutionId(f"{coid}.x{n}"), client_order_id=coid,
            symbol=request.contract.symbol, side=request.side, price=request.limit_price,
            quantity=size, time=TIME))
    if cancelled:
        yield CancelIt(request=request)
        yield Cancelled(request=request, filled=filled)


def script(orders: int, seed: int, *, pace: float = CEILING) -> list[Step]:
    """``orders`` lifecycles with about ``WORKING`` orders working at once, placed ``pace`` a
    second on the book's clock; positions and mids stay near zero and their base, so no limit
    or breaker comes near."""
    rng = random.Random(seed)
    positions = dict.fromkeys((c.symbol for c in BASE_MIDS), 0)
    mids = {c.symbol: mid for c, mid in BASE_MIDS.items()}
    working: list[list[Step]] = []  # each working order's steps still to come
    steps: list[Step] = []
    placed = 0
    while placed < orders or working:
        if placed < orders and len(working) < WORKING:
            contract = rng.choice(list(BASE_MIDS))
            symbol, tick = contract.symbol, contract.tick_size
            mids[symbol] = BASE_MIDS[contract] + rng.randint(-4, 4) * tick
            held = positions[symbol]
            side = (Side.SELL if held > 6 else Side.BUY if held < -6
                    else rng.choice((Side.BUY, Side.SELL)))
            request = OrderRequest(
                client_order_id=ClientOrderId(f"bench-{placed}.1"),
                intent_id=IntentId(f"bench-{placed}"), contract=contract, side=side,
                quantity=rng.randint(1, 3), limit_price=mids[symbol] + side.sign * tick)
            marked = tuple(sorted({s for s, q in positions.items() if q} | {symbol}))
            steps.append(Place(request=request, mids=dict(mids), marked=marked,
                               now=placed / pace))
            working.append(list(_lifecycle(request, rng)))
            placed += 1
            continue
        lifecycle = rng.choice(working)
        step = lifecycle.pop(0)
        if not lifecycle:
            working.remove(lifecycle)  # its final status: no longer working
        if isinstance(step, Execution):
            positions[step.fill.symbol] += step.fill.signed_quantity
        steps.append(step)
    return steps


# --- the book, directly ----------------------------------------------------------------------


def book_messages(steps: list[Step]) -> list[tuple[RiskInput, float]]:
    """What the risk book is told for ``steps``, with the book's clock at each message."""
    owner, reply = "owner", "reply"  # opaque to the book
    messages: list[tuple[RiskInput, float]] = []
    now = 0.0
    for step in steps:
        match step:
            case Place(request=request):
                now = step.now
                coid = request.client_order_id
                mid = step.mids[request.contract.symbol]
                messages += [
                    (Marks(mids={s: step.mids[s] for s in step.marked}, day=DAY), now),
                    (NewOrder(request=request, arrival_mid=mid, predicted_bps=None, owner=owner,
                              reply=reply, reference_price=mid), now),
                    (Dispatched(client_order_id=coid, action=Action.PLACE,
                                outcome=Outcome.SENT), now),
                ]
            case Ack(request=request):
                coid = request.client_order_id
                messages += [
                    (Acked(client_order_id=coid, broker_order_id=_broker_id(coid)), now),
                    (StatusReported(client_order_id=coid, status=OrderStatus.WORKING), now),
                ]
            case Execution(fill=fill):
                messages += [
                    (Executed(fill=fill, known=True, live=True, contract=None), now),
                    (CommissionAdded(execution_id=fill.execution_id, commission=COMMISSION), now),
                    (StatusReported(client_order_id=fill.client_order_id, status=step.status),
                     now),
                ]
            case CancelIt(request=request):
                coid = request.client_order_id
                messages += [
                    (Cancel(client_order_id=coid), now),
                    (Dispatched(client_order_id=coid, action=Action.CANCEL,
                                outcome=Outcome.SENT), now),
                ]
            case Cancelled(request=request):
                messages.append((StatusReported(client_order_id=request.client_order_id,
                                                status=OrderStatus.CANCELLED), now))
    return messages


def _broker_id(coid: ClientOrderId) -> BrokerOrderId:
    return BrokerOrderId(coid.removeprefix("bench-").removesuffix(".1"))


def fresh_book(cls: type[RiskBook] = RiskBook) -> RiskBook:
    return cls(limits=LIMITS, account=AccountState(start_of_day_equity=EQUITY), day=DAY)


@attrs.define
class RunResult:
    """One run: how many book messages in how long, and whether the book behaved."""

    messages: int
    order_messages: int
    seconds: float
    refused: int = 0
    state: TradingState = TradingState.ACTIVE
    left_working: int = 0

    @property
    def rate(self) -> float:
        return self.messages / self.seconds

    @property
    def order_rate(self) -> float:
        return self.order_messages / self.seconds

    @property
    def clean(self) -> bool:
        return not self.refused and self.state is TradingState.ACTIVE and not self.left_working


def _order_messages(steps: list[Step]) -> int:
    return sum(1 for s in steps if isinstance(s, Place | CancelIt))


def run_book(steps: list[Step], messages: list[tuple[RiskInput, float]], refused: int,
             ) -> RunResult:
    book = fresh_book()
    handle = book.handle
    started = time.perf_counter()
    for message, now in messages:
        handle(message, now)
    seconds = time.perf_counter() - started
    return RunResult(messages=len(messages), order_messages=_order_messages(steps),
                     seconds=seconds, state=book.trading_state, left_working=len(book.orders),
                     refused=refused)


def refusals(messages: list[tuple[RiskInput, float]]) -> int:
    """The orders a fresh book refuses on ``messages``, counted untimed (the book is
    deterministic: every run refuses the same)."""
    book, refused = fresh_book(), 0
    for message, now in messages:
        refused += sum(_is_refusal(e) for e in book.handle(message, now))
    return refused


def _is_refusal(effect: Effect) -> bool:
    return isinstance(effect, Reply) and isinstance(effect.answer, Blocked)


# --- the whole risk actor shell ------------------------------------------------------------


class CountingBook(RiskBook):
    """The risk book, counting the messages the shell feeds it."""

    handled = 0

    def handle(self, message: RiskInput, now: float) -> list[Effect]:
        self.handled += 1
        return super().handle(message, now)


class RecordingEntry:
    """A fake `OrderEntry`: records each call, sends nothing."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ClientOrderId]] = []

    async def place(self, request: OrderRequest) -> None:
        self.calls.append(("place", request.client_order_id))

    async def modify(self, client_order_id: ClientOrderId, *, limit_price: Decimal,
                     quantity: int | None = None) -> None:
        self.calls.append(("modify", client_order_id))

    async def cancel(self, client_order_id: ClientOrderId) -> None:
        self.calls.append(("cancel", client_order_id))


def _quote(mid: Decimal, contract: ContractSpec) -> Quote:
    return Quote(bid=mid - contract.tick_size, ask=mid + contract.tick_size, bid_size=5,
                 ask_size=5, time=0.0)


async def run_actor(steps: list[Step], journal_path: str) -> RunResult:
    journal = Journal.open(journal_path, clock=lambda: TIME)
    try:
        return await _run_actor(steps, journal)
    finally:
        journal.close()


async def _run_actor(steps: list[Step], journal: Journal) -> RunResult:
    quotes: dict[str, Quote] = {}
    book = fresh_book(CountingBook)
    assert isinstance(book, CountingBook)
    entry = RecordingEntry()
    publish, _published = trio.open_memory_channel[EngineEvent](math.inf)
    supervisor, _down = trio.open_memory_channel[SessionDown](1)
    owner, _owned = trio.open_memory_channel[BrokerEvent](math.inf)
    reply, answers = trio.open_memory_channel[Any](math.inf)
    journal_send, journal_receive = trio.open_memory_channel[JournalWrite](0)
    risk_send, risk_receive = trio.open_memory_channel[Any](0)
    client = JournalClient(journal_send)
    actor = RiskActor(book, journal=client, quotes=lambda c: quotes.get(c.symbol),
                      publish=publish, supervisor=supervisor, clock=lambda: TIME)
    # Pacing off: the book and its shell are measured, not IB's ceiling.
    bucket = TokenBucket.full(rate=1e12, burst=1e12, now=trio.current_time())
    refused = 0
    async with trio.open_nursery() as nursery:
        await nursery.start(functools.partial(run_journal, journal_receive, journal=journal,
                                              audit=None, offload=run_inline))
        await nursery.start(functools.partial(run_risk, risk_receive, actor=actor, entry=entry,
                                              bucket=bucket))
        started = time.perf_counter()
        for step in steps:
            for message in _actor_messages(step, quotes, owner, reply):
                await risk_send.send(message)
                if isinstance(message, PlaceOrder):
                    refused += not isinstance(await answers.receive(), Sent)
        await trio.testing.wait_all_tasks_blocked()
        seconds = time.perf_counter() - started
        nursery.cancel_scope.cancel(reason="the run is over")
    expected = len(book_messages(steps))
    assert book.handled == expected, (book.handled, expected)
    assert len(entry.calls) == _order_messages(steps)
    return RunResult(messages=book.handled, order_messages=len(entry.calls), seconds=seconds,
                    refused=refused, state=book.trading_state, left_working=len(book.orders))


def _actor_messages(step: Step, quotes: dict[str, Quote], owner: Any, reply: Any,
                    ) -> list[Any]:
    """What an engine and a broker would send the risk actor for ``step``."""
    match step:
        case Place(request=request):
            for contract in BASE_MIDS:
                quotes[contract.symbol] = _quote(step.mids[contract.symbol], contract)
            return [PlaceOrder(request=request, arrival_mid=step.mids[request.contract.symbol],
                               predicted_bps=None, owner=owner, reply=reply)]
        case Ack(request=request):
            coid, quantity = request.client_order_id, request.quantity
            return [FromBroker(event=OrderAcknowledged(client_order_id=coid,
                                                       broker_order_id=_broker_id(coid))),
                    FromBroker(event=OrderStatusChanged(client_order_id=coid,
                                                        status=OrderStatus.WORKING,
                                                        filled=0, remaining=quantity))]
        case Execution(fill=fill):
            return [FromBroker(event=FillReported(fill=fill)),
                    FromBroker(event=CommissionReported(execution_id=fill.execution_id,
                                                        client_order_id=fill.client_order_id,
                                                        commission=COMMISSION)),
                    FromBroker(event=OrderStatusChanged(
                        client_order_id=fill.client_order_id, status=step.status,
                        filled=step.filled, remaining=step.quantity - step.filled))]
        case CancelIt(request=request):
            return [CancelOrder(client_order_id=request.client_order_id)]
        case Cancelled(request=request):
            return [FromBroker(event=OrderStatusChanged(
                client_order_id=request.client_order_id, status=OrderStatus.CANCELLED,
                filled=step.filled, remaining=request.quantity - step.filled))]
    raise AssertionError(step)


# --- the runs and the report -----------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Variant:
    name: str
    run: Callable[[], RunResult]


def _book_variant(name: str, steps: list[Step]) -> Variant:
    messages = book_messages(steps)
    refused = refusals(messages)
    return Variant(name=name, run=lambda: run_book(steps, messages, refused))


def variants(args: argparse.Namespace, tmp: Path) -> list[Variant]:
    actor_steps = script(args.actor_orders, args.seed)
    counter = iter(range(10**9))

    def on_disk() -> RunResult:
        path = tmp / f"journal-{next(counter)}.sqlite"
        return trio.run(run_actor, actor_steps, str(path))

    return [
        _book_variant("book, at the ceiling", script(args.orders, args.seed)),
        _book_variant("book, 1 order/s", script(args.orders, args.seed, pace=1.0)),
        Variant(name="actor, journal in memory",
                run=lambda: trio.run(run_actor, actor_steps, ":memory:")),
        Variant(name="actor, journal on disk", run=on_disk),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="timed runs of each (10)")
    parser.add_argument("--orders", type=int, default=3000, help="orders per book run (3000)")
    parser.add_argument("--actor-orders", type=int, default=200,
                        help="orders per actor run (200)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="3 runs of smaller scripts")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.orders, args.actor_orders = 3, 300, 30
    header("Risk book throughput against IB's pacing ceiling")
    print(f"traffic: ~{WORKING} orders working over 3 symbols, 1-3 lots, 1-2 executions each "
          f"with commission and status, {CANCEL_SHARE:.0%} cancelled; {args.orders} orders a "
          f"book run, {args.actor_orders} an actor run; {args.runs} timed runs each after one "
          f"warm-up, interleaved; ceiling {CEILING} order messages/s, goal {GOAL}×")
    print(flush=True)
    with tempfile.TemporaryDirectory(prefix="hydra-bench-") as tmp_dir:
        chosen = variants(args, Path(tmp_dir))
        results: dict[str, list[RunResult]] = {v.name: [] for v in chosen}
        started = time.perf_counter()
        for run in range(args.runs + 1):
            for variant in chosen:
                outcome = variant.run()
                if run:
                    results[variant.name].append(outcome)
        wall = time.perf_counter() - started
    return report(results, wall)


@attrs.frozen(kw_only=True)
class Row:
    name: str
    messages: int  # a run
    order_messages: int  # a run
    rate: tuple[float, float]  # book messages/s: mean, half-width of its 95% interval
    order_rate: tuple[float, float]  # order messages/s
    clean: bool

    @classmethod
    def of(cls, name: str, outcomes: list[RunResult]) -> Row:
        return cls(name=name, messages=outcomes[0].messages,
                   order_messages=outcomes[0].order_messages,
                   rate=mean_interval([o.rate for o in outcomes]),
                   order_rate=mean_interval([o.order_rate for o in outcomes]),
                   clean=all(o.clean for o in outcomes))


def report(results: dict[str, list[RunResult]], wall: float) -> int:
    rows = [Row.of(name, outcomes) for name, outcomes in results.items()]
    for row, outcomes in zip(rows, results.values(), strict=True):
        (rate, rate_hw), (orders, orders_hw) = row.rate, row.order_rate
        print(f"{row.name}: {row.messages:,} messages ({row.order_messages:,} order messages) "
              f"a run; {rate:,.0f} ± {rate_hw:,.0f} messages/s; {orders:,.0f} ± {orders_hw:,.0f} "
              f"order messages/s; {'clean' if row.clean else 'NOT CLEAN'} (refused "
              f"{sum(o.refused for o in outcomes)}, states "
              f"{sorted({o.state.value for o in outcomes})}, left working "
              f"{sum(o.left_working for o in outcomes)})")
    print(f"wall {wall:.1f} s; load at the end {load_average()}")
    print()
    book, slow, memory, disk = rows
    per_order = book.messages / book.order_messages
    print(f"each order message brings {per_order:.1f} book messages (its marks, dispatch, ack, "
          f"executions, commissions, statuses)")
    for what, index in (("book messages/s", 0), ("order messages/s, like for like", 1)):
        mean, half = (book.rate, book.order_rate)[index]
        met = mean - half >= GOAL * CEILING
        print(f"goal in {what}: {mean / CEILING:,.0f}× the ceiling (lower 95% bound "
              f"{(mean - half) / CEILING:,.0f}×): {'MET' if met else 'MISSED'}"
              + ("" if met else f" by {1 - mean / (GOAL * CEILING):.0%}"))
    print(f"the order-rate window at the ceiling ({CEILING * 60:,} orders a minute) against "
          f"1 order/s (≤ 60): {slow.rate[0] / book.rate[0]:.2f}× as fast at 1 order/s")
    # An actor run's window holds at most its few hundred orders: compare with 1 order/s.
    print(f"the shell and its journal: in memory {memory.rate[0] / slow.rate[0]:.2f}× the "
          f"book's rate at 1 order/s, on disk {disk.rate[0] / slow.rate[0]:.2f}× "
          f"({disk.rate[0] / memory.rate[0]:.2f}× the in-memory shell)")
    ok = all(row.clean for row in rows)
    print(f"RESULT: {'PASS' if ok else 'FAIL'} (every run clean)")
    print()
    print("For BENCHMARKS.md:")
    print()
    print("| path | messages a run | messages/s | × 45/s | order messages/s | × 45/s |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        (rate, rate_hw), (orders, orders_hw) = row.rate, row.order_rate
        print(f"| {row.name} | {row.messages:,} | {rate:,.0f} ± {rate_hw:,.0f} "
              f"| {rate / CEILING:,.0f} | {orders:,.0f} ± {orders_hw:,.0f} "
              f"| {orders / CEILING:,.1f} |")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
