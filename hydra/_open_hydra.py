"""`open_hydra`: the supervisor nursery and its actors, around the `Engine` it yields.

Nesting is shutdown order: the journal actor outermost; the risk actor, the broker event pump,
the connection supervisor and the publisher inside it; the intent workers (the router's
nursery) innermost. Closing the block drains the workers for ``shutdown.drain_timeout``, then
cancels them; each worker cancels its working order (or leaves it working, by config). Then, on
every way out (a graceful close, an outer cancellation, an error), the risk book's finalizer
settles whatever is still working, shielded and bounded by ``shutdown.finalize_timeout``: the
risk actor, its sender, the broker event pump and the journal outlive an outer cancellation
until it is done, and an order it cannot settle is journaled as unmanaged and named in the
error that ends Hydra. A journal write that fails (`JournalWriteError`: disk full) ends Hydra
the same way, after the finalizer: nothing new is sent once it fails, and what works is
cancelled.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import math
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path

import attrs
import structlog
import trio

from ._audit import mask_accounts
from ._contracts import BUILT_IN_CONTRACTS
from ._core._model_versions import ModelVersion
from ._core._positions import Position
from ._core._risk_book import RiskBook
from ._core._risk_checks import AccountState
from ._core._risk_state import RiskSnapshot, restored_account
from ._engine import Engine
from ._enums import NoteKind, Side
from ._errors import InvalidValueError, JournalWriteError, UnmanagedOrdersError
from ._fill_prediction import FillPredictor
from ._front_months import FrontMonths, decide_front_months, run_front_months
from ._ids import JournalId, OrderIds
from ._journal import Journal, utc_now
from ._journal_actor import JournalClient, JournalWrite, Offload, run_in_thread, run_journal
from ._journal_calls import RiskStateAndSince
from ._market_facts import read_market_facts
from ._messages import EngineEvent, GiveUp, RiskMessage, SessionDown, Settle
from ._model_store import ensure_model
from ._publisher import EngineView, Subscribe, run_publisher
from ._quote_source import QuoteSource
from ._recovery import Recovery
from ._risk_actor import RiskActor, pacing_bucket, run_risk
from ._router import QUOTE_WAIT, Router
from ._schedule import trading_day
from ._settings import HydraConfig
from ._stop_reasons import describe_error, only_stopping
from ._supervisor import run_broker_events, run_connection
from ._witness import hear_broker
from .brokers import Broker, MarketView

log = structlog.get_logger()

REHEARSAL_VENUE = "rehearsal"
"""The one venue whose journal may be opened not ``durable``: ``hydra rehearse``'s."""

GIVE_UP_SECONDS = 5.0
"""How long the finalizer waits for the risk actor to journal the unmanaged orders."""


@asynccontextmanager
async def open_hydra(
    config: HydraConfig,
    broker: Broker,
    *,
    journal_path: str | Path | None = None,
    dry_run: bool = False,
    seed: int = 0,
    offload: Offload = run_in_thread,
    clock: Callable[[], dt.datetime] = utc_now,
    adopt_unknown: bool = False,
    new_journal: bool = False,
    venue: str | None = None,
    durable: bool = True,
) -> AsyncIterator[Engine]:
    """Connect ``broker``, recover from the journal, and run Hydra until the block ends.

    ``venue`` is what the journal's ``engine_started`` records the broker as: ``sim``,
    ``paper`` or ``live`` (by default ``sim`` for the in-process simulator, ``live`` for a
    broker opened for live trading, else ``paper``; ``hydra run --sim`` says ``sim`` for its
    simulated gateway), beside the broker's class, its address and port, and its account
    masked as the audit log masks it (``DU*****67``; an `IBBroker` knows it once connected,
    as `open_ib_broker` yields it).

    ``clock`` stamps journal records (wall-clock time; a simulation passes its own). The
    broker is the journal's witness: orders or executions of this journal it does not know
    refuse the start (`JournalBehindError`) unless ``adopt_unknown`` adopts them as
    strangers; a journal missing or replaced where one lived is refused
    (`JournalReplacedError`) unless ``new_journal``.

    ``durable=False`` (a rehearsal's journal, `REHEARSAL_VENUE` only: anything else is an
    `InvalidValueError`, before any file is touched) syncs the journal to disk at its
    checkpoints, not at every commit: a killed process loses nothing, a lost machine may."""
    if not durable and venue != REHEARSAL_VENUE:
        raise InvalidValueError("durable", durable, f"a journal not synced at every commit is "
                                f"for venue {REHEARSAL_VENUE!r} only (this is {venue!r})")
    path = Path(journal_path or config.journal.path)
    journal = Journal.open(path, clock=clock, audit_path=config.journal.audit_path
                           or path.with_suffix(".audit.jsonl"), new_journal=new_journal,
                           durable=durable)
    journal_id = journal.journal_id
    assert journal_id is not None  # a journal opened for writing always has its id
    try:
        account = getattr(broker, "account_id", None)
        journal.record_note(NoteKind.ENGINE_STARTED, broker=type(broker).__name__,
                            venue=venue or _venue_of(broker),
                            address=getattr(broker, "address", None),
                            port=getattr(broker, "port", None),
                            account=None if account is None else mask_accounts(account),
                            dry_run=dry_run, journal_id=journal_id, durable=durable)
        model = ensure_model(journal)  # the configured model is v1 of a new journal
    except JournalWriteError:
        journal.close()
        raise
    try:
        async with trio.open_nursery() as outer:
            journal_send, journal_receive = trio.open_memory_channel[JournalWrite](0)
            # The journal outlives everything that writes to it, an outer cancellation too:
            # it ends when the last writer closes its end.
            journal_scope = await _start_outliving(outer, functools.partial(
                run_journal, journal_receive, journal=journal, offload=offload))
            client = JournalClient(journal_send)
            try:
                async with client._outbox:
                    await broker.connect()
                    async with _open_actors(config, broker, client, dry_run, seed, clock,
                                            journal_id=journal_id, model=model,
                                            adopt_unknown=adopt_unknown) as engine:
                        yield engine
            finally:
                journal_scope.cancel(reason="Hydra is closing")
    except BaseException as error:
        with contextlib.suppress(JournalWriteError):  # still refused: the audit log has why
            if only_stopping(error):
                journal.record_note(NoteKind.ENGINE_STOPPED, reason=describe_error(error))
            else:
                journal.record_note(NoteKind.UNRECOVERABLE_ERROR, error=describe_error(error))
        raise
    else:
        journal.record_note(NoteKind.ENGINE_STOPPED, reason="closed")
    finally:
        journal.close()


def _venue_of(broker: Broker) -> str:
    """What ``broker`` trades against, when the caller did not say: the in-process simulator,
    a live account (a broker opened with ``live=True``), or a paper one."""
    if type(broker).__name__ == "SimBroker":
        return "sim"
    return "live" if getattr(broker, "live", False) else "paper"


async def _start_outliving(nursery: trio.Nursery, run: Callable[..., Awaitable[None]]
                           ) -> trio.CancelScope:
    """Start the actor ``run`` in ``nursery`` as `_outliving` runs it; the scope that stops
    it. The start itself is shielded: started under a pending cancellation (a stop signal
    in the instant Hydra starts), Trio leaves a task that shields itself where it began and
    the start waits for it to end, which it does only once its scope is cancelled: never."""
    with trio.CancelScope(shield=True):
        scope: trio.CancelScope = await nursery.start(_outliving, run)
    return scope


async def _outliving(
    run: Callable[..., Awaitable[None]], *,
    task_status: trio.TaskStatus[trio.CancelScope] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run an actor that an outer cancellation does not stop: only the scope handed back to
    the starter does, once the finalizer has settled every order."""
    with trio.CancelScope(shield=True) as scope:
        async with trio.open_nursery() as nursery:
            await nursery.start(run)
            task_status.started(scope)


async def _carried_positions(broker: MarketView) -> dict[str, Position]:
    """The broker's positions as today's opening positions, one per symbol: entered at the
    current mid (today's PnL starts at zero), or at the broker's average price if no quote."""
    carried: dict[str, Position] = {}
    for held in await broker.positions():
        if not held.quantity:
            continue
        symbol, price = held.contract.symbol, held.average_price
        with trio.move_on_after(QUOTE_WAIT):
            await broker.subscribe_quotes(held.contract)
            price = broker.quote_nowait(held.contract).mid
        before = carried.get(symbol, Position(contract=held.contract))
        carried[symbol] = before.after_fill(
            side=Side.BUY if held.quantity > 0 else Side.SELL, quantity=abs(held.quantity),
            price=price,
        )
    return {symbol: attrs.evolve(p, realized_pnl=Decimal(0)) for symbol, p in carried.items()}


async def _open_book(
    config: HydraConfig, broker: MarketView, journal: JournalClient, dry_run: bool,
    clock: Callable[[], dt.datetime],
) -> RiskBook:
    """The risk book as the journal left it: latched states always, the day's baseline (and
    what was booked after it) on the same trading day; else positions from the broker. The
    start's resync then takes the broker's positions (`Recovery`)."""
    account = AccountState(start_of_day_equity=(await broker.account()).equity,
                           positions=await _carried_positions(broker))
    account = functools.reduce(lambda a, p: a.with_mark(p.contract.symbol, p.average_price),
                               account.positions.values(), account)
    day = trading_day(clock()).isoformat()
    note, since = await journal.ask(RiskStateAndSince())
    snapshot = None if note is None else RiskSnapshot.from_details(note)
    contracts = {p.contract.symbol: p.contract for p in account.positions.values()}
    contracts |= {s: c for s, c in BUILT_IN_CONTRACTS.items() if s not in contracts}
    account = restored_account(snapshot, day=day, account=account, contracts=contracts,
                               since=since)
    latched = () if snapshot is None else snapshot.latched
    if latched:
        await journal.record_note(NoteKind.RISK_STATE_RESTORED, latched=[x.cause for x in latched])
        log.warning("risk_state_restored", latched=[x.reason for x in latched])
    return RiskBook(limits=config.risk, account=account, day=day, latched=latched,
                    dry_run=dry_run,
                    broker_positions=snapshot is None or snapshot.trading_day != day)


@asynccontextmanager
async def _open_actors(
    config: HydraConfig, broker: Broker, journal: JournalClient, dry_run: bool, seed: int,
    clock: Callable[[], dt.datetime], *, journal_id: JournalId, adopt_unknown: bool,
    model: ModelVersion,
) -> AsyncIterator[Engine]:
    book = await _open_book(config, broker, journal, dry_run, clock)
    # Publish with send_nowait: actors must never wait on subscribers.
    publish_send, publish_receive = trio.open_memory_channel[EngineEvent | Subscribe](math.inf)
    # The witness is heard before any broker event is: a start refused because the journal is
    # behind leaves no trace but its refusal (events of the orders it does not know would
    # otherwise be judged, and latched, as anomalies while it is refused).
    witness = await hear_broker(broker, journal, journal_id=journal_id,
                                adopt_unknown=adopt_unknown, now=clock(), publish=publish_send)
    today = trading_day(clock())
    config = await read_market_facts(config, broker, journal, today=today)
    front = FrontMonths(roll_days=config.market_facts.roll_days, clock=clock)
    front_months = await decide_front_months(journal, front)
    view = EngineView(trading_state=book.trading_state)
    async with trio.open_nursery() as middle:
        risk_send, risk_receive = trio.open_memory_channel[RiskMessage](0)
        supervisor_send, supervisor_receive = trio.open_memory_channel[SessionDown](1)
        quotes = QuoteSource(broker.quote_nowait, max_age=config.risk.max_quote_age)
        predictor = FillPredictor(model, settings=config.slippage, adv=config.adv,
                                  quotes=quotes.usable)
        actor = RiskActor(book, journal=journal, quotes=quotes.usable,
                          publish=publish_send, supervisor=supervisor_send, clock=clock,
                          journal_id=journal_id, predictor=predictor)
        failures: list[BaseException] = []  # what ended the connection supervisor, if anything
        outliving = [
            await _start_outliving(middle, functools.partial(
                run_publisher, publish_receive, view=view)),
            await _start_outliving(middle, functools.partial(
                run_risk, risk_receive, actor=actor, entry=broker,
                bucket=pacing_bucket(config.risk, trio.current_time()))),
            await _start_outliving(middle, functools.partial(
                run_broker_events, broker.events(), risk=risk_send.clone())),
        ]
        try:
            await middle.start(functools.partial(
                _recorded, failures, functools.partial(
                    run_connection, supervisor_receive, broker=broker, risk=risk_send.clone(),
                    journal=journal, settings=config.broker.backoff, rng=random.Random(seed))))
            await middle.start(functools.partial(
                _recorded, failures, functools.partial(_stop_when_write_fails, journal)))
            async with trio.open_nursery() as inner:
                ids = OrderIds(journal_id)
                router = Router(config=config, broker=broker, journal=journal, risk=risk_send,
                                publish=publish_send, quotes=quotes, nursery=inner, seed=seed,
                                order_ids=ids, witness=witness, model=model, clock=clock)
                engine = Engine(router=router, broker=broker, journal=journal, risk=risk_send,
                                publish=publish_send, view=view, quotes=quotes,
                                front=front, journal_path=config.journal.path)
                await inner.start(functools.partial(
                    run_front_months, front, months=front_months, journal=journal,
                    broker=broker))
                await engine.recover(Recovery(
                    config=config, broker=broker, journal=journal, risk=risk_send, quotes=quotes,
                    leave_working=router.leaving, seed=seed, order_ids=ids,
                    wait_until_open=router.wait_until_open, clock=clock))
                try:
                    yield engine
                    await router.drain()
                finally:
                    inner.cancel_scope.cancel(reason="Hydra is closing")
        except BaseException as error:
            await _settle_all(actor, risk_send, config, outliving,
                              cause=failures[0] if failures else error)
            raise
        else:
            await _settle_all(actor, risk_send, config, outliving, cause=None)
        finally:
            middle.cancel_scope.cancel(reason="Hydra is closing")
            publish_send.close()


async def _recorded(
    failures: list[BaseException], run: Callable[..., Awaitable[None]], *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run the actor ``run``; what ends it with an error is also kept in ``failures`` (the
    finalizer names it, though the nursery reports it only after the finalizer is done)."""
    try:
        await run(task_status=task_status)
    except Exception as error:
        failures.append(error)
        raise


async def _stop_when_write_fails(
    journal: JournalClient, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """End Hydra with the first journal write that fails, whoever wrote it."""
    task_status.started()
    raise await journal.wait_write_failed()


async def _settle_all(
    actor: RiskActor, risk: trio.MemorySendChannel[RiskMessage], config: HydraConfig,
    outliving: list[trio.CancelScope], *, cause: BaseException | None,
) -> None:
    """Run the finalizer, then stop the actors that outlived the rest; an order left
    unmanaged ends Hydra with `UnmanagedOrdersError` naming it (and what stopped Hydra)."""
    try:
        with trio.CancelScope(shield=True):
            unmanaged = await _finalize(actor, risk, config)
    finally:
        for scope in outliving:
            scope.cancel(reason="Hydra is closing")
    if unmanaged:
        log.error("orders_unmanaged", client_order_ids=unmanaged)
        why = None if cause is None or only_stopping(cause) else describe_error(cause)
        raise UnmanagedOrdersError(unmanaged, cause=why) from cause


async def _finalize(
    actor: RiskActor, risk: trio.MemorySendChannel[RiskMessage], config: HydraConfig,
) -> list[str]:
    """The risk book's finalizer: cancel every order still working (or leave it, by config),
    wait up to ``shutdown.finalize_timeout`` for the broker to confirm, and journal the rest as
    unmanaged (at once when the link is down: no reconnect comes now). The client order ids of
    the unmanaged orders."""
    settled = trio.Event()
    with trio.move_on_after(config.shutdown.finalize_timeout):
        await risk.send(Settle(leave_working=config.shutdown.leave_working, done=settled))
        await settled.wait()
    timeout = config.shutdown.finalize_timeout
    reason = None if settled.is_set() else f"not confirmed within {timeout} s"
    reply, unmanaged = trio.open_memory_channel[list[str]](1)
    with trio.move_on_after(GIVE_UP_SECONDS):
        with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
            await risk.send(GiveUp(reason=reason, reply=reply))
            return await unmanaged.receive()
    # The risk actor is gone (its journal failed): what it still held is unaccounted for.
    return sorted(actor.book.orders)
