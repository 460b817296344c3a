"""One life of Hydra for ``bench/crash_safety.py``, which SIGKILLs it at a random moment.

Opens `open_ib_broker` + `open_hydra` on the given gateway port and journal (the same journal
every life: opening it adopts the orders a killed life left working, by orderRef). Then it
submits the first intent of a fixed list (``crash-000``, ``crash-001``, …) that the journal does
not have yet — checking `Engine.was_submitted` first, so no intent is ever submitted twice — and
works it as a TWAP, waits for it and for every adopted order, and leaves cleanly. Progress goes
to standard output, one word first on each line: STARTED, CONNECTED, READY, SUBMITTED, DONE,
ALL_DONE, CLOSED.
"""

from __future__ import annotations

import argparse
import sys

print("STARTED", flush=True)  # first: the parent times its kill from this line

import attrs  # noqa: E402
import trio  # noqa: E402

import hydra  # noqa: E402
from hydra import (  # noqa: E402
    OATS,
    BackoffSettings,
    BrokerConnectionError,
    BrokerSettings,
    ExecutionSettings,
    HydraConfig,
    LoggingSettings,
    LogLevel,
    OrderIntent,
    Policy,
    RiskLimits,
    ShutdownSettings,
    Side,
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


async def one_life(args: argparse.Namespace) -> None:
    config = config_for(args)
    for attempt in range(1, CONNECT_TRIES + 1):
        started = False
        try:
            async with open_ib_broker(config.broker) as broker:
                started = True
                say("CONNECTED", f"attempt={attempt}")
                async with hydra.open_hydra(config, broker, journal_path=args.journal) as engine:
                    await work(engine, args)
                say("CLOSED")
                return
        except (ClientIdInUseError, BrokerConnectionError) as error:
            if started:
                raise
            say("RETRY", type(error).__name__)  # the killed life's socket is not closed yet
            await trio.sleep(0.1)
    raise SystemExit("could not connect")


async def work(engine: hydra.Engine, args: argparse.Namespace) -> None:
    adopted = list(engine.adopted)
    say("READY", f"adopted={len(adopted)}",
        *(handle.intent.intent_id for handle in adopted))
    for n in range(args.intents):
        intent_id = IntentId(f"crash-{n:03d}")
        if await engine.was_submitted(intent_id):
            continue
        handle = await engine.submit(OrderIntent(
            contract=OATS, side=Side.BUY, quantity=args.quantity, policy=Policy.TWAP,
            intent_id=intent_id))
        say("SUBMITTED", intent_id)
        report = await handle.wait_done()
        say("DONE", intent_id, f"filled={report.filled}/{report.quantity}",
            f"orders={len(report.children)}")
        break
    else:
        say("NO_INTENT_LEFT")
    for handle in adopted:
        report = await handle.wait_done()
        say("ADOPTED_DONE", handle.intent.intent_id, f"filled={report.filled}")
    say("ALL_DONE", attrs.asdict(engine.statistics(), recurse=False))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--journal", required=True)
    parser.add_argument("--intents", type=int, default=1000, help="length of the intent list")
    parser.add_argument("--quantity", type=int, default=6)
    parser.add_argument("--slices", type=int, default=3)
    parser.add_argument("--horizon", type=float, default=2.0)
    parser.add_argument("--patience", type=float, default=0.4)
    args = parser.parse_args()
    hydra.configure_logging(LoggingSettings(level=LogLevel.WARNING))

    async def guarded() -> None:
        with trio.fail_after(HANG_GUARD):
            await one_life(args)

    trio.run(guarded)
    return 0


if __name__ == "__main__":
    sys.exit(main())
