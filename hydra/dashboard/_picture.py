"""What the dashboard shows, as one frozen value built from the journal (and, with an engine
running, its live statistics).

Pure: `picture` reads `JournalRecord` values and the journal's working orders and returns a
`Picture`; nothing here opens a file or renders a page. The slippage figures are the fill
report's (`hydra._fill_report.fill_report`) and the gate's conditions `hydra._gate.gate_check`,
so the page and the reports can never disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

import attrs

from .._contracts import BUILT_IN_CONTRACTS
from .._core._positions import Position
from .._enums import NoteKind, Side, TradingState
from .._fill_report import FillReport, fill_report
from .._gate import Criterion, gate_check
from .._journal import JournaledOrder
from .._journal_records import JournalRecord
from .._settings import RiskLimits, SlippageSettings
from ._session import SessionState, session_state

MODES = {"SimBroker": "SIM", "IBBroker": "PAPER"}
"""The banner's mode by the broker class `open_hydra` journals at start. IBBroker shows PAPER:
the journal does not yet say whether its port was a live one (see the dashboard issue)."""


@attrs.frozen(kw_only=True)
class Banner:
    """The top line: which broker, whether it is connected, and whether Hydra may trade."""

    mode: str  # SIM, PAPER, or "-" before any engine started on the journal
    running: bool  # an engine is behind the page (False: read-only from a journal)
    session_up: bool
    reconnects: int
    trading_state: TradingState
    reason: str
    now: dt.datetime  # in the exchange's time zone
    sessions: tuple[tuple[str, SessionState], ...]  # each built-in contract's market


@attrs.frozen(kw_only=True)
class WorkingOrder:
    intent_id: str
    client_order_id: str
    symbol: str
    side: Side
    filled: int
    quantity: int
    limit_price: Decimal


@attrs.frozen(kw_only=True)
class Breaker:
    """One breaker's value against its limit (both in dollars)."""

    name: str
    value: Decimal
    limit: Decimal

    @property
    def used(self) -> float:
        """How far toward the limit, 0 to 1."""
        return 0.0 if self.value <= 0 else min(1.0, float(self.value / self.limit))


@attrs.frozen(kw_only=True)
class Picture:
    banner: Banner
    working: tuple[WorkingOrder, ...]
    report: FillReport
    positions: tuple[Position, ...]
    breakers: tuple[Breaker, ...]
    gate: tuple[Criterion, ...]


@attrs.frozen(kw_only=True)
class Live:
    """What a running engine knows beyond its journal."""

    session_up: bool
    trading_state: TradingState


def picture(
    records: Sequence[JournalRecord],
    live_orders: Sequence[JournaledOrder],
    *,
    live: Live | None,
    now: dt.datetime,
    limits: RiskLimits,
    settings: SlippageSettings,
) -> Picture:
    """The dashboard over a journal's ``records`` and ``live_orders``; ``live`` is None when
    no engine runs behind the page."""
    report = fill_report(records, settings=settings)
    positions = _positions(report)
    return Picture(
        banner=_banner(records, live, now),
        working=tuple(_working(order) for order in live_orders),
        report=report,
        positions=tuple(positions),
        breakers=_breakers(records, positions, limits),
        gate=tuple(gate_check(records, settings=settings)),
    )


def _banner(records: Sequence[JournalRecord], live: Live | None, now: dt.datetime) -> Banner:
    starts = [r for r in records if r.is_note(NoteKind.ENGINE_STARTED)]
    mode = "-" if not starts else MODES.get(str(starts[-1].payload.get("broker")), "PAPER")
    links = [r for r in records if r.is_note(NoteKind.SESSION_DOWN)
             or r.is_note(NoteKind.RECONNECTED)]
    states = [r for r in records if r.is_note(NoteKind.TRADING_STATE)]
    state = TradingState(states[-1].payload["state"]) if states else TradingState.ACTIVE
    reason = str(states[-1].payload.get("reason", "")) if states else ""
    session_up = not links or links[-1].is_note(NoteKind.RECONNECTED)
    if live is not None:
        session_up, state = live.session_up, live.trading_state
    return Banner(
        mode=mode, running=live is not None, session_up=session_up,
        reconnects=sum(r.is_note(NoteKind.RECONNECTED) for r in records),
        trading_state=state, reason=reason, now=now,
        sessions=tuple((c.symbol, session_state(c, now)) for c in BUILT_IN_CONTRACTS.values()),
    )


def _working(order: JournaledOrder) -> WorkingOrder:
    request = order.request
    return WorkingOrder(
        intent_id=request.intent_id, client_order_id=request.client_order_id,
        symbol=request.contract.symbol, side=request.side, filled=order.filled,
        quantity=request.quantity, limit_price=request.limit_price,
    )


def _positions(report: FillReport) -> list[Position]:
    """Each built-in contract's position after every journaled fill, in symbol order."""
    positions: dict[str, Position] = {}
    for line in report.fills:
        fill = line.fill
        contract = BUILT_IN_CONTRACTS.get(fill.symbol)
        if contract is None:
            continue
        before = positions.get(fill.symbol, Position(contract=contract))
        positions[fill.symbol] = before.after_fill(
            side=fill.side, quantity=fill.quantity, price=fill.price, commission=fill.commission)
    return [positions[symbol] for symbol in sorted(positions)]


def _breakers(records: Sequence[JournalRecord], positions: Sequence[Position],
              limits: RiskLimits) -> tuple[Breaker, ...]:
    """The breakers the journal can show: the realized loss against the daily loss limit, the
    worst single trade the risk book remembered, and the largest position's value at cost."""
    states = [r for r in records if r.is_note(NoteKind.RISK_STATE)]
    worst = Decimal(states[-1].payload["worst_trade_loss"]) if states else Decimal(0)
    realized = sum((p.realized_pnl - p.commission for p in positions), Decimal(0))
    value = max((p.market_value(p.average_price) for p in positions), default=Decimal(0))
    return (
        Breaker(name="daily_loss", value=-realized, limit=limits.daily_loss_limit),
        Breaker(name="single_trade_loss", value=worst, limit=limits.max_single_trade_loss),
        Breaker(name="position_value", value=value, limit=limits.max_position_value),
    )
