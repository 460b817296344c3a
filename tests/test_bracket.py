"""Bracket orders: validation, the three requests, and a bracket worked on the simulator."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import trio

from hydra import OATS, InvalidValueError, OrderStatus, OrderType, Side
from hydra._bracket import BracketIntent, bracket_requests
from hydra.sim import Gap, ScriptedFlow, open_sim_exchange
from tests.simulated import open_engine, quiet_oats


def _long(**changes: object) -> BracketIntent:
    fields: dict[str, object] = dict(
        contract=OATS, side=Side.BUY, quantity=3, entry_price="350.25",
        take_profit_price="351.00", stop_price="349.00", stop_limit_price="348.75",
    )
    fields.update(changes)
    return BracketIntent(**fields)  # type: ignore[arg-type]


def test_requests_are_entry_take_profit_and_stop_in_one_oca_group() -> None:
    """Entry LMT and take-profit LMT held, stop STP LMT transmits; exits are OCA children."""
    entry, take_profit, stop = bracket_requests(_long())
    assert (entry.side, entry.order_type, entry.transmit) == (Side.BUY, OrderType.LIMIT, False)
    assert (take_profit.side, take_profit.limit_price) == (Side.SELL, Decimal("351.00"))
    assert (stop.order_type, stop.stop_price, stop.limit_price, stop.transmit) == (
        OrderType.STOP_LIMIT, Decimal("349.00"), Decimal("348.75"), True,
    )
    assert take_profit.parent_id == stop.parent_id == entry.client_order_id
    assert take_profit.oca_group == stop.oca_group is not None and entry.oca_group is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"take_profit_price": "350.00"}, "take_profit_price"),
        ({"stop_price": "350.50"}, "entry_price"),
        ({"stop_limit_price": "349.25"}, "stop_price"),
    ],
)
def test_prices_out_of_order_name_the_field(changes: dict[str, object], field: str) -> None:
    """For a buy: stop limit ≤ stop < entry < take profit, or the offending price is named."""
    with pytest.raises(InvalidValueError, match=f"^{field}:"):
        _long(**changes)


def test_short_bracket_mirrors_the_order() -> None:
    """For a sell the prices run the other way."""
    short = BracketIntent(contract=OATS, side=Side.SELL, quantity=1, entry_price="350",
                          take_profit_price="349", stop_price="351", stop_limit_price="351.25")
    assert bracket_requests(short)[2].side is Side.BUY


async def test_take_profit_fills_and_cancels_the_stop(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """The entry fills at once; after a gap up, buy flow lifts the take-profit; OCA cancels
    the stop and the bracket reports."""
    market = quiet_oats(gaps=(Gap(at=30.0, change=Decimal("2.00")),),
                        flows=(ScriptedFlow(at=40.0, side=Side.BUY, quantity=3),))
    async with open_sim_exchange(market, seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite") as engine:
            handle = await engine.submit_bracket(_long())
            report = await handle.wait_done()
        assert exchange.open_orders() == ()
    entry, take_profit, stop = report.children
    assert entry.status is take_profit.status is OrderStatus.FILLED
    assert stop.status is OrderStatus.CANCELLED and stop.order_type is OrderType.STOP_LIMIT
    assert report.filled == 3 and take_profit.fills[0].price == Decimal("351.00")
    (position,) = exchange.positions()
    assert position.quantity == 0


async def test_cancelling_before_the_entry_fills_cancels_all_three(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A resting entry cancelled by the user takes its held exits with it."""
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite") as engine:
            handle = await engine.submit_bracket(_long(entry_price="349.75"))
            await trio.sleep(5)
            assert len(exchange.open_orders()) == 3
            handle.cancel()
            report = await handle.wait_done()
            assert exchange.open_orders() == ()
    assert [child.status for child in report.children] == [OrderStatus.CANCELLED] * 3
    assert report.filled == 0
