"""A target's roll whose close filled nothing (rejected, or the market closed): the position
was never closed, so its open is never sent, and the roll is reported as not done (a
``roll_open_skipped`` note saying so and a ``roll_not_done`` warning), in the run and at a
restart alike; the hook's next run rolls again."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import attrs
import pytest
import trio
import trio.testing
from structlog.testing import capture_logs

from hydra import OATS, HydraConfig, OrderIntent
from hydra._enums import NoteKind, Side
from hydra._journal import EventKind, Journal
from hydra._settings import ExecutionSettings, RestartSettings, RiskLimits
from hydra.sim import RejectNextOrder, SimExchange, open_sim_exchange
from tests.journal_surgery import Crash, crash_once
from tests.simulated import open_engine
from tests.test_target_restart import FRIDAY_ROLL, _held, _hook, _intents, _oats, _targets

CONFIG = HydraConfig(execution=ExecutionSettings(patience=0.2), risk=RiskLimits(max_position=1))
NOT_DONE = "roll not done: its closes left 1 open (the position was not closed)"


def _skipped(path: Path) -> list[str]:
    journal = Journal.open_read_only(path)
    try:
        return [note["reason"] for note in journal.notes(NoteKind.ROLL_OPEN_SKIPPED)]
    finally:
        journal.close()


async def _long_one_zok5(exchange: SimExchange, path: Path) -> None:
    async with open_engine(exchange, path, CONFIG) as engine:
        bought = await engine.submit(OrderIntent(contract=OATS.for_month("202505"),
                                                 side=Side.BUY, quantity=1))
        assert (await bought.wait_done()).filled == 1


async def test_a_roll_whose_close_is_rejected_is_reported_not_done_and_rolled_next_run(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """Long 1 ZOK5; Friday's run rolls toward +1 ZO in ZON5 and the exchange rejects the
    ZOK5 sale: nothing of ZON5 is bought, the open is journaled as a roll not done (it said
    "cut to nothing") with a ``roll_not_done`` warning, a restart sends nothing of it, and
    Monday's run rolls."""
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(_oats(FRIDAY_ROLL, ("202505", "202507")), seed=1) as exchange:
        await _long_one_zok5(exchange, path)
        exchange.inject(RejectNextOrder(at=trio.current_time()))
        with capture_logs() as logs:
            async with open_engine(exchange, path, CONFIG) as engine, \
                    trio.open_nursery() as nursery:
                nursery.start_soon(_hook(engine, exchange, _targets(1, 1)))
                await trio.sleep(86400)  # past Friday's 08:35 run
                assert _held(exchange) == {"202505": 1}
                nursery.cancel_scope.cancel(reason="test over")
        assert _skipped(path) == [NOT_DONE]
        (warning,) = [e for e in logs if e["event"] == "roll_not_done"]
        assert (warning["symbol"], warning["to_expiry"]) == ("ZO", "202507")
        async with open_engine(exchange, path, CONFIG) as engine, \
                trio.open_nursery() as nursery:
            nursery.start_soon(_hook(engine, exchange, _targets(1, 1)))
            await trio.sleep(3 * 86400)  # past Monday's run
            nursery.cancel_scope.cancel(reason="test over")
        held = _held(exchange)
    assert held == {"202507": 1}
    assert _intents(path)[1:] == [("desk", "SELL", 1), ("desk", "SELL", 1), ("desk", "BUY", 1)]


def _intents_journaled(count: int) -> Callable[[Journal], bool]:
    return lambda journal: sum(k is EventKind.INTENT for _, k, _ in journal.events()) == count


def _finished(count: int) -> Callable[[Journal], bool]:
    return lambda journal: len(journal.notes(NoteKind.INTENT_FINISHED)) == count


@pytest.mark.parametrize(("rejected_before", "cut"), [
    pytest.param(False, _intents_journaled(2), id="the-close-journaled-then-resumed-rejected"),
    pytest.param(True, _finished(2), id="the-close-rejected-then-killed"),
])
async def test_a_roll_whose_close_filled_nothing_is_reported_not_done_at_the_restart(
    autojump_clock: trio.testing.MockClock, tmp_path: Path, rejected_before: bool,
    cut: Callable[[Journal], bool],
) -> None:
    """Long 1 ZOK5; Friday's run's roll is killed once its ZOK5 sale is journaled (resumed at
    the restart, and rejected then), or once the sale, rejected, is journaled finished.
    Restarted: nothing of ZON5 is bought, and the open is journaled as a roll not done with a
    ``roll_not_done`` warning (the restart said nothing: the roll was forgotten); a second
    restart sends and reports nothing of it."""
    path = tmp_path / "j.sqlite"
    resume = attrs.evolve(CONFIG, restart=RestartSettings(resume=True))
    async with open_sim_exchange(_oats(FRIDAY_ROLL, ("202505", "202507")), seed=1) as exchange:
        await _long_one_zok5(exchange, path)
        if rejected_before:
            exchange.inject(RejectNextOrder(at=trio.current_time()))
        with pytest.raises(BaseExceptionGroup) as crashed:
            async with open_engine(exchange, path, CONFIG, offload=crash_once(path, cut)
                                   ) as engine, trio.open_nursery() as nursery:
                nursery.start_soon(_hook(engine, exchange, _targets(1, 1)))
                await trio.sleep(2 * 86400)
        assert crashed.group_contains(Crash)
        if not rejected_before:
            exchange.inject(RejectNextOrder(at=trio.current_time()))
        with capture_logs() as logs:
            async with open_engine(exchange, path, resume) as engine:
                for close in engine.adopted:
                    assert (await close.wait_done()).filled == 0
                await engine.carried_over(hook="desk")
        assert _skipped(path) == [NOT_DONE]
        (warning,) = [e for e in logs if e["event"] == "roll_not_done"]
        assert warning["to_expiry"] == "202507"
        with capture_logs() as logs:
            async with open_engine(exchange, path, resume):
                await trio.sleep(60)
        assert not [e for e in logs if e["event"] == "roll_not_done"]
        held = _held(exchange)
    assert held == {"202505": 1}
    assert _intents(path)[1:] == [("desk", "SELL", 1)]
