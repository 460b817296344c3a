"""The simulated markets' golden runs: every book state, trade and fill of a few seeds and
markets, unwatched and watched, is the one recorded in ``tests/golden/sim_market.json``.

The background TCA grid computes baselines on this simulator, so a change to the exchange's
wake-ups must leave every price, size, fill and event time as it was; these digests say so.
Run this file as a script (``python -m tests.test_sim_golden``) to record them anew, which
only a deliberate change of the market model may do.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import trio
import trio.testing

from hydra._enums import Side
from hydra._ids import ClientOrderId, IntentId
from hydra.scenario import load_scenario
from hydra.sim import MarketParams, OrderTicket, SimExchange, SimParams, open_sim_exchange
from hydra.sim._market import Market

GOLDEN = Path(__file__).parent / "golden" / "sim_market.json"
SCENARIOS = Path(__file__).parent.parent / "bench" / "scenarios"
HOURS = 2
MODES = ("market", "unwatched", "quotes", "book")


def _scenario_market(name: str) -> MarketParams:
    return load_scenario(SCENARIOS / f"{name}.toml").sim.markets[0]


MARKETS: dict[str, Callable[[], MarketParams]] = {
    "oats": MarketParams.oats,
    "hogs": MarketParams.hogs,
    "hogs-mirrored": lambda: MarketParams.hogs(mirrored=True),
    "tca-hogs-deferred": lambda: _scenario_market("tca-hogs-deferred"),
    "tca-oats-drift": lambda: _scenario_market("tca-oats-drift"),
}
CASES = [("oats", 1), ("oats", 2), ("hogs", 1), ("hogs", 2), ("hogs-mirrored", 1),
         ("tca-hogs-deferred", 1), ("tca-oats-drift", 1)]  # fmt: skip


def _market_records(params: MarketParams, seed: int) -> Iterator[object]:
    """The bare market stepped event by event (nobody's orders): each event's time, both
    sides' levels, the crowd's touch and the last trade."""
    market = Market(params, random.Random(f"{seed}:{params.contract.symbol}"))
    book = market.book
    while market.next_time() < HOURS * 3600:
        trade = market.step()
        yield (
            trade.time,
            trade.prints,
            book.levels(Side.BUY),
            book.levels(Side.SELL),
            book.crowd_bid,
            book.crowd_ask,
            market.last_trade,
            market.last_size,
        )


def _ticket(key: str, side: Side, price: Decimal, quantity: int, symbol: str) -> OrderTicket:
    return OrderTicket(client_order_id=ClientOrderId(key), order_ref=IntentId("golden"),
                       symbol=symbol, side=side, quantity=quantity, order_type="LMT",
                       limit_price=price)  # fmt: skip


def _our_order(exchange: SimExchange, symbol: str, minute: int) -> OrderTicket:
    """Minute ``minute``'s order: deep, joining, improving or marketable, on either side."""
    quote = exchange.quote(symbol)
    tick = exchange.contract(symbol).tick_size
    wide = quote.ask - quote.bid > tick
    quantity = 1 + minute % 3
    choice = minute % 6
    if choice == 0:
        side, price = Side.BUY, quote.bid - 2 * tick
    elif choice == 1:
        side, price = Side.BUY, quote.bid
    elif choice == 2:
        side, price = Side.BUY, quote.bid + tick if wide else quote.bid
    elif choice == 3:
        side, price = Side.SELL, quote.ask + 2 * tick
    elif choice == 4:
        side, price = Side.SELL, quote.ask - tick if wide else quote.ask
    elif minute // 6 % 2:
        side, price = Side.BUY, quote.ask
    else:
        side, price = Side.SELL, quote.bid
    return _ticket(f"g{minute}", side, price, quantity, symbol)


def _depth(exchange: SimExchange, symbol: str) -> object:
    return exchange.depth(symbol, Side.BUY), exchange.depth(symbol, Side.SELL)


async def _exchange_records(params: MarketParams, seed: int, mode: str) -> list[object]:
    """Two hours of one market on the exchange with an order of ours each minute (cancelled
    at the next), watched as ``mode`` says: what each minute and each watcher's wake saw, then
    the touches, the tape and our fills."""
    records: list[object] = []
    symbol = params.contract.symbol
    async with open_sim_exchange(SimParams(markets=(params,)), seed=seed) as exchange:
        origin = exchange.origin
        client = exchange.attach(lambda _: None)

        async def watch_quotes() -> None:
            quote = exchange.quote(symbol)
            while True:
                quote = await exchange.wait_quote_changed(symbol, quote)
                records.append(("quote", trio.current_time() - origin, quote))

        async def watch_book() -> None:
            version = exchange.book_version(symbol)
            while True:
                version = await exchange.wait_book_changed(symbol, version)
                records.append(("book", trio.current_time() - origin, _depth(exchange, symbol)))

        async with trio.open_nursery() as nursery:
            if mode == "quotes":
                nursery.start_soon(watch_quotes)
            elif mode == "book":
                nursery.start_soon(watch_book)
            for minute in range(HOURS * 60):
                # Half a second into each minute, off the mid's one-second steps: our order
                # never ties with a market event (Trio runs tied tasks in either order).
                await trio.sleep_until(origin + 60 * minute + 0.5)
                records.append(("minute", trio.current_time() - origin, _depth(exchange, symbol)))
                if ClientOrderId(f"g{minute - 1}") in exchange.working_orders():
                    exchange.cancel(client, ClientOrderId(f"g{minute - 1}"))
                exchange.place(client, _our_order(exchange, symbol, minute))
            nursery.cancel_scope.cancel(reason="the golden run is over")
        records.append(exchange.touches(symbol))
        records.append(exchange.tape(symbol))
        records.extend(
            (f.time, f.price, f.side, f.quantity, f.execution_id)
            for f in exchange.executions_since(exchange.params.session_start)
        )
        records.append(exchange.statistics().market_events)
    return records


def _digest(records: Iterator[object] | list[object]) -> tuple[int, str]:
    digest, count = hashlib.sha256(), 0
    for record in records:
        digest.update(repr(record).encode())
        count += 1
    return count, digest.hexdigest()


def _run(name: str, seed: int, mode: str) -> tuple[int, str]:
    params = MARKETS[name]()
    if mode == "market":
        return _digest(_market_records(params, seed))
    clock = trio.testing.MockClock(autojump_threshold=0)
    return _digest(trio.run(_exchange_records, params, seed, mode, clock=clock))


def _key(name: str, seed: int, mode: str) -> str:
    return f"{name} seed {seed} {mode}"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("name", "seed"), CASES)
def test_the_market_runs_as_recorded(name: str, seed: int, mode: str) -> None:
    """Two hours of the market (bare, or on the exchange with our orders, unwatched or with a
    quote or book watcher) give the recorded book states, trades and fills, record for record."""
    count, digest = _run(name, seed, mode)
    expected = json.loads(GOLDEN.read_text())[_key(name, seed, mode)]
    assert (count, digest) == (expected["records"], expected["sha256"])


if __name__ == "__main__":
    golden = {}
    for name, seed in CASES:
        for mode in MODES:
            count, digest = _run(name, seed, mode)
            golden[_key(name, seed, mode)] = {"records": count, "sha256": digest}
    GOLDEN.write_text(json.dumps(golden, indent=2) + "\n")
