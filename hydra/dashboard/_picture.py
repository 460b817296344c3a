"""What the dashboard shows, as one frozen value built from the journal (and, with an engine
running, its live statistics).

Pure: `picture` reads `JournalRecord` values and the journal's working orders and returns a
`Picture`; nothing here opens a file or renders a page. It is a `JournalView` that took every
record at once; the board's view takes them as the journal grows, and shows the same. The
slippage figures are the fill report's (`hydra._fill_report.FillLines`, which
`hydra._fill_report.fill_report` is), the gate's conditions `hydra._gate.gate_check` and the
working orders `hydra._working_view`'s (as the terminal's status region shows them), so the
page and the engine can never disagree.
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
from .._fill_report import FillLine, FillLines, FillReport
from .._gate import Criterion, gate_check
from .._journal import EventKind, JournaledOrder
from .._journal_records import JournalRecord
from .._quote_source import contract_name
from .._quotes import Quote
from .._settings import HydraConfig, RiskLimits, WorkingHours
from .._working_view import Ladders, WorkingOrder, quoted
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
    hours: WorkingHours  # the hours ``sessions`` are told in: those Hydra works in
    problem: str | None = None  # why the journal could not be read now, if it could not


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
    view = JournalView(config=config)
    view.take(records)
    return view.picture(live_orders, live=live, now=now)


@attrs.frozen(kw_only=True)
class _Judged:
    """What the page shows that only new records change: the fill report, the positions, the
    breakers and the gate."""

    report: FillReport
    positions: tuple[Position, ...]
    breakers: tuple[Breaker, ...]
    gate: tuple[Criterion, ...]


@attrs.define
class JournalView:
    """The dashboard's view of a journal, taken in a few records at a time in journal order:
    after any series of `take`, `picture` is what `picture` over every record taken shows.
    Each record is looked at once (its fill's line, its ladder, the banner's facts); the
    report, positions, breakers and gate are judged again only after new records, once for
    every page that draws."""

    config: HydraConfig
    records: list[JournalRecord] = attrs.Factory(list)  # the gate judges them all
    _fills: FillLines = attrs.Factory(FillLines)
    _ladders: Ladders = attrs.Factory(lambda: Ladders.of([]))
    _started: Mapping[str, Any] | None = None  # the last engine_started note's payload
    _link_up: bool = True  # no session_down, or a reconnected after the last one
    _reconnects: int = 0
    _state: tuple[TradingState, str] = (TradingState.ACTIVE, "")
    _positions: dict[str, Position] = attrs.Factory(dict)  # by contract_name
    _held_in: dict[str, str] = attrs.Factory(dict)  # execution id → its position's name
    _pending: dict[str, Decimal] = attrs.Factory(dict)  # commissions before their fill
    _positioned: int = 0  # the fill lines counted in the positions
    _worst: Decimal = Decimal(0)  # the risk book's worst trade, as last journaled
    _judged: _Judged | None = None  # as last judged
    _stale: bool = False  # records taken since
    _report_stale: bool = True  # records taken since that change the fill report

    def take(self, records: Sequence[JournalRecord]) -> None:
        """Take in ``records``, the journal's next ones."""
        if not records:
            return
        self.records.extend(records)
        if self._fills.take(records):  # one line per fill record, in order
            self._report_stale = True
        self._ladders = self._ladders.extended(records)
        for record in records:
            if record.kind is EventKind.FILL:
                self._position(self._fills.fills[self._positioned])
                self._positioned += 1
            else:
                self._note(record)
        self._stale = True

    def _position(self, line: FillLine) -> None:
        """Each built-in contract's position after each fill, per delivery month (the fill's,
        when the broker said), with the commission a broker reported for it (IB's, a
        ``commission`` note, before or after the fill) added to it."""
        fill = line.fill
        product = BUILT_IN_CONTRACTS.get(fill.symbol)
        if product is None:
            return
        contract = product if fill.expiry is None else product.for_month(fill.expiry)
        name = contract_name(contract)
        before = self._positions.get(name, Position(contract=contract))
        self._positions[name] = before.after_fill(
            side=fill.side, quantity=fill.quantity, price=fill.price,
            commission=fill.commission + self._pending.pop(fill.execution_id, Decimal(0)))
        self._held_in[fill.execution_id] = name

    def _commission(self, execution: str, commission: Decimal) -> None:
        name = self._held_in.get(execution)
        if name is None:
            self._pending[execution] = self._pending.get(execution, Decimal(0)) + commission
            return
        held = self._positions[name]
        self._positions[name] = attrs.evolve(held, commission=held.commission + commission)

    def _note(self, record: JournalRecord) -> None:
        if record.kind is not EventKind.NOTE:
            return
        payload = record.payload
        if record.is_note(NoteKind.ENGINE_STARTED):
            self._started = payload
        elif record.is_note(NoteKind.SESSION_DOWN) or record.is_note(NoteKind.RECONNECTED):
            self._link_up = record.is_note(NoteKind.RECONNECTED)
            self._reconnects += record.is_note(NoteKind.RECONNECTED)
        elif record.is_note(NoteKind.TRADING_STATE):
            self._state = (TradingState(payload["state"]), str(payload.get("reason", "")))
        elif record.is_note(NoteKind.COMMISSION):
            self._commission(str(payload["execution_id"]), Decimal(payload["commission"]))
        elif record.is_note(NoteKind.RISK_STATE):
            self._worst = Decimal(payload["worst_trade_loss"])

    def picture(self, live_orders: Sequence[JournaledOrder], *, live: Live | None,
                now: dt.datetime, problem: str | None = None) -> Picture:
        """The dashboard now, over every record taken and the journal's ``live_orders``
        (with ``problem``, why the journal could not be read just now)."""
        if self._judged is None or self._stale:
            self._judged = self._judge()
        judged = self._judged
        config = self.config
        return Picture(
            banner=self._banner(live, now, hours=config.execution.hours, problem=problem),
            working=tuple(self._ladders.working(order, now, config) for order in live_orders),
            report=judged.report, positions=judged.positions, breakers=judged.breakers,
            gate=judged.gate)

    def _judge(self) -> _Judged:
        """The report (made again only after records that change it: its verdicts and charts
        are over every fill), the positions, the breakers and the gate (kept as it was when
        it judges the same: a page keeps what it drew of it)."""
        config = self.config
        if self._judged is None or self._report_stale:
            report = self._fills.report(settings=config.slippage)
        else:
            report = self._judged.report
        self._stale = self._report_stale = False
        positions = tuple(self._positions[name] for name in sorted(self._positions))
        gate = tuple(gate_check(self.records, settings=config.slippage, report=report))
        if self._judged is not None and gate == self._judged.gate:
            gate = self._judged.gate
        return _Judged(report=report, positions=positions,
                       breakers=_breakers(self._worst, positions, config.risk), gate=gate)

    def _banner(self, live: Live | None, now: dt.datetime, *, hours: WorkingHours,
                problem: str | None) -> Banner:
        started = self._started
        account = None if started is None else started.get("account")
        session_up, state = self._link_up, self._state[0]
        if live is not None:
            session_up, state = live.session_up, live.trading_state
        return Banner(
            mode="-" if started is None else _mode(started),
            account=None if account is None else str(account),
            running=live is not None, session_up=session_up, reconnects=self._reconnects,
            trading_state=state, reason=self._state[1], now=now,
            sessions=tuple((c.symbol, session_state(c, now, hours=hours))
                           for c in BUILT_IN_CONTRACTS.values()),
            hours=hours, problem=problem,
        )


def _breakers(worst: Decimal, positions: Sequence[Position], limits: RiskLimits
              ) -> tuple[Breaker, ...]:
    """The breakers the journal can show: the realized loss against the daily loss limit, the
    worst single trade the risk book remembered (``worst``), and the largest position's value
    at cost."""
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
