"""Tests for the risk book: the sans-I/O state machine that owns Hydra's orders and account.

The stateful test drives a real `RiskBook` as a fake broker and sender would; the examples
pin the defects the book was written to fix."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from hydra import OATS, AccountState, RiskLimits
from hydra._core._positions import Position
from hydra._core._risk_book import RiskBook
from hydra._core._risk_checks import reduces
from hydra._core._risk_messages import (
    Abandon,
    Action,
    AllowFlatten,
    Blocked,
    Cancel,
    CommissionAdded,
    Difference,
    Dispatched,
    Effect,
    Executed,
    ExecutionConflict,
    Finalize,
    JournalFailed,
    JournalNote,
    JournalOrder,
    JournalStatus,
    KillSwitch,
    LinkLost,
    Marks,
    Modify,
    NewOrder,
    Outcome,
    Reply,
    Resume,
    Resync,
    Sent,
    StatusReported,
    TellCancel,
    TellStatus,
    Transmit,
    TransmitCancel,
    TransmitModify,
    Withdraw,
    conflicting_fields,
)
from hydra._core._risk_state import Charge, RiskSnapshot, restored_account
from hydra._enums import OrderStatus, OrderType, Side, TradingState
from hydra._ids import ClientOrderId, ExecutionId, IntentId
from hydra._orders import Fill, OrderRequest
from hydra._settings import BreakerSettings

D = Decimal
DAY = "2024-03-04"
MID = D(400)
EQUITY = D(1_000_000)
TIME = dt.datetime(2024, 3, 4, 15, 0, tzinfo=dt.UTC)
LIMITS = RiskLimits(max_order_quantity=10, max_position=20, max_open_orders=60,
                    max_orders_per_minute=1000, daily_loss_limit=D(10_000))
OWNER, REPLY = "owner", "reply"
_ids = itertools.count()


def _request(side: Side, quantity: int, *, price: Decimal = MID, intent: str = "int-1",
             order_type: OrderType = OrderType.LIMIT, stop: Decimal | None = None,
             ) -> OrderRequest:
    n = next(_ids)
    return OrderRequest(client_order_id=ClientOrderId(f"{intent}.{n}"),
                        intent_id=IntentId(intent), contract=OATS, side=side,
                        quantity=quantity, limit_price=price, order_type=order_type,
                        stop_price=stop)


def _new(request: OrderRequest, reference: Decimal | None = MID) -> NewOrder:
    return NewOrder(request=request, arrival_mid=MID, predicted_bps=None, owner=OWNER,
                    reply=REPLY, reference_price=reference)


def _fill(request: OrderRequest, quantity: int, price: Decimal | None = None) -> Fill:
    return Fill(execution_id=ExecutionId(f"ex-{next(_ids)}"),
                client_order_id=request.client_order_id, symbol=request.contract.symbol,
                side=request.side, price=request.limit_price if price is None else price,
                quantity=quantity, time=TIME)


def _executed(fill: Fill, *, known: bool = True, live: bool = True) -> Executed:
    return Executed(fill=fill, known=known, live=live, contract=OATS)


def _book(limits: RiskLimits = LIMITS) -> RiskBook:
    return RiskBook(limits=limits, account=AccountState(start_of_day_equity=EQUITY), day=DAY)


def _notes(effects: list[Effect], what: str) -> list[JournalNote]:
    return [e for e in effects if isinstance(e, JournalNote) and e.what == what]


def _place(book: RiskBook, request: OrderRequest, now: float = 0.0) -> list[Effect]:
    """Submit ``request`` and have the sender send it; the effects of both steps."""
    effects = book.handle(_new(request), now)
    if any(isinstance(e, Transmit) for e in effects):
        effects += book.handle(Dispatched(client_order_id=request.client_order_id,
                                          action=Action.PLACE, outcome=Outcome.SENT), now)
    return effects


def _long(book: RiskBook, quantity: int) -> None:
    """Put ``quantity`` lots long on the book at the mid, the order closed as FILLED."""
    request = _request(Side.BUY, quantity)
    _place(book, request)
    book.handle(_executed(_fill(request, quantity)), 0.0)
    book.handle(StatusReported(client_order_id=request.client_order_id,
                               status=OrderStatus.FILLED), 0.0)


# --- the stateful test ----------------------------------------------------------------------


@attrs.define
class _Queued:
    coid: ClientOrderId
    withdrawn: bool = False


class RiskBookMachine(RuleBasedStateMachine):
    """The book between a fake sender (a FIFO of transmits) and a fake broker."""

    @initialize()
    def start(self) -> None:
        global _ids  # each example numbers its orders from 0, so a replay draws the same ones
        _ids = itertools.count()
        self.book = _book()
        self.now = 0.0
        self.mid = MID
        self.queue: list[_Queued] = []
        self.requests: dict[ClientOrderId, OrderRequest] = {}
        self.at_broker: set[ClientOrderId] = set()  # sent, live at the broker
        self.cancels: set[ClientOrderId] = set()  # cancels the broker has been sent
        self.held: set[ClientOrderId] = set()  # owners told their cancel is held for the link
        self.done: set[ClientOrderId] = set()  # fully filled, FILLED not yet reported
        self.position = 0
        self.link_up = True
        self.finalized = False
        self.flattening: set[IntentId] = set()

    # -- plumbing --

    def do(self, message: Any) -> list[Effect]:
        self.now += 1.0
        state = self.book.trading_state
        position = self.book.account.quantity(OATS.symbol)
        working = self.book.working(OATS.symbol)
        effects = self.book.handle(message, self.now)
        for effect in effects:
            if isinstance(effect, Transmit):
                request = effect.request
                protective = request.order_type is OrderType.STOP_LIMIT
                if state is not TradingState.ACTIVE and not protective:
                    assert reduces(position, request.signed_quantity, working=working), (
                        f"{state}: transmitted {request} with position {position}")
                self.requests[request.client_order_id] = request
                self.queue.append(_Queued(request.client_order_id))
            elif isinstance(effect, Withdraw):
                for queued in self.queue:
                    if queued.coid == effect.client_order_id:
                        queued.withdrawn = True
            elif isinstance(effect, TransmitCancel):
                self.cancels.add(effect.client_order_id)
            elif isinstance(effect, TellCancel):
                assert effect.held is not self.book.session_up
                (self.held.add if effect.held else self.held.discard)(effect.client_order_id)
        return effects

    def live_orders(self) -> list[ClientOrderId]:
        return sorted(c for c in self.at_broker if c in self.book.orders
                      and self.book.orders[c].remaining > 0)

    # -- order entry and the sender --

    @precondition(lambda self: not self.finalized)
    @rule(side=st.sampled_from(Side), quantity=st.integers(1, LIMITS.max_order_quantity),
          ticks=st.integers(-8, 8), intent=st.sampled_from(["int-1", "int-flat"]))
    def new_order(self, side: Side, quantity: int, ticks: int, intent: str) -> None:
        price = self.mid + ticks * OATS.tick_size
        request = _request(side, quantity, price=price, intent=intent)
        before = self.book.exposure(OATS.symbol)
        effects = self.book_new(request)
        after = self.book.exposure(OATS.symbol)
        if any(isinstance(e, Transmit) for e in effects):
            assert after <= max(LIMITS.max_position, before)

    def book_new(self, request: OrderRequest) -> list[Effect]:
        return self.do(NewOrder(request=request, arrival_mid=self.mid, predicted_bps=None,
                                owner=OWNER, reply=REPLY, reference_price=self.mid))

    @precondition(lambda self: not self.finalized and self.position != 0)
    @rule()
    def protective_stop(self) -> None:
        side = Side.SELL if self.position > 0 else Side.BUY
        stop = self.mid - side.sign * 2 * OATS.tick_size
        self.book_new(_request(side, min(abs(self.position), 10), price=stop,
                               order_type=OrderType.STOP_LIMIT, stop=stop))

    @precondition(lambda self: self.queue)
    @rule(link_down=st.integers(0, 9).map(lambda n: n == 0), race=st.booleans())
    def dispatch(self, link_down: bool, race: bool) -> None:
        queued = self.queue.pop(0)
        if queued.withdrawn and not race:
            outcome = Outcome.WITHDRAWN
        elif link_down or not self.link_up:
            outcome = Outcome.LINK_DOWN
        else:
            outcome = Outcome.SENT
            self.at_broker.add(queued.coid)
        booked = queued.coid in self.book.orders  # else answered when it was abandoned
        effects = self.do(Dispatched(client_order_id=queued.coid, action=Action.PLACE,
                                     outcome=outcome, error="down"))
        answers = [e.answer for e in effects if isinstance(e, Reply)]
        expected = Sent if outcome is Outcome.SENT else Blocked
        assert [type(a) for a in answers] == ([expected] if booked else [])

    @precondition(lambda self: self.book.orders)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        self.do(Cancel(client_order_id=data.draw(st.sampled_from(sorted(self.book.orders)))))

    # -- the broker --

    @precondition(lambda self: self.link_up and self.live_orders())
    @rule(data=st.data(), full=st.booleans())
    def fill(self, data: st.DataObject, full: bool) -> None:
        coid = data.draw(st.sampled_from(self.live_orders()))
        order = self.book.orders[coid]
        quantity = order.remaining if full else data.draw(st.integers(1, order.remaining))
        effects = self.do(_executed(_fill(order.request, quantity)))
        self.position += order.request.signed_quantity // order.request.quantity * quantity
        assert not _notes(effects, "broker_anomaly")
        assert self.book.orders[coid].filled <= order.request.quantity
        if order.remaining == 0:
            self.done.add(coid)

    @precondition(lambda self: self.link_up and self.live_orders())
    @rule(data=st.data(), extra=st.integers(1, 5))
    def overfill(self, data: st.DataObject, extra: int) -> None:
        coid = data.draw(st.sampled_from(self.live_orders()))
        order = self.book.orders[coid]
        quantity = order.remaining + extra
        effects = self.do(_executed(_fill(order.request, quantity)))
        self.position += order.request.side.sign * quantity
        assert self.book.orders[coid].filled > order.request.quantity
        assert _notes(effects, "broker_anomaly")
        assert self.book.trading_state is TradingState.HALTED
        self.done.add(coid)

    @precondition(lambda self: self.link_up and self.done)
    @rule()
    def report_filled(self) -> None:
        coid = sorted(self.done)[0]
        self.done.discard(coid)
        self.at_broker.discard(coid)
        self.do(StatusReported(client_order_id=coid, status=OrderStatus.FILLED))
        assert coid not in self.book.orders

    @precondition(lambda self: self.link_up and self.cancels & self.at_broker - self.done)
    @rule()
    def confirm_cancel(self) -> None:
        coid = sorted(self.cancels & self.at_broker - self.done)[0]
        self.cancels.discard(coid)
        self.at_broker.discard(coid)
        self.do(StatusReported(client_order_id=coid, status=OrderStatus.CANCELLED))
        assert coid not in self.book.orders

    # -- marks, state, the link --

    def good_mark(self, ticks: int) -> None:
        self.mid = MID + ticks * OATS.tick_size
        self.do(Marks(mids={OATS.symbol: self.mid}, day=DAY))

    def bad_mark(self, bad: Decimal) -> None:
        self.do(Marks(mids={OATS.symbol: bad}, day=DAY))
        if self.book.account.positions.get(OATS.symbol) is not None:
            assert self.book.trading_state is not TradingState.ACTIVE  # fails closed

    def adverse_mark(self) -> None:
        adverse = MID - (1 if self.position > 0 else -1) * 300
        effects = self.do(Marks(mids={OATS.symbol: adverse}, day=DAY))
        assert self.book.trading_state is not TradingState.ACTIVE
        assert self.book.latched
        assert effects or self.book.latched  # tripped now, or had tripped before
        self.do(Marks(mids={OATS.symbol: self.mid}, day=DAY))
        assert self.book.trading_state is not TradingState.ACTIVE  # the trip latched

    @rule(act=st.sampled_from(["kill", "resume", "flatten", "restart", "mark", "mark",
                               "bad_mark", "adverse_mark", "finalize"]), data=st.data())
    def trader_or_market(self, act: str, data: st.DataObject) -> None:
        if act == "mark":
            self.good_mark(data.draw(st.integers(-16, 16)))
        elif act == "bad_mark":
            self.bad_mark(data.draw(st.sampled_from([D("NaN"), D(0), D(-1), D("Infinity")])))
        elif act == "finalize":
            if not self.finalized:
                self.finalize(data.draw(st.booleans()))
        elif act == "adverse_mark":
            if self.position != 0:
                self.adverse_mark()
        else:
            {"kill": self.kill, "resume": self.resume, "flatten": self.allow_flatten,
             "restart": self.restart}[act]()

    def kill(self) -> None:
        self.do(KillSwitch(reason="test"))
        assert self.book.trading_state is TradingState.HALTED
        position = self.book.account.quantity(OATS.symbol)
        for order in self.book.orders.values():
            request = order.request
            if request.order_type is OrderType.STOP_LIMIT or order.cancel_wanted \
                    or order.remaining == 0:
                continue
            # Only a reducing order of an intent flattening on the trader's word stays.
            assert request.intent_id in self.flattening
            assert reduces(position, request.side.sign * order.remaining)

    def resume(self) -> None:
        self.do(Resume(reason="test"))

    def allow_flatten(self) -> None:
        self.flattening.add(IntentId("int-flat"))
        self.do(AllowFlatten(intent_id=IntentId("int-flat")))

    @rule(toggle=st.integers(0, 3).map(lambda n: n == 0))
    def link(self, toggle: bool) -> None:
        if toggle or not self.link_up:  # the link stays down only briefly
            (self.link_lost if self.link_up else self.resync)()

    def link_lost(self) -> None:
        self.link_up = False
        self.do(LinkLost(reason="test"))
        assert not self.book.session_up

    def resync(self) -> None:
        self.link_up = True
        working = frozenset(c for c in self.at_broker if c not in self.done)
        # Orders that filled in full while the link was down are no longer working there.
        self.at_broker -= self.done
        self.done.clear()
        self.do(Resync(working=working, positions={OATS.symbol: self.position}))
        assert self.book.session_up
        for coid in self.book.orders:
            assert coid not in self.at_broker or coid in working

    def restart(self) -> None:
        old = self.book
        snapshot = old.snapshot()
        held = old.account.positions.get(OATS.symbol)
        broker = AccountState(
            start_of_day_equity=D(999), marks=old.account.marks,
            positions={} if held is None or held.quantity == 0 else {OATS.symbol: Position(
                contract=OATS, quantity=held.quantity, average_price=D(1))})
        account = restored_account(snapshot, day=DAY, account=broker,
                                   contracts={OATS.symbol: OATS})
        new = RiskBook(limits=LIMITS, account=account, day=DAY, latched=snapshot.latched)
        assert new.trading_state is old.trading_state
        assert new.latched == old.latched
        assert new.snapshot() == snapshot

    def finalize(self, leave: bool) -> None:
        self.finalized = True
        self.do(Finalize(leave_working=leave))
        self.do(Abandon(reason="deadline"))
        assert self.book.orders == {}

    # -- invariants --

    @invariant()
    def exposure_within_limit(self) -> None:
        if self.book.anomalies == 0:
            assert self.book.exposure(OATS.symbol) <= LIMITS.max_position

    @invariant()
    def position_matches_fills(self) -> None:
        assert self.book.account.quantity(OATS.symbol) == self.position

    @invariant()
    def owners_know_which_cancels_wait_for_the_link(self) -> None:
        """Every order whose cancel was asked but not sent (held for the link) has its owner
        told so, and told again when it is sent: its owner waits for the order's end."""
        unsent = {c for c, o in self.book.orders.items()
                  if o.cancel_wanted and o.sent and not o.cancel_sent}
        assert unsent == self.held & self.book.orders.keys()

    @invariant()
    def filled_within_quantity(self) -> None:
        for order in self.book.orders.values():
            assert order.filled <= order.request.quantity or self.book.anomalies > 0


TestRiskBookMachine = RiskBookMachine.TestCase
TestRiskBookMachine.settings = settings(max_examples=200, stateful_step_count=50)


# --- examples ---------------------------------------------------------------------------------


def test_concurrent_orders_count_against_the_position_limit() -> None:
    """Fifty 5-lot buys before any fill: only four fit a max_position of 20."""
    book = _book(attrs.evolve(LIMITS, max_position=20, max_open_orders=100))
    effects = [book.handle(_new(_request(Side.BUY, 5)), float(i)) for i in range(50)]
    accepted = [e for e in effects if any(isinstance(x, Transmit) for x in e)]
    assert len(accepted) == 4
    assert all(isinstance(e[0], JournalOrder) and isinstance(e[1], Transmit) for e in accepted)
    assert book.exposure(OATS.symbol) == 20


def _breaker_book() -> RiskBook:
    limits = attrs.evolve(LIMITS, breakers=BreakerSettings(daily_loss=TradingState.REDUCING))
    book = _book(limits)
    _long(book, 4)  # 4 lots x 50 $/point: a 60-point drop loses 12,000
    return book


def test_daily_loss_breaker_latches() -> None:
    """A daily-loss trip latches REDUCING, journals it, and still lets a reducing sell out."""
    book = _breaker_book()
    effects = book.handle(Marks(mids={OATS.symbol: D(340)}, day=DAY), 1.0)
    assert book.trading_state is TradingState.REDUCING
    notes = _notes(effects, "trading_state")
    assert [n.details["state"] for n in notes] == [TradingState.REDUCING]
    book.handle(Marks(mids={OATS.symbol: MID}, day=DAY), 2.0)
    assert book.trading_state is TradingState.REDUCING
    assert "daily_loss" in book.latched
    buy = book.handle(_new(_request(Side.BUY, 1)), 3.0)
    assert isinstance(buy[-1], Reply) and isinstance(buy[-1].answer, Blocked)
    sell = book.handle(_new(_request(Side.SELL, 2)), 4.0)
    assert any(isinstance(e, Transmit) for e in sell)


def test_resume_clears_and_a_breaker_still_exceeded_retrips() -> None:
    """Resume clears a latched breaker, but one whose limit is still exceeded re-trips at once."""
    book = _breaker_book()
    book.handle(Marks(mids={OATS.symbol: D(340)}, day=DAY), 1.0)
    effects = book.handle(Resume(reason="trader"), 2.0)
    assert book.trading_state is TradingState.REDUCING
    assert _notes(effects, "breaker_tripped")
    book.handle(Marks(mids={OATS.symbol: MID}, day=DAY), 3.0)
    assert book.trading_state is TradingState.REDUCING  # still latched
    book.handle(Resume(reason="trader"), 4.0)
    assert book.trading_state is TradingState.ACTIVE
    assert book.latched == {}


def test_kill_spares_a_protective_stop() -> None:
    """A kill cancels entry orders but leaves a reducing STOP_LIMIT working."""
    book = _book()
    _long(book, 4)
    entry = _request(Side.BUY, 2)
    stop = _request(Side.SELL, 4, price=D(396), order_type=OrderType.STOP_LIMIT,
                    stop=D(396))
    _place(book, entry)
    _place(book, stop)
    effects = book.handle(KillSwitch(reason="trader"), 1.0)
    assert book.trading_state is TradingState.HALTED
    cancels = [e.client_order_id for e in effects if isinstance(e, TransmitCancel)]
    assert cancels == [entry.client_order_id]
    assert not book.orders[stop.client_order_id].cancel_wanted


def test_halted_allows_flattening_only_on_the_traders_word() -> None:
    """In HALTED a reducing order of an AllowFlatten intent passes; one without is refused."""
    book = _book()
    _long(book, 4)
    book.handle(KillSwitch(reason="trader"), 1.0)
    refused = book.handle(_new(_request(Side.SELL, 2, intent="int-2")), 2.0)
    assert not any(isinstance(e, Transmit) for e in refused)
    assert isinstance(refused[-1], Reply) and isinstance(refused[-1].answer, Blocked)
    book.handle(AllowFlatten(intent_id=IntentId("int-3")), 3.0)
    allowed = book.handle(_new(_request(Side.SELL, 2, intent="int-3")), 4.0)
    assert any(isinstance(e, Transmit) for e in allowed)
    flip = book.handle(_new(_request(Side.SELL, 5, intent="int-3")), 5.0)
    assert not any(isinstance(e, Transmit) for e in flip)  # would go through flat


def _zero_price_fill(request: OrderRequest) -> Fill:
    return _fill(request, 1, price=D(0))  # a Fill holds what the broker said; the book judges


@pytest.mark.parametrize("case", ["overfill", "zero_price", "unknown_live"])
def test_broker_anomalies_halt(case: str) -> None:
    """An overfill, a fill at price 0 or a live fill for an unknown order halts, never raises."""
    book = _book()
    request = _request(Side.BUY, 2)
    _place(book, request)
    if case == "overfill":
        message = _executed(_fill(request, 6))
    elif case == "zero_price":
        message = _executed(_zero_price_fill(request))
    else:
        message = _executed(_fill(_request(Side.BUY, 1), 1), known=False, live=True)
    effects = book.handle(message, 1.0)
    assert _notes(effects, "broker_anomaly")
    assert book.trading_state is TradingState.HALTED
    assert "broker_anomaly" in book.latched


def test_an_execution_id_reported_again_with_other_details_halts() -> None:
    """One execution id with a different quantity is an anomaly naming both versions; the
    order is cancelled and nothing more is booked. A true duplicate differs in nothing."""
    book = _book()
    request = _request(Side.BUY, 2)
    _place(book, request)
    stored = _fill(request, 1)
    book.handle(_executed(stored), 1.0)
    reported = attrs.evolve(stored, quantity=2)
    assert conflicting_fields(stored, attrs.evolve(stored, commission=D(2))) == ()
    effects = book.handle(ExecutionConflict(stored=stored, reported=reported), 2.0)
    (note,) = _notes(effects, "broker_anomaly")
    assert note.details["journaled"] == stored and note.details["reported"] == reported
    assert "different quantity 1 → 2" in note.details["problem"]
    assert book.trading_state is TradingState.HALTED
    assert book.orders[request.client_order_id].filled == 1
    assert TransmitCancel(client_order_id=request.client_order_id) in effects


def test_cancel_before_sent_withdraws() -> None:
    """A cancel before sending withdraws it; the WITHDRAWN report answers Blocked, CANCELLED."""
    book = _book()
    request = _request(Side.BUY, 2)
    coid = request.client_order_id
    book.handle(_new(request), 0.0)
    assert book.handle(Cancel(client_order_id=coid), 1.0) == [Withdraw(client_order_id=coid)]
    effects = book.handle(Dispatched(client_order_id=coid, action=Action.PLACE,
                                     outcome=Outcome.WITHDRAWN), 2.0)
    statuses = [e for e in effects if isinstance(e, JournalStatus)]
    assert [s.status for s in statuses] == [OrderStatus.CANCELLED]
    replies = [e for e in effects if isinstance(e, Reply)]
    assert len(replies) == 1 and isinstance(replies[0].answer, Blocked)
    assert coid not in book.orders
    assert book.exposure(OATS.symbol) == 0


def test_pending_modify_is_answered_when_the_order_fills() -> None:
    """A modify still pending when its order reaches FILLED is answered Blocked."""
    book = _book()
    request = _request(Side.BUY, 2)
    coid = request.client_order_id
    _place(book, request)
    modify = book.handle(Modify(client_order_id=coid, limit_price=D("400.25"),
                                reply="modifier", reference_price=MID), 1.0)
    assert any(isinstance(e, TransmitModify) for e in modify)
    book.handle(_executed(_fill(request, 2)), 2.0)
    effects = book.handle(StatusReported(client_order_id=coid, status=OrderStatus.FILLED), 3.0)
    replies = [e for e in effects if isinstance(e, Reply)]
    assert [r.reply for r in replies] == ["modifier"]
    assert isinstance(replies[0].answer, Blocked)


def test_a_modify_withdrawn_by_its_orders_cancel_is_answered_as_cancelled() -> None:
    """A modify the sender withdrew (its order's cancel came while it waited) is answered
    Blocked for the cancel, not for a session down."""
    book = _book()
    request = _request(Side.BUY, 2)
    coid = request.client_order_id
    _place(book, request)
    book.handle(Modify(client_order_id=coid, limit_price=D("400.25"), reply="modifier",
                       reference_price=MID), 1.0)
    book.handle(Cancel(client_order_id=coid), 1.0)
    effects = book.handle(Dispatched(client_order_id=coid, action=Action.MODIFY,
                                     outcome=Outcome.WITHDRAWN), 1.0)
    (reply,) = [e for e in effects if isinstance(e, Reply)]
    assert isinstance(reply.answer, Blocked)
    assert [d.field for d in reply.answer.denials] == ["cancelled"]
    assert book.orders[coid].request.limit_price == MID  # never moved


def test_finalize_cancels_and_abandon_journals_the_rest() -> None:
    """Finalize(leave_working=False) cancels every order; Abandon marks the rest unmanaged."""
    book = _book()
    sent = [_request(Side.BUY, 1), _request(Side.SELL, 1)]
    for request in sent:
        _place(book, request)
    queued = _request(Side.BUY, 1)
    book.handle(_new(queued), 1.0)
    effects = book.handle(Finalize(leave_working=False), 2.0)
    assert {e.client_order_id for e in effects if isinstance(e, TransmitCancel)} == {
        r.client_order_id for r in sent}
    assert [e for e in effects if isinstance(e, Withdraw)] == [
        Withdraw(client_order_id=queued.client_order_id)]
    abandoned = book.handle(Abandon(reason="deadline"), 3.0)
    unmanaged = _notes(abandoned, "order_unmanaged")
    assert {n.details["client_order_id"] for n in unmanaged} == {
        r.client_order_id for r in (*sent, queued)}
    assert book.orders == {}


def test_finalize_cancels_again_an_order_whose_cancel_went_unanswered() -> None:
    """A cancel sent and never answered (IB refuses a message over its rate, error 100,
    naming no order) is sent again by the finalizer; a second Cancel before it is not."""
    book = _book()
    request = _request(Side.BUY, 1)
    coid = request.client_order_id
    _place(book, request)
    assert book.handle(Cancel(client_order_id=coid), 1.0) == [TransmitCancel(client_order_id=coid)]
    assert book.handle(Cancel(client_order_id=coid), 2.0) == []
    effects = book.handle(Finalize(leave_working=False), 12.0)
    assert [e for e in effects if isinstance(e, TransmitCancel)] == [
        TransmitCancel(client_order_id=coid)]
    book.handle(StatusReported(client_order_id=coid, status=OrderStatus.CANCELLED), 12.1)
    assert book.orders == {}


def _told(effects: list[Effect]) -> list[tuple[ClientOrderId, bool]]:
    return [(e.client_order_id, e.held) for e in effects if isinstance(e, TellCancel)]


def test_a_cancel_while_the_link_is_down_is_held_its_owner_told_and_sent_after_the_resync(
) -> None:
    """A cancel asked with the link down is held, not transmitted, and its owner is told so
    once (a second cancel tells nothing new); the resync sends it and tells the owner it
    went, so the owner waits for the order's end meanwhile, not for a confirmation."""
    book = _book()
    request = _request(Side.BUY, 2)
    coid = request.client_order_id
    _place(book, request)
    book.handle(LinkLost(reason="test"), 1.0)
    assert book.handle(Cancel(client_order_id=coid), 2.0) == [
        TellCancel(owner=OWNER, client_order_id=coid, held=True)]
    assert book.handle(Cancel(client_order_id=coid), 3.0) == []
    effects = book.handle(Resync(working=frozenset({coid}), positions=None), 4.0)
    assert [e for e in effects if isinstance(e, TransmitCancel)] == [
        TransmitCancel(client_order_id=coid)]
    assert _told(effects) == [(coid, False)]


def test_a_cancel_the_sender_could_not_send_is_held_and_its_owner_told() -> None:
    """A cancel the broker refused because the link had just gone (the sender's LINK_DOWN)
    is held as one asked while down: the owner is told."""
    book = _book()
    request = _request(Side.BUY, 2)
    coid = request.client_order_id
    _place(book, request)
    assert book.handle(Cancel(client_order_id=coid), 1.0) == [TransmitCancel(client_order_id=coid)]
    effects = book.handle(Dispatched(client_order_id=coid, action=Action.CANCEL,
                                     outcome=Outcome.LINK_DOWN, error="down"), 1.1)
    assert _told(effects) == [(coid, True)]


def test_a_cancel_unconfirmed_when_the_link_is_lost_is_held_and_the_resync_settles_it() -> None:
    """A cancel sent but unconfirmed when the link goes is held too (its confirmation cannot
    come before the resync): the owner is told; at the resync an order gone from the broker
    is settled from what filled (its cancel not sent again), one still working has its
    cancel sent again."""
    book = _book()
    gone, working = _request(Side.BUY, 2), _request(Side.BUY, 3)
    for request in (gone, working):
        _place(book, request)
        book.handle(Cancel(client_order_id=request.client_order_id), 1.0)
    book.handle(_executed(_fill(gone, 2)), 1.5)
    effects = book.handle(LinkLost(reason="test"), 2.0)
    assert _told(effects) == [(gone.client_order_id, True), (working.client_order_id, True)]
    effects = book.handle(Resync(working=frozenset({working.client_order_id}), positions=None),
                          3.0)
    assert [(e.client_order_id, e.status, e.filled) for e in effects
            if isinstance(e, TellStatus)] == [(gone.client_order_id, OrderStatus.FILLED, 2)]
    assert [e for e in effects if isinstance(e, TransmitCancel)] == [
        TransmitCancel(client_order_id=working.client_order_id)]
    assert _told(effects) == [(working.client_order_id, False)]


def test_a_cancel_lost_with_the_link_up_is_not_held() -> None:
    """A cancel sent with the link up and never answered tells its owner nothing: it keeps
    its confirmation limit (and the finalizer's second cancel)."""
    book = _book()
    request = _request(Side.BUY, 1)
    _place(book, request)
    effects = book.handle(Cancel(client_order_id=request.client_order_id), 1.0)
    effects += book.handle(Dispatched(client_order_id=request.client_order_id,
                                      action=Action.CANCEL, outcome=Outcome.SENT), 1.1)
    assert _told(effects) == []


def test_reducing_latch_cuts_working_orders_that_together_flip() -> None:
    """After a REDUCING latch, working orders that together would flip the position are cut."""
    book = _breaker_book()  # 4 lots long
    first, second = _request(Side.SELL, 4), _request(Side.SELL, 4)
    _place(book, first)
    _place(book, second)
    book.handle(Marks(mids={OATS.symbol: D(340)}, day=DAY), 1.0)
    assert book.trading_state is TradingState.REDUCING
    left = [o for o in book.orders.values() if not o.cancel_wanted]
    assert sum(o.remaining for o in left) <= abs(book.account.quantity(OATS.symbol))


def test_a_failed_write_ahead_forgets_the_order_and_halts() -> None:
    """When an order's journal write failed it was never sent: the book forgets it, tells the
    placer why, and HALTS (not remembered); a second failure latches nothing more, and the
    working orders are cancelled."""
    book = _book()
    working, unsent = _request(Side.BUY, 1), _request(Side.BUY, 2)
    _place(book, working)
    book.handle(_new(unsent), 0.0)
    effects = book.handle(JournalFailed(problem="disk full",
                                        client_order_id=unsent.client_order_id, placing=True), 0.0)
    assert unsent.client_order_id not in book.orders
    (reply,) = [e for e in effects if isinstance(e, Reply)]
    assert isinstance(reply.answer, Blocked) and reply.answer.denials[0].limit == "disk full"
    assert book.trading_state is TradingState.HALTED
    assert _notes(effects, "journal_write_failed")
    assert TransmitCancel(client_order_id=working.client_order_id) in effects
    assert not any(isinstance(e, JournalNote) and e.what == "risk_state" for e in effects)
    assert book.handle(JournalFailed(problem="disk full"), 0.0) == []


# --- restart: the day replayed, the broker's positions taken ----------------------------------


@settings(max_examples=100)
@given(trades=st.lists(st.tuples(st.sampled_from(Side), st.integers(1, 5),
                                 st.integers(-40, 40), st.integers(0, 3)),
                       min_size=1, max_size=12),
       at=st.integers(0, 12))
def test_a_snapshot_replayed_with_the_fills_after_it_is_the_book_that_booked_them(
    trades: list[tuple[Side, int, int, int]], at: int
) -> None:
    """Restored from a snapshot older than some fills (a crash between a fill and its
    snapshot), with the fills and commissions journaled after it replayed, the account has the
    live book's positions, realized PnL, commission and worst trade. (Not always its peak: a
    snapshot keeps no marks, and the book values a fill's position at the mark before it.)"""
    book = _book(attrs.evolve(LIMITS, max_position=1000, daily_loss_limit=D(10**9)))
    snapshot, since = book.snapshot(), []
    for n, (side, quantity, ticks, cents) in enumerate(trades):
        if n == at:
            snapshot, since = book.snapshot(), []
        fill = _fill(_request(side, quantity), quantity, price=MID + D(ticks) / 4)
        book.handle(Executed(fill=fill, known=True, live=False, contract=OATS), 0.0)
        book.handle(CommissionAdded(execution_id=fill.execution_id, commission=D(cents)), 0.0)
        since += [fill, Charge(symbol=OATS.symbol, commission=D(cents),
                                  execution_id=fill.execution_id)]
    account = restored_account(snapshot, day=DAY, account=AccountState(start_of_day_equity=1),
                               contracts={OATS.symbol: OATS}, since=since)
    live = book.snapshot()
    restored = RiskSnapshot.of(account, day=DAY, latched=live.latched)
    assert attrs.evolve(restored, peak_equity=live.peak_equity) == live
    assert restored.peak_equity >= snapshot.peak_equity


def test_a_snapshot_of_another_day_leaves_the_brokers_account() -> None:
    """A snapshot of yesterday is no baseline today: the broker's account, nothing replayed."""
    book = _book()
    _long(book, 2)
    broker = AccountState(start_of_day_equity=D(5))
    assert restored_account(book.snapshot(), day="2024-03-05", account=broker,
                            contracts={OATS.symbol: OATS},
                            since=[_fill(_request(Side.BUY, 1), 1)]) is broker


def test_a_start_whose_positions_are_the_brokers_books_its_resync_fills_only_once() -> None:
    """Positions read from the broker at start hold what the start's resync journals: those
    fills are not booked again (their commission still is), and the resync takes the
    broker's quantities."""
    book = RiskBook(limits=LIMITS, day=DAY, broker_positions=True, account=AccountState(
        start_of_day_equity=EQUITY, marks={OATS.symbol: MID},
        positions={OATS.symbol: Position(contract=OATS, quantity=2, average_price=MID)}))
    fill = _fill(_request(Side.BUY, 2), 2)
    book.handle(Executed(fill=fill, known=True, live=False, contract=OATS, restart=True), 0.0)
    assert book.account.quantity(OATS.symbol) == 2 and book.booked(fill.execution_id)
    effects = book.handle(Resync(working=frozenset(), positions={OATS.symbol: 2},
                                 restart=True), 0.0)
    assert _notes(effects, "reconcile_difference") == [] and _notes(effects, "risk_state")


def test_a_starts_resync_takes_the_brokers_positions_and_reports_the_difference() -> None:
    """The journal's account (2 long at 400) against the broker's 3 at a start, marked at
    403: reported, and the book holds 3, the third lot entered at the mark (average 401), its
    realized PnL kept; a symbol the broker no longer holds is flat."""
    book = _book()
    _long(book, 2)
    book.handle(Marks(mids={OATS.symbol: MID + 3}, day=DAY), 0.0)
    realized = book.account.positions[OATS.symbol].realized_pnl
    effects = book.handle(Resync(working=frozenset(), positions={OATS.symbol: 3},
                                 restart=True), 0.0)
    assert [type(e).__name__ for e in effects if isinstance(e, Difference)] == ["Difference"]
    held = book.account.positions[OATS.symbol]
    assert (held.quantity, held.average_price, held.realized_pnl) == (3, MID + 1, realized)
    book.handle(Resync(working=frozenset(), positions={}, restart=True), 0.0)
    assert book.account.quantity(OATS.symbol) == 0


def test_a_fill_journals_the_risk_state_only_when_it_makes_a_new_worst_trade() -> None:
    """A restart replays fills and commissions, so neither journals the book's state, but a
    fill or a commission that makes a new worst trade does (the dashboard reads it from the
    newest one)."""
    book = _book()
    buy, sell = _request(Side.BUY, 2), _request(Side.SELL, 2, price=MID - 1)
    _place(book, buy)
    _place(book, sell)
    opening = book.handle(_executed(_fill(buy, 2)), 0.0)
    fill = _fill(sell, 2)
    losing = book.handle(_executed(fill), 0.0)
    charged = book.handle(CommissionAdded(execution_id=fill.execution_id, commission=D(5)), 0.0)
    other = book.handle(CommissionAdded(execution_id=ExecutionId("ex-unknown"),
                                        commission=D(5)), 0.0)
    assert [len(_notes(e, "risk_state")) for e in (opening, losing, charged, other)] == [
        0, 1, 1, 0]
    assert book.account.worst_trade_loss == D(105)  # 2 lots x 1 point x $50, and $5


def test_a_commission_reported_after_its_fill_counts_in_the_single_trade_loss() -> None:
    """IB sends a fill's commission in a later report: the trade's loss is its price loss and
    its commission, so the single-trade breaker trips on the commission that takes it to the
    limit (before, a trade judged without its commission never did), and a commission for a
    trade of an earlier day is not today's loss."""
    limits = attrs.evolve(LIMITS, max_single_trade_loss=D(120), breakers=BreakerSettings(
        single_trade_loss=TradingState.HALTED))
    book = _book(limits)
    buy, sell = _request(Side.BUY, 2), _request(Side.SELL, 2, price=MID - 1)
    _place(book, buy)
    _place(book, sell)
    book.handle(_executed(_fill(buy, 2)), 0.0)
    fill = _fill(sell, 2)
    book.handle(_executed(fill), 0.0)  # loses 2 x 1 point x $50 = 100
    assert book.trading_state is TradingState.ACTIVE
    book.handle(CommissionAdded(execution_id=fill.execution_id, commission=D(19)), 0.0)
    assert book.trading_state is TradingState.ACTIVE  # 119
    effects = book.handle(CommissionAdded(execution_id=fill.execution_id, commission=D(1)), 0.0)
    assert book.trading_state is TradingState.HALTED  # 120: at the limit
    assert "single_trade_loss" in book.latched
    assert [n.details["state"] for n in _notes(effects, "trading_state")] == [
        TradingState.HALTED]
    late = _book(limits)
    _place(late, buy := _request(Side.BUY, 2))
    _place(late, sell := _request(Side.SELL, 2, price=MID - 1))
    late.handle(_executed(_fill(buy, 2)), 0.0)
    late.handle(_executed(fill := _fill(sell, 2)), 0.0)
    late.handle(Marks(mids={OATS.symbol: MID}, day="2024-03-05"), 1.0)
    late.handle(CommissionAdded(execution_id=fill.execution_id, commission=D(50)), 2.0)
    assert late.account.worst_trade_loss == 0
    assert late.trading_state is TradingState.ACTIVE


def test_an_anomalous_execution_journals_the_latched_state() -> None:
    """An execution anomaly's HALTED latch is journaled with the book's state at once (a
    restart replays fills, not latches)."""
    book = _book()
    request = _request(Side.BUY, 2)
    _place(book, request)
    effects = book.handle(_executed(_fill(request, 6)), 0.0)  # 6 lots for a 2-lot order
    (note,) = _notes(effects, "risk_state")
    assert [x["cause"] for x in note.details["latched"]] == ["broker_anomaly"]
