"""Fitting a patience ladder into its market's session: every order's ladder ends before the
close, whatever stretches it."""

from __future__ import annotations

import datetime as dt

from hypothesis import example, given
from hypothesis import strategies as st

from hydra._contracts import OATS
from hydra._core._twap import chunk_sizes
from hydra._enums import Policy
from hydra._patience import stage_plan
from hydra._session_fit import fit_patience
from hydra._settings import ExecutionSettings
from hydra.sim._hours import sim_calendar

CLOSE = dt.datetime(2025, 3, 3, 19, 20, tzinfo=dt.UTC)  # oats' 13:20 CT close on a Monday
HOURS = sim_calendar(OATS, CLOSE)


@given(before=st.floats(min_value=1.0, max_value=4 * 3600.0),
       patience=st.floats(min_value=1.0, max_value=3600.0),
       share=st.floats(min_value=0.0, max_value=1.0),
       horizon=st.floats(min_value=1.0, max_value=24 * 3600.0),
       quantity=st.integers(min_value=1, max_value=50),
       limit=st.none() | st.integers(min_value=1, max_value=10))
@example(before=180.0, patience=60.0, share=0.7, horizon=300.0, quantity=3, limit=None)
@example(before=2.3515625, patience=1.0, share=1.0, horizon=2.3515625, quantity=1, limit=None)
def test_every_fitted_ladder_ends_before_the_close(
    before: float, patience: float, share: float, horizon: float, quantity: int,
    limit: int | None,
) -> None:
    """``before`` seconds to the close, the ladders of all the orders the order limit makes
    of ``quantity`` last no longer than that, a ladder stretched to ``deadline_share`` of the
    horizon too (the example: a 210 s deadline ladder 180 s before the close ran past it);
    a ladder that fits already is left as it is."""
    settings = ExecutionSettings(patience=patience, deadline_share=share, twap_horizon=horizon)
    now = CLOSE - dt.timedelta(seconds=before)
    before = (CLOSE - now).total_seconds()  # to the microsecond, as a datetime holds it
    fitted = fit_patience(settings, quantity, hours=HOURS, now=now, max_order_quantity=limit)
    ladder = sum(wait for _, wait in stage_plan(Policy.PATIENCE, fitted))
    orders = len(chunk_sizes(quantity, limit))
    assert ladder * orders <= before * (1 + 1e-9)
    original = sum(wait for _, wait in stage_plan(Policy.PATIENCE, settings))
    if original * orders <= before:
        assert ladder == original
