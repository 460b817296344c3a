"""IB's quotes are current while its feed vouches for them, however still the market: the pure
feed (`hydra.ib._feed`) and IBBroker over the simulated gateway on the virtual clock."""

from __future__ import annotations

import trio
import trio.testing

from hydra import OATS
from hydra._quote_source import QuoteSource
from hydra._rehearsal_broker import BrokerKind, open_rehearsal_broker
from hydra._settings import BrokerSettings
from hydra.ib._feed import QuoteFeed
from hydra.sim import Disconnect, open_sim_exchange
from tests.simulated import quiet_oats

ZO, HE = ("ZO", "202605"), ("HE", "202604")


def test_a_market_is_current_once_updated_and_until_the_feed_is_in_doubt() -> None:
    feed = QuoteFeed()
    assert not feed.current(ZO)  # never updated
    feed.updated([ZO])
    assert feed.current(ZO) and not feed.current(HE)
    feed.forget()  # a lost connection
    assert not feed.current(ZO)
    feed.updated([ZO, HE])
    feed.notice(10197, "No market data during competing live session")
    assert not feed.current(ZO) and not feed.current(HE)


def test_a_broken_farm_puts_every_market_in_doubt_until_that_farm_is_back() -> None:
    feed = QuoteFeed()
    feed.notice(2103, "Market data farm connection is broken:usfarm")
    feed.notice(2103, "Market data farm connection is broken:usfuture")
    feed.updated([ZO])
    feed.notice(2104, "Market data farm connection is OK:usfarm")
    assert not feed.current(ZO)  # usfuture is still broken
    feed.notice(2108, "Market data farm connection is inactive but should be available upon "
                      "demand.usfuture:usfuture")
    assert feed.current(ZO)  # updated since: the broken farm cleared it only while broken
    feed.notice(2106, "HMDS data farm connection is OK:ushmds")  # history: no bearing
    assert feed.current(ZO)


async def test_a_still_market_through_ib_stays_usable_past_the_quote_age(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Oats that do not move for 10 minutes: IB sends no tick, yet the quote is usable at
    every minute (before, it was stale 30 s after it last changed and every intent in a
    quiet market was refused); while the gateway's link is down (1100) it is not, and it is
    again once the market updates after the link is back."""
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        exchange.inject(Disconnect(at=700, duration=40))
        async with open_rehearsal_broker(exchange, BrokerKind.GATEWAY,
                                         settings=BrokerSettings(client_id=7)) as broker:
            await broker.connect()
            with trio.fail_after(5):
                await broker.subscribe_quotes(OATS)
            source = QuoteSource(broker.quote_nowait, max_age=30.0)
            usable = []
            for _ in range(10):
                await trio.sleep(60)
                usable.append(source.usable(OATS) is not None)
            assert usable == [True] * 10  # 600 s after the open
            await trio.sleep(110)  # 710 s: the link went down at 700
            assert source.usable(OATS) is None
            assert "stale" in (source.problem(OATS) or "")
            await trio.sleep(60)  # 770 s: back at 740, quotes sent again on the new session
            assert source.usable(OATS) is not None
