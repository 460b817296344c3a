"""The dashboard's board follows the journal: one reader for every page, taking in only the new
events, whose picture is always what a fresh read of the whole journal shows."""

from __future__ import annotations

import datetime as dt
import itertools
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
import trio
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hydra import OATS, Distance, ExecutionSettings, HydraConfig, OrderIntent, Side
from hydra._enums import NoteKind, OrderStatus, TradingState
from hydra._errors import JournalFormatError
from hydra._fill_report import FillLines, fill_report
from hydra._gate import gate_check
from hydra._journal import Journal, JournaledOrder
from hydra._journal_actor import run_inline
from hydra._journal_records import JournalRecord, read_journal
from hydra.dashboard import Board
from hydra.dashboard._board import Followed
from hydra.dashboard._html import Drawn, sections
from hydra.dashboard._html import page as page_html
from hydra.dashboard._picture import JournalView, Live, Picture, picture
from hydra.sim import open_sim_exchange
from tests.paper_journal import T0, PaperJournal
from tests.simulated import open_engine, quiet_oats

CONFIG = HydraConfig(execution=ExecutionSettings(patience=20.0, slippage_guard=Distance.ticks(2)))
NOW = dt.datetime(2026, 3, 3, 9, 0, tzinfo=dt.UTC)


def _live_orders(path: Path) -> list[JournaledOrder]:
    journal = Journal.open_read_only(path)
    try:
        return journal.live_orders()
    finally:
        journal.close()


def _fresh(path: Path, *, live: Live | None, now: dt.datetime) -> Picture:
    """The page's content from a fresh read of the whole journal, as the board once drew it."""
    return picture(read_journal(path), _live_orders(path), live=live, now=now, config=CONFIG)


async def test_the_followed_picture_is_the_fresh_reads_at_every_second_of_a_session(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A board on a running engine: four buys placed over the first seconds (one larger than
    the book shows), their ladders stepping, filling and ending, a kill halfway. At each
    second for 90 s the board's picture (read only from the new events) is the picture of a
    fresh read of the whole journal: working orders, fills, intents, positions and PnL,
    breakers, gate and banner, and so are the sections drawn."""
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        async with open_engine(exchange, path, CONFIG) as engine:
            clock = lambda: exchange.timestamp(trio.current_time())  # noqa: E731
            board = Board(journal_path=path, engine=engine, config=CONFIG, offload=run_inline,
                          clock=clock)
            drawn = Drawn()
            start = trio.current_time()
            seen_fills = 0
            for second in range(90):
                if second < 4:
                    await engine.submit(OrderIntent(contract=OATS, side=Side.BUY,
                                                    quantity=(2, 1, 9, 3)[second],
                                                    intent_id=f"i{second}"))
                if second == 45:
                    await engine.kill("halfway")
                stats = engine.statistics()
                live = Live(session_up=stats.session_up, trading_state=stats.trading_state)
                now = clock().astimezone(board.time_zone)
                followed = await board.draw(lambda p: p)
                fresh = _fresh(path, live=live, now=now)
                assert followed == fresh, second
                assert sections(followed, actions=True, drawn=drawn) == sections(
                    fresh, actions=True)
                seen_fills = len(followed.report.fills)
                await trio.sleep_until(start + second + 1)
    board.close()
    assert seen_fills > 0 and followed.banner.trading_state is TradingState.HALTED
    assert followed.positions and any(i.filled for i in followed.report.intents)


async def test_pages_share_one_reader_and_what_it_judged(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A second draw with nothing new journaled reads no event and judges nothing again: the
    same report and gate (the very values), so a second page costs no second judgement."""
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        async with open_engine(exchange, path, CONFIG) as engine:
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=2,
                                                     intent_id="one"))
            await handle.wait_done()
            board = Board(journal_path=path, offload=run_inline, config=CONFIG)
            first = await board.draw(lambda p: p)
            seq = board.followed.follower.seq
            second = await board.draw(lambda p: p)
            assert board.followed.follower.taken == []  # nothing new: nothing read
            assert second.report is first.report and second.gate is first.gate
            assert board.followed.follower.seq == seq
            board.close()


def _varied_journal(path: Path) -> list[JournalRecord]:
    """A journal with what every part of the view follows: an engine start, intents and
    fills (one fill's intent journaled after it), IB's commissions after their fills, an
    intent ended short, the trading state, a link lost and back, the risk book's state, a
    stray fill, and an order still working."""
    paper = PaperJournal(path).start(account="DU*****67")
    paper.at(0).intent("a", side=Side.BUY, quantity=3, arrival_mid="400.00", predicted="2",
                       strategy="momo")
    a = paper.order("a", side=Side.BUY, quantity=3, limit="400.25")
    paper.fill(a, "e1", side=Side.BUY, quantity=1, price="400.00", predicted="1", actual="0")
    paper.note(NoteKind.COMMISSION, execution_id="e1", client_order_id=a,
               commission=Decimal("2.35"))
    paper.at(0.1).note(NoteKind.SESSION_DOWN, reason="gateway gone")
    paper.at(0.2).note(NoteKind.RECONNECTED, attempts=2)
    paper.fill(a, "e2", side=Side.BUY, quantity=1, price="400.25", predicted="5",
               actual="6.25")
    paper.status(a, OrderStatus.CANCELLED)
    paper.note(NoteKind.INTENT_FINISHED, intent_id="a", reason="cancelled")
    paper.note(NoteKind.COMMISSION, execution_id="e2", client_order_id=a,
               commission=Decimal("2.35"))
    paper.note(NoteKind.COMMISSION, execution_id="e2", client_order_id=a,
               commission=Decimal("1.10"))
    b = paper.order("b", side=Side.SELL, quantity=2, limit="399.75")
    paper.at(1).fill(b, "e3", side=Side.SELL, quantity=2, price="399.75", predicted="3",
                     actual="6.25")
    paper.status(b, OrderStatus.FILLED)
    paper.intent("b", side=Side.SELL, quantity=2, arrival_mid="400.00", predicted="3",
                 strategy="carry")
    paper.note(NoteKind.RISK_STATE, worst_trade_loss="12.50")
    paper.note(NoteKind.TRADING_STATE, state="REDUCING", reason="daily_loss")
    paper.at(2).fill("stray.1", "e4", side=Side.BUY, quantity=1, price="401.00",
                     predicted=None, actual=None)
    paper.intent("c", side=Side.BUY, quantity=1, arrival_mid="401.00", predicted="1")
    c = paper.order("c", side=Side.BUY, quantity=1, limit="400.75")
    paper.status(c, OrderStatus.WORKING)
    paper.close()
    return read_journal(path)


@pytest.fixture(scope="module")
def varied(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[JournalRecord],
                                                                list[JournaledOrder]]:
    path = tmp_path_factory.mktemp("varied") / "j.sqlite"
    return _varied_journal(path), _live_orders(path)


def _chunks(records: list[JournalRecord], cuts: list[int]) -> list[list[JournalRecord]]:
    bounds = [0, *sorted(min(c, len(records)) for c in cuts), len(records)]
    return [records[a:b] for a, b in itertools.pairwise(bounds)]


@given(cuts=st.lists(st.integers(min_value=0, max_value=40), max_size=8))
@example(cuts=[])
@example(cuts=list(range(40)))  # one record at a time
def test_a_view_taken_in_any_steps_is_the_view_of_the_whole_journal(
    varied: tuple[list[JournalRecord], list[JournaledOrder]], cuts: list[int]
) -> None:
    """However the journal's records come in (all at once, one at a time, in any chunks), the
    view after the last is the picture of the whole journal, and the fill lines' report is
    the fill report, for every selection by time and strategy."""
    records, live_orders = varied
    view, lines = JournalView(config=CONFIG), FillLines()
    for chunk in _chunks(records, cuts):
        view.take(chunk)
        lines.take(chunk)
    live = Live(session_up=True, trading_state=TradingState.ACTIVE)
    assert view.picture(live_orders, live=live, now=NOW) == picture(
        records, live_orders, live=live, now=NOW, config=CONFIG)
    for since, strategy in ((None, None), (T0 + dt.timedelta(days=0.5), None), (None, "momo")):
        assert lines.report(settings=CONFIG.slippage, since=since, strategy=strategy) == (
            fill_report(records, settings=CONFIG.slippage, since=since, strategy=strategy))


def test_the_varied_journal_shows_what_each_part_follows(
    varied: tuple[list[JournalRecord], list[JournaledOrder]],
) -> None:
    """The journal above exercises every fold: the fill before its intent has its strategy,
    the commissions reported later count (each note in the position, the latest in the
    intent's cost), the intent ended short says why, and the banner has the link's history."""
    records, live_orders = varied
    shown = picture(records, live_orders, live=None, now=NOW, config=CONFIG)
    (early,) = [f for f in shown.report.fills if f.fill.execution_id == "e3"]
    assert early.strategy == "carry"
    intents = {i.intent_id: i for i in shown.report.intents}
    assert intents["a"].ended == "cancelled" and intents["a"].commission_usd == Decimal("3.45")
    held = {p.contract.symbol: p for p in shown.positions}
    assert held["ZO"].commission == Decimal("5.80")
    banner = shown.banner
    assert (banner.account, banner.reconnects, banner.session_up) == ("DU*****67", 1, True)
    assert (banner.trading_state, banner.reason) == (TradingState.REDUCING, "daily_loss")
    assert [b.value for b in shown.breakers if b.name == "single_trade_loss"] == [
        Decimal("12.50")]
    assert [o.intent_id for o in shown.working] == ["c"]
    # Every record is in the one paper session: the gate judges calibration from the view's
    # own report, and says what it says from the journal alone.
    assert shown.gate == tuple(gate_check(records, settings=CONFIG.slippage))
    assert [c.passed for c in shown.gate if c.name == "slippage_calibrated"] == [False]


def test_a_record_that_changes_no_fill_line_keeps_the_report_and_its_drawn_sections(
    tmp_path: Path,
) -> None:
    """After a status or a ladder step (no intent, fill, commission or end), the view's fill
    report is the one it had, so a page draws its fills and slippage sections (the verdicts
    and charts over every fill) from what it drew before; after a fill, a new report, the
    whole journal's. Each push made the report and those sections again."""
    paper = PaperJournal(tmp_path / "j.sqlite").start()
    paper.intent("int-a", side=Side.BUY, quantity=2, arrival_mid="400.00", predicted="1")
    order = paper.order("int-a", side=Side.BUY, quantity=2, limit="400.00")
    paper.fill(order, "e1", side=Side.BUY, quantity=1, price="400.00", predicted="1",
               actual="0")
    paper.status(order, OrderStatus.WORKING)
    paper.note(NoteKind.LADDER_STAGE, client_order_id=order, intent_id="int-a",
               stages=[["STEPPED", "2026-03-03T09:01:00+00:00"]])
    paper.fill(order, "e2", side=Side.BUY, quantity=1, price="400.25", predicted="1",
               actual="6.25")
    paper.close()
    records = read_journal(paper.path)
    view, drawn = JournalView(config=CONFIG), Drawn()
    view.take(records[:4])
    first = view.picture([], live=None, now=NOW)
    before = sections(first, actions=False, drawn=drawn)
    view.take(records[4:6])  # the status and the ladder step
    quiet = view.picture([], live=None, now=NOW)
    assert quiet.report is first.report
    again = sections(quiet, actions=False, drawn=drawn)
    assert again["slippage"] is before["slippage"] and again["fills"] is before["fills"]
    view.take(records[6:])  # the second fill
    filled = view.picture([], live=None, now=NOW)
    assert filled.report is not first.report
    assert filled.report == fill_report(records, settings=CONFIG.slippage)


def test_a_journal_gone_from_its_path_is_said_and_no_order_shown_working(
    tmp_path: Path,
) -> None:
    """The journal moved away from under the page: the banner says it cannot be read and the
    working orders are unknown, not the last read's shown as working (the fills as last
    read); moved back, the page is the journal's again."""
    path = tmp_path / "j.sqlite"
    paper = PaperJournal(path).start().working("n0", "n1")
    paper.fill("n0.1", "x1", side=Side.BUY, quantity=1, price="349.75", predicted=None,
               actual=None)
    paper.close()
    followed = Followed.of(str(path), CONFIG)
    try:
        assert [o.intent_id for o in followed.picture(live=None, now=NOW).working] == [
            "n0", "n1"]
        path.rename(tmp_path / "away.sqlite")
        gone = followed.picture(live=None, now=NOW)
        (tmp_path / "away.sqlite").rename(path)
        back = followed.picture(live=None, now=NOW)
    finally:
        followed.close()
    assert gone.banner.problem == f"journal unreadable: {path}: no such file"
    assert gone.working == () and len(gone.report.fills) == 1
    shown = sections(gone, actions=False)
    assert f"journal unreadable: {path}: no such file" in shown["banner"]
    assert "Working orders unknown: the journal cannot be read." in shown["working"]
    assert back == _fresh(path, live=None, now=NOW) and back.banner.problem is None


async def test_the_page_of_a_journal_not_at_its_path_is_drawn(tmp_path: Path) -> None:
    """A board whose journal is not at its path (moved aside, not made anew yet) draws the
    page saying so, where its draw failed (and the page's request with it)."""
    path = tmp_path / "j.sqlite"
    board = Board(journal_path=path, offload=run_inline, config=CONFIG)
    try:
        page = await board.draw(lambda p: page_html(p, actions=False, script="dashboard.js"))
    finally:
        board.close()
    assert f"journal unreadable: {path}: no such file" in page


class _Path:
    """The file at a journal's path and what is done to it: journaled to, moved aside and made
    anew, another copied over it, put back as it was before its last write, moved away,
    emptied."""

    def __init__(self, directory: Path) -> None:
        self.directory, self.path = directory, directory / "j.sqlite"
        self.names = itertools.count()
        self.before_write: bytes | None = None  # the file before the last write to it

    def readable(self) -> bool:
        try:
            read_journal(self.path)
        except JournalFormatError:
            return False
        return True

    def write(self, fills: int) -> None:
        """A new working order; with ``fills``, that many orders filled and ended first."""
        if not self.readable():
            self.path.unlink(missing_ok=True)
        self.before_write = self.path.read_bytes() if self.path.exists() else None
        paper = PaperJournal(self.path, new_journal=True)
        for order in _live_orders(self.path)[:fills]:
            client_order_id = order.request.client_order_id
            paper.fill(client_order_id, f"x-{client_order_id}", side=Side.BUY, quantity=2,
                       price="349.75", predicted=None, actual=None)
            paper.status(client_order_id, OrderStatus.FILLED)
        paper.working(f"n{next(self.names)}")
        paper.close()

    def replace(self) -> None:
        if self.path.exists():
            self.path.rename(self.directory / f"aside-{next(self.names)}.sqlite")
        PaperJournal(self.path, new_journal=True).start().working(f"n{next(self.names)}").close()
        self.before_write = None

    def copy_over(self) -> None:
        other = self.directory / f"other-{next(self.names)}.sqlite"
        PaperJournal(other).start().working(*(f"n{next(self.names)}" for _ in range(3))).close()
        self.path.write_bytes(other.read_bytes())
        self.before_write = None

    def put_back(self) -> None:
        if self.before_write is not None:
            self.path.write_bytes(self.before_write)
            self.before_write = None

    def move_away(self) -> None:
        if self.path.exists():
            self.path.rename(self.directory / f"away-{next(self.names)}.sqlite")

    def empty(self) -> None:
        if self.path.exists():
            self.path.write_bytes(b"")


STEPS = st.one_of(st.tuples(st.just("write"), st.integers(min_value=0, max_value=2)),
                  st.tuples(st.sampled_from(["replace", "copy_over", "put_back", "move_away",
                                             "empty"])))


@settings(max_examples=20, deadline=None)
@given(steps=st.lists(STEPS, max_size=10))
@example(steps=[("write", 0), ("write", 1), ("put_back",), ("write", 0), ("write", 0)])
@example(steps=[("write", 0), ("move_away",), ("replace",), ("copy_over",), ("empty",),
                ("write", 0)])
def test_the_followed_picture_is_the_fresh_reads_whatever_is_done_to_the_path(
    steps: list[tuple[str] | tuple[str, int]],
) -> None:
    """Whatever is done to the journal's file between two draws (events journaled, the
    journal moved aside and made anew, another copied over it, put back as it was before its
    last events, moved away, emptied), the followed picture is the fresh read's of the
    journal at the path, nothing of the journal before mixed in; with no journal there, the
    page says so and shows no order working."""
    with tempfile.TemporaryDirectory() as directory:
        at = _Path(Path(directory))
        followed = Followed.of(str(at.path), CONFIG)
        try:
            for step in [("write", 0), *steps]:
                getattr(at, step[0])(*step[1:])
                shown = followed.picture(live=None, now=NOW)
                if at.readable():
                    assert shown == _fresh(at.path, live=None, now=NOW), step
                else:
                    assert shown.banner.problem is not None and shown.working == (), step
        finally:
            followed.close()
