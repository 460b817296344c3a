"""The status region's lines: the run's head, one line per working order, fitted to the
terminal (never wrapped, never more rows than it may take, printable ASCII only)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import attrs
from hypothesis import example, given
from hypothesis import strategies as st

from hydra._contracts import LEAN_HOGS, OATS
from hydra._enums import Side, TradingState
from hydra._quotes import Quote
from hydra._status_region import (
    HEAD_LINES,
    StatusView,
    duration,
    fitted,
    region_rows,
    status_lines,
)
from hydra._working_view import WorkingOrder
from tests.strategies import quotes_for, sides

CHICAGO = ZoneInfo("America/Chicago")
NOW = dt.datetime(2026, 12, 1, 9, 15, 30, tzinfo=CHICAGO)

LADDER = WorkingOrder(
    intent_id="inbox-3-4f2a", client_order_id="c-1", contract=OATS.for_month("202703"),
    symbol="ZO", side=Side.BUY, filled=1, quantity=2, limit_price=Decimal("350.25"),
    stage="STEPPED", stage_left=12.3, last_stage=False, slices=None,
    quote=Quote(bid=Decimal("350"), ask=Decimal("350.75")))
TWAP = WorkingOrder(
    intent_id="desk-HE-sell", client_order_id="c-2", contract=LEAN_HOGS, symbol="HE",
    side=Side.SELL, filled=0, quantity=12, limit_price=Decimal("84.125"), stage="RESTING",
    stage_left=75, last_stage=True, slices=(2, 5))
VIEW = StatusView(
    venue="PAPER", account="DU*****67", session_up=True, trading_state=TradingState.ACTIVE,
    now=NOW, next_hook=dt.datetime(2026, 12, 2, 8, 35, tzinfo=CHICAGO), working=2, finished=5,
    blocked=1, fills=7, filled_quantity=9, orders=(LADDER, TWAP))


def test_at_200_columns_every_fact_is_shown_in_aligned_columns() -> None:
    """The head (venue, account, link, state, exchange clock, next hook), the counts, and per
    order: intent, side, contract, filled/quantity, limit, bid and ask, stage and time left,
    a TWAP's slice."""
    assert status_lines(VIEW, width=200, rows=12) == [
        "hydra: PAPER DU*****67 | connected | risk ACTIVE | 09:15:30 CST | hook Wed 08:35",
        "  working 2 | done 5 (blocked 1) | fills 7 (9 lots)",
        "  inbox-3-4f2a BUY  ZO 1/2  @ 350.25 bid 350.00 ask 350.75 STEPPED next in 13s",
        "  desk-HE-sell SELL HE 0/12 @ 84.125 bid - ask -           RESTING ends in 1m15s"
        " TWAP slice 2/5",
    ]


def test_at_40_columns_the_intent_is_cut_and_no_line_wraps() -> None:
    """On 40 columns the intent keeps 10 (cut with ~) and every line ends by column 39."""
    lines = status_lines(VIEW, width=40, rows=12)
    assert lines[2] == "  inbox-3-4~ BUY  ZO 1/2  @ 350.25 bid "
    assert lines[0] == "hydra: PAPER DU*****67 | connected | ri"
    assert all(len(line) <= 39 for line in lines)


def test_at_80_columns_the_stage_and_time_left_are_in_view() -> None:
    """On 80 columns a ladder's order line ends with its stage and time to the next step."""
    lines = status_lines(VIEW, width=80, rows=12)
    assert lines[2].endswith("STEPPED next in 13s")
    assert all(len(line) <= 79 for line in lines)


def test_more_orders_than_rows_shows_the_first_and_how_many_more() -> None:
    """50 orders in 12 rows: the head, the first 9 orders, and "+41 more"."""
    orders = tuple(attrs.evolve(LADDER, intent_id=f"i{n}") for n in range(50))
    lines = status_lines(attrs.evolve(VIEW, orders=orders), width=80, rows=12)
    assert len(lines) == 12
    assert [line.split()[0] for line in lines[2:11]] == [f"i{n}" for n in range(9)]
    assert lines[-1] == "  +41 more working orders"


def test_without_orders_the_region_is_its_head_alone() -> None:
    """No working order, no account, disconnected and halted, no hook: two lines."""
    view = attrs.evolve(VIEW, orders=(), account=None, session_up=False, next_hook=None,
                        trading_state=TradingState.HALTED)
    assert status_lines(view, width=200, rows=12) == [
        "hydra: PAPER | DISCONNECTED | risk HALTED | 09:15:30 CST",
        "  working 2 | done 5 (blocked 1) | fills 7 (9 lots)"]


def test_a_journal_it_cannot_read_is_said_under_the_counts() -> None:
    """The problem gets the third line; the orders of the last read follow it."""
    lines = status_lines(attrs.evolve(VIEW, problem="journal unreadable: j.sqlite: no such "
                                                    "file"), width=200, rows=12)
    assert lines[2] == "  journal unreadable: j.sqlite: no such file"
    assert lines[3].startswith("  inbox-3-4f2a BUY ")


def test_an_intent_id_cannot_move_the_cursor_or_take_two_columns() -> None:
    """Escape sequences, wide and combining characters become ``?``, one column each."""
    hostile = attrs.evolve(LADDER, intent_id="\x1b[2J\u8a02\u5355e\u0301")
    (line,) = status_lines(attrs.evolve(VIEW, orders=(hostile,)), width=200, rows=12)[2:]
    assert line.startswith("  ?[2J??e? BUY ")
    assert fitted("caf\u00e9\n", 80) == "caf??"


def test_the_region_takes_half_the_terminal_and_at_least_three_lines() -> None:
    """24 lines: 12 for the region; 4 lines: still the head and one more."""
    assert (region_rows(24), region_rows(4), region_rows(1)) == (12, 3, 3)


def test_durations_are_whole_seconds_rounded_up() -> None:
    """9.1 s shows 10s; minutes with two-digit seconds; hours with two-digit minutes."""
    assert [duration(s) for s in (0, 9.1, -3, 60, 125, 3600, 3725.5)] == [
        "0s", "10s", "0s", "1m00s", "2m05s", "1h00m", "1h02m"]


@given(width=st.integers(min_value=0, max_value=300), rows=st.integers(min_value=0, max_value=60),
       ids=st.lists(st.text(max_size=80), max_size=40), side=sides,
       quote=st.none() | quotes_for(OATS), problem=st.none() | st.text(max_size=300))
@example(width=1, rows=0, ids=["x"], side=Side.BUY, quote=None, problem=None)
def test_every_line_fits_the_width_and_the_rows(
    width: int, rows: int, ids: list[str], side: Side, quote: Quote | None,
    problem: str | None,
) -> None:
    """Whatever the ids and the size, each line is printable ASCII within ``width - 1``
    columns, and there are no more lines than ``rows`` (or the head and one more): every
    order has its line, or the region is full."""
    orders = tuple(attrs.evolve(LADDER, intent_id=text, side=side, quote=quote) for text in ids)
    lines = status_lines(attrs.evolve(VIEW, orders=orders, problem=problem), width=width,
                         rows=rows)
    head = HEAD_LINES + (problem is not None)
    assert all(len(line) <= max(width - 1, 0) for line in lines)
    assert all(" " <= c <= "~" for line in lines for c in line)
    assert len(lines) <= max(rows, head + 1)
    assert len(lines) in (head + len(orders), max(rows, head + 1))  # all, or full
