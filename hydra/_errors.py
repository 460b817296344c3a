"""Hydra's exceptions: one small hierarchy rooted at `HydraError`.

Each class also derives from the nearest builtin, so ``except ValueError`` still catches a bad
price. Messages name the field and show the bad value's ``repr``.
"""

from __future__ import annotations

from typing import Any


class HydraError(Exception):
    """Base of every error Hydra raises on purpose."""


class InvalidValueError(HydraError, ValueError):
    """A value failed validation; ``field`` names it and ``value`` is what was given."""

    def __init__(self, field: str, value: Any, problem: str) -> None:
        self.field = field
        self.value = value
        self.problem = problem
        super().__init__(f"{field}: {problem}, got {value!r}")


class ConfigError(InvalidValueError):
    """A configuration file or table is malformed; ``field`` is the dotted key path."""


class MissingKeyError(ConfigError):
    """A table lacks a key it must have; ``field`` is its key path (``value`` is None)."""


class TomlSyntaxError(ConfigError):
    """A file is not valid TOML: ``reason`` is what the TOML parser said (it ends with the
    line and column where it stopped), ``text`` the file's text."""

    def __init__(self, field: str, value: Any, problem: str, *, reason: str, text: str) -> None:
        super().__init__(field, value, problem)
        self.reason = reason
        self.text = text


class HookFailedError(HydraError, RuntimeError):
    """A call of the runner's strategy hook raised, ran past its deadline or answered with
    something that is not targets or intents; ``reason`` says which, in one line."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class UnsupportedOrderTypeError(HydraError, ValueError):
    """An order type Hydra refuses to express (there is no market order)."""


class RiskDeniedError(HydraError, PermissionError):
    """The risk actor refused an order request."""


class MarketClosedError(HydraError, PermissionError):
    """An intent refused because its contract's market is closed (``outside_hours``)."""


class OrderRejectedError(HydraError, RuntimeError):
    """The broker or exchange refused an order; ``code`` is the broker's error code."""

    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        self.reason = reason
        super().__init__(f"order rejected ({code}): {reason}")


class BrokerError(HydraError, RuntimeError):
    """The broker failed in a way that is not a plain order rejection."""


class BrokerConnectionError(BrokerError, ConnectionError):
    """The connection to the broker is down or could not be made."""


class LiveTradingRefusedError(HydraError, PermissionError):
    """A live trading port was asked for without the explicit opt-in."""


class UnmanagedOrdersError(BrokerError):
    """Hydra stopped with orders it could not cancel or confirm (the broker was unreachable):
    each is journaled as unmanaged, and ``client_order_ids`` names them for the trader."""

    def __init__(self, client_order_ids: list[str], *, cause: str | None) -> None:
        self.client_order_ids = list(client_order_ids)
        names = ", ".join(self.client_order_ids)
        why = f" ({cause})" if cause else ""
        super().__init__(f"{len(self.client_order_ids)} order(s) left unmanaged at the broker,"
                         f" check and cancel them by hand: {names}{why}")


class QuoteUnusableError(BrokerError):
    """The broker's quote for ``symbol`` cannot be priced from; ``problem`` says why
    ("crossed", "one-sided", "zero", "nan")."""

    def __init__(self, symbol: str, problem: str, *, bid: Any, ask: Any) -> None:
        self.symbol = symbol
        self.problem = problem
        where = "no two-sided quote" if problem in ("one-sided", "nan") else "unusable quote"
        super().__init__(f"{where} for {symbol!r} ({problem}): bid {bid!r}, ask {ask!r}")


class JournalLockedError(HydraError, BlockingIOError):
    """The journal at ``path`` is open for writing by another process (or another `Journal`
    of this one); ``pid`` and ``started_at`` name the holder, None when it did not say."""

    def __init__(self, path: str, *, pid: int | None, started_at: str | None) -> None:
        self.path = path
        self.pid = pid
        self.started_at = started_at
        holder = "another process" if pid is None else f"pid {pid}"
        since = "" if started_at is None else f" since {started_at}"
        super().__init__(f"journal {path!r} is open for writing by {holder}{since}: "
                         "one Hydra per journal")


class JournalWriteError(HydraError, OSError):
    """A journal write failed (the disk is full, the file cannot be written): nothing of it
    was committed. ``problem`` says why ("disk full", or SQLite's words); ``path`` is the
    journal. Hydra stops on it: nothing new is sent, working orders are cancelled."""

    def __init__(self, problem: str, *, path: str) -> None:
        self.problem = problem
        self.path = path
        super().__init__(f"journal write failed: {problem}")


class JournalFormatError(InvalidValueError):
    """The file at ``value`` is not a journal this Hydra can use; ``problem`` says why (not a
    Hydra journal, a newer schema, an event kind it does not know)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__("journal", path, problem)
        self.args = (f"{path}: {problem}",)


class JournalNoteError(InvalidValueError):
    """A journal note of kind ``note`` lost its ``field``, or holds a wrong ``value`` there (a
    hand-mended journal, another version's): one line naming the note and the field."""

    def __init__(self, note: str, field: str, value: Any, problem: str) -> None:
        super().__init__(field, value, problem)
        self.note = note
        missing = problem.startswith("is missing")
        self.args = (f"a {note} note's {field} {problem}",) if missing else (
            f"a {note} note's {field} {problem}, got {value!r}",)


class JournalReplacedError(HydraError, FileNotFoundError):
    """The journal at ``path`` is missing, empty or another journal, while its marker says
    journal ``expected`` lived there: a new journal would re-send what the old one sent."""

    def __init__(self, path: str, *, expected: str, found: str | None, marker: str) -> None:
        self.path = path
        self.expected = expected
        self.found = found
        what = "is missing or empty" if found is None else f"is another journal ({found})"
        super().__init__(f"journal {path!r} {what}, but journal {expected} lived there "
                         f"({marker}): restore it, or start a new one with --new-journal")


class JournalBehindError(HydraError, RuntimeError):
    """The broker shows orders or executions carrying this journal's id that the journal does
    not know (a lost write-ahead log, a restored backup): Hydra refuses to start rather than
    send again what was sent."""

    def __init__(self, *, orders: int, executions: int) -> None:
        self.orders = orders
        self.executions = executions
        super().__init__(
            f"journal is behind the broker: {_count(orders, 'order')} and "
            f"{_count(executions, 'execution')} it does not know (--adopt-unknown adopts "
            "them as strangers)")


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
