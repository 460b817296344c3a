"""Whether IB's market data feed keeps a market's quote current. Sans-I/O.

IB streams a ticker's changes only: a thin market that does not move for minutes sends
nothing, and its last quote stands. Dating a quote by its last change would call such a market
stale after ``risk.max_quote_age`` and refuse every intent in it. A quote is therefore current
while IB vouches for the feed, and as old as its last change once IB puts the feed in doubt:

* a market is vouched for once its ticker has updated since the feed was last in doubt;
* the feed is in doubt while a market data farm is broken (2103, until that farm's 2104 or
  2108), and it is put in doubt by a lost connection (1100, a socket closed: the broker's
  own `forget`), a resubscription (IB's link back, 1101 or 1102: the broker asks for every
  quote again, and each market is current with its first tick), and a competing live
  session (10197: IB sends no data while another session of the account takes it, and says
  nothing when it stops).

`hydra.ib.IBBroker` stamps a vouched market's quote with the Trio time it is read; the
rest keep the time of their last change, so the usual age check finds them stale.
"""

from __future__ import annotations

from collections.abc import Iterable

from ._seen import QuoteKey

FARM_BROKEN = 2103
FARM_OK = 2104
FARM_INACTIVE = 2108  # "inactive but should be available upon demand": data still comes
COMPETING_SESSION = 10197


def _farm(message: str) -> str:
    """The farm a 2103/2104/2108 notice names: ``usfarm`` in "…connection is OK:usfarm", and
    ``usfarm.nj`` in IB's 2108, which has no colon: "…available upon demand.usfarm.nj"."""
    _, colon, farm = message.rpartition(":")
    if not colon:
        farm = message.partition(" upon demand.")[2] or message
    return farm.strip()


class QuoteFeed:
    """Which markets' quotes IB is keeping current now."""

    def __init__(self) -> None:
        self._vouched: set[QuoteKey] = set()
        self._broken_farms: set[str] = set()

    def updated(self, markets: Iterable[QuoteKey]) -> None:
        """These markets' tickers just updated."""
        self._vouched.update(markets)

    def notice(self, code: int, message: str) -> None:
        """IB said ``code``: a farm broken or back, or a competing session."""
        if code == FARM_BROKEN:
            self._broken_farms.add(_farm(message))
            self._vouched.clear()
        elif code in (FARM_OK, FARM_INACTIVE):
            self._broken_farms.discard(_farm(message))
        elif code == COMPETING_SESSION:
            self._vouched.clear()

    def forget(self) -> None:
        """The connection to IB went (or came back with its data lost): nothing is vouched."""
        self._vouched.clear()

    def current(self, market: QuoteKey) -> bool:
        """True when IB keeps ``market``'s quote current now."""
        return not self._broken_farms and market in self._vouched
