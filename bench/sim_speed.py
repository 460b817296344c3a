"""How fast the simulated exchange runs: one 6.5-hour oats session with a working order
repriced to the mid every 3 minutes, then 20 sessions (four weeks) of lean hogs the same way.

Run: ``.venv/bin/python bench/sim_speed.py``. The last line is simulated time / wall time.
"""

from __future__ import annotations

import time
from decimal import Decimal

import trio
import trio.testing

from hydra._contracts import ContractSpec
from hydra._enums import Side
from hydra._ids import ClientOrderId, IntentId
from hydra._orders import OrderRequest
from hydra.brokers import BrokerEvent, OrderStatusChanged
from hydra.sim import SESSION_SECONDS, MarketParams, SimBroker, SimParams, open_sim_exchange

REPRICE_SECONDS = 180.0


async def _drain(events: trio.MemoryReceiveChannel[BrokerEvent], done: set[str]) -> None:
    async for event in events:
        if isinstance(event, OrderStatusChanged) and event.status.is_final:
            done.add(event.client_order_id)


def _at_mid(broker: SimBroker, contract: ContractSpec, side: Side) -> Decimal:
    """The mid rounded passively to the tick (down for a buy, up for a sell)."""
    ticks = broker.quote_nowait(contract).mid / contract.tick_size
    whole = ticks // 1 if side is Side.BUY else -(-ticks // 1)
    return whole * contract.tick_size


async def _session(market: MarketParams, seed: int) -> tuple[int, int]:
    """One session of a repricing loop; returns the simulated events and executions."""
    contract = market.contract
    async with open_sim_exchange(SimParams(markets=(market,)), seed=seed) as exchange:
        broker = SimBroker(exchange)
        await broker.connect()
        await broker.subscribe_quotes(contract)
        done: set[str] = set()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_drain, broker.events(), done)
            side, number, key = Side.BUY, 0, None
            end = trio.current_time() + SESSION_SECONDS
            while trio.current_time() + REPRICE_SECONDS <= end:
                if key is None or key in done:
                    number += 1
                    side = side.opposite
                    key = ClientOrderId(f"bench.{number}")
                    await broker.place(
                        OrderRequest(
                            client_order_id=key,
                            intent_id=IntentId("bench"),
                            contract=contract,
                            side=side,
                            quantity=2,
                            limit_price=_at_mid(broker, contract, side),
                        )
                    )
                else:
                    await broker.modify(key, limit_price=_at_mid(broker, contract, side))
                await trio.sleep(REPRICE_SECONDS)
            await trio.sleep_until(end)
            await broker.close()
        stats = exchange.statistics()
        return stats.market_events + stats.deliveries, stats.executions


def _run(market: MarketParams, sessions: int) -> tuple[float, int, int]:
    async def main() -> tuple[int, int]:
        events = executions = 0
        for seed in range(sessions):
            more_events, more_executions = await _session(market, seed)
            events, executions = events + more_events, executions + more_executions
        return events, executions

    started = time.perf_counter()
    events, executions = trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    return time.perf_counter() - started, events, executions


def main() -> None:
    oats_wall, oats_events, oats_fills = _run(MarketParams.oats(), 1)
    print(
        f"oats: 1 session in {oats_wall:.3f} s wall, {oats_events:,} events "
        f"({oats_events / oats_wall:,.0f}/s), {oats_fills} executions"
    )
    hogs_wall, hogs_events, hogs_fills = _run(MarketParams.hogs(), 20)
    print(
        f"hogs: 20 sessions in {hogs_wall:.3f} s wall, {hogs_events:,} events "
        f"({hogs_events / hogs_wall:,.0f}/s), {hogs_fills} executions"
    )
    simulated = 21 * SESSION_SECONDS
    print(f"simulated time / wall time: {simulated / (oats_wall + hogs_wall):,.0f}")


if __name__ == "__main__":
    main()
