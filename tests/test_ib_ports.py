"""Port safety: paper ports open, live ports only with both opt-ins, nothing else live."""

from __future__ import annotations

import pytest

from hydra._errors import LiveTradingRefusedError
from hydra._settings import BrokerSettings
from hydra.ib import LIVE_CONFIRMED_ENV, check_port, live_confirmed, open_ib_broker

CONFIRMED = {LIVE_CONFIRMED_ENV: "true"}
ENVIRONMENTS = [{}, {LIVE_CONFIRMED_ENV: "false"}, {LIVE_CONFIRMED_ENV: ""}, CONFIRMED]


@pytest.mark.parametrize("environ", ENVIRONMENTS)
@pytest.mark.parametrize("port", [4002, 7497, 12345])
def test_paper_and_other_ports_are_allowed_for_paper(port: int, environ: dict[str, str]) -> None:
    """Without live, paper ports and unknown ports pass whatever the environment says."""
    check_port(port, live=False, environ=environ)


@pytest.mark.parametrize("environ", ENVIRONMENTS)
@pytest.mark.parametrize("port", [4001, 7496])
def test_live_port_without_live_is_refused(port: int, environ: dict[str, str]) -> None:
    """A live port without live=True is refused, even with the environment confirmation."""
    with pytest.raises(LiveTradingRefusedError, match=f"port {port} is a live trading port"):
        check_port(port, live=False, environ=environ)


@pytest.mark.parametrize("environ", ENVIRONMENTS[:3])
@pytest.mark.parametrize("port", [4001, 7496])
def test_live_port_without_confirmation_is_refused(port: int, environ: dict[str, str]) -> None:
    """live=True on a live port still needs HYDRA_LIVE_CONFIRMED=true."""
    with pytest.raises(LiveTradingRefusedError, match=LIVE_CONFIRMED_ENV):
        check_port(port, live=True, environ=environ)


@pytest.mark.parametrize("value", ["true", "TRUE", " True "])
@pytest.mark.parametrize("port", [4001, 7496])
def test_live_port_with_both_opt_ins_is_allowed(port: int, value: str) -> None:
    """live=True and HYDRA_LIVE_CONFIRMED=true (any case) open a live port."""
    check_port(port, live=True, environ={LIVE_CONFIRMED_ENV: value})


@pytest.mark.parametrize("environ", ENVIRONMENTS)
@pytest.mark.parametrize("port", [4002, 7497, 12345])
def test_live_on_a_non_live_port_is_refused(port: int, environ: dict[str, str]) -> None:
    """live=True on a paper or unknown port is a mismatch, refused."""
    with pytest.raises(LiveTradingRefusedError, match=f"--live was given but port {port}"):
        check_port(port, live=True, environ=environ)


@pytest.mark.parametrize(
    ("port", "live", "environ", "expected"),
    [
        (4001, False, {}, "port 4001 is a live trading port: to trade live pass --live and set "
                          "HYDRA_LIVE_CONFIRMED=true, or use a paper port (4002 or 7497)"),
        (7496, True, {}, "port 7496 is a live trading port and --live was given, but "
                         "HYDRA_LIVE_CONFIRMED is not set: set HYDRA_LIVE_CONFIRMED=true to "
                         "trade live"),
        (4001, True, {LIVE_CONFIRMED_ENV: " "}, "but HYDRA_LIVE_CONFIRMED is empty: set"),
        (4001, True, {LIVE_CONFIRMED_ENV: "yes"}, 'but HYDRA_LIVE_CONFIRMED="yes": set'),
        (4002, True, CONFIRMED, "--live was given but port 4002 is a paper trading port: live "
                                "trading uses only port 4001 or 7496"),
    ],
)
def test_refusals_are_one_line_in_the_command_lines_words(
    port: int, live: bool, environ: dict[str, str], expected: str
) -> None:
    """Each refusal is one line naming --live and HYDRA_LIVE_CONFIRMED=true, with no reprs."""
    with pytest.raises(LiveTradingRefusedError) as refused:
        check_port(port, live=live, environ=environ)
    message = str(refused.value)
    assert expected in message
    assert "\n" not in message and "None" not in message and "'" not in message


@pytest.mark.parametrize("value", ["1", "yes", "tru", "false"])
def test_only_true_confirms(value: str) -> None:
    """Only the word true confirms live trading."""
    assert not live_confirmed({LIVE_CONFIRMED_ENV: value})
    assert live_confirmed(CONFIRMED)


async def test_open_ib_broker_refuses_before_connecting(monkeypatch: pytest.MonkeyPatch) -> None:
    """open_ib_broker refuses a live port before any connection is attempted."""
    monkeypatch.delenv(LIVE_CONFIRMED_ENV, raising=False)
    with pytest.raises(LiveTradingRefusedError):
        async with open_ib_broker(BrokerSettings(port=4001), live=True):
            pytest.fail("a live port was opened without the environment confirmation")
