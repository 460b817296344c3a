"""The dashboard's cost: CPU with the engine idle, and serving 50 working orders and 1,000 fills.

1. **Idle CPU.** Hydra with no intent on the simulated oats market as the simulator models it
   by default, on the real clock, for ``--seconds`` each: alone, then with the dashboard served
   and one page connected to its event stream over a real socket. The process's CPU time over
   wall time, each; the goal is under 1 percentage point more with the dashboard.
2. **Load.** A journal with 50 working orders and 1,000 fills (250 intents of 4 fills each),
   built through `Journal` itself. Times, over ``--runs``, each run after one more filled
   intent is journaled: a pushed update drawn by a fresh board that reads the whole journal
   (the baseline: every push before the board followed the journal), by the followed board
   taking in the new events, and by it again with nothing new (a second page's push); the
   whole page; and a whole ``GET /`` over HTTP from `serve_journal_dashboard`, with the
   page's size.
3. **Busy.** The same 1,000 fills under a running engine that then works 50 intents at once
   (their ladders step, fill, end: a burst of engine events), on the real clock for
   ``--seconds``: the process's CPU share without a page, then (same seed, a fresh copy of
   the journal) with one page on the event stream, with the events published and the pushes
   the page got; the page once with pushes at least `PUSH_GAP` apart (`hydra.dashboard._app`)
   and once, as the baseline, with every event drawn (a gap of 0).

Run: ``.venv/bin/python bench/dashboard.py`` (``--seconds S``, ``--runs N``, ``--quick``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import attrs
import trio
from _common import header, mean_interval, percentile

from hydra import ExecutionSettings, HydraConfig, RiskLimits
from hydra._contracts import OATS
from hydra._enums import NoteKind, OrderStatus, Side
from hydra._ids import BrokerOrderId, ClientOrderId, ExecutionId, IntentId
from hydra._journal import Journal
from hydra._journal_actor import run_inline
from hydra._open_hydra import open_hydra
from hydra._orders import Fill, OrderIntent, OrderRequest
from hydra.dashboard import Board, _app, open_dashboard, serve_journal_dashboard
from hydra.dashboard._html import Drawn, page, sections
from hydra.dashboard._picture import Picture
from hydra.sim import SimBroker, SimParams, open_sim_exchange

T0 = dt.datetime(2026, 11, 2, 14, 30, tzinfo=dt.UTC)
TICK = Decimal("0.25")
IDLE = SimParams()  # the simulator's default oats market; no order of ours


async def _fetch(url: str, path: str) -> bytes:
    host, port = url.removeprefix("http://").rstrip("/").rsplit(":", 1)
    async with await trio.open_tcp_stream(host, int(port)) as stream:
        await stream.send_all(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                              "Connection: close\r\n\r\n".encode())
        received = b""
        while chunk := await stream.receive_some():
            received += chunk
    return received


async def _read_stream(url: str, connected: trio.Event) -> None:
    """A page's event stream: connected once the first sections came; then it only listens."""
    host, port = url.removeprefix("http://").rstrip("/").rsplit(":", 1)
    async with await trio.open_tcp_stream(host, int(port)) as stream:
        await stream.send_all(f"GET /events HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        while b"event: sections" not in await stream.receive_some():
            pass
        connected.set()
        while await stream.receive_some():
            pass


async def _cpu_share(seconds: float) -> float:
    """Process CPU seconds per wall second over ``seconds`` of sleeping, in percent."""
    cpu, wall = time.process_time(), time.perf_counter()
    await trio.sleep(seconds)
    return 100 * (time.process_time() - cpu) / (time.perf_counter() - wall)


async def idle_cpu(seconds: float, journal: Path) -> tuple[float, float]:
    """CPU percent of an idle engine alone, then with the dashboard and one connected page."""
    async with open_sim_exchange(IDLE, seed=1) as exchange:
        async with open_hydra(HydraConfig(), SimBroker(exchange, client_id=1),
                              journal_path=journal) as engine:
            await trio.sleep(1)  # past the start-up
            alone = await _cpu_share(seconds)
            async with open_dashboard(engine, journal_path=journal, port=0) as dashboard:
                connected = trio.Event()
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(_read_stream, dashboard.url, connected)
                    await connected.wait()
                    served = await _cpu_share(seconds)
                    nursery.cancel_scope.cancel(reason="measured")
    return alone, served


async def _count_pushes(url: str, pushes: list[float]) -> None:
    """A page's event stream over a real socket; the time of each push it gets."""
    host, port = url.removeprefix("http://").rstrip("/").rsplit(":", 1)
    async with await trio.open_tcp_stream(host, int(port)) as stream:
        await stream.send_all(f"GET /events HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        while chunk := await stream.receive_some():
            pushes.extend([time.perf_counter()] * chunk.count(b"event: sections"))


async def _count_events(events: trio.MemoryReceiveChannel[object], seen: list[object]) -> None:
    async for event in events:
        seen.append(event)


async def busy_cpu(seconds: float, journal: Path, *, page: bool) -> tuple[float, int, int]:
    """CPU percent while 50 intents are worked over ``journal``'s 1,000 fills, with or without
    a page on the stream; and the engine events published and the pushes the page got."""
    config = HydraConfig(execution=ExecutionSettings(patience=5.0), risk=RiskLimits(
        max_open_orders=100, max_position=100, max_orders_per_minute=1000))
    seen: list[object] = []
    pushes: list[float] = []
    async with open_sim_exchange(IDLE, seed=1) as exchange:
        async with open_hydra(config, SimBroker(exchange, client_id=1),
                              journal_path=journal) as engine:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(_count_events, engine.subscribe(), seen)
                async with open_dashboard(engine, journal_path=journal, port=0,
                                          config=config) as dashboard:
                    if page:
                        nursery.start_soon(_count_pushes, dashboard.url, pushes)
                    await trio.sleep(1)  # the page's first sections
                    for n in range(50):
                        await engine.submit(OrderIntent(
                            contract=OATS, side=Side.BUY if n % 2 else Side.SELL, quantity=1))
                    share = await _cpu_share(seconds)
                    nursery.cancel_scope.cancel(reason="measured")
    return share, len(seen), max(0, len(pushes) - 1)  # the first push is the page's load


def build_journal(path: Path, *, intents: int = 250, fills_each: int = 4,
                  working: int = 50) -> None:
    """A paper session (its ``engine_started``, so the gate counts every event, as on a paper
    run's journal) of ``intents`` filled intents of ``fills_each`` fills, and ``working``
    resting orders."""
    journal = Journal.open(path, clock=lambda: T0)
    journal.record_note(NoteKind.ENGINE_STARTED, broker="IBBroker", venue="paper",
                        dry_run=False)
    execution = 0
    for n in range(intents + working):
        side = Side.BUY if n % 2 else Side.SELL
        intent_id = IntentId(f"int-{n}")
        mid = Decimal(350) + TICK * (n % 40 - 20)
        journal.record_intent(OrderIntent(contract=OATS, side=side, quantity=fills_each,
                                          intent_id=intent_id),
                              arrival_mid=mid, predicted_bps=Decimal("1.5"))
        coid = ClientOrderId(f"int-{n}.1")
        journal.record_order(OrderRequest(client_order_id=coid, intent_id=intent_id,
                                          contract=OATS, side=side, quantity=fills_each,
                                          limit_price=mid))
        journal.record_ack(coid, BrokerOrderId(str(n)))
        journal.record_status(coid, OrderStatus.WORKING)
        if n >= intents:
            continue
        for k in range(fills_each):
            execution += 1
            price = mid + TICK * side.sign * (k % 3)
            journal.record_fill(
                Fill(execution_id=ExecutionId(f"e{execution}"), client_order_id=coid,
                     symbol=OATS.symbol, side=side, price=price, quantity=1,
                     time=T0 + dt.timedelta(minutes=execution)),
                intent_id=intent_id, predicted_bps=Decimal("1.5"),
                actual_bps=(price - mid) * side.sign / mid * 10_000)
        journal.record_status(coid, OrderStatus.FILLED)
    journal.close()


def add_fill(path: Path, n: int) -> None:
    """One more filled intent (its intent, order, ack, fill and status: five events), as a
    push after a fill finds the journal."""
    journal = Journal.open(path, clock=lambda: T0)
    intent_id, coid = IntentId(f"more-{n}"), ClientOrderId(f"more-{n}.1")
    mid = Decimal(350)
    journal.record_intent(OrderIntent(contract=OATS, side=Side.BUY, quantity=1,
                                      intent_id=intent_id),
                          arrival_mid=mid, predicted_bps=Decimal("1.5"))
    journal.record_order(OrderRequest(client_order_id=coid, intent_id=intent_id, contract=OATS,
                                      side=Side.BUY, quantity=1, limit_price=mid))
    journal.record_ack(coid, BrokerOrderId(10_000 + n))
    journal.record_fill(Fill(execution_id=ExecutionId(f"more-{n}"), client_order_id=coid,
                             symbol=OATS.symbol, side=Side.BUY, price=mid, quantity=1,
                             time=T0 + dt.timedelta(days=1, minutes=n)),
                        intent_id=intent_id, predicted_bps=Decimal("1.5"),
                        actual_bps=Decimal(0))
    journal.record_status(coid, OrderStatus.FILLED)
    journal.close()


def add_step(path: Path, n: int) -> None:
    """A working order's ladder stepping (its ``ladder_stage`` note and a status: two events
    that change no fill line), as a push during a burst of ladders finds the journal."""
    journal = Journal.open(path, clock=lambda: T0)
    coid = ClientOrderId(f"int-{250 + n % 50}.1")
    journal.record_note(NoteKind.LADDER_STAGE, client_order_id=coid, intent_id=coid[:-2],
                        stages=[["STEPPED", (T0 + dt.timedelta(minutes=n)).isoformat()]])
    journal.record_status(coid, OrderStatus.WORKING)
    journal.close()


async def _drawn(board: Board, draw: Callable[[Picture], object]) -> float:
    start = time.perf_counter()
    await board.draw(draw)
    return time.perf_counter() - start


@attrs.frozen
class RenderTimes:
    whole: list[float]  # a fresh board, reading the whole journal (the baseline)
    new: list[float]  # the followed board, taking in one more fill's events
    nothing_new: list[float]  # the followed board again (a second page after the same event)
    step: list[float]  # the followed board, taking in a ladder step (no fill)
    page: list[float]  # the whole page, followed
    size: int  # the page's bytes


async def render_times(journal: Path, runs: int) -> RenderTimes:
    """Seconds to draw one pushed update, paired in each run after one more fill: a fresh
    board reading the whole journal (the baseline: every push before the board followed the
    journal), the followed board taking in the new events, and the followed board again with
    nothing new (a second page's push after the same event); the whole page; then after a
    ladder step (no fill); its size."""
    fresh_push = functools.partial(sections, actions=True)
    push = functools.partial(sections, actions=True, drawn=Drawn())  # as the app draws
    whole_page = functools.partial(page, actions=True, script="dashboard.js")
    followed = Board(journal_path=journal, engine=None, offload=run_inline)
    await followed.draw(push)  # its first read: the whole journal, once
    times = RenderTimes([], [], [], [], [], 0)
    for n in range(runs):
        add_fill(journal, n)
        fresh = Board(journal_path=journal, engine=None, offload=run_inline)
        times.whole.append(await _drawn(fresh, fresh_push))
        fresh.close()
        times.new.append(await _drawn(followed, push))
        times.nothing_new.append(await _drawn(followed, push))
        times.page.append(await _drawn(followed, whole_page))
        add_step(journal, n)
        times.step.append(await _drawn(followed, push))
    size = len(await followed.draw(whole_page))
    followed.close()
    return attrs.evolve(times, size=size)


async def http_times(journal: Path, runs: int) -> list[float]:
    """Seconds for a whole ``GET /`` over a real socket."""
    times = []
    async with trio.open_nursery() as nursery:
        url = await nursery.start(lambda task_status=trio.TASK_STATUS_IGNORED:
                                  serve_journal_dashboard(journal, port=0,
                                                          task_status=task_status))
        for _ in range(runs):
            start = time.perf_counter()
            response = await _fetch(url, "/")
            times.append(time.perf_counter() - start)
            assert response.startswith(b"HTTP/1.1 200"), response[:100]
        nursery.cancel_scope.cancel(reason="measured")
    return times


def _line(name: str, seconds: list[float]) -> str:
    mean, half = mean_interval(seconds)
    return (f"{name:<28} mean {mean * 1000:7.1f} ms ± {half * 1000:.1f}, "
            f"p95 {percentile(seconds, 95) * 1000:7.1f} ms ({len(seconds)} runs)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="5 s idle, 5 runs")
    args = parser.parse_args()
    seconds, runs = (5.0, 5) if args.quick else (args.seconds, args.runs)
    header("dashboard: CPU when idle, 50 working orders and 1,000 fills")
    with tempfile.TemporaryDirectory() as folder:
        alone, served = await idle_cpu(seconds, Path(folder) / "idle.sqlite")
        print(f"idle engine alone:           {alone:.2f}% CPU over {seconds:g} s")
        print(f"idle engine + dashboard:     {served:.2f}% CPU (one page on the event stream)")
        print(f"dashboard's share:           {served - alone:+.2f} percentage points (goal < 1)")
        journal = Path(folder) / "load.sqlite"
        build_journal(journal)
        times = await render_times(journal, runs)
        print(_line("push, whole journal read", times.whole) + " (the baseline)")
        print(_line("push, followed: one fill new", times.new))
        print(_line("push, followed: nothing new", times.nothing_new))
        print(_line("push, followed: ladder step", times.step))
        ratio, half = mean_interval([w / f for w, f in zip(times.whole, times.new, strict=True)])
        print(f"{'whole / followed (paired)':<28} {ratio:.2f} ± {half:.2f}")
        print(_line("whole page, followed", times.page) + f", {times.size / 1024:.0f} KiB")
        print(_line("GET / over HTTP", await http_times(journal, runs)))
        gap = _app.PUSH_GAP
        for page, push_gap in ((False, gap), (True, 0.0), (True, gap)):
            _app.PUSH_GAP = push_gap  # 0: every event drawn, as before the gap
            busy = Path(folder) / f"busy-{page}-{push_gap}.sqlite"
            build_journal(busy, working=0)
            share, events, pushes = await busy_cpu(seconds, busy, page=page)
            who = f"one page, gap {push_gap:g} s" if page else "no page"
            print(f"50 intents worked, {who:<18} {share:5.1f}% CPU over {seconds:g} s, "
                  f"{events} engine events, {pushes} pushes")
        _app.PUSH_GAP = gap


if __name__ == "__main__":
    trio.run(main)
