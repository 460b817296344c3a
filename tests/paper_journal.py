"""Journals for the report tests, written through `hydra._journal.Journal` with a clock the test
moves, so weeks of paper trading fit in a test."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from hydra._contracts import OATS
from hydra._core._model_versions import FillPrediction, Prediction
from hydra._enums import NoteKind, OrderStatus, Policy, Side
from hydra._ids import ClientOrderId, ExecutionId, IntentId
from hydra._journal import Journal
from hydra._orders import Fill, OrderIntent, OrderRequest

T0 = dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.UTC)  # a Monday


class Clock:
    """The journal's wall clock, set by the test."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


class PaperJournal:
    """A journal file and the clock that stamps it; ``at(days)`` moves the clock from T0."""

    def __init__(self, path: Path, *, new_journal: bool = False) -> None:
        self.path = path
        self.clock = Clock()
        self.journal = Journal.open(path, clock=self.clock, new_journal=new_journal)

    def at(self, days: float) -> PaperJournal:
        self.clock.now = T0 + dt.timedelta(days=days)
        return self

    def intent(self, intent_id: str, *, side: Side, quantity: int, arrival_mid: str,
               predicted: str | None, strategy: str = "default") -> None:
        intent = OrderIntent(contract=OATS, side=side, quantity=quantity, strategy=strategy,
                             intent_id=IntentId(intent_id))
        self.journal.record_intent(intent, arrival_mid=Decimal(arrival_mid),
                                   predicted_bps=None if predicted is None else Decimal(predicted))

    def order(self, intent_id: str, *, side: Side, quantity: int, limit: str) -> ClientOrderId:
        client_order_id = ClientOrderId(f"{intent_id}.1")
        self.journal.record_order(OrderRequest(
            client_order_id=client_order_id, intent_id=IntentId(intent_id), contract=OATS,
            side=side, quantity=quantity, limit_price=limit,
        ))
        return client_order_id

    def fill(self, client_order_id: str, execution: str, *, side: Side, quantity: int,
             price: str, predicted: str | None, actual: str | None,
             own: Mapping[str, str] | None = None) -> None:
        """A fill with its order's prediction ``predicted`` and, when given, its ``own``
        (`FillPrediction.to_json`)."""
        fill = Fill(execution_id=ExecutionId(execution),
                    client_order_id=ClientOrderId(client_order_id), symbol="ZO", side=side,
                    price=price, quantity=quantity, time=self.clock.now)
        self.journal.record_fill(
            fill, intent_id=None,
            predicted_bps=None if predicted is None else Decimal(predicted),
            actual_bps=None if actual is None else Decimal(actual), fill_prediction=own,
        )

    def status(self, client_order_id: str, status: OrderStatus) -> None:
        self.journal.record_status(ClientOrderId(client_order_id), status)

    def note(self, what: str, **details: Any) -> None:
        self.journal.record_note(what, **details)

    def start(self, venue: str = "paper", **details: Any) -> PaperJournal:
        """An ``engine_started`` note of ``venue``: a session the gate counts (paper) or not."""
        self.journal.record_note("engine_started", broker="IBBroker", venue=venue,
                                 dry_run=False, **details)
        return self

    def working(self, *names: str) -> PaperJournal:
        """A buy of 2 working at 349.75 (arrival mid 350.00) for each of ``names``."""
        for name in names:
            self.intent(name, side=Side.BUY, quantity=2, arrival_mid="350.00", predicted=None)
            self.status(self.order(name, side=Side.BUY, quantity=2, limit="349.75"),
                        OrderStatus.WORKING)
        return self

    def close(self) -> None:
        self.journal.close()


def example_journal(path: Path) -> PaperJournal:
    """The hand-computed fill-report example (all mids 400.00, so a tick of 0.25 is 6.25 bps).

    - day 0, ``int-a``, momo, BUY 4, predicted 2: 2 @ 400.00 (predicted 1, actual 0) and
      2 @ 400.25 (predicted 5.25, actual 6.25): average 400.125, shortfall 3.125 bps.
    - day 1, ``int-b``, carry, SELL 4, predicted 5: 1 @ 399.75 (predicted 3.25, actual 6.25) and
      3 @ 399.50 (predicted 7.5, actual 12.5): average 399.5625, shortfall 10.9375 bps.
    - day 3, a fill of an order the journal never saw (no intent, no slippage).
    - day 10, ``int-c``, momo, BUY 1, predicted 1, never filled.

    Fill errors (actual − predicted) are −1, 1, 3, 5: bias 2, RMSE 3.
    """
    paper = PaperJournal(path)
    paper.at(0).intent("int-a", side=Side.BUY, quantity=4, arrival_mid="400.00", predicted="2",
                       strategy="momo")
    a = paper.order("int-a", side=Side.BUY, quantity=4, limit="400.25")
    paper.fill(a, "e1", side=Side.BUY, quantity=2, price="400.00", predicted="1", actual="0")
    paper.at(0.01).fill(a, "e2", side=Side.BUY, quantity=2, price="400.25", predicted="5.25",
                        actual="6.25")
    paper.at(1).intent("int-b", side=Side.SELL, quantity=4, arrival_mid="400.00",
                       predicted="5", strategy="carry")
    b = paper.order("int-b", side=Side.SELL, quantity=4, limit="399.50")
    paper.fill(b, "e3", side=Side.SELL, quantity=1, price="399.75", predicted="3.25",
               actual="6.25")
    paper.at(1.01).fill(b, "e4", side=Side.SELL, quantity=3, price="399.50", predicted="7.5",
                        actual="12.5")
    paper.at(3).fill("stray.1", "e5", side=Side.BUY, quantity=1, price="401.00", predicted=None,
                     actual=None)
    paper.at(10).intent("int-c", side=Side.BUY, quantity=1, arrival_mid="401.00", predicted="1",
                        strategy="momo")
    paper.close()
    return paper


def _own(version: str, bps: str, aggressiveness: str) -> dict[str, str]:
    """A fill's own prediction as the risk actor journals it."""
    prediction = Prediction(version_id=version, symbol="ZO", policy=Policy.PATIENCE,
                            bps=Decimal(bps), crossing_bps=Decimal(bps), impact_bps=Decimal(0))
    return FillPrediction(prediction=prediction, limit_price=Decimal("400.25"),
                          bid=Decimal("399.75"), ask=Decimal("400.25"),
                          aggressiveness=Decimal(aggressiveness),
                          participation=Decimal(0)).to_json()


def own_predictions_journal(path: Path) -> PaperJournal:
    """One intent predicted at 3 bps before it traded, filled resting (its own prediction
    0 bps, actual 0) and crossing (its own 6.25 bps, actual 6.25), and a fill journaled before
    fills had their own predictions (its order's 3, actual 6.25)."""
    paper = PaperJournal(path)
    paper.intent("int-x", side=Side.BUY, quantity=3, arrival_mid="400.00", predicted="3")
    order = paper.order("int-x", side=Side.BUY, quantity=3, limit="400.25")
    paper.fill(order, "x1", side=Side.BUY, quantity=1, price="400.00", predicted="3",
               actual="0", own=_own("v1", "0", "0"))
    paper.at(0.01).fill(order, "x2", side=Side.BUY, quantity=1, price="400.25", predicted="3",
                        actual="6.25", own=_own("v2", "6.25", "1"))
    paper.fill(order, "x3", side=Side.BUY, quantity=1, price="400.25", predicted="3",
               actual="6.25")
    paper.close()
    return paper


def gate_journal(path: Path, *, days: float = 35, quiet_week: int | None = None,
                 calibrated: bool = True, reconnect: bool = True, kill: bool = True,
                 error: bool = False, healed: bool = True, breakers: bool = True,
                 notes_day: float = 29, venue: str = "paper") -> PaperJournal:
    """Paper trading every day for ``days`` days (none in week ``quiet_week``, counted from 1),
    passing every gate condition unless told otherwise. The notes fall on ``notes_day`` and
    the two days after (by default in week 5, so leaving one out changes nothing else). The one
    engine session is of ``venue``."""
    paper = PaperJournal(path)
    paper.at(0).start(venue)
    for day in range(int(days) + 1):
        if quiet_week is not None and (quiet_week - 1) * 7 <= day < quiet_week * 7:
            continue
        paper.at(min(day + 0.25, days))
        intent_id = f"int-{day}"
        actual = Decimal("6.25") * (day % 3)
        # Calibrated: predicted tracks actual within half a bp; otherwise it runs against it.
        predicted = actual + Decimal("0.5") if calibrated else Decimal(20) - actual
        paper.intent(intent_id, side=Side.BUY, quantity=1, arrival_mid="400.00",
                     predicted=str(predicted))
        order = paper.order(intent_id, side=Side.BUY, quantity=1, limit="400.50")
        price = Decimal("400.00") + Decimal("0.25") * (day % 3)
        paper.fill(order, f"e{day}", side=Side.BUY, quantity=1, price=str(price),
                   predicted=str(predicted), actual=str(actual))
    if reconnect:
        paper.at(notes_day).note("session_down", reason="connection reset")
        paper.at(notes_day + 0.001).note("reconnected", missed_fills=0)
    if kill:
        paper.at(notes_day + 1).note("kill_switch", reason="drill", working=0)
    if healed:
        healing_cycle(paper.at(notes_day + 1.5))
    if breakers:
        breaker_drill(paper.at(notes_day + 1.7))
    if error:
        paper.at(notes_day + 2).note("unrecoverable_error",
                                     error="BrokerConnectionError('gave up')")
    paper.at(days).note("engine_stopped")
    paper.close()
    return paper


def healing_cycle(paper: PaperJournal, *, cycle_id: str = "heal-1",
                  outcome: str | None = "rolled_back") -> None:
    """The notes of one healing cycle, as `hydra._model_journal.heal` writes them (the steps'
    payloads cut to what the gate reads); with ``outcome`` None, a detection without drift."""
    detected = {"version_id": "v1", "recent_to": paper.clock.now.isoformat(),
                "drift": outcome is not None,
                "summary": "drift: KS p=0.0012, RMSE 2.60 -> 4.35 bps" if outcome else
                "no drift: KS p=0.4100, RMSE 2.60 -> 2.70 bps"}
    paper.note(NoteKind.HEAL_DETECTED, cycle_id=cycle_id, step=detected)
    if outcome is None:
        return
    paper.note(NoteKind.HEAL_HYPOTHESIS, cycle_id=cycle_id,
               step={"summary": "ZO/patience: bias +2.67 bps"})
    paper.note(NoteKind.HEAL_EXPERIMENT, cycle_id=cycle_id,
               step={"current_rmse_bps": "4.74", "candidate_rmse_bps": "4.90"})
    paper.note(NoteKind.HEAL_DECISION, cycle_id=cycle_id,
               step={"outcome": outcome, "summary": f"v2 {outcome.replace('_', ' ')}: "
                     "held-out RMSE 4.90 bps against v1's 4.74 (needed at most 4.51)"})


def breaker_drill(paper: PaperJournal, *,
                  causes: tuple[str, ...] = ("daily_loss", "drawdown", "position_value",
                                             "single_trade_loss")) -> None:
    """Each breaker in ``causes`` tripped and latched, then resumed, as the risk book notes it."""
    for cause in causes:
        state = "REDUCING" if cause == "position_value" else "HALTED"
        paper.note(NoteKind.BREAKER_TRIPPED, cause=cause, state=state, working=0,
                   reason=f"{cause} drill")
        paper.note(NoteKind.RESUME, reason=f"{cause} drill over", cleared=[cause])
