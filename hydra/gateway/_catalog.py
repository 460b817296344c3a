"""The gateway's contract catalog: the simulator's futures as IB describes them, and the lookup
from a client's (partial) contract to them. Pure.

Each simulated market trades one delivery month: the contract's own ``expiry`` when it has one,
else the front month at the session start — the nearest listed month more than
`hydra._contracts.ROLL_DAYS` before its delivery window, as Hydra chooses it. ``ContFuture``
names the first listed month not yet in its delivery period nor expired, as IB's does (by
the exchanges' dates: `hydra._contracts.last_trade_day`, `first_notice_day`). The conId is a
stable hash of symbol and month, so it is the same on every run. Trading and liquid hours:
`_hours`.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation

import attrs

from .._contracts import (
    MONTH_CODES,
    ROLL_DAYS,
    ContractSpec,
    first_notice_day,
    last_trade_day,
)
from .._core._front_month import front_month as hydras_front_month
from .._core._sessions import ib_zone_id
from ._hours import ib_hours
from ._replies import ContractDetails, WireContract
from ._requests import ContractFields

_LONG_NAMES = {"ZO": "Oats", "HE": "Lean Hogs"}


@attrs.frozen(kw_only=True)
class Listing:
    """One tradable contract: the simulator's spec and its IB description."""

    spec: ContractSpec
    wire: WireContract
    contract_month: str  # YYYYMM

    @property
    def symbol(self) -> str:
        return self.spec.symbol


def listed_months(spec: ContractSpec, today: dt.date, count: int) -> list[str]:
    """The first ``count`` listed months (YYYYMM) not in delivery nor expired on ``today``."""
    found: list[str] = []
    year, month = today.year, today.month
    while len(found) < count:
        text = f"{year}{month:02d}"
        if MONTH_CODES[month - 1] in spec.months and _tradable(spec.symbol, text, today):
            found.append(text)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def front_month(spec: ContractSpec, today: dt.date) -> str:
    """The spec's own month, else the month a trader trades: the nearest more than
    `ROLL_DAYS` before its delivery window (Hydra's own front month by default), so that a
    product's one default market is the month Hydra asks for."""
    return spec.expiry or hydras_front_month(spec, today=today, roll_days=ROLL_DAYS)


def listing_for(spec: ContractSpec, today: dt.date) -> Listing:
    month = front_month(spec, today)
    code = MONTH_CODES[int(month[4:]) - 1]
    return Listing(
        spec=spec.for_month(month),
        contract_month=month,
        wire=WireContract(
            con_id=zlib.crc32(f"{spec.symbol}:{month}".encode()) & 0x3FFFFFFF,
            symbol=spec.symbol,
            last_trade_date=f"{last_trade_day(spec.symbol, month):%Y%m%d}",
            multiplier=spec.multiplier,
            exchange=spec.exchange,
            currency=spec.currency,
            local_symbol=f"{spec.symbol}{code}{month[3]}",
            trading_class=spec.symbol,
        ),
    )


class Catalog:
    """The listings the gateway serves, and lookups by a client's contract fields."""

    def __init__(self, specs: Iterable[ContractSpec], *, today: dt.date,
                 hours: bool = True, clock: Callable[[], dt.date] | None = None) -> None:
        """``hours``: contract details carry IB's trading and liquid hours (False: empty, as
        from a broker that gives none, so a client holds nothing back for them), listed from
        the day ``clock`` says when asked (the exchange's), else from ``today``."""
        self._today = today
        self._hours = hours
        self._clock = clock
        specs = tuple(specs)
        self._listings = tuple(listing_for(spec, today) for spec in specs)
        self._by_market = {
            (spec.symbol, spec.expiry): x for spec, x in zip(specs, self._listings, strict=True)
        }

    @property
    def listings(self) -> tuple[Listing, ...]:
        return self._listings

    def by_symbol(self, symbol: str) -> Listing | None:
        return next((x for x in self._listings if x.symbol == symbol), None)

    def for_contract(self, spec: ContractSpec) -> Listing | None:
        """The listing of the simulator's market ``spec`` (as the exchange names it: a month,
        or none for a product's default market)."""
        return self._by_market.get((spec.symbol, spec.expiry))

    def matches(self, contract: ContractFields) -> tuple[Listing, ...]:
        """Every listing the client's contract could mean (IB's contract details search)."""
        return tuple(x for x in self._listings if _matches(x, contract))

    def continuous(self, contract: ContractFields) -> Listing | None:
        """The front month a ``ContFuture`` names, described as IB does (secType CONTFUT)."""
        asked = attrs.evolve(contract, sec_type="FUT", last_trade_date_or_contract_month="")
        months = [x for x in self.matches(asked) if _live(x, self._today)]
        if not months:
            return None
        front = min(months, key=lambda x: x.contract_month)
        return attrs.evolve(front, wire=attrs.evolve(front.wire, sec_type="CONTFUT"))

    def resolve(self, contract: ContractFields) -> Listing | None:
        """The one listing the contract names, or None (unknown or ambiguous)."""
        found = self.matches(contract)
        return found[0] if len(found) == 1 else None

    def details(self, req_id: int, listing: Listing) -> ContractDetails:
        spec = listing.spec
        day = self._today if self._clock is None else self._clock()
        hours = ib_hours(spec.trading_hours, day) if self._hours else ""
        liquid = ib_hours(spec.trading_hours, day, liquid=True) if self._hours else ""
        return ContractDetails(
            req_id=req_id,
            contract=listing.wire,
            min_tick=spec.tick_size,
            price_magnifier=spec.price_magnifier,
            long_name=_LONG_NAMES.get(spec.symbol, spec.symbol),
            contract_month=listing.contract_month,
            time_zone=ib_zone_id(spec.time_zone),
            trading_hours=hours,
            liquid_hours=liquid,
            market_rule_id=market_rule_id(spec.tick_size),
        )

    def tick_of_rule(self, rule_id: int) -> Decimal | None:
        """The price increment of market rule ``rule_id`` (None: no listing has that rule)."""
        ticks = {market_rule_id(x.spec.tick_size): x.spec.tick_size for x in self._listings}
        return ticks.get(rule_id)

    def products(self, pattern: str) -> tuple[Listing, ...]:
        """One listing per product whose symbol starts with ``pattern`` (IB's symbol search)."""
        found: dict[str, Listing] = {}
        for x in self._listings:
            if x.symbol.startswith(pattern.upper()):
                found.setdefault(x.symbol, x)
        return tuple(found.values())


def market_rule_id(tick: Decimal) -> int:
    """A stable market rule id for a constant tick (IB numbers its rules; these are ours)."""
    return 1000 + zlib.crc32(str(tick.normalize()).encode()) % 9000


def _tradable(symbol: str, month: str, today: dt.date) -> bool:
    """Neither in delivery (on or past its first notice day) nor past its last trading day."""
    notice = first_notice_day(symbol, month)
    return notice > today if notice is not None else last_trade_day(symbol, month) >= today


def _live(listing: Listing, today: dt.date) -> bool:
    return _tradable(listing.symbol, listing.contract_month, today)


def _matches(listing: Listing, c: ContractFields) -> bool:
    w = listing.wire
    if c.con_id:
        return c.con_id == w.con_id
    month = c.last_trade_date_or_contract_month
    checks = (
        (c.symbol, w.symbol),
        (c.sec_type, w.sec_type),
        (c.exchange if c.exchange != "SMART" else "", w.exchange),
        (c.currency, w.currency),
        (c.local_symbol, w.local_symbol),
        (c.trading_class, w.trading_class),
    )
    if not c.symbol and not c.local_symbol:
        return False
    if any(asked and asked != have for asked, have in checks):
        return False
    if c.multiplier and _decimal(c.multiplier) != w.multiplier:
        return False
    return not month or w.last_trade_date.startswith(month)


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None
