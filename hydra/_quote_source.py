"""`QuoteSource`: a broker's quotes as Hydra prices from them, with the unusable ones held back.

A crossed, one-sided, zero, NaN or stale quote is unusable (`hydra._core._quote_check`):
`QuoteSource.usable` answers None for it, and whoever asked prices nothing from it. A broker
that cannot make a `Quote` at all raises `BrokerError` from ``quote_nowait``; that too is an
unusable quote here, never an error out of a worker. Each contract's unusable spell is one
*episode*: logged once when it starts (``quote_unusable``) and once when it ends
(``quote_usable``), and counted, however often it is asked about in between.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping

import attrs
import structlog
import trio

from ._contracts import ContractSpec
from ._core._quote_check import quote_problem
from ._errors import BrokerError, InvalidValueError, QuoteUnusableError
from ._quotes import Quote

log = structlog.get_logger()


@attrs.frozen(kw_only=True)
class QuoteStatistics:
    """A snapshot of a `QuoteSource`."""

    episodes: int  # times some contract's quote became unusable
    unusable: Mapping[str, str]  # contract (symbol, and month when named) → why, for now


def contract_name(contract: ContractSpec) -> str:
    """``ZO``, or ``ZO 202512`` for a contract that names its delivery month."""
    return f"{contract.symbol} {contract.expiry}" if contract.expiry else contract.symbol


class QuoteSource:
    """Reads quotes with ``read`` (a broker's ``quote_nowait``) and checks each one; a quote
    older than ``max_age`` seconds is stale (``math.inf``: never)."""

    def __init__(self, read: Callable[[ContractSpec], Quote], *, max_age: float) -> None:
        if isinstance(max_age, bool) or not isinstance(max_age, int | float) or not (
            max_age > 0
        ):
            raise InvalidValueError("max_age", max_age, "must be seconds above zero, or inf")
        self._read = read
        self._max_age = float(max_age)
        self._episodes = 0
        self._unusable: dict[str, tuple[str, float]] = {}  # name → (why, since)

    def usable(self, contract: ContractSpec) -> Quote | None:
        """The quote of ``contract`` now, or None when there is none fit to price from."""
        quote: Quote | None
        problem: str | None
        try:
            quote = self._read(contract)
        except QuoteUnusableError as e:
            quote, problem = None, e.problem
        except BrokerError as e:
            quote, problem = None, f"unavailable: {e}"
        # Read after the quote: on the real clock a quote stamped as it is read (the
        # simulator's) would otherwise be "ahead" of a now taken a moment before.
        now = trio.current_time()
        if quote is not None:
            problem = quote_problem(quote, now=now, max_age=self._max_age)
        self._note(contract, problem, now)
        return quote if problem is None else None

    def problem(self, contract: ContractSpec) -> str | None:
        """Why ``contract``'s quote was unusable when last asked about (None: it was usable)."""
        found = self._unusable.get(contract_name(contract))
        return found[0] if found else None

    def statistics(self) -> QuoteStatistics:
        unusable = {name: why for name, (why, _) in self._unusable.items()}
        return QuoteStatistics(episodes=self._episodes,
                               unusable=types.MappingProxyType(unusable))

    def _note(self, contract: ContractSpec, problem: str | None, now: float) -> None:
        name = contract_name(contract)
        spell = self._unusable.get(name)
        if problem is None:
            if spell is not None:
                del self._unusable[name]
                log.info("quote_usable", symbol=name, after=now - spell[1])
            return
        if spell is None:
            self._episodes += 1
            log.warning("quote_unusable", symbol=name, why=problem)
            spell = (problem, now)
        self._unusable[name] = (problem, spell[1])
