"""The live dashboard: a web page served from Hydra's own Trio process.

It reads the engine's events (`Engine.subscribe`), its statistics and its journal — never a
copy — and shows working orders, fills with their slippage, positions and breakers, the fill
report's slippage picture and the live-capital gate. With a token it can also pull the kill
switch and cancel one intent. `open_dashboard` serves it beside a running engine;
`serve_journal_dashboard` serves it read-only from a journal alone.

Modules, lowest first (each imports only from those above it in this list):
  _session   whether a contract's market is open, on a break or closed (pure)
  _picture   what the page shows, built from journal records (pure)
  _svg       the slippage charts as SVG (pure)
  _html      the page and its sections as HTML (pure)
  _guard     the token, the origin check, one-use confirmations; loopback binding
  _board     the journal and the engine behind the page; the two actions
  _app       the ASGI application: routes, server-sent events
  _serve     Hypercorn's Trio worker serving the app: open_dashboard, serve_journal_dashboard
"""

from ._app import DashboardApp
from ._board import Board
from ._guard import TOKEN_ENV, Guard, RemoteBindRefusedError, new_token, token_from
from ._serve import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    RunningDashboard,
    open_dashboard,
    serve_dashboard,
    serve_journal_dashboard,
)

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "TOKEN_ENV",
    "Board",
    "DashboardApp",
    "Guard",
    "RemoteBindRefusedError",
    "RunningDashboard",
    "new_token",
    "open_dashboard",
    "serve_dashboard",
    "serve_journal_dashboard",
    "token_from",
]
