"""What the dashboard shows, as one frozen value built from the journal (and, with an engine
running, its live statistics).

Pure: `picture` reads `JournalRecord` values and the journal's working orders and returns a
`Picture`; nothing here opens a file or renders a page. The slippage figures are the fill
report's (`hydra._fill_report.fill_report`), the gate's conditions `hydra._gate.gate_check`
and the working orders `hydra._working_view`'s (as the terminal's status region shows them),
so the page and the engine can never disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from .._contracts import BUILT_IN_CONTRACTS, ContractSpec
from .._core._positions import Position
from .._enums import NoteKind, TradingState
from .._fill_report import FillReport, fill_report
from .._gate import Criterion, gate_check
from .._journal import JournaledOrder
from .._journal_records import JournalRecord
from .._quote_source import contract_name
from .._quotes import Quote
from .._settings import HydraConfig, RiskLimits, WorkingHours
from .._working_view import WorkingOrder, quoted, working_orders
from ._session import SessionState, session_state

MODES = {"SimBroker": "SIM", "IBBroker": "PAPER"}
"""The banner's mode by the broker class `open_hydra` journals at start, for journals whose
``engine_started`` has no ``venue`` (sim, paper or live) yet."""


@attrs.frozen(kw_only=True)
class Banner:
    """The top line: which broker, whether it is connected, and whether Hydra may trade."""

    mode: str  # SIM, PAPER, or "-" before any engine started on the journal
    account: str | None  # masked (DU*****67), as the last engine_started has it
    running: bool  # an engine is behind the page (False: read-only from a journal)
    session_up: bool
    reconnects: int
    trading_state: TradingState
    reason: str
    now: dt.datetime  # in the exchange's time zone
    sessions: tuple[tuple[str, SessionState], ...]  # each built-in contract's market


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
    marks: Mapping[str, Decimal] = attrs.field(factory=dict)  # mid by contract_name

    def contracts(self) -> list[ContractSpec]:
        """Every contract the page would quote: its working orders' and its positions'."""
        seen = {contract_name(o.contract): o.contract for o in self.working}
        for position in self.positions:
            seen.setdefault(contract_name(position.contract), position.contract)
        return list(seen.values())

    def quoted(self, quotes: Mapping[str, Quote]) -> Picture:
        """This picture with the broker's ``quotes`` (by `contract_name`) beside each working
        order, and each position marked at its contract's mid."""
        working = quoted(self.working, quotes)
        marks = {contract_name(p.contract): quotes[contract_name(p.contract)].mid
                 for p in self.positions if contract_name(p.contract) in quotes}
        return attrs.evolve(self, working=working, marks=marks)


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
    config: HydraConfig,
) -> Picture:
    """The dashboard over a journal's ``records`` and ``live_orders``; ``live`` is None when
    no engine runs behind the page."""
    report = fill_report(records, settings=config.slippage)
    positions = _positions(report, records)
    return Picture(
        banner=_banner(records, live, now, config),
        working=working_orders(records, live_orders, now=now, config=config),
        report=report,
        positions=tuple(positions),
        breakers=_breakers(records, positions, config.risk),
        gate=tuple(gate_check(records, settings=config.slippage)),
    )


def _banner(records: Sequence[JournalRecord], live: Live | None, now: dt.datetime,
            config: HydraConfig) -> Banner:
    starts = [r for r in records if r.is_note(NoteKind.ENGINE_STARTED)]
    mode = "-" if not starts else _mode(starts[-1].payload)
    account = None if not starts else starts[-1].payload.get("account")
    links = [r for r in records if r.is_note(NoteKind.SESSION_DOWN)
             or r.is_note(NoteKind.RECONNECTED)]
    states = [r for r in records if r.is_note(NoteKind.TRADING_STATE)]
    state = TradingState(states[-1].payload["state"]) if states else TradingState.ACTIVE
    reason = str(states[-1].payload.get("reason", "")) if states else ""
    session_up = not links or links[-1].is_note(NoteKind.RECONNECTED)
    if live is not None:
        session_up, state = live.session_up, live.trading_state
    liquid = config.execution.hours is WorkingHours.LIQUID  # the hours Hydra works in
    return Banner(
        mode=mode, account=None if account is None else str(account),
        running=live is not None, session_up=session_up,
        reconnects=sum(r.is_note(NoteKind.RECONNECTED) for r in records),
        trading_state=state, reason=reason, now=now,
        sessions=tuple((c.symbol, session_state(c, now, liquid=liquid))
                       for c in BUILT_IN_CONTRACTS.values()),
    )


def _positions(report: FillReport, records: Sequence[JournalRecord]) -> list[Position]:
    """Each built-in contract's position after every journaled fill, per delivery month (the
    fill's, when the broker said), in order, with the commission a broker reported after a
    fill (IB's, a ``commission`` note) added to it."""
    later: dict[str, Decimal] = {}
    for record in records:
        if record.is_note(NoteKind.COMMISSION):
            execution = str(record.payload["execution_id"])
            later[execution] = later.get(execution, Decimal(0)) + Decimal(
                record.payload["commission"])
    positions: dict[str, Position] = {}
    for line in report.fills:
        fill = line.fill
        product = BUILT_IN_CONTRACTS.get(fill.symbol)
        if product is None:
            continue
        contract = product if fill.expiry is None else product.for_month(fill.expiry)
        name = contract_name(contract)
        before = positions.get(name, Position(contract=contract))
        positions[name] = before.after_fill(
            side=fill.side, quantity=fill.quantity, price=fill.price,
            commission=fill.commission + later.get(fill.execution_id, Decimal(0)))
    return [positions[name] for name in sorted(positions)]


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


def _mode(started: Mapping[str, Any]) -> str:
    """SIM, PAPER or LIVE, from an ``engine_started`` note."""
    venue = started.get("venue")
    if isinstance(venue, str):
        return venue.upper()
    return MODES.get(str(started.get("broker")), "PAPER")
