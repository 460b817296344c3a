"""Port safety: which IB ports Hydra may connect to, decided before any connection. Pure.

The rule, in full:

* a live port (4001 IB Gateway, 7496 TWS) needs both ``live=True`` and the environment variable
  ``HYDRA_LIVE_CONFIRMED=true``; anything less is refused;
* a paper port (4002 IB Gateway, 7497 TWS) is for paper trading only: ``live=True`` on a paper
  port is refused as a mismatch (the caller believes it trades live, and it does not);
* any other port (the simulated gateway on an ephemeral port, a paper gateway moved elsewhere)
  is treated as paper: allowed without ``live``, refused with it, because Hydra cannot tell
  whether it reaches a live account and never lets an unknown port count as live.
"""

from __future__ import annotations

from collections.abc import Mapping

from .._errors import LiveTradingRefusedError
from .._settings import LIVE_PORTS, PAPER_PORTS

LIVE_CONFIRMED_ENV = "HYDRA_LIVE_CONFIRMED"
"""The environment variable that must be ``true`` (any case) for a live port."""


def live_confirmed(environ: Mapping[str, str]) -> bool:
    """True when ``environ`` holds the live-trading confirmation."""
    return environ.get(LIVE_CONFIRMED_ENV, "").strip().lower() == "true"


def check_port(port: int, *, live: bool, environ: Mapping[str, str]) -> None:
    """Refuse ``port`` with `LiveTradingRefusedError` unless the rule above allows it.

    The messages are one line in the command line's words: ``--live`` is ``live=True``."""
    if port in LIVE_PORTS:
        if not live:
            raise LiveTradingRefusedError(
                f"port {port} is a live trading port: to trade live pass --live and set "
                f"{LIVE_CONFIRMED_ENV}=true, or use a paper port ({_ports(PAPER_PORTS)})"
            )
        if not live_confirmed(environ):
            raise LiveTradingRefusedError(
                f"port {port} is a live trading port and --live was given, but "
                f"{_confirmation(environ)}: set {LIVE_CONFIRMED_ENV}=true to trade live"
            )
        return
    if live:
        kind = "a paper trading port" if port in PAPER_PORTS else "not a known live port"
        raise LiveTradingRefusedError(
            f"--live was given but port {port} is {kind}: live trading uses only "
            f"port {_ports(LIVE_PORTS)}"
        )


def _confirmation(environ: Mapping[str, str]) -> str:
    """What the environment says instead of the confirmation, as a shell user would write it."""
    value = environ.get(LIVE_CONFIRMED_ENV)
    if value is None:
        return f"{LIVE_CONFIRMED_ENV} is not set"
    if not value.strip():
        return f"{LIVE_CONFIRMED_ENV} is empty"
    return f'{LIVE_CONFIRMED_ENV}="{value}"'


def _ports(ports: tuple[int, ...]) -> str:
    return " or ".join(str(p) for p in ports)
