import datetime as dt
from decimal import Decimal

import attrs
import pytest

from hydra._contracts import (
    BUILT_IN_CONTRACTS,
    LEAN_HOGS,
    OATS,
    ContractSpec,
    contract_for,
    delivery_months,
    delivery_window_opens,
    first_notice_day,
    last_trade_day,
)
from hydra._errors import InvalidValueError


def test_oats_point_and_tick_value() -> None:
    """Oats move $50 per cent and $12.50 per tick, per MARKETS.md."""
    assert OATS.point_value == Decimal(50)
    assert OATS.tick_value == Decimal("12.50")


def test_hogs_point_and_tick_value() -> None:
    """Lean hogs move $400 per cent and $10.00 per tick, per MARKETS.md."""
    assert LEAN_HOGS.point_value == Decimal(400)
    assert LEAN_HOGS.tick_value == Decimal("10.000")


def test_contract_for_known_symbols() -> None:
    """The built-in contracts are found by symbol."""
    assert contract_for("ZO") is OATS
    assert contract_for("HE") is LEAN_HOGS
    assert set(BUILT_IN_CONTRACTS) == {"ZO", "HE"}


def test_contract_for_unknown_symbol_names_the_field() -> None:
    """An unknown symbol is refused with an error naming the symbol field and value."""
    with pytest.raises(InvalidValueError, match=r"symbol: unknown contract .*'XX'"):
        contract_for("XX")


def test_built_in_contracts_cannot_be_replaced() -> None:
    """The built-in table is read-only."""
    with pytest.raises(TypeError):
        BUILT_IN_CONTRACTS["ZO"] = LEAN_HOGS  # type: ignore[index]


def test_for_month_accepts_listed_month() -> None:
    """A delivery month the product lists is accepted."""
    assert OATS.for_month("202612").expiry == "202612"


@pytest.mark.parametrize("expiry", ["202602", "2026-03", "202613", "26H"])
def test_for_month_refuses_bad_expiry(expiry: str) -> None:
    """A malformed or unlisted delivery month names the expiry field."""
    with pytest.raises(InvalidValueError, match="expiry"):
        OATS.for_month(expiry)


@pytest.mark.parametrize("tick", ["0", "-0.25", "NaN", "Infinity", "x"])
def test_bad_tick_size_is_refused(tick: str) -> None:
    """A zero, negative, NaN, infinite or non-numeric tick names the tick_size field."""
    with pytest.raises(InvalidValueError, match="tick_size"):
        attrs.evolve(OATS, tick_size=tick)


def test_bad_month_codes_are_refused() -> None:
    """Month codes must be futures month letters."""
    with pytest.raises(InvalidValueError, match="months"):
        ContractSpec(symbol="X", exchange="Y", tick_size=1, multiplier=1, months=("A",))


def test_is_on_tick() -> None:
    """Prices are on the tick grid only at whole multiples of the tick."""
    assert OATS.is_on_tick(Decimal("350.25"))
    assert not OATS.is_on_tick(Decimal("350.30"))
    assert LEAN_HOGS.is_on_tick(Decimal("85.325"))
    assert not LEAN_HOGS.is_on_tick(Decimal("85.33"))


def test_oats_last_trade_is_the_business_day_before_the_fifteenth() -> None:
    """ZOH6: 2026-03-14 is a Saturday, so the last trade is Friday 2026-03-13."""
    assert last_trade_day("ZO", "202603") == dt.date(2026, 3, 13)
    assert last_trade_day("ZO", "202612") == dt.date(2026, 12, 14)


def test_oats_first_notice_is_the_last_business_day_of_the_month_before() -> None:
    """ZOZ6: 2026-11-30 (a Monday); ZOK7: 2027-04-30 (a Friday); ZOH7: 2027-02-26, since the
    28th is a Sunday."""
    assert first_notice_day("ZO", "202612") == dt.date(2026, 11, 30)
    assert first_notice_day("ZO", "202705") == dt.date(2027, 4, 30)
    assert first_notice_day("ZO", "202703") == dt.date(2027, 2, 26)


def test_hogs_are_cash_settled_and_last_trade_on_the_tenth_business_day() -> None:
    """HE has no first notice; HEZ6 last trades on 2026-12-14, the tenth weekday."""
    assert first_notice_day("HE", "202612") is None
    assert last_trade_day("HE", "202612") == dt.date(2026, 12, 14)
    assert delivery_window_opens("HE", "202612") == dt.date(2026, 12, 14)
    assert delivery_window_opens("ZO", "202612") == dt.date(2026, 11, 30)


def test_delivery_months_follow_the_cycle_from_this_month() -> None:
    """Oats list H, K, N, U, Z: from December 2026, Z6 then H7, K7 and so on."""
    months = delivery_months(OATS, since=dt.date(2026, 12, 1))
    assert [next(months) for _ in range(4)] == ["202612", "202703", "202705", "202707"]


@pytest.mark.parametrize(
    ("symbol", "month", "last_trade", "first_notice"),
    [
        ("ZO", "202503", dt.date(2025, 3, 14), dt.date(2025, 2, 28)),
        ("ZO", "202609", dt.date(2026, 9, 14), dt.date(2026, 8, 31)),
        ("ZO", "202605", dt.date(2026, 5, 14), dt.date(2026, 4, 30)),
        ("ZO", "202611", dt.date(2026, 11, 13), dt.date(2026, 10, 30)),  # the 14th: Saturday
        ("HE", "202504", dt.date(2025, 4, 14), None),
        ("HE", "202602", dt.date(2026, 2, 13), None),
        ("HE", "202601", dt.date(2026, 1, 15), None),  # New Year's Day is not a business day
    ],
)
def test_last_trade_and_first_notice_days(
    symbol: str, month: str, last_trade: dt.date, first_notice: dt.date | None
) -> None:
    """ZO: last trade the business day before the 15th, first notice the last business day of
    the month before; HE: the 10th business day, no notice (business days: neither weekends
    nor exchange holidays)."""
    assert last_trade_day(symbol, month) == last_trade
    assert first_notice_day(symbol, month) == first_notice
