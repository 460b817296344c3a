"""Run a scenario: Hydra on the simulated exchange, under Trio's virtual clock.

The actions run in one task, in time order (an action whose time has passed runs at once;
a kill waits for its cancels before the next action). The engine is opened with the
journal offload inline and the journal's clock stamped from the exchange, as in the tests, so a
run is a pure function of the scenario, the seed and the policy.
"""

from __future__ import annotations

import functools
import statistics
import tempfile
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path

import attrs
import trio
import trio.testing

from .._contracts import ContractSpec
from .._engine import Engine
from .._enums import Side, TradingState
from .._errors import BrokerError, InvalidValueError
from .._ids import IntentId
from .._journal_actor import run_inline
from .._open_hydra import open_hydra
from .._orders import OrderIntent
from .._quotes import Quote
from .._reports import ExecutionReport
from .._router import IntentHandle
from ..sim import SimBroker, SimExchange, open_sim_exchange
from ._model import (
    Action,
    CancelIntent,
    ClosePosition,
    KillSwitch,
    Roll,
    RunPolicy,
    Scenario,
    SubmitBracket,
    SubmitIntent,
)


@attrs.frozen(kw_only=True)
class IntentCost:
    """What one intent cost as a whole (IS-complete), in bps of its arrival mid per intended
    contract, positive = a cost: the filled part, the unfilled rest bought (sold) at the far
    touch when the run ended (the cheapest way to finish; the simulator shows no depth behind
    the touch), and the commissions of both. The parts add up to ``is_complete_bps``."""

    filled_bps: Decimal  # side × (fills − arrival mid), over the whole order
    opportunity_bps: Decimal  # side × (far touch at the end − arrival mid) × unfilled
    commission_bps: Decimal  # paid on the fills, and due on the rest
    commission: Decimal  # dollars, the same two parts
    completion: Decimal

    @property
    def is_complete_bps(self) -> Decimal:
        return self.filled_bps + self.opportunity_bps + self.commission_bps


def intent_cost(report: ExecutionReport, *, finish: Decimal, point_value: Decimal,
                commission_per_contract: Decimal) -> IntentCost:
    """``report``'s IS-complete, its unfilled rest finished at ``finish``."""
    side, arrival, ordered = report.side.sign, report.arrival_mid, report.quantity
    unfilled = ordered - report.filled
    whole = arrival * ordered / 10_000  # one bps of the whole order, in price × lots
    filled = sum((side * (f.price - arrival) * f.quantity for f in report.fills), Decimal(0))
    commission = (sum((f.commission for f in report.fills), Decimal(0))
                  + commission_per_contract * unfilled)
    return IntentCost(
        filled_bps=filled / whole, opportunity_bps=side * (finish - arrival) * unfilled / whole,
        commission_bps=commission / point_value / whole, commission=commission,
        completion=report.completion)


@attrs.frozen(kw_only=True)
class OrderResult:
    """One intent's report, with what the scenario knows about it."""

    report: ExecutionReport
    action: str  # intent, bracket, close, roll-close or roll-open
    month: str | None  # the delivery month it traded, when the market has one
    cost: IntentCost | None = None  # IS-complete, once the run has ended


@attrs.frozen(kw_only=True)
class RunSummary:
    """One run in numbers. Shortfalls in bps of the arrival mid (positive: a cost)."""

    intents: int
    ordered: int
    filled: int
    completion: Decimal  # filled / ordered, over every intent
    blocked: int  # intents with an order the risk actor blocked
    mean_shortfall_bps: Decimal | None  # mean over the intents with a fill (filled part only)
    weighted_shortfall_bps: Decimal | None  # weighted by filled quantity
    child_orders: int
    duration: float  # virtual seconds from the exchange opening until Hydra had closed
    trading_state: TradingState  # at the end
    notes: tuple[str, ...]  # actions that could not be done, and why
    # IS-complete over every intent with a cost, weighted by ordered quantity (None: none)
    is_complete_bps: Decimal | None = None
    opportunity_bps: Decimal | None = None
    commission_bps: Decimal | None = None
    commission: Decimal = Decimal(0)  # dollars, paid and due on the unfilled rest


@attrs.frozen(kw_only=True)
class RunResult:
    scenario: str
    seed: int
    policy: RunPolicy
    orders: tuple[OrderResult, ...]
    summary: RunSummary
    end_mids: Mapping[str, Decimal] = attrs.field(factory=dict)  # market → mid at the horizon


def market_key(contract: ContractSpec) -> str:
    """How `RunResult.end_mids` names a market: ``ZO``, or ``ZO 202607`` for one month."""
    return contract.symbol if contract.expiry is None else f"{contract.symbol} {contract.expiry}"


@attrs.frozen(kw_only=True)
class IntentSeeds:
    """One intent of a scenario across seeds, under one policy: means over the runs."""

    intent_id: str
    runs: int
    is_complete_bps: Decimal  # mean IS-complete, the unfilled rest finished at the end
    is_complete_ci95_bps: Decimal | None  # half-width of a normal 95% interval (2+ runs)
    filled_bps: Decimal
    opportunity_bps: Decimal
    commission_bps: Decimal
    completion: Decimal


@attrs.frozen(kw_only=True)
class SeedsSummary:
    """Several seeds of one scenario: means across the runs (common random numbers)."""

    runs: int
    mean_shortfall_bps: Decimal | None  # mean of each run's mean shortfall (runs with fills)
    shortfall_ci95_bps: Decimal | None  # half-width of a normal 95% interval (2+ runs)
    mean_completion: Decimal
    policy: RunPolicy = RunPolicy.HYDRA
    is_complete_bps: Decimal | None = None  # mean of each run's IS-complete
    is_complete_ci95_bps: Decimal | None = None
    opportunity_bps: Decimal | None = None
    commission_bps: Decimal | None = None
    intents: tuple[IntentSeeds, ...] = ()


# --- running -----------------------------------------------------------------------------------


def run_scenario(
    scenario: Scenario, *, seed: int | None = None, policy: RunPolicy = RunPolicy.HYDRA,
    journal: Path | None = None,
) -> RunResult:
    """Run ``scenario`` (with its own seed unless given) under a virtual clock; the journal is
    written to ``journal`` or to a temporary directory that is removed afterwards."""
    seed = scenario.seed if seed is None else seed
    clock = trio.testing.MockClock(autojump_threshold=0)
    if journal is not None:
        return trio.run(functools.partial(play, scenario, seed=seed, policy=policy,
                                          journal=journal), clock=clock)
    with tempfile.TemporaryDirectory(prefix="hydra-scenario-") as folder:
        path = Path(folder) / "journal.sqlite"
        return trio.run(functools.partial(play, scenario, seed=seed, policy=policy,
                                          journal=path), clock=clock)


async def play(
    scenario: Scenario, *, seed: int, policy: RunPolicy, journal: Path
) -> RunResult:
    """Run ``scenario`` in the current Trio run (use a virtual clock: it trades for hours)."""
    async with open_sim_exchange(scenario.sim, seed=seed) as exchange:
        recorder = _Recorder(policy)
        async with open_hydra(
            scenario.config, SimBroker(exchange, client_id=1), journal_path=journal, seed=seed,
            offload=run_inline,  # a worker thread would let virtual time jump mid-write
            clock=lambda: exchange.timestamp(trio.current_time()),
        ) as engine:
            async with trio.open_nursery() as rolls:  # a roll runs to its end
                for action in scenario.actions:
                    await trio.sleep_until(exchange.origin + action.at)
                    await recorder.perform(engine, action, rolls)
                await _wait_horizon(scenario, exchange, recorder)
            end_quotes = {market_key(m.contract): exchange.quote(m.contract)
                          for m in scenario.sim.markets}
            state = engine.statistics().trading_state
        orders = [await entry.results() for entry in recorder.entries]
        duration = trio.current_time() - exchange.origin
    end_mids = {key: quote.mid for key, quote in end_quotes.items()}
    results = tuple(_with_cost(result, scenario, end_quotes)
                    for entry in orders for result in entry)
    return RunResult(scenario=scenario.name, seed=seed, policy=policy, orders=results,
                     summary=summarize(results, duration=duration, trading_state=state,
                                       notes=recorder.notes),
                     end_mids=end_mids)


def _with_cost(order: OrderResult, scenario: Scenario,
               end_quotes: Mapping[str, Quote]) -> OrderResult:
    """``order`` with its IS-complete: its unfilled rest finished at the far touch at the end
    (none without a usable arrival mid)."""
    report = order.report
    if not (report.arrival_mid.is_finite() and report.arrival_mid > 0):
        return order
    markets = [m for m in scenario.sim.markets if m.symbol == report.symbol]
    market = next((m for m in markets if m.contract.expiry == order.month), markets[0])
    quote = end_quotes[market_key(market.contract)]
    finish = quote.ask if report.side is Side.BUY else quote.bid
    cost = intent_cost(report, finish=finish, point_value=market.contract.point_value,
                       commission_per_contract=scenario.sim.commission_per_contract)
    return attrs.evolve(order, cost=cost)


async def _wait_horizon(scenario: Scenario, exchange: SimExchange, recorder: _Recorder) -> None:
    origin = exchange.origin
    if scenario.horizon is None:
        with trio.move_on_at(origin + scenario.max_duration):
            for entry in recorder.entries:
                await entry.wait_done()
    else:
        await trio.sleep_until(origin + scenario.actions[-1].at + scenario.horizon)


class _Entry:
    """What one action produced: its intents' handles (or, for a roll, reports), filled in
    as they come."""

    def __init__(self, action: str, month: str | None) -> None:
        self.action = action
        self.month = month
        # (handle or report, action, delivery month)
        self.handles: list[tuple[IntentHandle | ExecutionReport, str, str | None]] = []
        self.done = trio.Event()

    async def wait_done(self) -> None:
        await self.done.wait()
        for handle, _, _ in self.handles:
            if isinstance(handle, IntentHandle):
                await handle.wait_done()

    async def results(self) -> list[OrderResult]:
        out = []
        for handle, action, month in self.handles:
            report = await handle.wait_done() if isinstance(handle, IntentHandle) else handle
            out.append(OrderResult(report=report, action=action, month=month))
        return out


class _Recorder:
    def __init__(self, policy: RunPolicy) -> None:
        self.policy = policy
        self.entries: list[_Entry] = []
        self.notes: list[str] = []

    async def perform(self, engine: Engine, action: Action, rolls: trio.Nursery) -> None:
        """Do ``action`` now; an engine refusal (no position to close…) becomes a note."""
        try:
            await self._perform(engine, action, rolls)
        except (InvalidValueError, BrokerError) as e:
            self.notes.append(f"{_name(action)} at {action.at:g} s: {e}")
            if self.entries:
                self.entries[-1].done.set()

    async def _perform(self, engine: Engine, action: Action, rolls: trio.Nursery) -> None:
        match action:
            case SubmitIntent():
                intent = OrderIntent(
                    contract=action.contract, side=action.side, quantity=action.quantity,
                    strategy=action.strategy, intent_id=action.intent_id,
                    policy=action.policy or self.policy.policy,
                )
                entry = self._entry("intent", action.contract.expiry)
                entry.handles.append((await engine.submit(intent), "intent",
                                      action.contract.expiry))
            case SubmitBracket():
                entry = self._entry("bracket", action.bracket.contract.expiry)
                entry.handles.append((await engine.submit_bracket(action.bracket), "bracket",
                                      action.bracket.contract.expiry))
            case ClosePosition():
                entry = self._entry("close", action.contract.expiry)
                handle = await engine.close_position(action.contract, strategy=action.strategy,
                                                     intent_id=IntentId(action.label))
                entry.handles.append((handle, "close", action.contract.expiry))
            case Roll():
                entry = self._entry("roll", action.contract.expiry)
                rolls.start_soon(self._roll, engine, action, entry)
                return
            case KillSwitch():
                await engine.kill(action.reason)
                return
            case CancelIntent():
                engine.cancel(action.intent_id)
                return
        entry.done.set()

    def _entry(self, action: str, month: str | None) -> _Entry:
        entry = _Entry(action, month)
        self.entries.append(entry)
        return entry

    async def _roll(self, engine: Engine, action: Roll, entry: _Entry) -> None:
        """`Engine.roll`, its two intents named after the action (``label.close``,
        ``label.open``)."""
        ids = (IntentId(f"{action.label}.close"), IntentId(f"{action.label}.open"))
        try:
            closed, opened = await engine.roll(action.contract, to_expiry=action.to_month,
                                               strategy=action.strategy, intent_ids=ids)
            entry.handles.append((closed, "roll-close", action.contract.expiry))
            if opened is not None:
                entry.handles.append((opened, "roll-open", action.to_month))
        except (InvalidValueError, BrokerError) as e:
            self.notes.append(f"{action.label} at {action.at:g} s: {e}")
        finally:
            entry.done.set()


def _name(action: Action) -> str:
    match action:
        case SubmitIntent():
            return action.intent_id
        case SubmitBracket():
            return action.bracket.intent_id
        case ClosePosition() | Roll():
            return action.label
        case KillSwitch():
            return "kill"
        case CancelIntent():
            return f"cancel {action.intent_id}"


# --- summaries ---------------------------------------------------------------------------------


def summarize(
    orders: Sequence[OrderResult], *, duration: float, trading_state: TradingState,
    notes: Sequence[str] = (),
) -> RunSummary:
    reports = [order.report for order in orders]
    ordered = sum(r.quantity for r in reports)
    filled = sum(r.filled for r in reports)
    shortfalls = [(r.shortfall_bps, r.filled) for r in reports if r.shortfall_bps is not None]
    costs = [(order.cost, order.report.quantity) for order in orders if order.cost is not None]
    weight = sum(q for _, q in costs)

    def weighted(part: str) -> Decimal | None:
        if not weight:
            return None
        return sum((getattr(c, part) * q for c, q in costs), Decimal(0)) / weight

    return RunSummary(
        intents=len(reports), ordered=ordered, filled=filled,
        completion=Decimal(filled) / ordered if ordered else Decimal(0),
        blocked=sum(r.blocked for r in reports),
        mean_shortfall_bps=_mean([s for s, _ in shortfalls]),
        weighted_shortfall_bps=(
            sum((s * q for s, q in shortfalls), Decimal(0)) / sum(q for _, q in shortfalls)
            if shortfalls else None
        ),
        child_orders=sum(len(r.children) for r in reports), duration=duration,
        trading_state=trading_state, notes=tuple(notes),
        is_complete_bps=weighted("is_complete_bps"), opportunity_bps=weighted("opportunity_bps"),
        commission_bps=weighted("commission_bps"),
        commission=sum((c.commission for c, _ in costs), Decimal(0)),
    )


def _mean(values: Sequence[Decimal]) -> Decimal | None:
    return sum(values, Decimal(0)) / len(values) if values else None


def _interval(values: Sequence[Decimal]) -> Decimal | None:
    """Half-width of a normal 95% interval of the mean: 1.96 standard errors (2+ values)."""
    if len(values) < 2:
        return None
    return Decimal("1.96") * statistics.stdev(values) / Decimal(len(values)).sqrt()


def summarize_seeds(results: Sequence[RunResult]) -> SeedsSummary:
    """Means across runs, over the whole run and per intent; intervals are mean ± 1.96
    standard errors. The filled-part shortfall is kept, but compares policies only together
    with IS-complete: a policy that fills less looks cheaper on its filled part."""
    shortfalls = [r.summary.mean_shortfall_bps for r in results
                  if r.summary.mean_shortfall_bps is not None]
    complete = [r.summary.is_complete_bps for r in results
                if r.summary.is_complete_bps is not None]
    return SeedsSummary(
        runs=len(results), mean_shortfall_bps=_mean(shortfalls),
        shortfall_ci95_bps=_interval(shortfalls),
        mean_completion=_mean([r.summary.completion for r in results]) or Decimal(0),
        policy=results[0].policy if results else RunPolicy.HYDRA,
        is_complete_bps=_mean(complete), is_complete_ci95_bps=_interval(complete),
        opportunity_bps=_mean([r.summary.opportunity_bps for r in results
                               if r.summary.opportunity_bps is not None]),
        commission_bps=_mean([r.summary.commission_bps for r in results
                              if r.summary.commission_bps is not None]),
        intents=_per_intent(results),
    )


def _per_intent(results: Sequence[RunResult]) -> tuple[IntentSeeds, ...]:
    """Each intent id's costs across the runs, in the order the intents first appear."""
    costs: dict[str, list[IntentCost]] = {}
    for result in results:
        for order in result.orders:
            if order.cost is not None:
                costs.setdefault(order.report.intent_id, []).append(order.cost)
    return tuple(
        IntentSeeds(
            intent_id=intent, runs=len(runs),
            is_complete_bps=_mean([c.is_complete_bps for c in runs]) or Decimal(0),
            is_complete_ci95_bps=_interval([c.is_complete_bps for c in runs]),
            filled_bps=_mean([c.filled_bps for c in runs]) or Decimal(0),
            opportunity_bps=_mean([c.opportunity_bps for c in runs]) or Decimal(0),
            commission_bps=_mean([c.commission_bps for c in runs]) or Decimal(0),
            completion=_mean([c.completion for c in runs]) or Decimal(0),
        )
        for intent, runs in costs.items()
    )
