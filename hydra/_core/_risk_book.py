"""The risk book: a sans-I/O state machine that owns every order Hydra works and its account.

``RiskBook.handle(message, now) -> effects``. It keeps the working orders (accepted, sent, or
being cancelled), the account (positions and PnL from executions, marks from quotes), the
exposure they make together, the trading state and the session state. One loop drives it, so
no two messages interleave over its state; what it decides takes effect in the book at once
(an accepted order counts against every limit before it is even sent), and what must happen
outside (journal, transmit, answer, publish) comes back as effects, in order.

A cancel that cannot go out because the session is down (or was sent but not confirmed when
the link went) is held, and the order's owner is told (`TellCancel`): the order may still
fill, and the reconnect's resync either settles it (what filled meanwhile) or sends the
cancel, and tells the owner it went.

Trading states: ACTIVE; REDUCING (only orders that reduce a position); HALTED (only cancels,
and reducing orders of an intent that flattens on the trader's word). A breaker trip, the kill
switch and a broker anomaly each *latch* a state, journaled, until an explicit `Resume`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal

import attrs

from .._contracts import BUILT_IN_CONTRACTS
from .._enums import NoteKind, OrderStatus, OrderType, Side, TradingState
from .._ids import ClientOrderId, ExecutionId, IntentId
from .._orders import OrderRequest
from .._settings import RiskLimits
from ._positions import Position
from ._risk_checks import (
    AccountState,
    Denial,
    Working,
    check_exposure,
    check_order,
    reduces,
    trade_pnl,
    tripped_breakers,
)
from ._risk_messages import (
    Abandon,
    Acked,
    Action,
    Adopt,
    AllowFlatten,
    Blocked,
    Cancel,
    CheckIntent,
    CommissionAdded,
    Difference,
    Dispatched,
    Effect,
    Executed,
    ExecutionConflict,
    FillBooked,
    Finalize,
    Forward,
    Handle,
    JournalAck,
    JournalBlocked,
    JournalFailed,
    JournalNote,
    JournalOrder,
    JournalStatus,
    KeepWorking,
    KillSwitch,
    Latch,
    LinkChanged,
    LinkLost,
    Marks,
    Modify,
    NewOrder,
    Outcome,
    Reply,
    Resume,
    Resync,
    RiskInput,
    Sent,
    StateChanged,
    StatusReported,
    TellCancel,
    TellStatus,
    Transmit,
    TransmitCancel,
    TransmitModify,
    Withdraw,
)
from ._risk_state import Latched, RiskSnapshot

_NEW_ORDER_ONLY = frozenset({"open_orders", "orders_per_minute", "position", "order_quantity"})
"""Checks that count new orders: a modification changes only the price."""

_SEVERITY = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


@attrs.define
class BookOrder:
    """One order the book is responsible for, from acceptance to a final status."""

    request: OrderRequest
    owner: Handle
    arrival_mid: Decimal
    predicted_bps: Decimal | None
    sent: bool = False  # False: accepted and journaled, waiting for the sender
    reply: Handle | None = None  # the placer, answered once the sender has sent it
    filled: int = 0
    cancel_wanted: bool = False
    cancel_sent: bool = False
    kept: bool = False  # left working on purpose: not cancelled when Hydra leaves

    @property
    def remaining(self) -> int:
        return max(self.request.quantity - self.filled, 0)

    @property
    def protective(self) -> bool:
        """A stop, or an exit of a bracket: it protects an open position."""
        return self.request.order_type is OrderType.STOP_LIMIT or self.request.parent_id is not None


def _session_denial(reason: str) -> Denial:
    return Denial(field="session", value="down", limit=reason)


class RiskBook:
    """Synchronous and single-owner: the risk actor's loop is its only caller."""

    def __init__(
        self, *, limits: RiskLimits, account: AccountState, day: str,
        latched: tuple[Latched, ...] = (), dry_run: bool = False,
        broker_positions: bool = False,
    ) -> None:
        self.limits = limits
        # The positions are the broker's, read at start (no snapshot of the day to restore):
        # what a start's resync journals is in them already, never booked on them again.
        self.broker_positions = broker_positions
        self.day = day
        self.dry_run = dry_run
        self.orders: dict[ClientOrderId, BookOrder] = {}
        self.session_up = True
        self.latched: dict[str, Latched] = {x.cause: x for x in latched}
        self.account = attrs.evolve(account, trading_state=self._state())
        self._flattening: set[IntentId] = set()
        self._unsent_cancels: set[ClientOrderId] = set()
        self._fill_symbols: dict[ExecutionId, str] = {}
        # Each booked execution's PnL as a single trade, net of the commission known so far:
        # IB reports a fill's commission after the fill, and the single-trade loss counts it.
        self._trade_pnls: dict[ExecutionId, Decimal] = {}
        self.anomalies = 0

    # --- reading ---------------------------------------------------------------------------

    @property
    def trading_state(self) -> TradingState:
        return self.account.trading_state

    def working(self, symbol: str, *, besides: ClientOrderId | None = None) -> Working:
        """What the book's orders in ``symbol`` (other than ``besides``) could still add, by
        side. The orders of one OCA group (a bracket's exits) count once, as the largest of
        them: one fill cancels the rest."""
        totals = {1: 0, -1: 0}
        groups: dict[tuple[str, int], int] = {}
        for order in self._in(symbol):
            if order.request.client_order_id == besides:
                continue
            side, group = order.request.side.sign, order.request.oca_group
            if group is None:
                totals[side] += order.remaining
            else:
                groups[group, side] = max(groups.get((group, side), 0), order.remaining)
        for (_, side), remaining in groups.items():
            totals[side] += remaining
        return Working(buy=totals[1], sell=totals[-1])

    def exposure(self, symbol: str) -> int:
        """The largest position ``symbol`` could reach if every working order filled."""
        position, working = self.account.quantity(symbol), self.working(symbol)
        return max(abs(position + working.buy), abs(position - working.sell))

    def snapshot(self) -> RiskSnapshot:
        return RiskSnapshot.of(self.account, day=self.day, latched=tuple(self.latched.values()))

    def booked(self, execution_id: ExecutionId) -> bool:
        """True when the book booked ``execution_id`` in this run (its commission is news)."""
        return execution_id in self._fill_symbols

    def order_context(self, client_order_id: ClientOrderId) -> BookOrder | None:
        return self.orders.get(client_order_id)

    def _in(self, symbol: str) -> Iterator[BookOrder]:
        return (o for o in self.orders.values() if o.request.contract.symbol == symbol)

    # --- the one entry point ---------------------------------------------------------------

    def handle(self, message: RiskInput, now: float) -> list[Effect]:
        """Apply ``message`` at Trio time ``now``; the effects to carry out, in order."""
        match message:
            case NewOrder():
                return self._new_order(message, now)
            case Modify():
                return self._modify(message)
            case Cancel():
                return self._cancel(message.client_order_id)
            case Dispatched():
                return self._dispatched(message)
            case Acked():
                return self._acked(message)
            case StatusReported():
                return self._status(message)
            case Executed():
                return self._executed(message)
            case ExecutionConflict():
                return self._conflict(message)
            case CommissionAdded():
                return self._commission(message)
            case Marks():
                return self._marks(message)
            case KillSwitch():
                return self._latch(message.cause, TradingState.HALTED, message.reason)
            case Latch():
                return self._latch(NoteKind.MANUAL, message.state, message.reason)
            case Resume():
                return self._resume(message.reason)
            case CheckIntent():
                # "Never": against the position alone; working orders may still be cancelled,
                # and each order is checked against the exposure they make when it goes out.
                denial = check_exposure(message.symbol, message.signed_quantity,
                                        account=self.account, limits=self.limits,
                                        working=Working())
                answer = Sent() if denial is None else Blocked(denials=(denial,))
                return [Reply(reply=message.reply, answer=answer)]
            case KeepWorking():
                if (kept := self.orders.get(message.client_order_id)) is not None:
                    kept.kept = True
                return []
            case AllowFlatten():
                self._flattening.add(message.intent_id)
                return []
            case Adopt():
                return self._adopt(message)
            case LinkLost():
                return self._link_lost(message.reason)
            case Resync():
                return self._resync(message)
            case Finalize():
                return self._finalize(message.leave_working)
            case Abandon():
                return self._abandon(message.reason)
            case JournalFailed():
                return self._journal_failed(message)

    # --- order entry -----------------------------------------------------------------------

    def _denials(self, request: OrderRequest, reference: Decimal | None, now: float,
                 ) -> tuple[Denial, ...]:
        """Every reason to refuse ``request``, counting the working orders beside it (a
        modification is measured without its own order's quantity)."""
        if not self.session_up:
            return (_session_denial("connected to the broker"),)
        working = self.working(request.contract.symbol, besides=request.client_order_id)
        denials = check_order(
            request, account=self.account, limits=self.limits, reference_price=reference,
            now=now, working=working,
            flattening=request.intent_id in self._flattening,
        )
        return tuple(self._with_cause(d) for d in denials)

    def _with_cause(self, denial: Denial) -> Denial:
        """A trading-state denial says what latched the state (and how to clear it)."""
        if denial.field != "trading_state" or not self.latched:
            return denial
        causes = "; ".join(x.reason for x in self.latched.values())
        return attrs.evolve(denial, limit=f"{denial.limit} (latched: {causes}; resume to clear)")

    def _new_order(self, message: NewOrder, now: float) -> list[Effect]:
        request = message.request
        coid = request.client_order_id
        denials = self._denials(request, message.reference_price, now)
        if coid in self.orders:
            denials = (Denial(field="client_order_id", value=coid, limit="not already working"),)
        if denials:
            return [JournalBlocked(request=request, denials=denials),
                    Reply(reply=message.reply, answer=Blocked(denials=denials))]
        if self.dry_run:
            return [JournalOrder(request=request, dry=True, part=message.part),
                    Reply(reply=message.reply, answer=Sent(dry=True))]
        self.orders[coid] = BookOrder(
            request=request, owner=message.owner, arrival_mid=message.arrival_mid,
            predicted_bps=message.predicted_bps, reply=message.reply,
        )
        self.account = self.account.with_order_sent(now=now)
        return [JournalOrder(request=request, dry=False, part=message.part),
                Transmit(request=request)]

    def _modify(self, message: Modify) -> list[Effect]:
        order = self.orders.get(message.client_order_id)
        if order is None or not order.sent or order.cancel_wanted:
            denial = Denial(field="client_order_id", value=message.client_order_id,
                            limit="a working order")
            return [Reply(reply=message.reply, answer=Blocked(denials=(denial,)))]
        request = attrs.evolve(order.request, limit_price=message.limit_price)
        denials = tuple(d for d in self._denials(request, message.reference_price, now=0.0)
                        if d.field not in _NEW_ORDER_ONLY)
        if denials:
            return [JournalBlocked(request=request, denials=denials),
                    Reply(reply=message.reply, answer=Blocked(denials=denials))]
        order.reply = message.reply
        return [JournalNote(what=NoteKind.MODIFY,
                            details={"client_order_id": request.client_order_id,
                                     "limit_price": message.limit_price}),
                TransmitModify(client_order_id=request.client_order_id,
                               limit_price=message.limit_price)]

    def _cancel(self, client_order_id: ClientOrderId) -> list[Effect]:
        """Cancels always pass the checks. One not yet sent is withdrawn from the sender's
        queue (or, if the sender has it in hand, cancelled as soon as it is sent)."""
        order = self.orders.get(client_order_id)
        if order is None or order.cancel_sent:
            return []
        order.cancel_wanted = True
        if not order.sent:
            return [Withdraw(client_order_id=client_order_id)]
        if not self.session_up:
            return self._hold(order)
        order.cancel_sent = True
        return [TransmitCancel(client_order_id=client_order_id)]

    def _hold(self, order: BookOrder) -> list[Effect]:
        """Hold ``order``'s cancel for the link (sent after the reconnect's resync); its owner
        is told, once, so it waits for the order's end rather than for a confirmation."""
        coid = order.request.client_order_id
        order.cancel_sent = False
        if coid in self._unsent_cancels:
            return []
        self._unsent_cancels.add(coid)
        return [TellCancel(owner=order.owner, client_order_id=coid, held=True)]

    def _dispatched(self, message: Dispatched) -> list[Effect]:
        order = self.orders.get(message.client_order_id)
        if order is None:
            return []
        match message.action, message.outcome:
            case Action.PLACE, Outcome.SENT:
                order.sent = True
                effects: list[Effect] = self._answer(order, Sent())
                if order.cancel_wanted:
                    effects += self._cancel(message.client_order_id)
                return effects
            case Action.PLACE, _:
                return self._never_sent(order, message)
            case Action.MODIFY, Outcome.SENT:
                assert message.limit_price is not None
                order.request = attrs.evolve(order.request, limit_price=message.limit_price)
                return self._answer(order, Sent())
            case Action.MODIFY, Outcome.WITHDRAWN:
                denial = Denial(field="cancelled", value=message.client_order_id,
                                limit="not modified: cancelled while the change waited")
                return self._answer(order, Blocked(denials=(denial,)))
            case Action.MODIFY, _:
                denial = _session_denial(message.error or "not sent")
                return self._answer(order, Blocked(denials=(denial,)))
            case Action.CANCEL, Outcome.LINK_DOWN:
                return self._hold(order)
        return []

    def _answer(self, order: BookOrder, answer: Sent | Blocked) -> list[Effect]:
        reply, order.reply = order.reply, None
        return [] if reply is None else [Reply(reply=reply, answer=answer)]

    def _never_sent(self, order: BookOrder, message: Dispatched) -> list[Effect]:
        request = order.request
        if message.outcome is Outcome.WITHDRAWN:
            reason = "not sent: cancelled while waiting to be sent"
            denial = Denial(field="cancelled", value=request.client_order_id, limit=reason)
            status = OrderStatus.CANCELLED
        else:
            reason = f"not sent: {message.error}"
            denial = _session_denial(message.error or "link down")
            status = OrderStatus.REJECTED
        effects = self._answer(order, Blocked(denials=(denial,))) + self._close(
            request.client_order_id)
        return [JournalStatus(client_order_id=request.client_order_id, status=status,
                              reason=reason, intent_id=request.intent_id), *effects]

    def _close(self, client_order_id: ClientOrderId) -> list[Effect]:
        """Forget a finished order; a caller still awaiting an answer about it gets one."""
        order = self.orders.pop(client_order_id, None)
        self._unsent_cancels.discard(client_order_id)
        if order is None:
            return []
        self.account = self.account.with_order_closed()
        denial = Denial(field="client_order_id", value=client_order_id,
                        limit="a working order (it is no longer working)")
        return self._answer(order, Blocked(denials=(denial,)))

    def _adopt(self, message: Adopt) -> list[Effect]:
        coid = message.request.client_order_id
        self.orders[coid] = BookOrder(
            request=message.request, owner=message.owner, arrival_mid=message.arrival_mid,
            predicted_bps=None, sent=True, filled=message.filled,
        )
        self.account = attrs.evolve(self.account,
                                    open_order_count=self.account.open_order_count + 1)
        return []

    # --- broker events ---------------------------------------------------------------------

    def _acked(self, message: Acked) -> list[Effect]:
        order = self.orders.get(message.client_order_id)
        intent = None if order is None else order.request.intent_id
        effects: list[Effect] = [JournalAck(client_order_id=message.client_order_id,
                                            broker_order_id=message.broker_order_id,
                                            intent_id=intent)]
        return effects + ([] if order is None else [Forward(owner=order.owner)])

    def _status(self, message: StatusReported) -> list[Effect]:
        order = self.orders.get(message.client_order_id)
        intent = None if order is None else order.request.intent_id
        effects: list[Effect] = [JournalStatus(client_order_id=message.client_order_id,
                                               status=message.status, reason=message.reason,
                                               intent_id=intent)]
        if order is None:
            return effects
        effects.append(Forward(owner=order.owner))
        if message.status.is_final:
            effects += self._close(message.client_order_id)
        return effects

    def _executed(self, message: Executed) -> list[Effect]:
        fill = message.fill
        order = self.orders.get(fill.client_order_id)
        if order is None and not message.known and not message.live:
            # Another program's trade in the account list: reported by the position
            # comparison after the resync, never booked as Hydra's.
            return [JournalNote(what=NoteKind.STRANGER_EXECUTION, details={
                "execution_id": fill.execution_id, "client_order_id": fill.client_order_id,
                "symbol": fill.symbol, "quantity": fill.signed_quantity})]
        intent = None if order is None else order.request.intent_id
        effects: list[Effect] = [FillBooked(fill=fill, intent_id=intent)]
        worst = self.account.worst_trade_loss
        problems = self._execution_problems(message, order)
        price = fill.price
        if not (price.is_finite() and price > 0):
            price = order.request.limit_price if order is not None else price
        contract = order.request.contract if order is not None else message.contract
        counted = message.restart and self.broker_positions  # in the positions already
        if contract is not None and price.is_finite() and price > 0:
            if not counted:
                held = self.account.positions.get(fill.symbol)
                self.account = self.account.after_fill(
                    attrs.evolve(fill, price=price), contract=contract
                ).with_mark(fill.symbol, price)
                self._trade_pnls[fill.execution_id] = trade_pnl(
                    held, self.account.positions[fill.symbol], fill.commission)
            self._fill_symbols[fill.execution_id] = fill.symbol
        if order is not None:
            order.filled += fill.quantity
            effects.append(Forward(owner=order.owner))
        if problems:
            effects += self._anomaly(fill.client_order_id, problems)
        effects += self._check_breakers()
        # A restart replays the journaled fills on the last snapshot: only an anomaly's latch
        # and a new worst trade (the dashboard's single-trade figure) are journaled at once.
        new_worst = self.account.worst_trade_loss != worst
        return effects + ([self._remember()] if problems or new_worst else [])

    def _execution_problems(self, message: Executed, order: BookOrder | None) -> list[str]:
        fill, problems = message.fill, []
        if not (fill.price.is_finite() and fill.price > 0):
            problems.append(f"execution price {fill.price} is not a positive number")
        if order is None and not message.known:
            problems.append(f"execution for order {fill.client_order_id} Hydra does not know "
                            "on its own session")
        if order is not None and fill.quantity > order.remaining:
            problems.append(f"execution of {fill.quantity} lots for an order with "
                            f"{order.remaining} of {order.request.quantity} remaining")
        return problems

    def _conflict(self, message: ExecutionConflict) -> list[Effect]:
        """One execution id, two different executions: an anomaly journaled with both."""
        fill = message.reported
        problem = (f"execution {fill.execution_id} reported again with a different "
                   f"{', '.join(message.differences)}")
        return self._anomaly(fill.client_order_id, [problem],
                             versions={"journaled": message.stored, "reported": fill})

    def _anomaly(self, client_order_id: ClientOrderId, problems: list[str], *,
                 versions: Mapping[str, object] | None = None) -> list[Effect]:
        """A broker anomaly: journaled, the order cancelled, trading HALTED."""
        self.anomalies += 1
        reason = "; ".join(problems)
        return self._cancel(client_order_id) + self._latch(
            NoteKind.BROKER_ANOMALY, TradingState.HALTED, reason, remember=False,
            details={"client_order_id": client_order_id, "problem": reason, **(versions or {})})

    def _commission(self, message: CommissionAdded) -> list[Effect]:
        symbol = self._fill_symbols.get(message.execution_id)
        position = None if symbol is None else self.account.positions.get(symbol)
        if symbol is None or position is None:
            return []
        charged = attrs.evolve(position, commission=position.commission + message.commission)
        worst = self.account.worst_trade_loss
        self.account = attrs.evolve(self.account,
                                    positions={**self.account.positions, symbol: charged})
        trade = self._trade_pnls.get(message.execution_id)
        if trade is not None:  # the trade's loss grows by its commission, reported apart
            trade -= message.commission
            self._trade_pnls[message.execution_id] = trade
            self.account = self.account.with_trade_loss(-trade)
        # The journal's commission note is replayed at a restart: only a new worst trade (the
        # dashboard's single-trade figure) journals the book's state, as a fill's does.
        effects = self._check_breakers()
        return effects + ([self._remember()] if self.account.worst_trade_loss != worst else [])

    def _marks(self, message: Marks) -> list[Effect]:
        effects: list[Effect] = []
        if message.day != self.day:
            effects += self._new_day(message.day)
        for symbol, mid in message.mids.items():
            self.account = self.account.with_mark(symbol, mid)
        return effects + self._check_breakers()

    def _new_day(self, day: str) -> list[Effect]:
        """A new trading day: today's PnL starts from the account's equity now."""
        account = self.account
        equity = account.equity if account.equity.is_finite() else account.start_of_day_equity
        positions = {s: attrs.evolve(p, realized_pnl=Decimal(0), commission=Decimal(0),
                                     average_price=account.marks.get(s, p.average_price))
                     for s, p in account.positions.items()}
        self.account = attrs.evolve(account, start_of_day_equity=equity, peak_equity=equity,
                                    worst_trade_loss=Decimal(0), positions=positions)
        self.day = day
        self._trade_pnls.clear()  # a commission for yesterday's trade is not today's loss
        return [JournalNote(what=NoteKind.TRADING_DAY, details={"day": day, "equity": equity}),
                self._remember()]

    # --- trading state ---------------------------------------------------------------------

    def _state(self) -> TradingState:
        states = [x.state for x in self.latched.values()]
        return max(states, key=_SEVERITY.__getitem__, default=TradingState.ACTIVE)

    def _check_breakers(self) -> list[Effect]:
        effects: list[Effect] = []
        for denial in tripped_breakers(self.account, limits=self.limits):
            if denial.field not in self.latched:
                state: TradingState = getattr(self.limits.breakers, denial.field)
                effects += self._latch(denial.field, state, denial.message)
        return effects

    def _latch(self, cause: str, state: TradingState, reason: str, *,
               remember: bool = True, details: Mapping[str, object] | None = None,
               ) -> list[Effect]:
        """Latch ``state`` for ``cause``: one note (named for the breaker's trip, or for the
        cause itself: ``kill_switch``, ``broker_anomaly``, ``manual``)."""
        before = self.trading_state
        self.latched[cause] = Latched(cause=cause, state=state, reason=reason)
        effects: list[Effect] = [JournalNote(what=NoteKind.BREAKER_TRIPPED if cause in _BREAKERS
                                             else NoteKind(cause), alarm=True,
                                             details={"cause": cause, "state": state.value,
                                                      "reason": reason,
                                                      "working": len(self.orders),
                                                      **(details or {})})]
        effects += self._set_state(before, reason)
        return effects + ([self._remember()] if remember else [])

    def _resume(self, reason: str) -> list[Effect]:
        before = self.trading_state
        cleared = sorted(self.latched)
        self.latched.clear()
        effects: list[Effect] = [JournalNote(what=NoteKind.RESUME, alarm=True,
                                             details={"reason": reason, "cleared": cleared})]
        effects += self._set_state(before, f"resumed: {reason}")
        effects += self._check_breakers()  # a breaker whose limit is still exceeded re-trips
        return [*effects, self._remember()]

    def _set_state(self, before: TradingState, reason: str) -> list[Effect]:
        state = self._state()
        self.account = attrs.evolve(self.account, trading_state=state)
        effects: list[Effect] = []
        if state is not before:
            effects += [
                JournalNote(what=NoteKind.TRADING_STATE, alarm=True,
                            details={"state": state, "reason": reason}),
                StateChanged(state=state, reason=reason),
            ]
        return effects + self._cancel_disallowed(state)

    def _cancel_disallowed(self, state: TradingState) -> list[Effect]:
        """Cancel each working order ``state`` does not allow. Reducing orders are judged
        together, oldest first: those that could flip the position between them go."""
        if state is TradingState.ACTIVE:
            return []
        effects: list[Effect] = []
        kept: dict[tuple[str, int], int] = {}
        for coid, order in list(self.orders.items()):
            if order.cancel_wanted:
                continue
            request = order.request
            key = (request.contract.symbol, request.side.sign)
            ahead = kept.get(key, 0)
            if self._allowed_in(state, order, ahead=ahead):
                kept[key] = ahead + order.remaining
            else:
                effects += self._cancel(coid)
        return effects

    def _allowed_in(self, state: TradingState, order: BookOrder, *, ahead: int) -> bool:
        """Whether a working order may keep working in ``state`` with ``ahead`` contracts of
        kept orders on its side before it (else it is cancelled)."""
        if order.protective:
            return True
        request = order.request
        position = self.account.quantity(request.contract.symbol)
        working = Working(buy=ahead, sell=0) if request.side.sign > 0 else Working(sell=ahead)
        reducing = reduces(position, request.signed_quantity, working=working)
        if state is TradingState.REDUCING:
            return reducing
        return reducing and request.intent_id in self._flattening

    def _remember(self) -> JournalNote:
        return JournalNote(what=NoteKind.RISK_STATE, details=self.snapshot().to_details())

    # --- the connection --------------------------------------------------------------------

    def _link_lost(self, reason: str) -> list[Effect]:
        """The session is down. A cancel sent but not yet confirmed is held as one not sent:
        its confirmation cannot come before the resync, which tells whether the order is
        over (else the cancel goes again)."""
        if not self.session_up:
            return []
        self.session_up = False
        effects: list[Effect] = [LinkChanged(up=False, reason=reason)]
        for order in list(self.orders.values()):
            if order.cancel_sent:
                effects += self._hold(order)
        return effects

    def _resync(self, message: Resync) -> list[Effect]:
        """Settle orders that finished while the link was down, report positions that differ
        from the broker's (never overwrite them, but at a start), and send the cancels that
        waited."""
        effects: list[Effect] = list(self._compare_positions(message.positions))
        if message.restart and message.positions is not None:
            effects += self._take_positions(message.positions)
        for coid, order in list(self.orders.items()):
            if order.sent and coid not in message.working:
                effects += self._finished_while_down(coid, order)
        if not self.session_up:
            self.session_up = True
            effects.append(LinkChanged(up=True, reason="resynced"))
        for coid in sorted(self._unsent_cancels):
            self._unsent_cancels.discard(coid)
            waiting = self.orders.get(coid)
            if waiting is not None:
                effects += self._cancel(coid)
                effects.append(TellCancel(owner=waiting.owner, client_order_id=coid, held=False))
        return effects

    def _compare_positions(self, positions: Mapping[str, int] | None) -> Iterator[Effect]:
        if positions is None:
            return
        ours = {s: p.quantity for s, p in self.account.positions.items() if p.quantity}
        theirs = {s: q for s, q in positions.items() if q}
        for symbol in sorted(ours.keys() | theirs.keys()):
            if ours.get(symbol, 0) != theirs.get(symbol, 0):
                yield Difference(client_order_id=None, description=(
                    f"position in {symbol}: broker {theirs.get(symbol, 0)}, "
                    f"Hydra's account {ours.get(symbol, 0)}"))

    def _take_positions(self, positions: Mapping[str, int]) -> list[Effect]:
        """At a start: the broker's quantities become the book's, the difference entered at
        the book's mark (the book's realized PnL and commission kept: the difference is
        not its trade); then the day's state is journaled."""
        held = dict(self.account.positions)
        for symbol in positions.keys() | {s for s, p in held.items() if p.quantity}:
            before = held.get(symbol)
            contract = before.contract if before is not None else BUILT_IN_CONTRACTS.get(symbol)
            difference = positions.get(symbol, 0) - (0 if before is None else before.quantity)
            if contract is None or difference == 0:
                continue
            base = before or Position(contract=contract)
            taken = base.after_fill(side=Side.BUY if difference > 0 else Side.SELL,
                                    quantity=abs(difference),
                                    price=self.account.marks.get(symbol, base.average_price))
            held[symbol] = attrs.evolve(taken, realized_pnl=base.realized_pnl,
                                        commission=base.commission)
        self.account = attrs.evolve(self.account, positions=held)
        return [self._remember()]

    def _finished_while_down(self, coid: ClientOrderId, order: BookOrder) -> list[Effect]:
        done = order.remaining == 0
        status = OrderStatus.FILLED if done else OrderStatus.CANCELLED
        reason = "no longer working at the broker after reconnect"
        effects: list[Effect] = [
            *self._close(coid),
            JournalStatus(client_order_id=coid, status=status, reason=reason,
                          intent_id=order.request.intent_id),
            TellStatus(owner=order.owner, client_order_id=coid, status=status,
                       filled=order.filled, remaining=order.remaining, reason=reason),
        ]
        if not done:
            effects.append(Difference(client_order_id=coid, description=(
                f"not working at the broker after reconnect, {order.filled} of "
                f"{order.request.quantity} filled")))
        return effects

    # --- leaving ---------------------------------------------------------------------------

    def _finalize(self, leave_working: bool) -> list[Effect]:
        """Cancel every order still in the book (or leave it, by config), also one whose cancel
        was sent already: by now that cancel has gone unanswered, and it may never have
        reached the broker (IB refuses a message over its rate with error 100, naming no
        order), so it is sent again; a second cancel of an order IB has ended is refused,
        harmlessly."""
        effects: list[Effect] = []
        for coid, order in list(self.orders.items()):
            if order.kept:
                effects += self._close(coid)  # journaled as left working when it ended
            elif leave_working and order.sent:
                effects += self._close(coid)
                effects.append(JournalStatus(client_order_id=coid, status=OrderStatus.LEFT_WORKING,
                                             reason="left working by config",
                                             intent_id=order.request.intent_id))
            else:
                order.cancel_sent = False
                effects += self._cancel(coid)
        return effects

    def _journal_failed(self, message: JournalFailed) -> list[Effect]:
        """Trading HALTED (not remembered: the next run starts on a journal that works). The
        order whose write-ahead failed was never sent: its placement is forgotten, or its
        modification refused, and whoever asked is told why."""
        effects: list[Effect] = []
        coid = message.client_order_id
        order = None if coid is None else self.orders.get(coid)
        if order is not None:
            denial = Denial(field="journal", value="write failed", limit=message.problem)
            effects += self._answer(order, Blocked(denials=(denial,)))
            if message.placing:
                effects += self._close(order.request.client_order_id)
        if NoteKind.JOURNAL_WRITE_FAILED not in self.latched:
            effects += self._latch(NoteKind.JOURNAL_WRITE_FAILED, TradingState.HALTED,
                                   f"journal write failed: {message.problem}", remember=False)
        return effects

    def _abandon(self, reason: str) -> list[Effect]:
        effects: list[Effect] = []
        for coid, order in list(self.orders.items()):
            effects += self._close(coid)
            effects.append(JournalNote(what=NoteKind.ORDER_UNMANAGED, alarm=True, details={
                "client_order_id": coid, "intent_id": order.request.intent_id,
                "remaining": order.remaining, "reason": reason}))
        return effects


_BREAKERS = frozenset(attrs.fields_dict(type(RiskLimits().breakers)))

