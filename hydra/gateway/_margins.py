"""Margin per contract, and what an order would do to the account's margin: IB's what-if
answer and the account's margin values. Pure.

The margins are estimates of the exchange's outright futures margins for a retail account
(CME Group publishes maintenance margins that change often; initial is 110% of maintenance):
oats (ZO) $1,350 maintenance, $1,485 initial; lean hogs (HE) $1,850 maintenance, $2,035
initial. A product without an estimate here is margined at 5% of its notional (110% of that
initial). Spreads between months get no credit: each contract is margined outright.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

import attrs

from .._contracts import ContractSpec

_INITIAL_OVER_MAINTENANCE = Decimal("1.1")
_NOTIONAL_SHARE = Decimal("0.05")
_MAINTENANCE = {"ZO": Decimal(1350), "HE": Decimal(1850)}


@attrs.frozen(kw_only=True)
class Margin:
    """Dollars of initial and maintenance margin."""

    initial: Decimal = Decimal(0)
    maintenance: Decimal = Decimal(0)

    def __add__(self, other: Margin) -> Margin:
        return Margin(
            initial=self.initial + other.initial,
            maintenance=self.maintenance + other.maintenance,
        )

    def __sub__(self, other: Margin) -> Margin:
        return Margin(
            initial=self.initial - other.initial,
            maintenance=self.maintenance - other.maintenance,
        )


def per_contract(spec: ContractSpec, mark: Decimal) -> Margin:
    """The margin of one contract of ``spec`` (marked at ``mark`` when it has no estimate)."""
    maintenance = _MAINTENANCE.get(spec.symbol)
    if maintenance is None:
        maintenance = (_NOTIONAL_SHARE * mark * spec.point_value).quantize(Decimal(1))
    return Margin(initial=maintenance * _INITIAL_OVER_MAINTENANCE, maintenance=maintenance)


def requirement(
    holdings: Iterable[tuple[ContractSpec, int]], marks: Mapping[ContractSpec, Decimal]
) -> Margin:
    """The margin of signed quantities held per contract."""
    total = Margin()
    for spec, quantity in holdings:
        one = per_contract(spec, marks.get(spec, Decimal(0)))
        total += Margin(
            initial=one.initial * abs(quantity), maintenance=one.maintenance * abs(quantity)
        )
    return total


@attrs.frozen(kw_only=True)
class WhatIf:
    """IB's OrderState for a what-if order: margin and equity before, change and after."""

    before: Margin
    after: Margin
    equity_before: Decimal
    commission: Decimal
    currency: str = "USD"

    @property
    def change(self) -> Margin:
        return self.after - self.before

    @property
    def equity_after(self) -> Decimal:
        return self.equity_before - self.commission
