"""Serving the dashboard over HTTP, inside the caller's Trio run.

The server is Hypercorn's Trio worker (`hypercorn.trio.serve`): a well-kept ASGI server that
runs on Trio itself, so the page needs no asyncio loop beside Trio, and it is started like any
other task of the program (``nursery.start`` hands back the address it listens on).
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import attrs
import trio
from hypercorn.config import Config
from hypercorn.trio import serve

from .._engine import Engine
from .._journal import utc_now
from .._journal_actor import Offload, run_in_thread
from .._settings import HydraConfig
from ..brokers import MarketView
from ._app import DashboardApp
from ._board import Board
from ._guard import Guard, check_bind, is_loopback

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


@attrs.frozen(kw_only=True)
class RunningDashboard:
    """What `open_dashboard` yields: where the page is, and the app behind it."""

    url: str
    app: DashboardApp


def _config(host: str, port: int) -> Config:
    config = Config()
    config.bind = [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]
    config.accesslog = None
    return config


async def serve_dashboard(
    app: DashboardApp, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
    allow_remote: bool = False,
    task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``app`` until cancelled; reports the page's URL once it listens."""
    check_bind(host, token=app.guard.token, allow_remote=allow_remote)
    async with trio.open_nursery() as nursery:
        binds = await nursery.start(serve, app, _config(host, port))
        task_status.started(binds[0] + "/")


def app_for(board: Board, *, host: str, token: str | None) -> DashboardApp:
    return DashboardApp(board, Guard(token=token, remote=not is_loopback(host)))


@asynccontextmanager
async def open_dashboard(
    engine: Engine,
    *,
    journal_path: str | os.PathLike[str] | None = None,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    token: str | None = None,
    allow_remote: bool = False,
    config: HydraConfig | None = None,
    market: MarketView | None = None,
    clock: Callable[[], dt.datetime] = utc_now,
    offload: Offload = run_in_thread,
) -> AsyncIterator[RunningDashboard]:
    """Serve the live dashboard of ``engine`` while the block runs. Pass the ``config`` and
    ``journal_path`` given to `open_hydra` (the journal defaults to the config's, as there).
    Pass the broker too as ``market`` for bid and ask beside each working order and each
    position's mark and unrealized PnL. Read-only unless a ``token`` is given; then the page
    can pull the kill switch and cancel one intent. ``port`` 0 picks a free one (see the
    yielded ``url``)."""
    check_bind(host, token=token, allow_remote=allow_remote)  # refused before anything starts
    config = config or HydraConfig()
    board = Board(journal_path=journal_path or config.journal.path, engine=engine,
                  config=config, market=market, clock=clock, offload=offload)
    app = app_for(board, host=host, token=token)
    try:
        async with trio.open_nursery() as nursery:
            url = await nursery.start(functools.partial(
                serve_dashboard, app, host=host, port=port, allow_remote=allow_remote))
            yield RunningDashboard(url=url, app=app)
            nursery.cancel_scope.cancel(reason="dashboard closed")
    finally:
        board.close()


async def serve_journal_dashboard(
    journal_path: str | os.PathLike[str],
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    config: HydraConfig | None = None,
    task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve the page read-only from the journal at ``journal_path`` (no engine running: after
    the close, or another machine's copy) until cancelled; reports the URL once it listens.
    Only on a loopback address: with no actions there is nothing a token could guard."""
    config = config or HydraConfig()
    board = Board(journal_path=journal_path, config=config)
    try:
        await serve_dashboard(app_for(board, host=host, token=None), host=host, port=port,
                              task_status=task_status)
    finally:
        board.close()
