"""A typical user's script for IB's own ``ibapi`` 9.81 (2020), run against ``hydra sim-gateway``:
``python ibapi_981_user.py PORT`` with ibapi 9.81 on ``PYTHONPATH``. The same program as
``ibapi_user.py`` (10.50) in 9.81's API: ``error`` without its time and JSON, sizes and
quantities as floats and ints (no ``Decimal``), ``reqGlobalCancel()`` without an
``OrderCancel``, the what-if commission as ``OrderState.commission``. 9.81 asks for server
versions 100 to 157, so the gateway's version negotiation is tried with an old client. It
prints one JSON line of what it saw; every wait has a deadline."""

from __future__ import annotations

import faulthandler
import json
import sys
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import ibapi
from ibapi.client import EClient
from ibapi.common import BarData, TickAttribBidAsk
from ibapi.contract import Contract, ContractDetails
from ibapi.order import Order
from ibapi.order_state import OrderState
from ibapi.wrapper import EWrapper

WAIT = 10.0


class App(EWrapper, EClient):  # type: ignore[misc]
    """Records what the gateway sends: per request id, per order id, and the rest by name."""

    def __init__(self) -> None:
        EWrapper.__init__(self)
        EClient.__init__(self, self)
        self.changed = threading.Condition()
        self.next_id = 0
        self.by_request: dict[int, list[Any]] = defaultdict(list)
        self.ended: set[int] = set()
        self.statuses: dict[int, list[str]] = defaultdict(list)
        self.open_states: dict[int, OrderState] = {}
        self.errors: list[tuple[int, int, str]] = []
        self.completed: list[tuple[Order, OrderState]] = []
        self.completed_end = False
        self.positions: dict[int, float] = {}

    def _note(self, update: Callable[[], None]) -> None:
        with self.changed:
            update()
            self.changed.notify_all()

    def wait_for(self, what: str, condition: Callable[[], bool]) -> None:
        with self.changed:
            if not self.changed.wait_for(condition, timeout=WAIT):
                raise TimeoutError(f"no {what} within {WAIT} s; errors: {self.errors}")

    def take_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    # --- callbacks ---------------------------------------------------------------------------

    def nextValidId(self, orderId: int) -> None:
        self._note(lambda: setattr(self, "next_id", orderId))

    def error(self, reqId: int, errorCode: int, errorString: str) -> None:
        if errorCode < 2100:  # 2100s are IB's "market data farm is OK" notes
            self._note(lambda: self.errors.append((reqId, errorCode, errorString)))

    def contractDetails(self, reqId: int, contractDetails: ContractDetails) -> None:
        self._note(lambda: self.by_request[reqId].append(contractDetails))

    def contractDetailsEnd(self, reqId: int) -> None:
        self._note(lambda: self.ended.add(reqId))

    def historicalData(self, reqId: int, bar: BarData) -> None:
        self._note(lambda: self.by_request[reqId].append(bar))

    def historicalDataEnd(self, reqId: int, start: str, end: str) -> None:
        self._note(lambda: self.ended.add(reqId))

    def headTimestamp(self, reqId: int, headTimestamp: str) -> None:
        self._note(lambda: self.by_request[reqId].append(headTimestamp))

    def updateMktDepth(self, reqId: int, position: int, operation: int, side: int,
                       price: float, size: int) -> None:  # fmt: skip
        self._note(lambda: self.by_request[reqId].append((position, operation, side, price)))

    def tickByTickBidAsk(self, reqId: int, time: int, bidPrice: float, askPrice: float,
                         bidSize: int, askSize: int, tickAttribBidAsk: TickAttribBidAsk,
                         ) -> None:  # fmt: skip
        self._note(lambda: self.by_request[reqId].append((bidPrice, askPrice)))

    def tickPrice(self, reqId: int, tickType: int, price: float, attrib: object) -> None:
        self._note(lambda: self.by_request[reqId].append((tickType, price)))

    def openOrder(self, orderId: int, contract: Contract, order: Order,
                  orderState: OrderState) -> None:  # fmt: skip
        self._note(lambda: self.open_states.__setitem__(orderId, orderState))

    def orderStatus(self, orderId: int, status: str, filled: float, *rest: object) -> None:
        self._note(lambda: self.statuses[orderId].append(status))

    def position(self, account: str, contract: Contract, position: float,
                 avgCost: float) -> None:  # fmt: skip
        self._note(lambda: self.positions.__setitem__(contract.conId, position))

    def accountSummary(self, reqId: int, account: str, tag: str, value: str,
                       currency: str) -> None:  # fmt: skip
        self._note(lambda: self.by_request[reqId].append(tag))

    def accountSummaryEnd(self, reqId: int) -> None:
        self._note(lambda: self.ended.add(reqId))

    def pnl(self, reqId: int, dailyPnL: float, unrealizedPnL: float,
            realizedPnL: float) -> None:  # fmt: skip
        self._note(lambda: self.by_request[reqId].append(dailyPnL))

    def completedOrder(self, contract: Contract, order: Order, orderState: OrderState) -> None:
        self._note(lambda: self.completed.append((order, orderState)))

    def completedOrdersEnd(self) -> None:
        self._note(lambda: setattr(self, "completed_end", True))


def connect(port: int, client_id: int) -> App:
    app = App()
    app.connect("127.0.0.1", port, client_id)
    threading.Thread(target=app.run, daemon=True).start()
    app.wait_for("next valid id", lambda: app.next_id > 0)
    return app


def oats(**fields: Any) -> Contract:
    contract = Contract()
    contract.symbol, contract.secType, contract.exchange = "ZO", "FUT", "CBOT"
    for name, value in fields.items():
        setattr(contract, name, value)
    return contract


def contract_details(app: App, contract: Contract) -> list[ContractDetails]:
    req = app.take_id()
    app.reqContractDetails(req, contract)
    app.wait_for("contract details", lambda: req in app.ended)
    return list(app.by_request[req])


def market_data(app: App, front: Contract) -> dict[str, Any]:
    bars, head, depth, quotes, ticks = (app.take_id() for _ in range(5))
    app.reqHistoricalData(bars, front, "", "2 D", "1 hour", "TRADES", 0, 1, False, [])
    app.reqHeadTimeStamp(head, front, "TRADES", 0, 1)
    app.reqMktDepth(depth, front, 5, False, [])
    app.reqTickByTickData(quotes, front, "BidAsk", 0, False)
    app.reqMktData(ticks, front, "", False, False, [])
    app.wait_for("history", lambda: bars in app.ended and bool(app.by_request[head]))
    app.wait_for("depth", lambda: len(app.by_request[depth]) >= 10)
    app.wait_for("tick-by-tick", lambda: bool(app.by_request[quotes]))
    app.wait_for("bid and ask", lambda: {1, 2} <= {t for t, _ in app.by_request[ticks]})
    prices = dict(app.by_request[ticks])
    return {
        "hour_bars": len(app.by_request[bars]),
        "head": app.by_request[head][0],
        "first_bar": app.by_request[bars][0].date,
        "depth_sides": sorted({side for _, _, side, _ in app.by_request[depth]}),
        "tick_by_tick": all(b < a for b, a in app.by_request[quotes]),
        "quote": [prices[1], prices[2]],
    }


def order(action: str, kind: str, **fields: Any) -> Order:
    made = Order()
    made.action, made.orderType, made.totalQuantity = action, kind, 1.0
    made.tif = "DAY"
    for name, value in fields.items():
        setattr(made, name, value)
    return made


def orders(app: App, front: Contract, ask: float, tick: float) -> dict[str, Any]:
    what_if_id = app.take_id()
    app.placeOrder(what_if_id, front, order("BUY", "LMT", lmtPrice=ask, whatIf=True))
    app.wait_for("what-if answer", lambda: what_if_id in app.open_states)
    state = app.open_states[what_if_id]
    market = app.take_id()
    app.placeOrder(market, front, order("BUY", "MKT"))
    app.wait_for("market fill", lambda: "Filled" in app.statuses[market])
    parent, profit, stop = (app.take_id() for _ in range(3))
    app.placeOrder(parent, front, order("BUY", "LMT", lmtPrice=ask + 20 * tick, transmit=False))
    app.placeOrder(profit, front, order("SELL", "LMT", lmtPrice=ask + 200 * tick,
                                        parentId=parent, transmit=False))  # fmt: skip
    app.placeOrder(stop, front, order("SELL", "STP", auxPrice=ask - 200 * tick, parentId=parent))
    app.wait_for("bracket parent fill", lambda: "Filled" in app.statuses[parent])
    app.wait_for("bracket exits working", lambda: all(
        app.statuses[o] and app.statuses[o][-1] in ("Submitted", "PreSubmitted")
        for o in (profit, stop)))  # fmt: skip
    return {
        "what_if": [state.initMarginChange, state.maintMarginChange],
        "what_if_commission": state.commission,
        "what_if_status": app.statuses.get(what_if_id, []),
        "market": app.statuses[market][-1],
        "bracket_parent": app.statuses[parent][-1],
        "exits": [profit, stop],
    }


def account(app: App) -> dict[str, Any]:
    summary, pnl = app.take_id(), app.take_id()
    app.reqAccountSummary(summary, "All", "InitMarginReq,MaintMarginReq,ExcessLiquidity")
    app.reqPnL(pnl, "DU1234567", "")
    app.wait_for("account summary", lambda: summary in app.ended)
    app.wait_for("PnL", lambda: bool(app.by_request[pnl]))
    return {"margin_tags": sorted(set(app.by_request[summary]))}


def cancel_from_another_client(app: App, port: int, exits: list[int]) -> dict[str, Any]:
    other = connect(port, client_id=2)
    other.reqGlobalCancel()
    app.wait_for("owner seeing the global cancel",
                 lambda: all(app.statuses[o][-1] == "Cancelled" for o in exits))  # fmt: skip
    other.disconnect()
    app.reqCompletedOrders(True)
    app.wait_for("completed orders", lambda: app.completed_end)
    return {
        "owner_sees": [app.statuses[o][-1] for o in exits],
        "completed": [s.status for _, s in app.completed],
        "completed_perm_ids": all(o.permId > 0 for o, _ in app.completed),
    }


def main(port: int) -> dict[str, Any]:
    app = connect(port, client_id=1)
    try:
        months = contract_details(app, oats())
        hogs = contract_details(app, oats(symbol="HE", exchange="CME"))
        continuous = contract_details(app, oats(secType="CONTFUT"))
        front = oats(conId=continuous[0].contract.conId)
        seen: dict[str, Any] = {
            "oats_months": sorted(d.contractMonth for d in months),
            "hogs_months": len(hogs),
            "front": continuous[0].contract.localSymbol,
            "hours": months[0].tradingHours,
            "liquid_hours": months[0].liquidHours,
            "time_zone": months[0].timeZoneId,
        }
        seen |= market_data(app, front)
        placed = orders(app, front, seen["quote"][1], float(months[0].minTick))
        exits = placed.pop("exits")
        seen |= placed | account(app) | cancel_from_another_client(app, port, exits)
        seen["errors"] = app.errors
        seen["server_version"] = app.serverVersion()
        seen["ibapi"] = ibapi.get_version_string()
        return seen
    finally:
        app.disconnect()


if __name__ == "__main__":
    # A whole-script deadline (argument 2, default 60 s): a gateway that goes silent where no
    # request time-out watches (a handshake never answered) ends the script with a traceback.
    faulthandler.dump_traceback_later(float(sys.argv[2]) if len(sys.argv) > 2 else 60, exit=True)
    print(json.dumps(main(int(sys.argv[1])), default=str))
