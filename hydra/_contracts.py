"""Contract facts: tick size, multiplier, months, hours; the two built-in futures; and each
delivery month's dates.

The dates follow the exchanges' rules, a business day being a weekday that is not an exchange
holiday (`hydra._holidays`): CBOT oats (ZO, and any product Hydra has no rule for) last trade
on the business day before the 15th of the delivery month, with first notice on the last
business day of the month before; CME lean hogs (HE) are cash-settled (no notice) and last
trade on the 10th business day of the month.
"""

from __future__ import annotations

import datetime as dt
import types
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

import attrs

from ._errors import InvalidValueError
from ._holidays import is_exchange_holiday
from ._validate import (
    non_empty_str,
    optional_delivery_month,
    positive,
    positive_int,
    to_decimal,
)

MONTH_CODES = "FGHJKMNQUVXZ"
"""Futures month letters, January (F) to December (Z)."""

def _month_codes(_: Any, field: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    if not value or any(code not in MONTH_CODES or len(code) != 1 for code in value):
        raise InvalidValueError(field.name, value, f"must be month letters from {MONTH_CODES}")


@attrs.frozen(kw_only=True)
class TradingSession:
    """One recurring trading window, in the exchange's time zone.

    A window whose close is earlier than its open runs overnight into the next day.
    """

    days: str  # e.g. "Sun-Fri"
    open: dt.time
    close: dt.time


def _strings(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


def _sessions(values: Iterable[TradingSession]) -> tuple[TradingSession, ...]:
    return tuple(values)


@attrs.frozen(kw_only=True)
class ContractSpec:
    """A futures product (and optionally one delivery month of it) as IB describes it."""

    symbol: str = attrs.field(validator=non_empty_str)
    exchange: str = attrs.field(validator=non_empty_str)
    currency: str = attrs.field(default="USD", validator=non_empty_str)
    tick_size: Decimal = attrs.field(converter=to_decimal, validator=positive)
    multiplier: Decimal = attrs.field(converter=to_decimal, validator=positive)
    price_magnifier: int = attrs.field(default=1, validator=positive_int)
    months: tuple[str, ...] = attrs.field(converter=_strings, validator=_month_codes)
    time_zone: str = "America/Chicago"
    trading_hours: tuple[TradingSession, ...] = attrs.field(default=(), converter=_sessions)
    expiry: str | None = attrs.field(default=None)  # delivery month, "YYYYMM"

    @expiry.validator
    def _check_expiry(self, field: attrs.Attribute[Any], value: str | None) -> None:
        optional_delivery_month(self, field, value)
        if value is None:
            return
        if MONTH_CODES[int(value[4:]) - 1] not in self.months:
            raise InvalidValueError(
                field.name, value, f"{self.symbol} trades only in months {''.join(self.months)}"
            )

    @property
    def point_value(self) -> Decimal:
        """Dollars per 1.0 of quoted price per contract (multiplier / price magnifier)."""
        return self.multiplier / self.price_magnifier

    @property
    def tick_value(self) -> Decimal:
        """Dollars per tick per contract."""
        return self.tick_size * self.point_value

    def for_month(self, expiry: str) -> ContractSpec:
        """This product's contract for one delivery month ("YYYYMM")."""
        return attrs.evolve(self, expiry=expiry)

    def is_on_tick(self, price: Decimal) -> bool:
        """True when ``price`` is a whole number of ticks."""
        return price % self.tick_size == 0


OATS = ContractSpec(
    symbol="ZO",
    exchange="CBOT",
    tick_size=Decimal("0.25"),
    multiplier=Decimal(5000),
    price_magnifier=100,
    months=("H", "K", "N", "U", "Z"),
    trading_hours=(
        TradingSession(days="Sun-Fri", open=dt.time(19, 0), close=dt.time(7, 45)),
        TradingSession(days="Mon-Fri", open=dt.time(8, 30), close=dt.time(13, 20)),
    ),
)
"""CBOT oats: price in cents per bushel, 0.25 tick = $12.50 per contract."""

LEAN_HOGS = ContractSpec(
    symbol="HE",
    exchange="CME",
    tick_size=Decimal("0.025"),
    multiplier=Decimal(40000),
    price_magnifier=100,
    months=("G", "J", "K", "M", "N", "Q", "V", "Z"),
    trading_hours=(TradingSession(days="Mon-Fri", open=dt.time(8, 30), close=dt.time(13, 5)),),
)
"""CME lean hogs: price in cents per lb, 0.025 tick = $10.00 per contract."""

BUILT_IN_CONTRACTS: Mapping[str, ContractSpec] = types.MappingProxyType(
    {c.symbol: c for c in (OATS, LEAN_HOGS)}
)


def _business_day(day: dt.date) -> bool:
    return day.weekday() < 5 and not is_exchange_holiday(day)


def _business_days_back(day: dt.date) -> dt.date:
    """``day``, or the last business day (a weekday, not an exchange holiday) before it."""
    while not _business_day(day):
        day -= dt.timedelta(days=1)
    return day


def _month_start(month: str) -> dt.date:
    return dt.date(int(month[:4]), int(month[4:]), 1)


CASH_SETTLED = frozenset({"HE"})
"""Products settled in cash: no delivery, so no first notice day."""


def last_trade_day(symbol: str, month: str) -> dt.date:
    """The last trading day of ``symbol``'s delivery month ``month`` ("YYYYMM")."""
    if symbol == "HE":  # the 10th business day of the month
        day, counted = _month_start(month), 0
        while True:
            counted += _business_day(day)
            if counted == 10:
                return day
            day += dt.timedelta(days=1)
    return _business_days_back(_month_start(month).replace(day=14))  # the day before the 15th


def first_notice_day(symbol: str, month: str) -> dt.date | None:
    """The first notice day of ``symbol``'s delivery month ``month`` (None when cash-settled):
    the last business day of the month before."""
    if symbol in CASH_SETTLED:
        return None
    return _business_days_back(_month_start(month) - dt.timedelta(days=1))


def delivery_window_opens(symbol: str, month: str) -> dt.date:
    """The first day a holder of ``month`` is in its delivery window: its first notice day,
    or its last trading day when there is no notice."""
    return first_notice_day(symbol, month) or last_trade_day(symbol, month)


def delivery_months(spec: ContractSpec, *, since: dt.date) -> Iterator[str]:
    """``spec``'s delivery months ("YYYYMM") from ``since``'s calendar month on, without end
    (expired ones included: the caller judges them by their dates)."""
    year, month = since.year, since.month
    while True:
        if MONTH_CODES[month - 1] in spec.months:
            yield f"{year}{month:02d}"
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def contract_for(symbol: str) -> ContractSpec:
    """The built-in contract for ``symbol``; an unknown symbol is a clear error."""
    try:
        return BUILT_IN_CONTRACTS[symbol]
    except KeyError:
        known = ", ".join(sorted(BUILT_IN_CONTRACTS))
        raise InvalidValueError("symbol", symbol, f"unknown contract (known: {known})") from None
