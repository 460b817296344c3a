"""Orders as IB takes them, end to end through ib_async: what-if checks, market and stop
orders, ib_async's bracket, permIds of finished orders, a global cancel the owner hears of, and
a client id in use refused at once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import trio
import trio_asyncio
from ib_async import IB, LimitOrder, Order, StopOrder

from hydra._enums import Side
from tests.gateway_client import (
    PARAMS,
    Served,
    connected,
    errors_of,
    qualified,
    serving,
    wait_until,
)


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    async with serving(PARAMS) as served:
        yield served


async def test_what_if_answers_margin_and_commission_and_places_nothing(served: Served) -> None:
    """whatIfOrder gets the initial and maintenance margin one more contract takes, and its
    commission; no order reaches the exchange and the position stays flat."""
    async with connected(served) as ib:
        contract = await qualified(ib)
        ask = float(served.exchange.quote("ZO").ask)
        state = await trio_asyncio.aio_as_trio(ib.whatIfOrderAsync)(
            contract, LimitOrder("BUY", 2, ask)
        )
        assert (float(state.initMarginChange), float(state.maintMarginChange)) == (2970, 2700)
        assert (float(state.initMarginBefore), float(state.initMarginAfter)) == (0, 2970)
        assert (state.commission, state.commissionCurrency) == (5.0, "USD")
        assert served.exchange.open_orders() == () and served.exchange.positions() == ()
        assert ib.openTrades() == []


async def test_what_if_of_a_closing_order_frees_margin(served: Served) -> None:
    """Selling one of two contracts held shows the margin falling by one contract's."""
    async with connected(served) as ib:
        contract = await qualified(ib)
        ask = float(served.exchange.quote("ZO").ask)
        bought = ib.placeOrder(contract, LimitOrder("BUY", 2, ask))
        await wait_until(bought.isDone)
        bid = float(served.exchange.quote("ZO").bid)
        state = await trio_asyncio.aio_as_trio(ib.whatIfOrderAsync)(
            contract, LimitOrder("SELL", 1, bid)
        )
        assert (float(state.maintMarginBefore), float(state.maintMarginAfter)) == (2700, 1350)


async def test_what_if_off_the_tick_is_refused_with_110(served: Served) -> None:
    """A what-if order's price is checked as an order's would be."""
    async with connected(served) as ib:
        errors = errors_of(ib)
        contract = await qualified(ib)
        order = LimitOrder("BUY", 1, 340.1)
        await trio_asyncio.aio_as_trio(ib.whatIfOrderAsync)(contract, order)
        assert [code for _, code in errors] == [110]
        assert served.exchange.open_orders() == ()


async def test_bracket_order_works_end_to_end(served: Served) -> None:
    """ib_async's bracketOrder (entry LMT, take-profit LMT, stop-loss STP): the entry fills,
    both exits work, the take-profit fills and IB's implicit OCA cancels the stop."""
    async with connected(served) as ib:
        contract = await qualified(ib)
        quote = served.exchange.quote("ZO")
        orders = ib.bracketOrder(
            "BUY", 1, float(quote.ask), float(quote.ask + 3), float(quote.bid - 3)
        )
        entry, profit, stop = (ib.placeOrder(contract, o) for o in orders)
        await wait_until(lambda: entry.orderStatus.status == "Filled")
        await wait_until(
            lambda: profit.orderStatus.status == stop.orderStatus.status == "Submitted"
        )
        assert stop.order.orderType == "STP"
        served.exchange.inject_flow("ZO", Side.BUY, 100)
        await wait_until(lambda: profit.isDone() and stop.isDone())
        assert (profit.orderStatus.status, stop.orderStatus.status) == ("Filled", "Cancelled")
        assert served.exchange.positions()[0].quantity == 0


async def test_a_stop_order_triggers_on_a_trade_through_it(served: Served) -> None:
    """A STP sell works (listed among open orders) until a trade prints at its stop, then
    fills as a market order."""
    async with connected(served) as ib:
        contract = await qualified(ib)
        bid = served.exchange.quote("ZO").bid
        trade = ib.placeOrder(contract, StopOrder("SELL", 1, float(bid)))
        await wait_until(lambda: trade.orderStatus.status == "Submitted")
        listed = await trio_asyncio.aio_as_trio(ib.reqOpenOrdersAsync)()
        assert [t.order.orderType for t in listed] == ["STP"]
        served.exchange.inject_flow("ZO", Side.SELL, 1)
        await wait_until(trade.isDone)
        assert trade.orderStatus.status == "Filled"


async def test_completed_orders_carry_real_perm_ids(served: Served) -> None:
    """A rejected order is reported with a permId of its own, like a filled one."""
    async with connected(served) as ib:
        contract = await qualified(ib)
        rejected = ib.placeOrder(contract, Order(action="BUY", totalQuantity=1, orderType="MOC"))
        ask = float(served.exchange.quote("ZO").ask)
        filled = ib.placeOrder(contract, LimitOrder("BUY", 1, ask))
        await wait_until(lambda: rejected.isDone() and filled.isDone())
    async with connected(served, client_id=2) as ib:
        trades = await trio_asyncio.aio_as_trio(ib.reqCompletedOrdersAsync)(True)
    perm_ids = [t.order.permId for t in trades]
    assert [t.orderStatus.status for t in trades] == ["Inactive", "Filled"]
    assert all(p > 0 for p in perm_ids) and len(set(perm_ids)) == 2


async def test_a_global_cancel_reaches_the_owner(served: Served) -> None:
    """A global cancel sent by another client cancels the order, and the owner's trade says
    so."""
    async with connected(served, client_id=1) as owner, connected(served, client_id=3) as cli:
        contract = await qualified(owner)
        bid = served.exchange.quote("ZO").bid
        resting = owner.placeOrder(contract, LimitOrder("BUY", 1, float(bid - 2)))
        stop = owner.placeOrder(contract, StopOrder("SELL", 1, float(bid - 4)))
        await wait_until(
            lambda: resting.orderStatus.status == stop.orderStatus.status == "Submitted"
        )
        cli.reqGlobalCancel()
        await wait_until(lambda: resting.isDone() and stop.isDone())
        assert resting.orderStatus.status == stop.orderStatus.status == "Cancelled"
        assert served.exchange.working_orders() == frozenset()


async def test_a_client_id_in_use_fails_the_connect_at_once(served: Served) -> None:
    """The second connection with a connected client id gets 326 and its connect fails well
    within its time-out."""
    async with connected(served, client_id=5):
        second = IB()
        errors = errors_of(second)
        start = trio.current_time()
        with pytest.raises(ConnectionError):
            await trio_asyncio.aio_as_trio(second.connectAsync)(
                "127.0.0.1", served.gateway.port, clientId=5, timeout=5
            )
        assert trio.current_time() - start < 1
        assert (-1, 326) in errors


async def test_account_summary_carries_the_margin_of_the_positions(served: Served) -> None:
    """After buying two oats contracts, the account summary's margin tags are two contracts'
    estimated margin, and available funds and excess liquidity are the equity less them."""
    async with connected(served) as ib:
        contract = await qualified(ib)
        ask = float(served.exchange.quote("ZO").ask)
        trade = ib.placeOrder(contract, LimitOrder("BUY", 2, ask))
        await wait_until(trade.isDone)
        rows = await trio_asyncio.aio_as_trio(ib.accountSummaryAsync)()
        tags = {row.tag: float(row.value) for row in rows}
        assert (tags["InitMarginReq"], tags["MaintMarginReq"]) == (2970, 2700)
        equity = tags["NetLiquidation"]
        assert tags["AvailableFunds"] == pytest.approx(equity - 2970)
        assert tags["ExcessLiquidity"] == pytest.approx(equity - 2700)
