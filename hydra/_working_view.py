"""The working orders as a trader reads them: one frozen `WorkingOrder` per order still at
the broker, built from the journal, for the dashboard's table and the terminal's status region.

Pure but for `usable_quotes`, which asks a broker for quotes without waiting. An order's
ladder stage, the time to its next step and its TWAP slice are the engine's own: its patience
actor journals them as each stage begins (a ``ladder_stage`` note: when each stage left ends,
on the journal's clock), for a TWAP slice's ladder, a ladder fitted to the session or to the
deadline, a chase and a resumed ladder alike. A journal written before those notes (or an
order whose first stage is not told yet) has them derived as the plain ladder would time them:
from the order's placement, by `hydra._patience`'s plan for the intent's configured settings,
routed as the router routes it (`hydra._core._routing.route`).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import Counter
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs
import trio

from ._contracts import ContractSpec
from ._core._quote_check import quote_problem
from ._core._routing import route
from ._core._twap import slice_sizes
from ._enums import NoteKind, Policy, Side
from ._errors import BrokerError, InvalidValueError
from ._journal import EventKind, JournaledOrder
from ._journal_records import JournalRecord
from ._ladder_notes import read_stages_told
from ._patience import stage_plan, stages_after
from ._quote_source import contract_name
from ._quotes import Quote
from ._settings import ExecutionSettings, HydraConfig
from .brokers import MarketView


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
    stage: str  # where its ladder is now (RESTING, STEPPED, CROSSING; a baseline's policy)
    stage_left: float  # seconds until the next stage (or, at the last, until the ladder ends)
    last_stage: bool
    slices: tuple[int, int] | None  # which of a TWAP's slices it works, of all; None: no TWAP
    quote: Quote | None = None  # the broker's, when the reader has the broker and it is usable


@attrs.frozen(kw_only=True)
class Ladders:
    """What the journal says of each order's ladder: its stages as the engine last told them,
    its latest price; and for journals without the first, when it was placed, the policy and
    strategy of its intent and how many orders the intent has."""

    placed: Mapping[str, dt.datetime]
    prices: Mapping[str, Decimal]
    intents: Mapping[str, Mapping[str, Any]]
    orders: Counter[str]  # orders journaled per intent
    told: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)  # last ladder_stage note

    @classmethod
    def of(cls, records: Sequence[JournalRecord]) -> Ladders:
        return cls(
            placed={r.client_order_id: r.recorded_at for r in records
                    if r.kind is EventKind.ORDER and r.client_order_id is not None},
            prices={str(r.payload["client_order_id"]): Decimal(r.payload["limit_price"])
                    for r in records if r.is_note(NoteKind.MODIFY)},
            intents={r.intent_id: r.payload["intent"] for r in records
                     if r.kind is EventKind.INTENT and r.intent_id is not None},
            orders=Counter(r.intent_id for r in records
                           if r.kind is EventKind.ORDER and r.intent_id is not None),
            told={str(r.payload["client_order_id"]): r.payload for r in records
                  if r.is_note(NoteKind.LADDER_STAGE)},
        )

    def extended(self, records: Sequence[JournalRecord]) -> Ladders:
        """These ladders with what the journal's later ``records`` add (a follower's read)."""
        more = Ladders.of(records)
        return Ladders(placed={**self.placed, **more.placed},
                       prices={**self.prices, **more.prices},
                       intents={**self.intents, **more.intents}, orders=self.orders + more.orders,
                       told={**self.told, **more.told})

    def working(self, order: JournaledOrder, now: dt.datetime, config: HydraConfig
                ) -> WorkingOrder:
        """``order`` as it stands at ``now``: its ladder as the engine told it (or, on a journal
        that has not, as derived from its placement), its limit as last repriced."""
        request = order.request
        told = self.told.get(request.client_order_id)
        ladder = (None if told is None else told_ladder(told, now)) or self._derived(
            order, now, config)
        return WorkingOrder(
            intent_id=request.intent_id, client_order_id=request.client_order_id,
            contract=request.contract, symbol=request.contract.symbol, side=request.side,
            filled=order.filled, quantity=request.quantity,
            limit_price=self.prices.get(request.client_order_id, request.limit_price),
            stage=ladder.stage, stage_left=ladder.left, last_stage=ladder.last,
            slices=ladder.slices,
        )

    def _derived(self, order: JournaledOrder, now: dt.datetime, config: HydraConfig
                 ) -> Ladder:
        """``order``'s ladder at ``now`` as the plain ladder of its intent's configured settings
        times it from its placement; a TWAP's slices counted by the orders journaled."""
        request = order.request
        intent = self.intents.get(request.intent_id, {})
        settings = config.execution_for(str(intent.get("strategy", "default")))
        policy = routed_policy(intent, config, settings)
        plan = stage_plan(policy or Policy.PATIENCE, settings)
        placed = self.placed.get(request.client_order_id, now)
        left = stages_after(plan, max(0.0, (now - placed).total_seconds()))
        stage, stage_left = left[0] if left else (plan[-1][0], 0.0)
        return Ladder(
            stage=stage.name if isinstance(stage, enum.Enum) else str(stage), left=stage_left,
            last=len(left) <= 1,
            slices=None if policy is not Policy.TWAP else (
                self.orders[request.intent_id],
                len(slice_sizes(int(intent["quantity"]), settings.twap_slices))))


@attrs.frozen(kw_only=True)
class Ladder:
    """Where an order's ladder is at one moment."""

    stage: str
    left: float  # seconds to the next step (at the last stage: to the ladder's end)
    last: bool
    slices: tuple[int, int] | None


def told_ladder(note: Mapping[str, Any], now: dt.datetime) -> Ladder | None:
    """The ladder a ``ladder_stage`` note tells of, at ``now``: the first of its stages that
    has not ended (the last, once all have), and the seconds until it ends. None when the
    note cannot be read so (no stages, an end that is no zoned ISO time, a slice that is not
    k of n: a hand-mended journal, another version's): its ladder is then derived."""
    told = read_stages_told(note)
    if told is None:
        return None
    index = next((i for i, (_, end) in enumerate(told.stages) if end > now),
                 len(told.stages) - 1)
    stage, end = told.stages[index]
    return Ladder(stage=stage, left=max(0.0, (end - now).total_seconds()),
                  last=index == len(told.stages) - 1, slices=told.slice)


def working_orders(records: Sequence[JournalRecord], live_orders: Sequence[JournaledOrder], *,
                   now: dt.datetime, config: HydraConfig) -> tuple[WorkingOrder, ...]:
    """Each of the journal's ``live_orders`` as it stands at ``now``."""
    ladders = Ladders.of(records)
    return tuple(ladders.working(order, now, config) for order in live_orders)


def quoted(orders: Sequence[WorkingOrder], quotes: Mapping[str, Quote]
           ) -> tuple[WorkingOrder, ...]:
    """``orders`` with the broker's ``quotes`` (by `contract_name`) beside each."""
    return tuple(attrs.evolve(o, quote=quotes.get(contract_name(o.contract))) for o in orders)


def routed_policy(intent: Mapping[str, Any], config: HydraConfig, settings: ExecutionSettings
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


def usable_quotes(market: MarketView, contracts: Sequence[ContractSpec], *, max_age: float
                  ) -> dict[str, Quote]:
    """The broker's usable quote of each of ``contracts``, by `contract_name` (read on the
    Trio thread, as a broker must be); one it has not, or cannot price from, is left out."""
    quotes: dict[str, Quote] = {}
    for contract in contracts:
        try:
            quote = market.quote_nowait(contract)
        except BrokerError:  # not subscribed, or unusable (QuoteUnusableError)
            continue
        # Now is read after the quote: on the real clock a quote stamped as it is read (IB's,
        # while its feed vouches for it; the simulator's) would be "ahead" of an earlier now.
        if quote_problem(quote, now=trio.current_time(), max_age=max_age) is None:
            quotes[contract_name(contract)] = quote
    return quotes


def price_text(value: Decimal, contract: ContractSpec | None) -> str:
    """A price with at least as many decimals as ``contract``'s tick (IB's 350.0 shows as
    350.00, as the simulator's does); never fewer than it has."""
    if contract is not None:
        places, exponent = contract.tick_size.as_tuple().exponent, value.as_tuple().exponent
        if isinstance(places, int) and isinstance(exponent, int) and exponent > places:
            value = value.quantize(Decimal(1).scaleb(places))
    return str(value)
