"""Hypothesis strategies for Hydra's domain types, shared by every property test."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import strategies as st

from hydra._contracts import LEAN_HOGS, OATS, ContractSpec
from hydra._core._market_stats import DailyBar
from hydra._enums import Side
from hydra._quotes import Quote

contracts = st.sampled_from([OATS, LEAN_HOGS])
sides = st.sampled_from(list(Side))
quantities = st.integers(min_value=1, max_value=10_000)


@st.composite
def quotes_for(draw: st.DrawFn, contract: ContractSpec) -> Quote:
    """An on-tick, uncrossed quote for ``contract`` with a spread of 1 to 8 ticks."""
    bid_ticks = draw(st.integers(min_value=40, max_value=400_000))
    spread_ticks = draw(st.integers(min_value=1, max_value=8))
    tick = contract.tick_size
    return Quote(
        bid=tick * bid_ticks,
        ask=tick * (bid_ticks + spread_ticks),
        bid_size=draw(st.integers(min_value=0, max_value=50)),
        ask_size=draw(st.integers(min_value=0, max_value=50)),
    )


@st.composite
def contract_and_quote(draw: st.DrawFn) -> tuple[ContractSpec, Quote]:
    contract = draw(contracts)
    return contract, draw(quotes_for(contract))


bad_numbers = st.sampled_from(
    [float("nan"), float("inf"), float("-inf"), -1, 0, Decimal("NaN"), Decimal("-0.25"), "abc"]
)


@st.composite
def timed_quotes(draw: st.DrawFn) -> Quote:
    """A valid quote for one of the contracts, stamped at a Trio time from 0 to 10,000 s."""
    quote = draw(contract_and_quote())[1]
    time = draw(st.floats(min_value=0.0, max_value=10_000.0))
    return Quote(bid=quote.bid, ask=quote.ask, bid_size=quote.bid_size,
                 ask_size=quote.ask_size, time=time)


broker_prices = st.one_of(
    st.none(),
    st.sampled_from([-1.0, 0.0, -0.25, float("nan"), float("inf"), Decimal("NaN")]),
    st.floats(min_value=0.01, max_value=1e6),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10**6), places=2),
)
"""A bid or ask as a broker may send it: missing, IB's -1, zero, negative, NaN, or a price."""


@st.composite
def daily_bar_series(draw: st.DrawFn, *, min_size: int = 0, max_size: int = 40
                     ) -> list[DailyBar]:
    """Daily bars on distinct days, in no particular order, with prices from 1 to 100,000
    and volumes up to a million."""
    days = draw(st.lists(st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 1, 1)),
                         min_size=min_size, max_size=max_size, unique=True))
    prices = st.decimals(min_value=1, max_value=100_000, places=2)
    return [DailyBar(day=day, open=close, high=close, low=close, close=close,
                     volume=draw(st.integers(min_value=0, max_value=1_000_000)))
            for day, close in ((day, draw(prices)) for day in days)]
