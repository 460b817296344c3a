"""One life of Hydra for ``bench/crash_safety.py``, which SIGKILLs it at a random moment.

Opens `open_ib_broker` + `open_hydra` on the given gateway port and journal (the same journal
every life: opening it adopts the orders a killed life left working, by orderRef, and resumes
the intents it interrupted, ``[restart] resume = true``). Then it takes the next step of a
fixed plan, a cycle of eight repeated: a TWAP buy of May oats, a bracket (`submit_bracket`), a
`close_position`, another TWAP, a `roll` May → July, a TWAP cancelled by `cancel_all`, a TWAP
during which the gateway drops every connection (SIGUSR1 to it: the reconnect resync), and a
`close_position` of July. The next step is the one after the last the journal (or the broker,
`Engine.was_submitted`) knows, so no step is taken twice; a close or roll with no position is
skipped (the life goes on to the next step). It waits for its step and every adopted or
resumed intent, and leaves cleanly.
Progress goes to standard output, one word first on each line: STARTED, CONNECTED, READY,
LATCHED (a latched halt found at start, cleared with `Engine.resume`), STEP, SUBMITTED, DROP,
CANCEL_ALL, DONE, SKIPPED, ADOPTED_DONE, ALL_DONE, CLOSED; BEHIND (exit 3) when the journal is
behind the broker (`JournalBehindError`) and ``--adopt-unknown`` was not given.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from decimal import Decimal

print("STARTED", flush=True)  # first: the parent times its kill from this line

import attrs  # noqa: E402
import trio  # noqa: E402

import hydra  # noqa: E402
from hydra import (  # noqa: E402
    OATS,
    BackoffSettings,
    BracketIntent,
    BrokerConnectionError,
    BrokerSettings,
    ContractSpec,
    ExecutionSettings,
    HydraConfig,
    LoggingSettings,
    LogLevel,
    OrderIntent,
    Policy,
    RiskLimits,
    ShutdownSettings,
    Side,
    TradingState,
)
from hydra._ids import IntentId  # noqa: E402
from hydra.ib import ClientIdInUseError, open_ib_broker  # noqa: E402

CONNECT_TRIES = 40
HANG_GUARD = 120.0


def say(*words: object) -> None:
    print(*words, flush=True)


def config_for(args: argparse.Namespace) -> HydraConfig:
    big = 10**9
    return HydraConfig(
        execution=ExecutionSettings(patience=args.patience, twap_slices=args.slices,
                                    twap_horizon=args.horizon, twap_jitter=0.2),
        risk=RiskLimits(max_open_orders=1000, max_orders_per_minute=10_000, max_position=100_000,
                        max_position_value=big, daily_loss_limit=big, max_drawdown=big,
                        max_single_trade_loss=big),
        broker=BrokerSettings(port=args.port,
                              backoff=BackoffSettings(initial=0.05, cap=0.5, max_tries=20)),
        shutdown=ShutdownSettings(drain_timeout=5.0),
    )


MAY, JULY = OATS.for_month("202705"), OATS.for_month("202707")
CYCLE = ("twap", "bracket", "close", "twap", "roll", "cancel_all", "reconnect", "close_july")
BRACKET_PATIENCE = 6.0  # seconds a bracket may work before the driver cancels it


def step_ids(n: int) -> tuple[str, tuple[IntentId, ...]]:
    """Step ``n`` of the plan: its kind and the intent ids it uses."""
    kind = CYCLE[n % len(CYCLE)]
    base = f"crash-{n:04d}"
    if kind == "roll":
        return kind, (IntentId(f"{base}-rc"), IntentId(f"{base}-ro"))
    return kind, (IntentId(f"{base}-{kind.replace('_', '-')}"),)


async def one_life(args: argparse.Namespace) -> None:
    config = config_for(args)
    for attempt in range(1, CONNECT_TRIES + 1):
        started = False
        try:
            async with open_ib_broker(config.broker) as broker:
                started = True
                say("CONNECTED", f"attempt={attempt}")
                async with hydra.open_hydra(config, broker, journal_path=args.journal,
                                            adopt_unknown=args.adopt_unknown) as engine:
                    await work(engine, broker, args)
                say("CLOSED")
                return
        except (ClientIdInUseError, BrokerConnectionError) as error:
            if started:
                raise
            say("RETRY", type(error).__name__)  # the killed life's socket is not closed yet
            await trio.sleep(0.1)
    raise SystemExit("could not connect")


async def next_step(engine: hydra.Engine) -> int:
    """The step after the last one the journal or the broker knows of."""
    last = -1
    n = 0
    while n < last + 1 + 3 * len(CYCLE):  # gaps: skipped steps journal nothing
        if await engine.was_submitted(step_ids(n)[1][0]):
            last = n
        n += 1
    return last + 1


async def position(broker: object, contract: ContractSpec) -> int:
    held = {p.contract: p.quantity for p in await broker.positions()}  # type: ignore[attr-defined]
    return int(held.get(contract, 0))


async def wait_bracket(handle: hydra.IntentHandle) -> hydra.ExecutionReport:
    with trio.move_on_after(BRACKET_PATIENCE):
        return await handle.wait_done()
    handle.cancel()
    return await handle.wait_done()


def said(report: hydra.ExecutionReport) -> str:
    return f"filled={report.filled}/{report.quantity}"


async def take_step(engine: hydra.Engine, broker: object, args: argparse.Namespace,
                    n: int) -> bool:
    """Step ``n`` of the plan; False when it is skipped (a close or roll with no position)."""
    kind, ids = step_ids(n)
    say("STEP", n, kind, *ids)
    if kind in ("twap", "cancel_all", "reconnect"):
        contract = JULY if kind == "cancel_all" else MAY
        handle = await engine.submit(OrderIntent(
            contract=contract, side=Side.BUY, quantity=args.quantity, policy=Policy.TWAP,
            intent_id=ids[0]))
        say("SUBMITTED", ids[0])
        if kind == "cancel_all":
            await trio.sleep(args.horizon / 3)
            say("CANCEL_ALL")
            await engine.cancel_all()
        elif kind == "reconnect":
            await trio.sleep(args.horizon / 3)
            os.kill(args.gateway_pid, signal.SIGUSR1)
            say("DROP")
        say("DONE", ids[0], said(await handle.wait_done()))
    elif kind == "bracket":
        mid = await mid_of(broker, MAY)
        tick = MAY.tick_size
        entry = (mid / tick).to_integral_value() * tick + 2 * tick
        handle = await engine.submit_bracket(BracketIntent(
            contract=MAY, side=Side.BUY, quantity=2, entry_price=entry,
            take_profit_price=entry + 2 * tick, stop_price=entry - 3 * tick,
            stop_limit_price=entry - 4 * tick, intent_id=ids[0]))
        say("SUBMITTED", ids[0])
        say("DONE", ids[0], said(await wait_bracket(handle)))
    elif kind in ("close", "close_july"):
        contract = JULY if kind == "close_july" else MAY
        if await position(broker, contract) == 0:
            say("SKIPPED", ids[0], "no position")
            return False
        else:
            handle = await engine.close_position(contract, intent_id=ids[0])
            say("SUBMITTED", ids[0])
            say("DONE", ids[0], said(await handle.wait_done()))
    else:  # roll
        if await position(broker, MAY) == 0:
            say("SKIPPED", ids[0], "no position")
            return False
        else:
            say("SUBMITTED", *ids)
            closed, opened = await engine.roll(MAY, to_expiry=JULY.expiry or "",
                                               intent_ids=(ids[0], ids[1]))
            say("DONE", ids[0], said(closed), ids[1], said(opened) if opened else "-")
    return True


async def work(engine: hydra.Engine, broker: object, args: argparse.Namespace) -> None:
    adopted = list(engine.adopted)
    say("READY", f"adopted={len(adopted)}", f"interrupted={len(engine.interrupted)}",
        *(handle.intent.intent_id for handle in adopted))
    state = engine.statistics().trading_state
    if state is not TradingState.ACTIVE:
        # A latched breaker survives restarts; here it is the execution of an order adopted as
        # unknown after a lost WAL. The operator clears it (`hydra resume`), as this does.
        say("LATCHED", state.value)
        await engine.resume(reason="crash bench: the operator clears the latch after a restart")
    n = await next_step(engine)
    while not await take_step(engine, broker, args, n):  # skipped: nothing journaled
        n += 1
    for handle in adopted:
        report = (await wait_bracket(handle) if handle.intent.intent_id.endswith("-bracket")
                  else await handle.wait_done())
        say("ADOPTED_DONE", handle.intent.intent_id, said(report))
    say("ALL_DONE", attrs.asdict(engine.statistics(), recurse=False))


async def mid_of(broker: object, contract: ContractSpec) -> Decimal:
    await broker.subscribe_quotes(contract)  # type: ignore[attr-defined]
    with trio.fail_after(5):
        while True:
            quote = broker.quote_nowait(contract)  # type: ignore[attr-defined]
            if quote.bid and quote.ask and quote.bid > 0 and quote.ask > quote.bid:
                return Decimal(quote.mid)
            await trio.sleep(0.05)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--journal", required=True)
    parser.add_argument("--intents", type=int, default=1000, help="length of the intent list")
    parser.add_argument("--quantity", type=int, default=6)
    parser.add_argument("--slices", type=int, default=3)
    parser.add_argument("--horizon", type=float, default=2.0)
    parser.add_argument("--patience", type=float, default=0.4)
    parser.add_argument("--gateway-pid", type=int, required=True,
                        help="the gateway process, sent SIGUSR1 to drop its connections")
    parser.add_argument("--adopt-unknown", action="store_true",
                        help="adopt what the broker knows and the journal lost (after a "
                        "JournalBehindError: the operator's documented answer)")
    args = parser.parse_args()
    hydra.configure_logging(LoggingSettings(level=LogLevel.WARNING))

    async def guarded() -> None:
        with trio.fail_after(HANG_GUARD):
            await one_life(args)

    try:
        trio.run(guarded)
    except hydra.JournalBehindError as error:
        say("BEHIND", str(error).replace("\n", " "))
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
