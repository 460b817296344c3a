"""The ``hydra sim-gateway`` subcommand: its parser, and its hours in a real process."""

from __future__ import annotations

import argparse
import datetime as dt
import pathlib

import pytest
import trio_asyncio
from ib_async import IB, ContFuture

from hydra.cli._gateway_command import add_parser, markets_for, run_sim_gateway
from tests.gateway_client import HANG_GUARD, sim_gateway_process


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hydra")
    add_parser(parser.add_subparsers())
    return parser.parse_args(argv)


def test_defaults() -> None:
    """Port 4002, every product, every listed month, seed 1, the default account, no drop,
    the exchange's hours."""
    args = parse(["sim-gateway"])
    assert (args.port, args.market, args.months, args.seed, args.account, args.drop_at,
            args.hours) == (4002, None, None, 1, "DU1234567", None, "exchange")
    assert args.run is run_sim_gateway


def test_all_options() -> None:
    """Every option is read."""
    args = parse(
        [
            "sim-gateway",
            "--port",
            "0",
            "--market",
            "hogs",
            "--seed",
            "9",
            "--account",
            "DU7",
            "--drop-at",
            "2.5",
            "--hours",
            "none",
        ]
    )
    assert (args.port, args.market, args.seed, args.account, args.drop_at, args.hours) == (
        0,
        ["hogs"],
        9,
        "DU7",
        2.5,
        "none",
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["sim-gateway", "--market", "corn"],
        ["sim-gateway", "--port", "70000"],
        ["sim-gateway", "--drop-at", "-1"],
        ["sim-gateway", "--drop-at", "nan"],
        ["sim-gateway", "--months", "0"],
        ["sim-gateway", "--hours", "cme"],
    ],
)
def test_bad_options_are_usage_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown market, a bad port or a negative drop time is refused by argparse."""
    with pytest.raises(SystemExit) as exit_info:
        parse(argv)
    assert exit_info.value.code == 2
    capsys.readouterr()


def test_markets_of_several_months() -> None:
    """Three months of oats from 2026-12-01 skip December (in delivery): March, May and July,
    each its own market, thinner further out; one month is the product's front market."""
    markets = markets_for(["oats"], months=3, today=dt.date(2026, 12, 1))
    assert [(m.contract.expiry, m.adv) for m in markets] == [
        ("202703", 1500), ("202705", 750), ("202707", 375)
    ]
    [front] = markets_for(["hogs"], months=1, today=dt.date(2026, 12, 1))
    assert (front.symbol, front.contract.expiry) == ("HE", None)


def test_every_listed_month_by_default() -> None:
    """By default each product serves a year of listed months: oats' five (December 2026 in
    delivery, so March 2027 to December 2027) and hogs' eight, each its own market."""
    markets = markets_for(["oats", "hogs"], months=None, today=dt.date(2026, 12, 1))
    assert [m.contract.expiry for m in markets if m.symbol == "ZO"] == [
        "202703", "202705", "202707", "202709", "202712"
    ]
    assert [m.contract.expiry for m in markets if m.symbol == "HE"] == [
        "202612", "202702", "202704", "202705", "202706", "202707", "202708", "202710"
    ]


@pytest.mark.parametrize(("hours", "listed"), [("exchange", True), ("none", False)])
async def test_the_hours_it_gives_clients(tmp_path: pathlib.Path, hours: str, listed: bool,
                                          ) -> None:
    """With the exchange's hours a client reads IB's trading and liquid hours text; with
    ``--hours none`` none (a market that never closes: Hydra trades it at any hour)."""
    with sim_gateway_process(tmp_path / "gateway.log", "--market", "oats",
                             "--hours", hours) as port:
        async with trio_asyncio.open_loop():
            ib = IB()
            await trio_asyncio.aio_as_trio(ib.connectAsync)(
                "127.0.0.1", port, clientId=5, timeout=HANG_GUARD)
            try:
                [details] = await trio_asyncio.aio_as_trio(ib.reqContractDetailsAsync)(
                    ContFuture("ZO", "CBOT"))
            finally:
                ib.disconnect()
    assert bool(details.tradingHours) is listed
    assert bool(details.liquidHours) is listed
