"""QuoteSource over a SimBroker: unusable quotes come back as None, one log line and one count
per episode."""

from __future__ import annotations

import math
from decimal import Decimal

import attrs
import pytest
import structlog
import trio

from hydra._contracts import LEAN_HOGS, OATS
from hydra._errors import InvalidValueError
from hydra._quote_source import QuoteSource, QuoteStatistics
from hydra.sim import BadQuotes, SimBroker, StaleQuotes, open_sim_exchange
from tests.simulated import still_oats


def _params(*faults: object) -> object:
    return attrs.evolve(still_oats(), faults=faults)


async def test_a_good_quote_passes_through(autojump_clock: trio.testing.MockClock) -> None:
    """A fresh two-sided quote is returned as the broker gave it; nothing is counted."""
    async with open_sim_exchange(_params(), seed=1) as exchange:  # type: ignore[arg-type]
        broker = SimBroker(exchange)
        await broker.connect()
        await broker.subscribe_quotes(OATS)
        source = QuoteSource(broker.quote_nowait, max_age=10.0)
        quote = source.usable(OATS)
    assert quote is not None and (quote.bid, quote.ask) == (Decimal("350.00"), Decimal("350.25"))
    assert source.statistics() == QuoteStatistics(episodes=0, unusable={})
    assert source.problem(OATS) is None


async def test_one_log_line_and_one_count_per_episode(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Asked every second through a 5 s crossed spell, then through a stale one, the source
    logs each spell once when it starts and once when it ends, and counts two episodes."""
    faults = (BadQuotes(at=2, duration=5, problem="crossed"), StaleQuotes(at=10, duration=30))
    async with open_sim_exchange(_params(*faults), seed=1) as exchange:  # type: ignore[arg-type]
        broker = SimBroker(exchange)
        await broker.connect()
        await broker.subscribe_quotes(OATS)
        source = QuoteSource(broker.quote_nowait, max_age=10.0)
        answers = []
        with structlog.testing.capture_logs() as logs:
            for _ in range(45):
                answers.append(source.usable(OATS))
                if trio.current_time() == 4.0:
                    during = source.statistics()
                await trio.sleep(1)
    unusable = [t for t, quote in enumerate(answers) if quote is None]
    assert unusable == [2, 3, 4, 5, 6, *range(21, 40)]  # stale once older than 10 s
    assert [(e["event"], e.get("why")) for e in logs] == [
        ("quote_unusable", "crossed"), ("quote_usable", None),
        ("quote_unusable", "stale 11.0 s"), ("quote_usable", None),
    ]
    assert [e["after"] for e in logs if e["event"] == "quote_usable"] == [5.0, 19.0]
    assert during == QuoteStatistics(episodes=1, unusable={"ZO": "crossed"})
    assert source.statistics() == QuoteStatistics(episodes=2, unusable={})


async def test_a_broker_error_is_an_unusable_quote(autojump_clock: trio.testing.MockClock) -> None:
    """A quote the broker cannot give (here: never subscribed) is None with the broker's
    reason, never an error out of the caller."""
    async with open_sim_exchange(_params(), seed=1) as exchange:  # type: ignore[arg-type]
        broker = SimBroker(exchange)
        await broker.connect()
        source = QuoteSource(broker.quote_nowait, max_age=math.inf)
        assert source.usable(LEAN_HOGS) is None
    problem = source.problem(LEAN_HOGS)
    assert problem is not None and problem.startswith("unavailable: no quotes for 'HE'")
    assert source.statistics().episodes == 1


@pytest.mark.parametrize("max_age", [0, -1.0, math.nan, True, "10"])
def test_max_age_must_be_positive_seconds(max_age: object) -> None:
    """A zero, negative, NaN or non-number age limit names max_age."""
    with pytest.raises(InvalidValueError, match=r"^max_age:"):
        QuoteSource(lambda contract: None, max_age=max_age)  # type: ignore[arg-type, return-value]


async def test_a_quote_stamped_as_it_is_read_is_never_ahead(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """On the real clock time moves while the broker is read; a quote stamped at that moment
    (the simulator's are) is usable, not "stamped ahead" of a now taken before the read."""
    async with open_sim_exchange(_params(), seed=1) as exchange:  # type: ignore[arg-type]
        broker = SimBroker(exchange)
        await broker.connect()
        await broker.subscribe_quotes(OATS)

        def read_while_time_moves(contract: object) -> object:
            autojump_clock.jump(0.001)
            return broker.quote_nowait(contract)  # type: ignore[arg-type]

        source = QuoteSource(read_while_time_moves, max_age=10.0)  # type: ignore[arg-type]
        assert source.usable(OATS) is not None and source.problem(OATS) is None
