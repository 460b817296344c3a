"""Attacks on IBBroker._keep_working (commit c867aa5..4f363c0): each test feeds ib_async's
wrapper what IB sends, in an order IB sends it, and fails on the code as it is."""

from __future__ import annotations

import trio_asyncio
from ib_async import Future, Order, OrderStatus, Trade

from hydra._settings import BrokerSettings
from hydra.ib import IBBroker
from hydra.ib._seen import StatusSeen

ORDER_ID, PERM_ID, CLIENT_ID = 5, 9005, 1


def _status(broker: IBBroker, status: str) -> None:
    broker._ib.wrapper.orderStatus(ORDER_ID, status, 0.0, 1.0, 0.0, PERM_ID, 0, 0.0,
                                   CLIENT_ID, "")


def _seen_statuses(broker: IBBroker) -> list[StatusSeen]:
    found = []
    while True:
        try:
            seen = broker._seen.receive_nowait()
        except Exception:
            return found
        if isinstance(seen, StatusSeen):
            found.append(seen)


def _working_trade(broker: IBBroker) -> Trade:
    order = Order(orderId=ORDER_ID, clientId=CLIENT_ID, permId=PERM_ID, action="BUY",
                  totalQuantity=1, orderType="LMT", lmtPrice=350.0, orderRef="jx:int-c.1")
    trade = Trade(Future("ZO", exchange="CBOT"), order,
                  OrderStatus(orderId=ORDER_ID, status="PendingSubmit"), [], [])
    wrapper = broker._ib.wrapper
    wrapper.clientId = CLIENT_ID
    wrapper.trades[(CLIENT_ID, ORDER_ID)] = trade
    wrapper.permId2Trade[PERM_ID] = trade
    _status(broker, "Submitted")
    return trade


async def test_a_cancel_confirmed_by_202_after_pending_cancel_reaches_hydra() -> None:
    """IB answers a cancel with orderStatus PendingCancel, then error 202 ("Order Canceled"),
    then orderStatus Cancelled. ib_async makes up Cancelled at the 202; _keep_working puts
    the real status back only when it was PreSubmitted/Submitted, not PendingCancel, so the
    real Cancelled equals the made-up one, ib_async reports no change and Hydra never hears
    a real (error_code 0) Cancelled: the cancel is never confirmed and the order's owner
    waits out its cancel timeout. Expected: one real Cancelled StatusSeen."""
    async with trio_asyncio.open_loop():
        broker = IBBroker(BrokerSettings(port=4002), client_id=CLIENT_ID)
        trade = _working_trade(broker)
        _status(broker, "PendingCancel")  # IB's answer to cancelOrder
        broker._ib.wrapper.error(ORDER_ID, 202, "Order Canceled - reason:", "")
        _status(broker, "Cancelled")  # IB's real end of the order
        real = [s for s in _seen_statuses(broker) if s.status == "Cancelled" and not s.error_code]
        assert real, f"no real Cancelled reached Hydra; trade log: {trade.log}"
