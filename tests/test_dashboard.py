"""The dashboard through its ASGI app, in process, on the simulated exchange: every view, the
event stream, the token and the refusals."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from html import escape
from pathlib import Path

import attrs
import pytest
import trio

from hydra import OATS, Distance, ExecutionSettings, HydraConfig, OrderIntent, Side, TradingState
from hydra._engine import Engine
from hydra._enums import NoteKind
from hydra._journal_actor import run_inline
from hydra.dashboard import Board, DashboardApp, Guard
from hydra.dashboard._app import PUSH_GAP
from hydra.dashboard._guard import MAX_NONCES
from hydra.dashboard._html import FILL_PREDICTIONS
from hydra.gateway import DEFAULT_ACCOUNT
from hydra.sim import Disconnect, SimBroker, SimExchange, open_sim_exchange
from tests.asgi import get, open_stream, post
from tests.paper_journal import PaperJournal, own_predictions_journal
from tests.simulated import journal_notes, open_engine, quiet_oats

CONFIG = HydraConfig(execution=ExecutionSettings(patience=60.0, slippage_guard=Distance.ticks(2)))
TOKEN = "s3cret-token"


def _app(engine: Engine | None, journal: Path, exchange: SimExchange, *,
         token: str | None = TOKEN) -> DashboardApp:
    board = Board(journal_path=journal, engine=engine, offload=run_inline,
                  clock=lambda: exchange.timestamp(trio.current_time()))
    return DashboardApp(board, Guard(token=token))


@asynccontextmanager
async def _running(tmp_path: Path, *, spread_ticks: int = 2
                   ) -> AsyncIterator[tuple[Engine, DashboardApp, Path]]:
    journal = tmp_path / "j.sqlite"
    async with open_sim_exchange(quiet_oats(spread_ticks=spread_ticks), seed=1) as exchange:
        async with open_engine(exchange, journal, CONFIG) as engine:
            yield engine, _app(engine, journal, exchange), journal


def _sections(chunk: bytes) -> dict[str, str]:
    event, data, _, _ = chunk.decode().split("\n")
    assert event == "event: sections"
    sections: dict[str, str] = json.loads(data.removeprefix("data: "))
    return sections


async def test_page_shows_every_view_after_a_fill(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """The page has the banner, the fill with its slippage, the position, the breakers, the
    slippage charts and the gate, all server-rendered."""
    async with _running(tmp_path) as (engine, app, _):
        handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=3,
                                                 intent_id="one"))
        await handle.wait_done()
        page = await get(app, "/")
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    text = page.text
    assert 'class="mode mode-SIM">SIM<' in text and "connected" in text and "ACTIVE" in text
    assert '<span class="account">account DU*****67</span>' in text  # masked as in the audit
    assert "live engine" in text and "2025-03-03 08:31:30 CST" in text  # the exchange's clock
    assert "liquid hours: " in text  # each market's session, in the hours Hydra works in
    assert "ZO open" in text and "HE open" in text
    assert "No working orders." in text
    assert "<td>one</td>" in text and "<td>350.25</td>" in text  # the fill, at the ask
    assert "<td>+7.14</td>" in text  # actual slippage: 0.25 / 350.00 in bps
    assert "<td>ZO</td><td>3</td><td>350.25</td>" in text  # position and average price
    assert "daily_loss" in text and "position_value" in text and "<meter" in text
    assert text.count("<svg") == 2 and "1 fills with predicted and actual slippage" in text
    for condition in ("paper_operation", "slippage_calibrated", "reconnect_survived",
                      "no_unrecoverable_error", "kill_switch_exercised"):
        assert condition in text
    assert 'src="dashboard.js"' in text and 'action="kill"' in text  # with the token: actions


async def test_engine_started_has_the_masked_account_of_the_simulator(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """The journal's engine_started holds the venue and the simulator's fake account (the
    simulated gateway's too) masked, never the account id itself; an in-process simulator
    has no port."""
    async with _running(tmp_path) as (_, _, journal):
        pass
    (started,) = journal_notes(journal, "engine_started")
    assert (started["venue"], started["port"], started["account"]) == ("sim", None, "DU*****67")
    assert SimBroker(SimExchange(quiet_oats(), seed=1)).account_id == DEFAULT_ACCOUNT
    assert DEFAULT_ACCOUNT.encode() not in journal.read_bytes()


async def test_working_order_shows_its_ladder_and_a_cancel_button(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A resting order shows its intent, filled of total, its latest limit price, its ladder
    stage with the time to the next step, and a cancel form."""
    async with _running(tmp_path, spread_ticks=8) as (engine, app, _):
        start = trio.current_time()
        await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=3,
                                        intent_id="resting"))
        await trio.sleep_until(start + 1)
        text = (await get(app, "/")).text
        assert "<td>resting</td>" in text and "<td>0 / 3</td>" in text
        assert "<td>349.25</td><td>-</td><td>RESTING</td>" in text  # a tick inside the bid
        assert '<span data-left="59.0">59 s</span> to the next step' in text
        assert 'name="intent" value="resting"' in text
        await trio.sleep_until(start + 61)  # stepped at 60 s, a tick toward the market
        text = (await get(app, "/")).text
        assert "<td>349.50</td><td>-</td><td>STEPPED</td>" in text
        assert '<span data-left="29.0">29 s</span> to the next step' in text
        await trio.sleep_until(start + 100)
        text = (await get(app, "/")).text
        assert "<td>350.50</td><td>-</td><td>CROSSING</td>" in text  # up to the guard
        assert ">5 s</span> until it ends" in text


async def test_twap_order_shows_its_slices(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A TWAP's working slice shows how many slices have started of the plan's total; a
    patience order shows none."""
    async with _running(tmp_path, spread_ticks=8) as (engine, app, _):
        await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=20,
                                        intent_id="sliced"))  # over 1% of oats' ADV of 1,500
        await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=1,
                                        intent_id="single"))
        await trio.sleep(1)
        rows = (await get(app, "/")).text.split("<tr>")
    (sliced,) = [r for r in rows if "<td>sliced</td>" in r]
    (single,) = [r for r in rows if "<td>single</td>" in r]
    assert "<td>0 / 2</td>" in sliced and "<td>1 of 10</td>" in sliced
    assert "<td>-</td>" in single


async def test_a_twap_slice_counts_down_to_its_own_ladders_step(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A TWAP slice's ladder spans its interval (300 s over 2 slices: 150 / 1.75 s at stage
    0, not the configured 60 s): 10 s in, the page counts down the 75.7 s to that step, as
    the engine told it, and names the slice."""
    config = attrs.evolve(CONFIG, execution=attrs.evolve(
        CONFIG.execution, twap_threshold=Decimal("0.001"), twap_slices=2, twap_horizon=300.0,
        twap_jitter=0.0))
    journal = tmp_path / "j.sqlite"
    async with open_sim_exchange(quiet_oats(spread_ticks=8), seed=1) as exchange:
        async with open_engine(exchange, journal, config) as engine:
            board = Board(journal_path=journal, engine=engine, config=config, offload=run_inline,
                          clock=lambda: exchange.timestamp(trio.current_time()))
            app = DashboardApp(board, Guard(token=None))
            start = trio.current_time()
            await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=4,
                                            intent_id="sliced"))
            await trio.sleep_until(start + 10)
            text = (await get(app, "/")).text
    assert "<td>349.25</td><td>-</td><td>RESTING</td>" in text
    assert '<span data-left="75.7">76 s</span> to the next step' in text
    assert "<td>1 of 2</td>" in text


async def test_with_the_broker_the_page_shows_bid_ask_and_marks(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Given a view of the market, a working order shows the bid and ask, and a position its
    mark (the mid) and unrealized PnL in dollars."""
    journal = tmp_path / "j.sqlite"
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:  # 349.75 / 350.25
        async with open_engine(exchange, journal, CONFIG) as engine:
            market = SimBroker(exchange)
            await market.connect()
            await market.subscribe_quotes(OATS.for_month("202505"))  # the front on 2025-03-03
            await market.subscribe_quotes(OATS)  # positions are marked by the product's quote
            board = Board(journal_path=journal, engine=engine, config=CONFIG, market=market,
                          offload=run_inline,
                          clock=lambda: exchange.timestamp(trio.current_time()))
            app = DashboardApp(board, Guard(token=None))
            await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=3,
                                            intent_id="quoted"))
            await trio.sleep(1)
            working = (await get(app, "/")).text
            await trio.sleep(90)  # the last stage takes the ask: filled
            held = (await get(app, "/")).text
    assert "<td>350.00</td><td>350.00 / 350.25</td><td>RESTING</td>" in working  # our bid
    assert "<td>ZO</td><td>3</td><td>350.25</td><td>" in held  # bought 3 at the ask
    (row,) = [r for r in held.split("<tr>") if r.startswith("<td>ZO</td><td>3</td>")]
    mark, unrealized = re.findall(r"<td>([^<]*)</td>", row)[3:5]
    assert Decimal(unrealized.replace(",", "")) == (Decimal(mark) - Decimal("350.25")) * 3 * 50


async def test_stream_pushes_sections_on_each_engine_event(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """The stream sends every section at once, then again after the engine's events (each
    order sent, its status journaled, each ladder stage begun, the fill), drawn once for
    events that come within PUSH_GAP of the last push, and nothing in between (no timer)."""
    async with _running(tmp_path) as (engine, app, _):
        async with open_stream(app) as chunks:
            start = trio.current_time()
            at, first = await chunks.receive()
            assert at == start
            assert set(_sections(first)) == {"banner", "working", "fills", "positions",
                                              "slippage", "gate"}
            await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=3,
                                            intent_id="streamed"))
            times = []
            at, chunk = await chunks.receive()
            while "<td>streamed</td>" not in _sections(chunk)["fills"]:
                times.append(at - start)
                at, chunk = await chunks.receive()
            assert at - start == 90.0 + PUSH_GAP  # filled at 90.03, one gap after the reprice
    # Sent at 0 and journaled WORKING at 0.03: one push, a gap after the first; the step at
    # 60 s kept its price but is pushed (its stage and countdown change); repriced to the ask
    # at 90 s, after a quiet spell: at once.
    assert times == [PUSH_GAP, 60.0, 90.0]


async def test_stream_carries_a_new_and_a_repriced_order_at_once(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A new order reaches the page within PUSH_GAP, and each repricing of it in the very
    virtual instant the sender sends it, not at the next fill."""
    async with _running(tmp_path, spread_ticks=8) as (engine, app, _):
        async with open_stream(app) as chunks:
            start = trio.current_time()
            await chunks.receive()
            await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=3,
                                            intent_id="repriced"))
            at, placed = await chunks.receive()
            assert at - start == PUSH_GAP  # sent at 0, a gap after the page's first sections
            assert "<td>349.25</td><td>-</td><td>RESTING</td>" in _sections(placed)["working"]
            at, stepped = await chunks.receive()
            assert at - start == 60.0  # the ladder's first step, at patience
            assert "<td>349.50</td><td>-</td><td>STEPPED</td>" in _sections(stepped)["working"]


async def test_stream_follows_a_disconnect_and_the_reconnect(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """The link to the exchange drops at 10 s: the banner says DISCONNECTED in that instant;
    after the reconnect and resync it says connected, with the reconnect counted."""
    journal = tmp_path / "j.sqlite"
    params = attrs.evolve(quiet_oats(), faults=(Disconnect(at=10.0, duration=20.0),))
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_engine(exchange, journal, CONFIG) as engine:
            app = _app(engine, journal, exchange)
            async with open_stream(app) as chunks:
                start = exchange.origin
                at, first = await chunks.receive()
                assert "reconnects: 0" in _sections(first)["banner"]
                at, lost = await chunks.receive()
                assert at - start == 10.0 and "DISCONNECTED" in _sections(lost)["banner"]
                at, back = await chunks.receive()
                while "reconnects: 1" not in _sections(back)["banner"]:
                    at, back = await chunks.receive()
    assert at - start > 30.0  # the link came back at 30 s
    assert 'class="link link-up">connected' in _sections(back)["banner"]


async def test_stream_ends_when_the_engine_stops(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """When the engine closes its event channel the stream sends its last, empty chunk."""
    journal = tmp_path / "j.sqlite"
    bodies: list[bytes] = []

    async def watch(app: DashboardApp) -> None:
        async with open_stream(app) as chunks:
            async for _, body in chunks:
                bodies.append(body)
                if body == b"":
                    return

    async with trio.open_nursery() as nursery:
        async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
            async with open_engine(exchange, journal, CONFIG) as engine:
                nursery.start_soon(watch, _app(engine, journal, exchange))
                await trio.sleep(1)
    assert len(bodies) == 2 and bodies[0].startswith(b"event: sections") and bodies[1] == b""


def _nonce(page: str) -> str:
    match = re.search(r'name="nonce" value="([^"]+)"', page)
    assert match is not None
    return match.group(1)


async def _kill_form(app: DashboardApp) -> dict[str, str]:
    confirmation = await get(app, "/kill")
    assert confirmation.status == 200 and 'type="password" name="token"' in confirmation.text
    return {"nonce": _nonce(confirmation.text), "reason": "drill", "token": TOKEN}


async def test_kill_with_the_token_halts_and_is_journaled_from_the_dashboard(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """The confirmed kill halts trading through the engine's kill switch, journaled with the
    source "dashboard"; the same request again is refused as a replay."""
    async with _running(tmp_path) as (engine, app, journal):
        form = await _kill_form(app)
        done = await post(app, "/kill", form=form, headers={"origin": "http://127.0.0.1:8765"})
        assert done.status == 200 and "halted" in done.text
        assert engine.statistics().trading_state is TradingState.HALTED
        again = await post(app, "/kill", form=form)
        assert again.status == 403 and "replayed" in again.text
        assert "HALTED (dashboard: drill)" in (await get(app, "/")).text
    (kill,) = journal_notes(journal, "kill_switch")
    assert kill["reason"] == "dashboard: drill"
    (control,) = journal_notes(journal, "control_applied")
    assert control["source"] == "dashboard" and control["action"] == "kill"


@pytest.mark.parametrize(("change", "refusal"), [
    ({"token": ""}, "wrong or missing token"),
    ({"token": "guess"}, "wrong or missing token"),
    ({"nonce": "made-up"}, "replayed"),
])
async def test_kill_is_refused_without_the_token_or_a_given_nonce(
    autojump_clock: trio.testing.MockClock, tmp_path: Path, change: dict[str, str],
    refusal: str,
) -> None:
    """A kill without the right token, or with a nonce the page never gave, changes nothing."""
    async with _running(tmp_path) as (engine, app, journal):
        form = {**await _kill_form(app), **change}
        refused = await post(app, "/kill", form=form)
        assert refused.status == 403 and refusal in refused.text
        assert engine.statistics().trading_state is TradingState.ACTIVE
    assert journal_notes(journal, "kill_switch") == []


@pytest.mark.parametrize("headers", [
    {"origin": "http://evil.example"},
    {"origin": "null"},
    {"referer": "http://evil.example/page"},
    {"sec-fetch-site": "cross-site"},
])
async def test_kill_from_another_origin_is_refused(
    autojump_clock: trio.testing.MockClock, tmp_path: Path, headers: dict[str, str]
) -> None:
    """A request another site makes the browser send is refused, even with the token."""
    async with _running(tmp_path) as (engine, app, _):
        refused = await post(app, "/kill", form=await _kill_form(app), headers=headers)
        assert refused.status == 403 and "another" in refused.text
        assert engine.statistics().trading_state is TradingState.ACTIVE


async def test_cancel_one_intent_through_the_confirmation(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """The cancel button's confirmation, posted with the token, stops that intent at once."""
    async with _running(tmp_path, spread_ticks=8) as (engine, app, journal):
        handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=3,
                                                 intent_id="resting"))
        await trio.sleep(1)
        confirmation = await get(app, "/cancel", query="intent=resting")
        assert "cancel intent resting" in confirmation.text
        form = {"nonce": _nonce(confirmation.text), "intent": "resting", "token": TOKEN}
        start = trio.current_time()
        assert (await post(app, "/cancel", form=form)).status == 200
        report = await handle.wait_done()
        assert trio.current_time() - start < 1 and report.filled == 0
        assert "No working orders." in (await get(app, "/")).text
    (control,) = journal_notes(journal, "control_applied")
    assert control == {**control, "source": "dashboard", "action": "cancel",
                       "intent_id": "resting"}


async def test_cancel_of_an_unknown_intent_is_refused(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """An intent the engine never had is named in the refusal."""
    async with _running(tmp_path) as (_, app, _):
        confirmation = await get(app, "/cancel", query="intent=nope")
        form = {"nonce": _nonce(confirmation.text), "intent": "nope", "token": TOKEN}
        refused = await post(app, "/cancel", form=form)
        assert refused.status == 404 and "intent_id: " in refused.text  # the engine says why


async def test_without_a_token_the_page_is_read_only(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """No token: no action forms, and both actions are refused."""
    journal = tmp_path / "j.sqlite"
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        async with open_engine(exchange, journal, CONFIG) as engine:
            app = _app(engine, journal, exchange, token=None)
            page = (await get(app, "/")).text
            assert 'action="kill"' not in page
            assert (await get(app, "/kill")).status == 403
            refused = await post(app, "/kill", form={"token": "", "nonce": ""})
            assert refused.status == 403 and "read-only" in refused.text
            assert engine.statistics().trading_state is TradingState.ACTIVE


async def test_journal_alone_serves_the_same_page_read_only(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """After the engine stopped, the journal alone shows the fill and refuses actions; its
    stream sends the sections once and then nothing."""
    async with _running(tmp_path) as (engine, _, journal):
        await (await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=3,
                                               intent_id="closed"))).wait_done()
    app = DashboardApp(Board(journal_path=journal, offload=run_inline), Guard(token=TOKEN))
    page = (await get(app, "/")).text
    assert "read-only from the journal" in page and "<td>closed</td>" in page
    assert "SIM" in page and 'action="kill"' not in page
    refused = await post(app, "/kill", form={"token": TOKEN})
    assert refused.status == 403 and "no engine" in refused.text
    with trio.move_on_after(3600):
        async with open_stream(app) as chunks:
            await chunks.receive()
            with pytest.raises(trio.TooSlowError), trio.fail_after(3000):
                await chunks.receive()


async def test_a_commission_reported_after_its_fill_counts_in_the_position(
    tmp_path: Path,
) -> None:
    """IB reports a fill's commission after the fill (a ``commission`` note): the position's
    commission and the daily loss breaker include it."""
    paper = PaperJournal(tmp_path / "j.sqlite")
    coid = paper.order("later", side=Side.BUY, quantity=2, limit="350.25")
    paper.fill(coid, "exec-1", side=Side.BUY, quantity=2, price="350.25", predicted=None,
               actual=None)
    paper.note(NoteKind.COMMISSION, execution_id="exec-1", client_order_id=coid,
               commission=Decimal("4.70"))
    paper.close()
    app = DashboardApp(Board(journal_path=paper.path, offload=run_inline), Guard(token=None))
    text = (await get(app, "/")).text
    assert "<td>ZO</td><td>2</td><td>350.25</td><td>-</td><td>-</td><td>0.00</td>" \
        "<td>4.70</td>" in text
    assert "daily_loss: 4.70 of 10,000.00" in text


async def test_the_fills_table_shows_each_fills_own_prediction_and_its_intents_estimate(
    tmp_path: Path,
) -> None:
    """Each fill shows its own prediction with the version that made it (its order's
    estimate, "order", for a fill journaled before fills had their own) and its intent's
    pre-trade estimate, each under a header that says which, with the note fill-report has."""
    paper = own_predictions_journal(tmp_path / "j.sqlite")
    app = DashboardApp(Board(journal_path=paper.path, offload=run_inline), Guard(token=None))
    table = _sections_of((await get(app, "/")).text)["fills"]
    assert "<th>predicted bps (fill&#x27;s own)</th><th>model</th>" \
        "<th>pre-trade bps (intent&#x27;s)</th><th>actual bps</th>" in table
    assert escape(FILL_PREDICTIONS) in table
    rows = re.findall(r"<td>(x\d)</td>.*?<td>400\.\d\d</td>((?:<td>[^<]*</td>){4})", table)
    assert [(execution, re.findall(r"<td>([^<]*)</td>", cells)) for execution, cells in rows] == [
        ("x3", ["+3.00", "order", "+3.00", "+6.25"]),  # newest first
        ("x2", ["+6.25", "v2", "+3.00", "+6.25"]),
        ("x1", ["+0.00", "v1", "+3.00", "+0.00"]),
    ]


def _sections_of(page: str) -> dict[str, str]:
    """Each section's inner HTML in a page, by its element id."""
    return dict(re.findall(r'<div id="(\w+)">(.*?)</div></section>', page, flags=re.S))


async def test_prices_show_the_ticks_decimals_and_never_fewer_than_they_have(
    tmp_path: Path,
) -> None:
    """A price IB reports as 350.0 shows as 350.00 (oats' tick is 0.25), and an average of
    350.125 keeps its third decimal."""
    paper = PaperJournal(tmp_path / "j.sqlite")
    coid = paper.order("ib", side=Side.BUY, quantity=2, limit="350.25")
    for execution, price in (("exec-1", "350.0"), ("exec-2", "350.25")):
        paper.fill(coid, execution, side=Side.BUY, quantity=1, price=price, predicted=None,
                   actual=None)
    paper.close()
    app = DashboardApp(Board(journal_path=paper.path, offload=run_inline), Guard(token=None))
    text = (await get(app, "/")).text
    assert "<td>1</td><td>350.00</td>" in text and "<td>350.0</td>" not in text  # the fill
    assert "<td>ZO</td><td>2</td><td>350.125</td>" in text  # the position's average


async def test_script_and_unknown_paths(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """The script is served as JavaScript; an unknown path is 404, a wrong method 405."""
    async with _running(tmp_path) as (_, app, _):
        script = await get(app, "/dashboard.js")
        assert script.headers["content-type"].startswith("text/javascript")
        assert "EventSource" in script.text
        assert (await get(app, "/nothing")).status == 404
        assert (await post(app, "/events")).status == 405


async def test_a_foreign_host_name_is_refused_on_loopback(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Served on loopback, a request naming another host (a rebound DNS name) is refused,
    reads too; loopback names are served, and any name when served for remote use."""
    async with _running(tmp_path) as (_, app, _):
        refused = await get(app, "/", headers={"host": "evil.example:8765"})
        assert refused.status == 421 and "evil.example" in refused.text
        for name in ("localhost:8765", "[::1]:8765", "127.0.0.1"):
            assert (await get(app, "/", headers={"host": name})).status == 200
        remote = DashboardApp(app.board, Guard(token=TOKEN, remote=True))
        served = await get(remote, "/", headers={"host": "hydra.example:8765"})
        assert served.status == 401  # not refused for its name: asked to sign in


async def test_only_the_latest_confirmations_stay_usable(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Asking for confirmation pages keeps only the latest nonces: the oldest is forgotten."""
    async with _running(tmp_path) as (engine, app, _):
        oldest = await _kill_form(app)
        for _ in range(MAX_NONCES):
            await _kill_form(app)
        refused = await post(app, "/kill", form=oldest)
        assert refused.status == 403 and "replayed" in refused.text
        assert engine.statistics().trading_state is TradingState.ACTIVE


async def test_beyond_loopback_reading_needs_the_token(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Served for remote use, every read needs the token's cookie, set once by signing in
    with the token; a wrong token or another origin is refused."""
    async with _running(tmp_path) as (_, app, _):
        remote = DashboardApp(app.board, Guard(token=TOKEN, remote=True))
        host = {"host": "hydra.example:8765"}
        for path in ("/", "/events", "/kill"):
            refused = await get(remote, path, headers=host)
            assert refused.status == 401 and 'action="sign-in"' in refused.text
        wrong = await post(remote, "/sign-in", form={"token": "guess"}, headers=host)
        assert wrong.status == 403 and "wrong or missing token" in wrong.text
        foreign = await post(remote, "/sign-in", form={"token": TOKEN},
                             headers={**host, "origin": "http://evil.example"})
        assert foreign.status == 403
        signed = await post(remote, "/sign-in", form={"token": TOKEN}, headers=host)
        assert signed.status == 303 and signed.headers["location"] == "./"
        cookie = signed.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        page = await get(remote, "/", headers={**host, "cookie": cookie.split(";")[0]})
        assert page.status == 200 and "live engine" in page.text
        forged = await get(remote, "/", headers={**host, "cookie": "hydra_dashboard=guess"})
        assert forged.status == 401
