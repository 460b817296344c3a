"""The contract catalog: the simulator's futures as IB contracts, and contract lookup."""

from __future__ import annotations

import datetime as dt

import pytest

from hydra import LEAN_HOGS, OATS
from hydra.gateway._catalog import Catalog, front_month
from hydra.gateway._requests import ContractFields

MONDAY = dt.date(2025, 3, 3)
FEBRUARY = dt.date(2025, 2, 3)


@pytest.mark.parametrize(
    ("spec", "today", "month"),
    [
        (OATS, FEBRUARY, "202503"),  # March (H): its first notice day is February 28
        (OATS, MONDAY, "202505"),  # March is in delivery: May (K)
        (OATS, dt.date(2026, 12, 1), "202703"),  # Z6 is in delivery on 2026-12-01: H7
        (LEAN_HOGS, MONDAY, "202504"),  # hogs list no March: April (J)
        (LEAN_HOGS, dt.date(2025, 4, 8), "202504"),  # cash-settled: last trade Apr 14, 6 days
        (LEAN_HOGS, dt.date(2025, 4, 9), "202505"),  # within 5 days of it: May
        (OATS, dt.date(2025, 4, 28), "202507"),  # May's first notice (Apr 30) is 2 days off
        (OATS, dt.date(2025, 12, 20), "202603"),  # over the year end
        (OATS.for_month("202509"), MONDAY, "202509"),  # a spec's own month wins
    ],
)
def test_front_month(spec: object, today: dt.date, month: str) -> None:
    """A default market's month is Hydra's front month: the nearest listed month more than
    `ROLL_DAYS` (5) days before its first notice day, or its last trading day when
    cash-settled."""
    assert front_month(spec, today) == month  # type: ignore[arg-type]


def test_cont_future_names_the_front_month() -> None:
    """A CONTFUT request finds the front month among several, described with secType CONTFUT
    and the month's own conId."""
    catalog = Catalog([OATS.for_month("202505"), OATS.for_month("202507")], today=MONDAY)
    front = catalog.continuous(ContractFields(symbol="ZO", sec_type="CONTFUT", exchange="CBOT"))
    assert front is not None
    assert (front.wire.sec_type, front.contract_month) == ("CONTFUT", "202505")
    assert catalog.resolve(ContractFields(con_id=front.wire.con_id)).wire.sec_type == "FUT"


def test_liquid_hours_are_the_day_session() -> None:
    """Trading hours list both oats sessions; liquid hours only the day session."""
    catalog = Catalog([OATS], today=MONDAY)
    details = catalog.details(1, catalog.listings[0])
    assert "20250303:1900-20250304:0745" in details.trading_hours
    assert details.liquid_hours.split(";")[0] == "20250303:0830-20250303:1320"
    assert "1900" not in details.liquid_hours


def test_cbot_and_cme_futures_are_in_ibs_us_central() -> None:
    """IB's contract details of CBOT and CME futures name their zone ``US/Central``, not the
    tz database's ``America/Chicago``."""
    catalog = Catalog([OATS, LEAN_HOGS], today=MONDAY)
    assert {catalog.details(1, x).time_zone for x in catalog.listings} == {"US/Central"}


def test_an_early_close_day_in_the_details() -> None:
    """On the Friday after Thanksgiving 2026 the details list oats' day session to 12:05 and
    no overnight session before it."""
    catalog = Catalog([OATS], today=dt.date(2026, 11, 25))
    details = catalog.details(1, catalog.listings[0])
    assert "20261126:CLOSED;20261127:0830-20261127:1205;" in details.trading_hours
    assert "20261127:0830-20261127:1205" in details.liquid_hours


def test_a_catalog_without_hours_gives_none() -> None:
    """``hours=False`` (``hydra run --sim --sim-hours none``): empty hours, as from a broker
    that gives none, so Hydra holds nothing back for them."""
    catalog = Catalog([OATS], today=MONDAY, hours=False)
    details = catalog.details(1, catalog.listings[0])
    assert (details.trading_hours, details.liquid_hours) == ("", "")


def test_lookup_by_partial_contract() -> None:
    """Symbol with or without exchange, month or full date, or conId find the one listing;
    a wrong month, exchange or symbol finds nothing."""
    catalog = Catalog([OATS, LEAN_HOGS], today=FEBRUARY)
    zo = catalog.by_symbol("ZO")
    assert zo is not None
    assert zo.wire.local_symbol == "ZOH5"
    assert zo.wire.last_trade_date == "20250314"
    for fields in (
        ContractFields(symbol="ZO"),
        ContractFields(symbol="ZO", exchange="CBOT", last_trade_date_or_contract_month="202503"),
        ContractFields(symbol="ZO", sec_type="FUT", last_trade_date_or_contract_month="20250314"),
        ContractFields(con_id=zo.wire.con_id),
        ContractFields(local_symbol="ZOH5", exchange="SMART"),
    ):
        assert catalog.resolve(fields) == zo
    for fields in (
        ContractFields(symbol="ZO", last_trade_date_or_contract_month="202505"),
        ContractFields(symbol="ZO", exchange="CME"),
        ContractFields(symbol="ZZ"),
        ContractFields(symbol="ZO", multiplier="garbage"),
        ContractFields(),
    ):
        assert catalog.resolve(fields) is None


def test_contract_ids_are_stable_and_distinct() -> None:
    """The same contract gets the same conId on every run; different ones differ."""
    one = Catalog([OATS, LEAN_HOGS], today=MONDAY)
    two = Catalog([OATS, LEAN_HOGS], today=MONDAY)
    assert [x.wire.con_id for x in one.listings] == [x.wire.con_id for x in two.listings]
    assert len({x.wire.con_id for x in one.listings}) == 2
