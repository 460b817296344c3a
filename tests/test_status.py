"""The status of ``hydra run``: the region redrawn each second from the engine, the journal
and the broker, on the simulated exchange and virtual time."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import re
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import attrs
import pyte
import pytest
import trio

from hydra import OATS, Distance, ExecutionSettings, HydraConfig, OrderIntent, Side
from hydra._enums import OrderStatus
from hydra._errors import JournalFormatError
from hydra._journal import Journal, JournaledOrder
from hydra._journal_actor import run_inline
from hydra._journal_records import read_journal
from hydra._screen import StatusScreen
from hydra._status import JournalFollower, StatusRegion, run_status
from hydra._working_view import working_orders
from hydra.sim import Gap, SimBroker, open_sim_exchange
from tests.paper_journal import T0, PaperJournal
from tests.simulated import open_engine, quiet_oats
from tests.terminal import hydra_run_on_a_pty, read_all

CONFIG = HydraConfig(execution=ExecutionSettings(patience=60.0, slippage_guard=Distance.ticks(2)))
REDRAW = re.compile("\r(?:\x1b\\[\\d+A)?\x1b\\[J")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True

    def region(self) -> list[str]:
        """The region as last drawn (what follows the last erase)."""
        return re.split(REDRAW, self.getvalue())[-1].split("\n")


async def test_the_region_shows_each_working_order_with_its_ladder_and_the_market(
    autojump_clock: trio.testing.MockClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A resting order gets its line: intent, side, contract, filled of quantity, limit
    against the broker's bid and ask (ours is the bid), stage and the seconds to its next
    step, counted down each second and moved on when the ladder steps; once its ladder ends,
    its line is gone."""
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("LINES", "24")
    journal, terminal = tmp_path / "j.sqlite", Terminal()
    config = attrs.evolve(CONFIG, journal=attrs.evolve(CONFIG.journal, path=str(journal)))
    async with open_sim_exchange(quiet_oats(spread_ticks=8), seed=1) as exchange:
        async with open_engine(exchange, journal, CONFIG) as engine:
            market = SimBroker(exchange)
            await market.connect()
            await market.subscribe_quotes(OATS.for_month("202505"))  # the front on 2025-03-03
            async with trio.open_nursery() as nursery:
                start = trio.current_time()
                await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=3,
                                                intent_id="resting"))
                region = StatusRegion(engine, config, "SIM",
                                      lambda: exchange.timestamp(trio.current_time()),
                                      market=market, offload=run_inline)
                nursery.start_soon(functools.partial(run_status, region,
                                                     screen=StatusScreen(terminal)))
                await trio.sleep_until(start + 1.5)
                first = terminal.region()
                await trio.sleep_until(start + 61.5)
                stepped = terminal.region()
                await trio.sleep_until(start + 200.5)
                done = terminal.region()
                nursery.cancel_scope.cancel(reason="test over")
    assert first == [
        "hydra: SIM DU*****67 | connected | risk ACTIVE | 08:30:01 CST",
        "  working 1 | done 0 (blocked 0) | fills 0 (0 lots)",
        "  resting BUY ZO 0/3 @ 349.25 bid 349.25 ask 351.00 RESTING next in 59s"]
    assert stepped[2] == "  resting BUY ZO 0/3 @ 349.50 bid 349.50 ask 351.00 STEPPED next in 29s"
    assert done == [
        "hydra: SIM DU*****67 | connected | risk ACTIVE | 08:33:20 CST",
        "  working 0 | done 1 (blocked 0) | fills 0 (0 lots)"]  # the guard kept it off the ask


async def test_a_chased_ladder_shows_its_last_stage_and_the_ladders_end(
    autojump_clock: trio.testing.MockClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mid jumps 7 ticks against a resting buy at 20.5 s: the ladder goes to its last
    stage at once, at the guard, keeping its end at 105 s. At 30 s the region says CROSSING
    and the 75 s left until the ladder ends (it said RESTING, 30 s to the step, before)."""
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("LINES", "24")
    journal, terminal = tmp_path / "j.sqlite", Terminal()
    chased = attrs.evolve(CONFIG, execution=attrs.evolve(CONFIG.execution,
                                                         slippage_guard=Distance.ticks(8)))
    config = attrs.evolve(chased, journal=attrs.evolve(chased.journal, path=str(journal)))
    params = quiet_oats(spread_ticks=8, gaps=(Gap(at=20.5, change=Decimal("1.75")),))
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_engine(exchange, journal, chased) as engine:
            region = StatusRegion(engine, config, "SIM",
                                  lambda: exchange.timestamp(trio.current_time()),
                                  offload=run_inline)
            await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=3,
                                            intent_id="chased"))
            await trio.sleep_until(exchange.origin + 30.0)
            await region.draw(StatusScreen(terminal))
    assert terminal.region()[2] == "  chased BUY ZO 0/3 @ 352.00 bid - ask - CROSSING ends in 1m15s"


async def test_a_journal_it_cannot_read_is_said_and_the_region_goes_on(
    autojump_clock: trio.testing.MockClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The journal's file renamed under a running region (the engine writes on through its
    open file): the region says it cannot read it, keeps the orders of its last read, and
    reads on once the file is back."""
    monkeypatch.setenv("COLUMNS", "300")
    monkeypatch.setenv("LINES", "24")
    journal, terminal = tmp_path / "j.sqlite", Terminal()
    config = attrs.evolve(CONFIG, journal=attrs.evolve(CONFIG.journal, path=str(journal)))
    async with open_sim_exchange(quiet_oats(spread_ticks=8), seed=1) as exchange:
        async with open_engine(exchange, journal, CONFIG) as engine:
            region = StatusRegion(engine, config, "SIM",
                                  lambda: exchange.timestamp(trio.current_time()),
                                  offload=run_inline)
            await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=3,
                                            intent_id="resting"))
            await trio.sleep(1)
            await region.draw(StatusScreen(terminal))
            journal.rename(tmp_path / "away.sqlite")
            await trio.sleep(61)  # the ladder steps meanwhile, to 349.50
            await region.draw(StatusScreen(terminal))
            away = terminal.region()
            (tmp_path / "away.sqlite").rename(journal)
            await region.draw(StatusScreen(terminal))
            back = terminal.region()
    assert away[2] == f"  journal unreadable: {journal}: no such file"
    assert away[3] == "  resting BUY ZO 0/3 @ 349.25 bid - ask - STEPPED next in 28s"  # as read
    assert back[2] == "  resting BUY ZO 0/3 @ 349.50 bid - ask - STEPPED next in 28s"


async def test_following_the_journal_sees_what_reading_it_whole_sees(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """At each second of two ladders, from their first order to their end, the follower's
    working orders (only the new events read; the orders asked again only after some) are
    the ones the dashboard's view reads from the whole journal."""
    journal = tmp_path / "j.sqlite"
    async with open_sim_exchange(quiet_oats(spread_ticks=8), seed=1) as exchange:
        async with open_engine(exchange, journal, CONFIG) as engine:
            follower = JournalFollower(str(journal))
            for name, side in (("buyer", Side.BUY), ("seller", Side.SELL)):
                await engine.submit(OrderIntent(contract=OATS, side=side, quantity=2,
                                                intent_id=name))
            seen = set()
            for _ in range(200):
                now = exchange.timestamp(trio.current_time())
                followed = tuple(follower.ladders.working(o, now, CONFIG)
                                 for o in follower.read())
                assert followed == working_orders(read_journal(journal), _live(journal),
                                                  now=now, config=CONFIG)
                seen |= {(o.intent_id, o.stage) for o in followed}
                await trio.sleep(1)
    assert seen == {(name, stage) for name in ("buyer", "seller")
                    for stage in ("RESTING", "STEPPED", "CROSSING")}


def test_working_orders_the_journal_could_not_give_are_asked_for_again(tmp_path: Path) -> None:
    """A working-orders query that failed (on an event SQLite cannot parse: NaN, which
    Python's json reads) fails again at the next read, rather than answering with the orders
    of the read before it as if nothing had changed."""
    db = sqlite3.connect(":memory:")
    try:
        db.execute("SELECT json_extract('{\"a\": NaN}', '$.a')")
        pytest.skip(f"SQLite {sqlite3.sqlite_version} reads NaN (JSON5)")
    except sqlite3.OperationalError:
        pass
    paper = PaperJournal(tmp_path / "j.sqlite").start()
    paper.intent("one", side=Side.BUY, quantity=1, arrival_mid="350.00", predicted=None)
    order = paper.order("one", side=Side.BUY, quantity=1, limit="349.75")
    paper.status(order, OrderStatus.WORKING)
    paper.close()
    follower = JournalFollower(str(paper.path))
    assert [o.request.intent_id for o in follower.read()] == ["one"]
    with contextlib.closing(sqlite3.connect(paper.path)) as db, db:
        db.execute("INSERT INTO events (recorded_at, kind, client_order_id, payload) "
                   "VALUES (?, 'status', ?, ?)", (T0.isoformat(), order, '{"status": NaN}'))
    for _ in range(2):
        with pytest.raises(JournalFormatError, match=r"cannot be read \(malformed JSON\)"):
            follower.read()


def test_the_follower_keeps_its_reader_and_answers_as_a_new_one_would(tmp_path: Path) -> None:
    """The region's follower keeps one reader of the journal Hydra is writing (asked again,
    it reads only the new events): after each batch of new orders, fills and ends, and after
    it lets go of the journal, its working orders are those a new reader finds."""
    paper = PaperJournal(tmp_path / "j.sqlite").start()
    follower = JournalFollower(str(paper.path))
    try:
        for k in range(4):
            name = f"n{k}"
            paper.intent(name, side=Side.BUY, quantity=2, arrival_mid="350.00", predicted=None)
            order = paper.order(name, side=Side.BUY, quantity=2, limit="349.75")
            paper.status(order, OrderStatus.WORKING)
            if k % 2:  # every other order ends: filled, one lot at a time
                for lot in range(2):
                    paper.fill(order, f"{name}.x{lot}", side=Side.BUY, quantity=1,
                               price="349.75", predicted=None, actual=None)
                paper.status(order, OrderStatus.FILLED)
            live = [o.request.intent_id for o in follower.read()]
            assert live == [o.request.intent_id for o in _live(paper.path)]
            if k == 2:
                follower.close()
        assert live == ["n0", "n2"]
    finally:
        follower.close()
        paper.close()


def _intents(orders: list[JournaledOrder]) -> list[str]:
    return [o.request.intent_id for o in orders]


def test_a_journal_moved_aside_and_made_anew_is_followed_from_its_start(tmp_path: Path) -> None:
    """The journal moved aside: a read says there is no journal at the path (and keeps what it
    read, for when it is back); a new journal made there (``hydra run --new-journal``) is read
    from its first event by a fresh reader: its orders and its account, none of the old's."""
    path = tmp_path / "j.sqlite"
    PaperJournal(path).start(account="DU*****11").working("n0", "n1", "n2", "n3").close()
    follower = JournalFollower(str(path))
    try:
        assert _intents(follower.read()) == ["n0", "n1", "n2", "n3"]
        path.rename(tmp_path / "aside.sqlite")
        with pytest.raises(JournalFormatError, match="no such file"):
            follower.read()
        assert (_intents(follower.live), follower.started_over) == (["n0", "n1", "n2", "n3"],
                                                                   False)
        PaperJournal(path, new_journal=True).start(account="DU*****22").working("b0").close()
        assert _intents(follower.read()) == ["b0"]
        assert follower.started_over and follower.taken == read_journal(path)
        assert (follower.account, follower.seq) == ("DU*****22", read_journal(path)[-1].seq)
        assert follower.read() == follower.live and not follower.started_over
    finally:
        follower.close()


def test_another_journal_copied_over_the_file_is_followed_from_its_start(
    tmp_path: Path,
) -> None:
    """Another journal, with more events, copied over the followed one in place (the same
    file, its inode kept): the follower reads it from its first event, and none of the old
    journal's orders are left, rather than reading the other's events after the old's last."""
    path, other = tmp_path / "j.sqlite", tmp_path / "other.sqlite"
    PaperJournal(path).start().working("n0", "n1").close()
    PaperJournal(other).start().working("b0", "b1", "b2").close()
    follower = JournalFollower(str(path))
    try:
        assert _intents(follower.read()) == ["n0", "n1"]
        inode = path.stat().st_ino
        path.write_bytes(other.read_bytes())
        assert path.stat().st_ino == inode
        assert _intents(follower.read()) == ["b0", "b1", "b2"]
        assert follower.started_over and follower.taken == read_journal(other)
    finally:
        follower.close()


def test_a_journal_that_lost_its_last_events_is_read_again_from_its_start(
    tmp_path: Path,
) -> None:
    """The same journal (its id) back as it was two orders ago (a ``-wal`` lost, a copy put
    back), and then two other orders journaled under the event numbers the lost ones had:
    the follower reads it again from its start, and shows what it holds now."""
    path = tmp_path / "j.sqlite"
    PaperJournal(path).start().working("n0").close()
    earlier = path.read_bytes()
    PaperJournal(path).working("n1", "n2").close()
    follower = JournalFollower(str(path))
    try:
        assert _intents(follower.read()) == ["n0", "n1", "n2"]
        path.write_bytes(earlier)
        PaperJournal(path).working("m1", "m2").close()
        assert read_journal(path)[-1].seq == follower.seq  # the lost events' numbers
        assert _intents(follower.read()) == ["n0", "m1", "m2"]
        assert follower.started_over and follower.taken == read_journal(path)
        assert follower.read() == follower.live and not follower.started_over
    finally:
        follower.close()


@pytest.mark.parametrize("damage", ["emptied", "overwritten"])
def test_a_journal_damaged_under_the_follower_is_said_then_followed_anew(
    tmp_path: Path, damage: str
) -> None:
    """The journal's file emptied in place (truncated to nothing) or its head overwritten:
    a read is a `JournalFormatError` naming the file, again at each read; a journal made
    anew in that file is read from its first event."""
    path = tmp_path / "j.sqlite"
    PaperJournal(path).start().working("n0", "n1").close()
    follower = JournalFollower(str(path))
    try:
        assert _intents(follower.read()) == ["n0", "n1"]
        with path.open("r+b") as file:
            if damage == "emptied":
                file.truncate(0)
            else:
                file.write(b"not a journal, nor SQLite: " * 8)
        for _ in range(2):
            with pytest.raises(JournalFormatError, match=f"^{re.escape(str(path))}: "):
                follower.read()
        path.write_bytes(b"")
        PaperJournal(path, new_journal=True).start().working("b0").close()
        assert _intents(follower.read()) == ["b0"]
        assert follower.taken == read_journal(path)
    finally:
        follower.close()


@pytest.mark.parametrize("where", ["missing", "under a file", "too long"])
def test_a_path_with_no_journal_to_follow_is_one_line_naming_it(
    tmp_path: Path, where: str
) -> None:
    """A path with nothing at it, under a file rather than a directory, or too long for the
    system: a read is a `JournalFormatError` naming the path, not an `OSError`."""
    (tmp_path / "file").write_text("")
    path = {"missing": tmp_path / "j.sqlite", "under a file": tmp_path / "file" / "j.sqlite",
            "too long": tmp_path / ("j" * 300)}[where]
    follower = JournalFollower(str(path))
    with pytest.raises(JournalFormatError, match=f"^{re.escape(str(path))}: "):
        follower.read()


def _live(journal: Path) -> list[JournaledOrder]:
    reader = Journal.open_read_only(journal)
    try:
        return reader.live_orders()
    finally:
        reader.close()


# --- a real `hydra run --sim` on a pseudo-terminal, read through a terminal emulator (pyte) ----

COLUMNS, LINES = 80, 24
INTENTS = ("alpha", "bravo", "charlie")
REGION_ROW = re.compile(r"^hydra: |^  working \d+ \| done |^  (alpha|bravo|charlie) ")
"""A row of the status region: its head (or the drain's line), its counts, an order."""


def test_hydra_run_on_a_terminal_keeps_log_lines_above_the_region(tmp_path: Path) -> None:
    """hydra run --sim on an 80 x 24 pseudo-terminal, three orders resting: the region at the
    bottom of the screen has its head, its counts and one line per order, none wrapped;
    every row above it, and every row scrolled off the top, is a log line (no region row was
    ever left behind or mixed with one); after Ctrl-C the drain's countdown heads the region,
    the orders still below it, and after the run no region is left on the terminal."""
    journal, inbox = tmp_path / "journal.sqlite", tmp_path / "inbox.jsonl"
    config = tmp_path / "hydra.toml"
    config.write_text(f'[execution]\npatience = 600.0\n[shutdown]\ndrain_timeout = 3.0\n'
                      f'[journal]\npath = "{journal}"\n[runner]\ninbox = "{inbox}"\n')
    inbox.write_text("".join(json.dumps({"symbol": "ZO", "side": "BUY", "quantity": 1,
                                         "policy": "passive", "intent_id": name}) + "\n"
                             for name in INTENTS))
    with _on_a_terminal(config, journal) as output:
        deadline = time.monotonic() + 60
        while len(_orders_shown(output)) < len(INTENTS) and time.monotonic() < deadline:
            time.sleep(0.2)
        above, live = _region_of(b"".join(output))
    assert live[0].startswith("hydra: SIM DU*****67 | connected | risk ACTIVE | ")
    assert live[1].startswith("  working 3 | done 0 (blocked 0) | fills 0")
    assert sorted(row.split()[0] for row in live[2:]) == sorted(INTENTS)
    shown = [re.fullmatch(r"  [a-z]+ +BUY ZO 0/1 @ (\d+\.\d\d) bid (\d+\.\d\d) ask (\d+\.\d\d) "
                          r"PASSIVE ends in \d+m\d\ds", row) for row in live[2:]]
    # Each rests at the bid or below it: the market runs on the real clock, and its crowd
    # may join or step ahead of a resting order (ours is then no longer the bid).
    assert all(m is not None and Decimal(m[1]) <= Decimal(m[2]) < Decimal(m[3]) for m in shown)
    assert all(len(row) <= COLUMNS - 1 for row in live)
    assert not [row for row in above if REGION_ROW.search(row)]
    draining = _regions_while_draining(output)
    assert draining[0][0] == "hydra: DRAINING 3 working | 3 s left | SIGINT again cancels now"
    # A chunk may end mid-draw (a row cleared, not yet written): some region shows them all.
    assert any(sorted(row.split()[0] for row in region[2:] if row) == sorted(INTENTS)
               for region in draining)
    gone, screen = _emulated(b"".join(output))  # after the run
    assert not [row for row in gone + screen if REGION_ROW.search(row)]
    assert any("runner_stopped" in row for row in gone + screen)


class _Output(list[bytes]):
    """What the child wrote to its terminal so far, chunk by chunk."""


@contextlib.contextmanager
def _on_a_terminal(config: Path, journal: Path) -> Iterator[_Output]:
    """``hydra run --sim`` on a pseudo-terminal; Ctrl-C when the block ends (exit 0)."""
    process, leader = hydra_run_on_a_pty(config, journal, lines=LINES, columns=COLUMNS)
    output = _Output()
    reader = threading.Thread(target=read_all, args=(leader, output))
    reader.start()
    try:
        yield output
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
    finally:
        process.kill()
        process.wait(timeout=10)
        reader.join(timeout=10)
        os.close(leader)


def _emulated(data: bytes) -> tuple[list[str], list[str]]:
    """The terminal's rows after ``data`` (right-trimmed): those scrolled off the top, and
    the screen's; the screen's last row is the cursor's."""
    screen = pyte.HistoryScreen(COLUMNS, LINES, history=100_000)
    pyte.ByteStream(screen).feed(data)
    gone = ["".join(line[x].data for x in range(COLUMNS)).rstrip() for line in screen.history.top]
    display = [row.rstrip() for row in screen.display]
    assert not any(display[screen.cursor.y + 1:])  # nothing below the cursor
    return gone, display[:screen.cursor.y + 1]


def _region_of(data: bytes) -> tuple[list[str], list[str]]:
    """Every row above the region, and the region: from its head down to the cursor."""
    gone, screen = _emulated(data)
    (head,) = [n for n, row in enumerate(screen) if row.startswith("hydra: ")]
    return gone + screen[:head], screen[head:]


def _regions_while_draining(output: _Output) -> list[list[str]]:
    """The region after each chunk of ``output`` that shows the drain's countdown."""
    screen = pyte.Screen(COLUMNS, LINES)
    stream, regions = pyte.ByteStream(screen), []
    for chunk in output:
        stream.feed(chunk)
        rows = [row.rstrip() for row in screen.display[:screen.cursor.y + 1]]
        heads = [n for n, row in enumerate(rows) if row.startswith("hydra: DRAINING")]
        regions += [rows[heads[0]:]] if heads else []
    return regions


def _orders_shown(output: _Output) -> list[str]:
    _, screen = _emulated(b"".join(output))
    return [row for row in screen if re.match(r"^  (alpha|bravo|charlie) ", row)]
