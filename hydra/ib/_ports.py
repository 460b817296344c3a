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
    """Refuse ``port`` with `LiveTradingRefusedError` unless the rule above allows it."""
    if port in LIVE_PORTS:
        if not live:
            raise LiveTradingRefusedError(
                f"port {port} is a live trading port: pass live=True (--live) and set "
                f"{LIVE_CONFIRMED_ENV}=true to trade live, or use a paper port {PAPER_PORTS}"
            )
        if not live_confirmed(environ):
            raise LiveTradingRefusedError(
                f"port {port} is a live trading port and live=True was given, but "
                f"{LIVE_CONFIRMED_ENV} is {environ.get(LIVE_CONFIRMED_ENV)!r}, not 'true'"
            )
        return
    if live:
        kind = "a paper trading port" if port in PAPER_PORTS else "not a known live port"
        raise LiveTradingRefusedError(
            f"live=True but port {port} is {kind}: live trading uses only {LIVE_PORTS}"
        )
