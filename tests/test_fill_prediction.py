"""Each fill's own predicted slippage: the aggressiveness its order's limit had against the
crowd's quote before it, and the current model version's prediction, journaled with the fill
beside its order's pre-trade estimate."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio
from hypothesis import given
from hypothesis import strategies as st

from hydra import (
    OATS,
    BracketIntent,
    Distance,
    ExecutionSettings,
    HydraConfig,
    OrderIntent,
    Policy,
    Side,
)
from hydra._codec import fill_prediction_from_json
from hydra._converter import unstructure
from hydra._core._model_versions import ModelVersion, Weights, first_version
from hydra._core._slippage import fill_aggressiveness
from hydra._enums import NoteKind
from hydra._journal import EventKind, Journal
from hydra._quotes import Quote
from hydra._settings import MarketFactsSettings, ShutdownSettings, SlippageSettings
from hydra.sim import ScriptedFlow, open_sim_exchange
from tests.simulated import open_engine, quiet_oats

D = Decimal
SETTINGS = SlippageSettings()
T0 = dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.UTC)
LADDER = ExecutionSettings(patience=60.0, slippage_guard=Distance.ticks(4))
# No daily bars read: the engine predicts with the configured volatility and ADV (ZO 1500).
CONFIG = HydraConfig(execution=LADDER, market_facts=MarketFactsSettings(from_bars=False))


def _fill_payloads(path: Path) -> list[dict[str, Any]]:
    return [p for _, kind, p in Journal.open(path).events() if kind is EventKind.FILL]


def _expected(version: ModelVersion, *, aggressiveness: str, quantity: int = 1) -> Decimal:
    """What ``version`` predicts for a ZO patience fill of ``quantity`` lots against the
    crowd's 349.75 / 350.25."""
    return version.predict(symbol="ZO", policy=Policy.PATIENCE, spread=D("0.50"),
                           mid=D("350.00"), aggressiveness=D(aggressiveness),
                           participation=D(quantity) / 1500, settings=SETTINGS).bps


async def test_a_resting_fill_and_a_crossing_fill_get_their_own_predictions(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A two-lot buy rests one tick inside the crowd's 349.75 / 350.25 and a one-lot sell
    fills half of it at 10 s; the last stage (at 90 s) takes the ask. The resting fill is
    predicted at aggressiveness ½ (its limit at the crowd's mid, our own bid taken out of the
    quote), the crossing one at 1, each for its own lot, by v1; both keep the intent's
    pre-trade estimate, for two lots at the patience policy's ½."""
    path = tmp_path / "j.sqlite"
    params = quiet_oats(flows=(ScriptedFlow(at=10.0, side=Side.SELL, quantity=1),))
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_engine(exchange, path, CONFIG) as engine:
            start = trio.current_time()
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=2))
            report = await handle.wait_done()
            assert trio.current_time() - start == pytest.approx(90.030)
    assert [(f.price, f.quantity) for f in report.children[0].fills] == [
        (D("350.00"), 1), (D("350.25"), 1)]
    resting, crossing = _fill_payloads(path)
    v1 = first_version(T0)
    pre_trade = _expected(v1, aggressiveness="0.5", quantity=2)
    assert D(resting["predicted_bps"]) == D(crossing["predicted_bps"]) == pre_trade
    for payload, aggressiveness, limit in ((resting, "0.5", "350.00"), (crossing, "1", "350.25")):
        own = fill_prediction_from_json(payload["fill_prediction"])
        assert (own.limit_price, own.bid, own.ask) == (D(limit), D("349.75"), D("350.25"))
        assert own.aggressiveness == D(aggressiveness)
        assert own.participation == D(1) / 1500
        assert own.prediction.version_id == "v1" and own.prediction.policy is Policy.PATIENCE
        assert own.prediction.bps == _expected(v1, aggressiveness=aggressiveness)
    assert (fill_prediction_from_json(crossing["fill_prediction"]).prediction.bps
            > fill_prediction_from_json(resting["fill_prediction"]).prediction.bps)


async def test_fills_are_stamped_with_the_engines_current_version(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """With v2 current in the journal (a bias of 4 bps on ZO patience), a fill's own
    prediction is v2's and says so."""
    path = tmp_path / "j.sqlite"
    v2 = ModelVersion(version_id="v2", created_at=T0, reason="test", parent="v1",
                      weights={"ZO/patience": Weights(bias_bps=D(4))})
    journal = Journal.open(path)
    journal.record_note(NoteKind.MODEL_VERSION, version=unstructure(first_version(T0)))
    journal.record_note(NoteKind.MODEL_VERSION, version=unstructure(v2))
    journal.close()
    params = quiet_oats(flows=(ScriptedFlow(at=10.0, side=Side.SELL, quantity=1),))
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_engine(exchange, path, CONFIG) as engine:
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=1))
            await handle.wait_done()
    (payload,) = _fill_payloads(path)
    own = fill_prediction_from_json(payload["fill_prediction"])
    assert own.prediction.version_id == "v2"
    assert own.prediction.bps == _expected(v2, aggressiveness="0.5") == (
        _expected(first_version(T0), aggressiveness="0.5") + 4)


async def test_a_fill_of_an_intent_without_a_pre_trade_estimate_has_no_own_prediction(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A bracket's orders carry no pre-trade estimate, and their fills get no own prediction:
    nothing predicted means nothing to compare."""
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(quiet_oats(spread_ticks=1), seed=1) as exchange:
        async with open_engine(exchange, path, CONFIG) as engine:
            await engine.submit_bracket(BracketIntent(
                contract=OATS, side=Side.BUY, quantity=1, entry_price=D("350.25"),
                take_profit_price=D("352.00"), stop_price=D("348.00"),
                stop_limit_price=D("347.75")))
            await trio.sleep(5)
    payloads = _fill_payloads(path)
    assert payloads and all("fill_prediction" not in p for p in payloads)


prices = st.decimals(min_value=D("340.00"), max_value=D("360.00"), places=2)


@given(limit=prices, bid=prices, width=st.decimals(min_value=0, max_value=5, places=2),
       side=st.sampled_from([Side.BUY, Side.SELL]))
def test_aggressiveness_is_a_share_from_zero_to_one(limit: Decimal, bid: Decimal,
                                                    width: Decimal, side: Side) -> None:
    """Whatever the limit and quote, a fill's aggressiveness is from 0 to 1: 0 at or behind
    the near touch, 1 at or through the far touch."""
    quote = Quote(bid=bid, ask=bid + width)
    share = fill_aggressiveness(side, limit_price=limit, quote=quote)
    assert 0 <= share <= 1
    if side.sign * (limit - quote.far_touch(side)) >= 0:
        assert share == 1
    elif side.sign * (limit - quote.near_touch(side)) <= 0:
        assert share == 0


@pytest.mark.parametrize(("side", "limit", "share"), [
    (Side.BUY, "350.00", "0"), (Side.BUY, "350.25", "0.5"), (Side.BUY, "350.50", "1"),
    (Side.SELL, "350.50", "0"), (Side.SELL, "350.25", "0.5"), (Side.SELL, "349.75", "1"),
])
def test_aggressiveness_runs_from_the_near_touch_to_the_far(side: Side, limit: str,
                                                           share: str) -> None:
    """Against 350.00 / 350.50: the near touch is 0, the mid ½, the far touch 1."""
    quote = Quote(bid=D("350.00"), ask=D("350.50"))
    assert fill_aggressiveness(side, limit_price=D(limit), quote=quote) == D(share)


def test_a_fill_prediction_reads_back_from_its_json() -> None:
    """The journal's form of a fill's prediction gives the same prediction back."""
    own = first_version(T0).predict_fill(
        symbol="ZO", policy=Policy.CROSS, side=Side.SELL, limit_price=D("349.75"),
        quote=Quote(bid=D("349.75"), ask=D("350.25")), quantity=3, adv=1500, settings=SETTINGS)
    assert own.aggressiveness == 1 and own.participation == D(3) / 1500
    assert fill_prediction_from_json(own.to_json()) == own


async def test_an_adopted_orders_fill_is_predicted_after_a_restart(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A one-lot bid left working at 349.50 inside the crowd's 349.25 / 350.75 is adopted by
    the next start, which steps it at 60 s, the instant a sell fills it where it stood: its
    fill is predicted with the policy of the intent's journaled estimate, at the limit it
    filled at (the step was still on its way) against the quote the restarted engine saw it
    in (aggressiveness 1/6: a tick into a six-tick spread)."""
    path = tmp_path / "j.sqlite"
    leave = attrs.evolve(CONFIG, execution=ExecutionSettings(slippage_guard=Distance.ticks(2)),
                         shutdown=ShutdownSettings(drain_timeout=1.0, leave_working=True))
    params = quiet_oats(spread_ticks=6, flows=(ScriptedFlow(at=60.0, side=Side.SELL, quantity=1),))
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_engine(exchange, path, leave) as engine:
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=1))
        await handle.wait_done()
        await trio.sleep_until(exchange.origin + 40.0)
        later = attrs.evolve(leave, shutdown=ShutdownSettings(drain_timeout=600.0))
        async with open_engine(exchange, path, later) as engine:
            (adopted,) = engine.adopted
            report = await adopted.wait_done()
    assert [(f.price, f.quantity) for f in report.children[0].fills] == [(D("349.50"), 1)]
    assert report.children[0].prices[-1] == D("349.75")  # the step, sent as it filled
    (payload,) = _fill_payloads(path)
    own = fill_prediction_from_json(payload["fill_prediction"])
    assert (own.limit_price, own.bid, own.ask) == (D("349.50"), D("349.25"), D("350.75"))
    assert own.aggressiveness == D(1) / 6
    assert own.prediction.policy is Policy.PATIENCE and own.prediction.version_id == "v1"
    assert own.prediction.bps == first_version(T0).predict(
        symbol="ZO", policy=Policy.PATIENCE, spread=D("1.50"), mid=D("350.00"),
        aggressiveness=D(1) / 6, participation=D(1) / 1500, settings=SETTINGS).bps


async def test_a_crossing_fill_is_judged_on_the_quote_it_crossed(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A five-lot crossing buy takes all five lots of the 350.25 ask, and the broker
    acknowledges it (10 ms) before it reports the execution (50 ms), when the ask it emptied
    shows 350.50 (a gap the crowd refills at a rate): the fill is still judged against
    349.75 / 350.25, a full crossing."""
    path = tmp_path / "j.sqlite"
    params = attrs.evolve(quiet_oats(refill_rate=0.5, depth_levels=5), ack_latency=0.010,
                          fill_latency=0.050)
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_engine(exchange, path, CONFIG) as engine:
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=5,
                                                     policy=Policy.CROSS))
            report = await handle.wait_done()
            assert exchange.quote(OATS).ask == D("350.50")
    assert [(f.price, f.quantity) for f in report.children[0].fills] == [(D("350.25"), 5)]
    (payload,) = _fill_payloads(path)
    own = fill_prediction_from_json(payload["fill_prediction"])
    assert (own.bid, own.ask, own.aggressiveness) == (D("349.75"), D("350.25"), D(1))
    assert own.prediction.policy is Policy.CROSS
