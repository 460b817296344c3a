"""The ``hydra sim-gateway`` subcommand's parser."""

from __future__ import annotations

import argparse

import pytest

from hydra.cli._gateway_command import add_parser, run_sim_gateway


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hydra")
    add_parser(parser.add_subparsers())
    return parser.parse_args(argv)


def test_defaults() -> None:
    """Port 4002, oats, seed 1, the default account, no scheduled drop."""
    args = parse(["sim-gateway"])
    assert (args.port, args.market, args.seed, args.account, args.drop_at) == (
        4002,
        "oats",
        1,
        "DU1234567",
        None,
    )
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
        ]
    )
    assert (args.port, args.market, args.seed, args.account, args.drop_at) == (
        0,
        "hogs",
        9,
        "DU7",
        2.5,
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["sim-gateway", "--market", "corn"],
        ["sim-gateway", "--port", "70000"],
        ["sim-gateway", "--drop-at", "-1"],
        ["sim-gateway", "--drop-at", "nan"],
    ],
)
def test_bad_options_are_usage_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown market, a bad port or a negative drop time is refused by argparse."""
    with pytest.raises(SystemExit) as exit_info:
        parse(argv)
    assert exit_info.value.code == 2
    capsys.readouterr()
