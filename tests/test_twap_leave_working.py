"""``[execution] leave_working`` in a TWAP: only the schedule's end leaves its rest working. A
slice that left its order working and then let the next slice work the same lots again
bought up to twice the intent."""

from __future__ import annotations

from pathlib import Path

import trio
import trio.testing

from hydra import OATS, ExecutionSettings, HydraConfig, OrderIntent, OrderStatus, Policy, Side
from hydra.sim import DisplayedSize, ScriptedFlow, open_sim_exchange
from tests.simulated import open_engine, quiet_oats


async def test_a_twap_leaves_working_only_its_last_slices_rest(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """12 lots in three 100 s slices with ``leave_working`` on a two-tick oats market 20 lots
    deep where nothing fills until sell flow of 40 lots at 350 s. Each slice's ladder ends
    resting at the bid unless it must take (a two-tick spread is taken only by a final
    slice at its deadline): slice 1 left its 4 lots working, slice 2 worked them again with
    its own (8, final as twice a slice, taken at 200 s), slice 3 bought its 4, and the flow
    filled slice 1's 4: 16 bought for an intent of 12. Expected: 12 bought, slice 1's order
    cancelled at its end, the last slice's alone may be left working."""
    config = HydraConfig(execution=ExecutionSettings(
        twap_slices=3, twap_horizon=300.0, twap_jitter=0.0, leave_working=True))
    params = quiet_oats(displayed_size=DisplayedSize.fixed(20),
                        flows=(ScriptedFlow(at=350.0, side=Side.SELL, quantity=40),))
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite", config) as engine:
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=12,
                                                     policy=Policy.TWAP))
            report = await handle.wait_done()
            await trio.sleep(600)
        held = sum(p.quantity for p in exchange.positions())
    assert (held, report.filled) == (12, 12)
    assert [(c.status, c.filled) for c in report.children] == [
        (OrderStatus.CANCELLED, 0), (OrderStatus.FILLED, 8), (OrderStatus.FILLED, 4)]
