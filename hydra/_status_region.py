"""The status region of ``hydra run`` on a terminal, as lines of text (pure).

Two lines about the run, most important first since a narrow terminal cuts the end off: the
venue (SIM, PAPER, LIVE) and account, the link, the trading state, the clock in the
exchange's time zone and the strategy hook's next run; then the counts (and, when the journal
cannot be read, why the orders may be out of date). Below them one line
per working order (`hydra._working_view.WorkingOrder`, as the dashboard shows it): intent,
side, contract, filled of quantity, limit against bid and ask, ladder stage and time to the
next step, and which of a TWAP's slices it is. More orders than rows: the first ones and "+K more".

Every line is printable ASCII (anything else becomes ``?``: an intent id cannot move the
cursor or take two columns) and at most ``width - 1`` columns, so it never wraps.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import attrs

from ._enums import TradingState
from ._working_view import WorkingOrder, price_text

PREFIX = "hydra: "
"""The start of the region's first line (a test finds the region by it)."""

HEAD_LINES = 2
"""The lines above the working orders (and a problem's line, when there is one)."""

NONE = "-"


@attrs.frozen(kw_only=True)
class StatusView:
    """What the status region shows at one moment."""

    venue: str  # SIM, PAPER or LIVE
    account: str | None  # masked (DU*****67), as the engine journaled it at start
    session_up: bool
    trading_state: TradingState
    now: dt.datetime  # in the exchange's time zone
    next_hook: dt.datetime | None  # when the strategy hook runs next, if there is one
    working: int
    finished: int
    blocked: int
    fills: int
    filled_quantity: int
    orders: tuple[WorkingOrder, ...] = ()
    problem: str | None = None  # why the orders may be out of date (the journal unreadable)


def region_rows(lines: int) -> int:
    """How many lines the region may take on a terminal ``lines`` high: half of it, so log
    lines keep the other half, and never fewer than its head and one more line."""
    return max(HEAD_LINES + 1, lines // 2)


def status_lines(view: StatusView, *, width: int, rows: int) -> list[str]:
    """The region for a terminal ``width`` columns wide, in at most ``rows`` lines."""
    lines = [_head(view), _counts(view)] + ([] if view.problem is None else
                                            [f"  {view.problem}"])
    orders = list(view.orders)
    room = max(rows - len(lines), 1)
    if len(orders) > room:
        shown = room - 1
        lines += _order_lines(orders[:shown], width)
        lines.append(f"  +{len(orders) - shown} more working orders")
    else:
        lines += _order_lines(orders, width)
    return [fitted(line, width) for line in lines]


def fitted(line: str, width: int) -> str:
    """``line`` as printable ASCII, cut to ``width - 1`` columns."""
    text = "".join(c if " " <= c <= "~" else "?" for c in line)
    return text[:max(width - 1, 0)]


def _head(view: StatusView) -> str:
    who = view.venue if view.account is None else f"{view.venue} {view.account}"
    link = "connected" if view.session_up else "DISCONNECTED"
    hook = "" if view.next_hook is None else f" | hook {view.next_hook:%a %H:%M}"
    return (f"{PREFIX}{who} | {link} | risk {view.trading_state.value} | "
            f"{view.now:%H:%M:%S %Z}{hook}")


def _counts(view: StatusView) -> str:
    return (f"  working {view.working} | done {view.finished} (blocked {view.blocked}) | "
            f"fills {view.fills} ({view.filled_quantity} lots)")


def _order_lines(orders: Sequence[WorkingOrder], width: int) -> list[str]:
    """One line per order, its columns aligned; the intent's column gets a quarter of the
    width (at least 8), so the facts after it stay in view."""
    cells = [_cells(order) for order in orders]
    widths = [max((len(row[i]) for row in cells), default=0) for i in range(len(_COLUMNS))]
    widths[0] = min(widths[0], max(8, width // 4))
    return ["  " + " ".join(_cut(cell, size) for cell, size in zip(row, widths, strict=True))
            .rstrip() for row in cells]


_COLUMNS = ("intent", "side", "contract", "filled", "limit", "market", "stage", "slices")


def _cells(order: WorkingOrder) -> tuple[str, ...]:
    quote = order.quote
    market = (f"bid {NONE} ask {NONE}" if quote is None else
              f"bid {price_text(quote.bid, order.contract)} "
              f"ask {price_text(quote.ask, order.contract)}")
    step = "ends in" if order.last_stage else "next in"
    return (order.intent_id, order.side.value, order.symbol, f"{order.filled}/{order.quantity}",
            f"@ {price_text(order.limit_price, order.contract)}", market,
            f"{order.stage} {step} {duration(order.stage_left)}",
            "" if order.slices is None else f"TWAP slice {order.slices[0]}/{order.slices[1]}")


def _cut(cell: str, size: int) -> str:
    """``cell`` in ``size`` columns: padded, or cut with ``~`` as its last character."""
    return cell.ljust(size) if len(cell) <= size else cell[:size - 1] + "~"


def duration(seconds: float) -> str:
    """Whole seconds, rounded up: ``9s``, ``2m05s``, ``1h02m``."""
    whole = max(0, math.ceil(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
