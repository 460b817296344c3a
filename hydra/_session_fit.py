"""Fitting an intent's work into its market's session, as it starts (new, or resumed after a
restart): a patience ladder short enough that every order of it ends, its rest cancelled,
before the close; a TWAP's slices inside the sessions (`plan_twap_in_sessions`). The hours
are those the intent is worked in (the broker's liquid or trading hours, by
``execution.hours``: the router chooses), each close already brought forward by the router's
margin. Pure."""

from __future__ import annotations

import datetime as dt
import random

import attrs

from ._core._sessions import SessionCalendar
from ._core._twap import TwapPlan, chunk_sizes, plan_twap_in_sessions
from ._patience import LADDER_LENGTH
from ._settings import ExecutionSettings


def fit_patience(settings: ExecutionSettings, quantity: int, *, hours: SessionCalendar | None,
                 now: dt.datetime, max_order_quantity: int | None) -> ExecutionSettings:
    """``settings`` with the patience shortened so that every ladder (one per order the
    order-quantity limit makes of ``quantity``) ends before the session of ``now`` closes,
    and the deadline share too, so that it does not stretch a ladder past the close; as they
    are when the hours are unknown or closed at ``now``."""
    close = None if hours is None else hours.close_of(now)
    if close is None:
        return settings
    orders = len(chunk_sizes(quantity, max_order_quantity))
    fits = (close - now).total_seconds() / LADDER_LENGTH / orders
    share = min(settings.deadline_share, fits * LADDER_LENGTH / settings.twap_horizon)
    return attrs.evolve(settings, patience=min(settings.patience, fits), deadline_share=share)


def fit_twap(quantity: int, *, settings: ExecutionSettings, rng: random.Random,
             hours: SessionCalendar | None, now: dt.datetime) -> TwapPlan | None:
    """The TWAP's plan inside the sessions from ``now``; None (the plain plan, drawn by the
    scheduler) when the hours are unknown or closed at ``now``."""
    if hours is None or not hours.is_open(now):
        return None
    return plan_twap_in_sessions(quantity, settings=settings, rng=rng, start=now,
                                 calendar=hours)
