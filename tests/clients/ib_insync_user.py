"""A typical ib_insync 0.9.86 user's script, run against ``hydra sim-gateway``: ``python
ib_insync_user.py PORT``. It prints one JSON line of what it saw; every request has a time-out
(``RequestTimeout``) and every wait a deadline, so a gateway that stays silent fails it fast."""

from __future__ import annotations

import faulthandler
import itertools
import json
import math
import sys
from collections.abc import Callable
from typing import Any

from ib_insync import IB, ContFuture, Future, LimitOrder, MarketOrder, Trade

WAIT = 10.0


def wait_for(ib: IB, what: str, condition: Callable[[], bool]) -> None:
    """ib_insync's own loop runs until ``condition`` holds, at most `WAIT` seconds."""
    for _ in range(int(WAIT / 0.05)):
        if condition():
            return
        ib.sleep(0.05)
    raise TimeoutError(f"no {what} within {WAIT} s")


def connect(port: int, client_id: int) -> IB:
    ib = IB()
    ib.RequestTimeout = WAIT
    ib.connect("127.0.0.1", port, clientId=client_id, timeout=WAIT)
    return ib


def market_data(ib: IB, front: Future) -> dict[str, Any]:
    bars = ib.reqHistoricalData(front, "", "2 D", "1 hour", "TRADES", useRTH=False)
    minutes = ib.reqHistoricalData(front, "", "3600 S", "1 min", "MIDPOINT", useRTH=False)
    head = ib.reqHeadTimeStamp(front, "TRADES", useRTH=False)
    book = ib.reqMktDepth(front, 5)
    wait_for(ib, "depth", lambda: bool(book.domBids) and bool(book.domAsks))
    quotes = ib.reqTickByTickData(front, "BidAsk")
    ticks: list[Any] = []  # ib_insync clears tickByTicks after each update: keep them
    quotes.updateEvent += lambda t: ticks.extend(t.tickByTicks)
    wait_for(ib, "tick-by-tick quote", lambda: bool(ticks))
    ticker = ib.reqMktData(front)
    wait_for(ib, "quote", lambda: not math.isnan(ticker.ask) and not math.isnan(ticker.close))
    return {
        "hour_bars": len(bars),
        "bars_ordered": all(a.date < b.date for a, b in itertools.pairwise(bars)),
        "minute_bars": len(minutes),
        "head_before_bars": head < bars[0].date,
        "depth": [len(book.domBids), len(book.domAsks)],
        "depth_ordered": book.domBids[0].price < book.domAsks[0].price,
        "tick_by_tick": ticks[-1].bidPrice < ticks[-1].askPrice,
        "quote": [ticker.bid, ticker.ask],
    }


def orders(ib: IB, front: Future, ask: float, tick: float) -> dict[str, Any]:
    before = sum(p.position for p in ib.positions())
    what_if = ib.whatIfOrder(front, LimitOrder("BUY", 1, ask))
    ib.sleep(0.5)
    after_what_if = sum(p.position for p in ib.positions())
    market = ib.placeOrder(front, MarketOrder("BUY", 1))
    wait_for(ib, "market fill", market.isDone)
    parent, take_profit, stop_loss = ib.bracketOrder(
        "BUY", 1, limitPrice=ask + 20 * tick, takeProfitPrice=ask + 200 * tick,
        stopLossPrice=ask - 200 * tick,
    )  # fmt: skip
    bracket = [ib.placeOrder(front, o) for o in (parent, take_profit, stop_loss)]
    wait_for(ib, "bracket parent fill", bracket[0].isDone)
    wait_for(ib, "bracket exits working", lambda: all(t.isActive() for t in bracket[1:]))
    return {
        "what_if": [float(what_if.initMarginChange), float(what_if.maintMarginChange)],
        "what_if_commission": what_if.commission,
        "what_if_traded": after_what_if != before,
        "market": [market.orderStatus.status, market.orderStatus.filled],
        "bracket": [t.order.orderType for t in bracket],
        "bracket_parent": bracket[0].orderStatus.status,
        "position": sum(p.position for p in ib.positions()) - before,
        "exits": bracket[1:],
    }


def account(ib: IB) -> dict[str, Any]:
    tags = {v.tag for v in ib.accountSummary()}
    pnl = ib.reqPnL(ib.managedAccounts()[0])
    wait_for(ib, "PnL", lambda: not math.isnan(pnl.unrealizedPnL))
    return {
        "margin_tags": sorted(tags & {"InitMarginReq", "MaintMarginReq", "ExcessLiquidity"}),
        "pnl": math.isfinite(pnl.dailyPnL),
    }


def cancel_from_another_client(ib: IB, port: int, exits: list[Trade]) -> dict[str, Any]:
    other = connect(port, client_id=2)
    other.reqGlobalCancel()
    wait_for(ib, "owner seeing the global cancel", lambda: all(t.isDone() for t in exits))
    other.disconnect()
    completed = ib.reqCompletedOrders(apiOnly=True)
    return {
        "owner_sees": [t.orderStatus.status for t in exits],
        "completed": len(completed),
        "completed_perm_ids": all(t.order.permId > 0 for t in completed),
    }


def main(port: int) -> dict[str, Any]:
    ib = connect(port, client_id=1)
    try:
        months = ib.reqContractDetails(Future("ZO", exchange="CBOT"))
        hogs = ib.reqContractDetails(Future("HE", exchange="CME"))
        front = ContFuture("ZO", "CBOT")
        ib.qualifyContracts(front)
        month = Future(conId=front.conId, exchange="CBOT")
        ib.qualifyContracts(month)
        seen: dict[str, Any] = {
            "oats_months": sorted(d.contract.lastTradeDateOrContractMonth[:6] for d in months),
            "hogs_months": len(hogs),
            "front": month.localSymbol,
        }
        seen |= market_data(ib, month)
        tick = months[0].minTick
        placed = orders(ib, month, seen["quote"][1], tick)
        exits = placed.pop("exits")
        seen |= placed | account(ib) | cancel_from_another_client(ib, port, exits)
        return seen
    finally:
        ib.disconnect()


if __name__ == "__main__":
    # A whole-script deadline (argument 2, default 60 s): a gateway that goes silent where no
    # request time-out watches (a handshake never answered) ends the script with a traceback.
    faulthandler.dump_traceback_later(float(sys.argv[2]) if len(sys.argv) > 2 else 60, exit=True)
    print(json.dumps(main(int(sys.argv[1]))))
