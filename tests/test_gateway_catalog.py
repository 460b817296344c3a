"""The contract catalog: the simulator's futures as IB contracts, and contract lookup."""

from __future__ import annotations

import datetime as dt

import pytest

from hydra import LEAN_HOGS, OATS
from hydra.gateway._catalog import Catalog, front_month, trading_hours
from hydra.gateway._requests import ContractFields

MONDAY = dt.date(2025, 3, 3)


@pytest.mark.parametrize(
    ("spec", "today", "month"),
    [
        (OATS, MONDAY, "202503"),  # March (H) is listed and not past its last trading day
        (OATS, dt.date(2025, 3, 20), "202505"),  # past the 14th: May (K)
        (LEAN_HOGS, MONDAY, "202504"),  # hogs list no March: April (J)
        (OATS, dt.date(2025, 12, 20), "202603"),  # over the year end
        (OATS.for_month("202509"), MONDAY, "202509"),  # a spec's own month wins
    ],
)
def test_front_month(spec: object, today: dt.date, month: str) -> None:
    """The front month is the first listed month whose last trading day is still ahead."""
    assert front_month(spec, today) == month  # type: ignore[arg-type]


def test_lookup_by_partial_contract() -> None:
    """Symbol with or without exchange, month or full date, or conId find the one listing;
    a wrong month, exchange or symbol finds nothing."""
    catalog = Catalog([OATS, LEAN_HOGS], today=MONDAY)
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


def test_trading_hours_text() -> None:
    """IB's hours text: one window a day, overnight sessions closing the next day, CLOSED
    on days without a session."""
    hours = trading_hours(LEAN_HOGS.trading_hours, MONDAY).split(";")
    assert hours[0] == "20250303:0830-20250303:1305"
    assert hours[5:] == ["20250308:CLOSED", "20250309:CLOSED"]
    overnight = trading_hours(OATS.trading_hours, MONDAY).split(";")
    assert overnight[:2] == ["20250303:1900-20250304:0745", "20250303:0830-20250303:1320"]
