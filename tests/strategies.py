"""Hypothesis strategies for Hydra's domain types, shared by every property test."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

from hydra._contracts import LEAN_HOGS, OATS, ContractSpec
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
