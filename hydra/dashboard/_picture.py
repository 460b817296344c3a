"""What the dashboard shows, as one frozen value built from the journal (and, with an engine
running, its live statistics).

Pure: `picture` reads `JournalRecord` values and the journal's working orders and returns a
`Picture`; nothing here opens a file or renders a page. The slippage figures are the fill
report's (`hydra._fill_report.fill_report`), the gate's conditions `hydra._gate.gate_check`
and a ladder's stages `hydra._patience.stage_plan`, so the page and the engine can never
disagree.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import Counter
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from .._contracts import BUILT_IN_CONTRACTS, ContractSpec
from .._core._positions import Position
from .._core._routing import route
from .._core._twap import slice_sizes
from .._enums import NoteKind, Policy, Side, TradingState
from .._errors import InvalidValueError
from .._fill_report import FillReport, fill_report
from .._gate import Criterion, gate_check
from .._journal import EventKind, JournaledOrder
from .._journal_records import JournalRecord
from .._patience import stage_plan, stages_after
from .._quote_source import contract_name
from .._quotes import Quote
from .._settings import ExecutionSettings, HydraConfig, RiskLimits
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
class WorkingOrder:
    intent_id: str
    client_order_id: str
    contract: ContractSpec
    symbol: str
    side: Side
    filled: int
    quantity: int
    limit_price: Decimal  # the latest: as placed, or as last repriced
    stage: str  # where its ladder is now (AT_MID, STEPPED, CROSSING; a baseline's policy)
    stage_left: float  # seconds until the next stage (or, at the last, until the ladder ends)
    last_stage: bool
    slices: tuple[int, int] | None  # a TWAP's slices started of its total; None: no TWAP
    quote: Quote | None = None  # the broker's, when the page has the broker and it is usable


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
    marks: Mapping[str, Decimal] = attrs.field(factory=dict)  # mid by symbol, when quoted

    def contracts(self) -> list[ContractSpec]:
        """Every contract the page would quote: its working orders' and its positions'."""
        seen = {contract_name(o.contract): o.contract for o in self.working}
        for position in self.positions:
            seen.setdefault(position.contract.symbol, position.contract)
        return list(seen.values())

    def quoted(self, quotes: Mapping[str, Quote]) -> Picture:
        """This picture with the broker's ``quotes`` (by `contract_name`) beside each working
        order, and each position marked at its contract's mid."""
        working = tuple(attrs.evolve(o, quote=quotes.get(contract_name(o.contract)))
                        for o in self.working)
        marks = {p.contract.symbol: quotes[p.contract.symbol].mid for p in self.positions
                 if p.contract.symbol in quotes}
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
    ladders = _Ladders.of(records)
    return Picture(
        banner=_banner(records, live, now),
        working=tuple(ladders.working(order, now, config) for order in live_orders),
        report=report,
        positions=tuple(positions),
        breakers=_breakers(records, positions, config.risk),
        gate=tuple(gate_check(records, settings=config.slippage)),
    )


def _banner(records: Sequence[JournalRecord], live: Live | None, now: dt.datetime) -> Banner:
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
    return Banner(
        mode=mode, account=None if account is None else str(account),
        running=live is not None, session_up=session_up,
        reconnects=sum(r.is_note(NoteKind.RECONNECTED) for r in records),
        trading_state=state, reason=reason, now=now,
        sessions=tuple((c.symbol, session_state(c, now)) for c in BUILT_IN_CONTRACTS.values()),
    )


@attrs.frozen(kw_only=True)
class _Ladders:
    """What the journal says of each order's ladder: when it was placed, its latest price, and
    the policy and strategy of its intent."""

    placed: Mapping[str, dt.datetime]
    prices: Mapping[str, Decimal]
    intents: Mapping[str, Mapping[str, Any]]
    orders: Counter[str]  # orders journaled per intent

    @classmethod
    def of(cls, records: Sequence[JournalRecord]) -> _Ladders:
        return cls(
            placed={r.client_order_id: r.recorded_at for r in records
                    if r.kind is EventKind.ORDER and r.client_order_id is not None},
            prices={str(r.payload["client_order_id"]): Decimal(r.payload["limit_price"])
                    for r in records if r.is_note(NoteKind.MODIFY)},
            intents={r.intent_id: r.payload["intent"] for r in records
                     if r.kind is EventKind.INTENT and r.intent_id is not None},
            orders=Counter(r.intent_id for r in records
                           if r.kind is EventKind.ORDER and r.intent_id is not None),
        )

    def working(self, order: JournaledOrder, now: dt.datetime, config: HydraConfig
                ) -> WorkingOrder:
        """``order`` as the page shows it: its ladder timed by `hydra._patience`'s plan, and
        its intent routed as the router routes it (`hydra._core._routing.route`)."""
        request = order.request
        intent = self.intents.get(request.intent_id, {})
        settings = config.execution_for(str(intent.get("strategy", "default")))
        policy = _routed(intent, config, settings)
        plan = stage_plan(policy or Policy.PATIENCE, settings)
        placed = self.placed.get(request.client_order_id, now)
        left = stages_after(plan, max(0.0, (now - placed).total_seconds()))
        stage, stage_left = left[0] if left else (plan[-1][0], 0.0)
        return WorkingOrder(
            intent_id=request.intent_id, client_order_id=request.client_order_id,
            contract=request.contract, symbol=request.contract.symbol, side=request.side,
            filled=order.filled, quantity=request.quantity,
            limit_price=self.prices.get(request.client_order_id, request.limit_price),
            stage=stage.name if isinstance(stage, enum.Enum) else str(stage),
            stage_left=stage_left,
            last_stage=len(left) <= 1,
            slices=None if policy is not Policy.TWAP else (
                self.orders[request.intent_id],
                len(slice_sizes(int(intent["quantity"]), settings.twap_slices))),
        )


def _routed(intent: Mapping[str, Any], config: HydraConfig, settings: ExecutionSettings
            ) -> Policy | None:
    """The policy the router gave ``intent`` (None when it cannot be told: no intent record,
    or no ADV for its contract in this configuration)."""
    if not intent:
        return None
    asked = None if intent.get("policy") is None else Policy(intent["policy"])
    try:
        return route(int(intent["quantity"]), adv=config.adv.get(intent["contract"]["symbol"]),
                     settings=settings, policy=asked)
    except InvalidValueError:
        return None


def _positions(report: FillReport, records: Sequence[JournalRecord]) -> list[Position]:
    """Each built-in contract's position after every journaled fill, in symbol order, with
    the commission a broker reported after a fill (IB's, a ``commission`` note) added to it."""
    later: dict[str, Decimal] = {}
    for record in records:
        if record.is_note(NoteKind.COMMISSION):
            execution = str(record.payload["execution_id"])
            later[execution] = later.get(execution, Decimal(0)) + Decimal(
                record.payload["commission"])
    positions: dict[str, Position] = {}
    for line in report.fills:
        fill = line.fill
        contract = BUILT_IN_CONTRACTS.get(fill.symbol)
        if contract is None:
            continue
        before = positions.get(fill.symbol, Position(contract=contract))
        positions[fill.symbol] = before.after_fill(
            side=fill.side, quantity=fill.quantity, price=fill.price,
            commission=fill.commission + later.get(fill.execution_id, Decimal(0)))
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


def _mode(started: Mapping[str, Any]) -> str:
    """SIM, PAPER or LIVE, from an ``engine_started`` note."""
    venue = started.get("venue")
    if isinstance(venue, str):
        return venue.upper()
    return MODES.get(str(started.get("broker")), "PAPER")
