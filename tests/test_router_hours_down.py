"""The router asks the broker's hours for every intent; with the broker session down the
lookup raises `BrokerConnectionError`: the intent waits for the reconnect, and is neither
refused (the runner logged ``intent_refused`` and dropped it) nor counted against the hook."""

from __future__ import annotations

from pathlib import Path

import attrs
import trio
import trio.testing
from structlog.testing import capture_logs

from hydra import OATS, OrderIntent, Side
from hydra._engine import Engine
from hydra._errors import BrokerConnectionError
from hydra._runner import submit_logged
from hydra.sim import Disconnect, SimExchange, open_sim_exchange
from tests.simulated import open_engine, still_oats

DOWN = attrs.evolve(still_oats(), faults=(Disconnect(at=10.0, duration=20.0),))
"""The link is down from 10 s to 30 s; the supervisor's reconnect tries (backoff 1, 2, 4,
8, 16 s, jittered by its seeded generator) find it back at 40.76 s."""
BACK = 40.75886930499409


def _buy() -> OrderIntent:
    return OrderIntent(contract=OATS, side=Side.BUY, quantity=1)


async def _down(exchange: SimExchange) -> None:
    await trio.sleep(15)
    assert not exchange.link_up


async def test_an_intent_submitted_while_the_link_is_down_waits_for_the_reconnect(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """Submitted at 15 s, with the link down, the intent is journaled and worked once the
    session is back (40.76 s): its submission raised `BrokerConnectionError` from the hours
    lookup."""
    async with open_sim_exchange(DOWN, seed=1) as exchange, \
            open_engine(exchange, tmp_path / "j.sqlite") as engine:
        await _down(exchange)
        with capture_logs() as logs:
            handle = await engine.submit(_buy())
        assert trio.current_time() == BACK
        assert [e["symbol"] for e in logs if e["event"] == "hours_waiting_for_session"] == ["ZO"]
        assert await engine.was_submitted(handle.intent.intent_id)


async def test_the_runners_intent_is_not_dropped_for_a_link_down(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """The runner's submission of a hook's intent (a roll's open, sent once its closes are
    over) while the link is down gives the intent's handle at the reconnect: it logged
    ``intent_refused`` and dropped the intent."""
    async with open_sim_exchange(DOWN, seed=1) as exchange, \
            open_engine(exchange, tmp_path / "j.sqlite") as engine:
        await _down(exchange)
        with capture_logs() as logs:
            handle = await submit_logged(engine, _buy(), source="desk")
        assert handle is not None
        assert trio.current_time() == BACK
        assert not [e for e in logs if e["event"] == "intent_refused"]


async def test_an_intent_waiting_for_the_link_when_hydra_closes_is_one_line(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """Hydra closing while an intent's submission waits for the link ends the submission in
    one `BrokerConnectionError` line saying so."""
    errors: list[BaseException] = []

    async def submit(engine: Engine) -> None:
        try:
            await engine.submit(_buy())
        except BrokerConnectionError as e:
            errors.append(e)

    async with open_sim_exchange(DOWN, seed=1) as exchange, trio.open_nursery() as nursery:
        async with open_engine(exchange, tmp_path / "j.sqlite") as engine:
            await _down(exchange)
            nursery.start_soon(submit, engine)
            await trio.sleep(1)
    assert [str(e) for e in errors] == ["Hydra closed before the session came back"]
