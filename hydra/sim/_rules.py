"""What the exchange refuses: pure checks of a new ticket or a modification against one
market, each answering an IB-like (code, reason) or None."""

from __future__ import annotations

from decimal import Decimal

from ..brokers import ErrorCode
from ._market import Market
from ._ticket import OrderTicket

Refusal = tuple[int, str]
ORDER_TYPES = ("LMT", "STP LMT", "MKT", "STP")
UNPRICED = ("MKT", "STP")
"""Order types without a limit price: the exchange takes them from clients other than Hydra
(a gateway's other programs); Hydra's own `OrderType` cannot express them."""
STOPS = ("STP LMT", "STP")
TIMES_IN_FORCE = ("DAY", "GTC", "IOC")


def off_tick(market: Market, what: str, price: Decimal) -> Refusal | None:
    """110 when ``price`` is not on ``market``'s tick grid."""
    if market.ticks(price) is None:
        tick = market.params.contract.tick_size
        return ErrorCode.PRICE_OFF_TICK, f"{what} {price} is not a multiple of the tick {tick}"
    return None


def ticket_refusal(ticket: OrderTicket, market: Market | None) -> Refusal | None:
    """Why a new ``ticket`` is refused on its own terms (brackets and OCA aside), or None."""
    if market is None:
        name = f"{ticket.symbol} {ticket.expiry}" if ticket.expiry else ticket.symbol
        return ErrorCode.UNKNOWN_CONTRACT, f"no security definition for {name!r}"
    if ticket.order_type not in ORDER_TYPES:
        return ErrorCode.ORDER_REJECTED, f"order type {ticket.order_type!r} is not supported"
    if ticket.time_in_force not in TIMES_IN_FORCE:
        return ErrorCode.ORDER_REJECTED, f"time in force {ticket.time_in_force!r} is not supported"
    if ticket.order_type in UNPRICED:
        if ticket.quantity <= 0:
            return ErrorCode.ORDER_REJECTED, "quantity must be positive"
        if ticket.limit_price is not None:
            return ErrorCode.ORDER_REJECTED, f"a {ticket.order_type} order has no limit price"
        return stop_refusal(market, ticket.order_type, ticket.stop_price)
    if ticket.quantity <= 0 or ticket.limit_price is None or ticket.limit_price <= 0:
        return ErrorCode.ORDER_REJECTED, "quantity and limit price must be positive"
    return off_tick(market, "price", ticket.limit_price) or stop_refusal(
        market, ticket.order_type, ticket.stop_price
    )


def stop_refusal(market: Market, order_type: str, stop: Decimal | None) -> Refusal | None:
    """A stop order (STP LMT, STP) needs a positive stop price on the tick grid; others have
    none."""
    if order_type not in STOPS:
        if stop is None:
            return None
        return ErrorCode.ORDER_REJECTED, "a stop price is only allowed on a stop order"
    if stop is None or stop <= 0:
        problem = f"a {order_type} order needs a positive stop price, not {stop}"
        return ErrorCode.ORDER_REJECTED, problem
    return off_tick(market, "stop price", stop)


def modify_refusal(
    market: Market,
    order_type: str,
    *,
    limit_price: Decimal,
    stop_price: Decimal | None,
    quantity: int | None,
    filled: int,
) -> Refusal | None:
    """Why a modification of a live order is refused, or None."""
    if order_type in UNPRICED:
        return ErrorCode.MODIFY_MISMATCH, f"a {order_type} order cannot be modified here"
    if limit_price <= 0 or market.ticks(limit_price) is None:
        tick = market.params.contract.tick_size
        return ErrorCode.PRICE_OFF_TICK, f"price {limit_price} is not a multiple of the tick {tick}"
    if stop_price is not None:
        if order_type != "STP LMT":
            return ErrorCode.MODIFY_MISMATCH, "a stop price is only allowed on a STP LMT order"
        refusal = stop_refusal(market, order_type, stop_price)
        if refusal is not None:
            return refusal
    if quantity is not None and quantity <= filled:
        return ErrorCode.MODIFY_MISMATCH, f"quantity {quantity} is not above the filled {filled}"
    return None
