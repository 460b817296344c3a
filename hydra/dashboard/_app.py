"""The dashboard as a plain ASGI application (HTTP and lifespan scopes), Trio-flavoured.

Routes, all relative to where the app is mounted:

- ``GET /`` the page; ``GET /dashboard.js`` its one script;
- ``GET /events`` server-sent events: every section at once, then the sections again after
  each engine event (several events waiting are drawn once, and pushes are at least
  `PUSH_GAP` apart); no timer, no polling;
- ``GET /kill``, ``GET /cancel?intent=ID`` the confirmation step of an action, which hands out
  a one-use nonce; ``POST /kill``, ``POST /cancel`` the action itself, judged by the `Guard`;
- ``POST /sign-in`` the token, once, for the cookie that reading needs beyond loopback.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from importlib.resources import files
from typing import Any
from urllib.parse import parse_qsl

import trio

from .._errors import InvalidValueError
from .._ids import IntentId
from . import _html
from ._board import Board
from ._guard import Guard, Request, host_allowed

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

PUSH_GAP = 0.5
"""Seconds a page's stream leaves between the end of one push and the next: an event after a
quiet spell is drawn at once, a burst (fifty ladders stepping) once per gap. A draw takes in
only the new events (`hydra.dashboard._board.Followed`), but judges the report and the gate
again over all of them, so without a gap a busy engine would keep a core drawing; with it a
page still has each event within a second."""
MAX_BODY = 4096  # an action's form is a few fields; anything larger is refused
SCRIPT = files(__package__).joinpath("dashboard.js").read_text(encoding="utf-8")
HTML = "text/html; charset=utf-8"


async def _respond(send: Send, status: int, body: str, *, content_type: str = HTML,
                   headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", content_type.encode()), (b"cache-control", b"no-store"),
        (b"x-frame-options", b"DENY"), *headers]})
    await send({"type": "http.response.body", "body": body.encode()})


async def _form(receive: Receive) -> dict[str, str] | None:
    """The url-encoded body of a POST, or None when it is too large."""
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
        if len(body) > MAX_BODY:
            return None
    return dict(parse_qsl(body.decode("utf-8", "replace")))


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def event_lines(sections: dict[str, str]) -> bytes:
    """One server-sent event carrying ``sections`` (each section's HTML by element id)."""
    return f"event: sections\ndata: {json.dumps(sections)}\n\n".encode()


class DashboardApp:
    """The ASGI app over ``board``; actions are guarded by ``guard``."""

    def __init__(self, board: Board, guard: Guard) -> None:
        self.board = board
        self.guard = guard
        self.drawn = _html.Drawn()  # shared by every page's stream

    @property
    def actions(self) -> bool:
        return self.board.engine is not None and not self.guard.read_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return  # no websocket here: the page uses server-sent events
        headers = _headers(scope)
        host = headers.get("host", "")
        if not host_allowed(host, remote=self.guard.remote):
            await _respond(send, 421, _html.message("Refused", f"not served as {host!r}"))
            return
        route = (scope["method"], scope["path"])
        if route == ("POST", "/sign-in"):
            await self._sign_in(headers, receive, send)
            return
        if not self.guard.admits(headers):
            await _respond(send, 401, _html.sign_in())
            return
        match route:
            case ("GET" | "HEAD", "/"):
                actions = self.actions
                await _respond(send, 200, await self.board.draw(
                    lambda p: _html.page(p, actions=actions, script="dashboard.js")))
            case ("GET", "/dashboard.js"):
                await _respond(send, 200, SCRIPT, content_type="text/javascript; charset=utf-8")
            case ("GET", "/events"):
                await self._stream(receive, send)
            case ("GET", "/kill" | "/cancel"):
                await self._confirm(scope, send)
            case ("POST", "/kill" | "/cancel"):
                await self._act(scope, receive, send)
            case (_, "/" | "/dashboard.js" | "/events" | "/kill" | "/cancel"):
                await _respond(send, 405, _html.message("Method not allowed", scope["method"]))
            case _:
                await _respond(send, 404, _html.message("Not found", scope["path"]))

    async def _sign_in(self, headers: dict[str, str], receive: Receive, send: Send) -> None:
        form = await _form(receive)
        refusal = "request body too large" if form is None else self.guard.sign_in(
            Request(headers=headers, form=form, host=headers.get("host", "")))
        if refusal is not None:
            await _respond(send, 403, _html.message("Refused", refusal))
            return
        await send({"type": "http.response.start", "status": 303, "headers": [
            (b"location", b"./"), (b"set-cookie", self.guard.cookie().encode()),
            (b"cache-control", b"no-store")]})
        await send({"type": "http.response.body", "body": b""})

    async def _sections(self) -> dict[str, str]:
        actions = self.actions
        return await self.board.draw(
            lambda p: _html.sections(p, actions=actions, drawn=self.drawn))

    async def _stream(self, receive: Receive, send: Send) -> None:
        events = self.board.subscribe()  # before the first picture: no event falls between
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"text/event-stream"), (b"cache-control", b"no-store")]})
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_until_disconnect, receive, nursery.cancel_scope)
            await send({"type": "http.response.body", "body": event_lines(
                await self._sections()), "more_body": True})
            if events is None:
                await trio.sleep_forever()  # a journal alone never changes under the page
            pushed = trio.current_time()
            async with events:
                async for _ in events:
                    await trio.sleep_until(pushed + PUSH_GAP)
                    while True:  # draw once for every event already waiting
                        try:
                            events.receive_nowait()
                        except (trio.WouldBlock, trio.EndOfChannel):  # (ends the loop next)
                            break
                    await send({"type": "http.response.body", "body": event_lines(
                        await self._sections()), "more_body": True})
                    pushed = trio.current_time()
            await send({"type": "http.response.body", "body": b""})  # the engine stopped
            nursery.cancel_scope.cancel(reason="event stream ended")

    async def _confirm(self, scope: Scope, send: Send) -> None:
        if not self.actions:
            await _respond(send, 403, _html.message("Refused", "the dashboard is read-only"))
            return
        query = dict(parse_qsl(scope.get("query_string", b"").decode("utf-8", "replace")))
        fields = {"nonce": self.guard.nonce()}
        if scope["path"] == "/kill":
            what = "kill switch: halt trading and cancel every working entry order"
            fields["reason"] = "kill switch from the dashboard"
        else:
            what = f"cancel intent {query.get('intent', '')}"
            fields["intent"] = query.get("intent", "")
        await _respond(send, 200, _html.confirmation(what=what, action=scope["path"][1:],
                                                     fields=fields))

    async def _act(self, scope: Scope, receive: Receive, send: Send) -> None:
        form = await _form(receive)
        if form is None:
            await _respond(send, 413, _html.message("Refused", "request body too large"))
            return
        headers = _headers(scope)
        refusal = "the dashboard is read-only (no engine)" if self.board.engine is None else (
            self.guard.judge(Request(headers=headers, form=form, host=headers.get("host", ""))))
        if refusal is not None:
            await _respond(send, 403, _html.message("Refused", refusal))
            return
        if scope["path"] == "/kill":
            await self.board.kill(form.get("reason") or "kill switch from the dashboard")
            await _respond(send, 200, _html.message("Kill switch pulled", "trading is halted"))
            return
        try:
            await self.board.cancel(IntentId(form.get("intent", "")))
        except InvalidValueError as e:
            await _respond(send, 404, _html.message("Refused", str(e)))
            return
        await _respond(send, 200, _html.message("Cancel asked", f"intent {form['intent']}"))


async def _until_disconnect(receive: Receive, scope: trio.CancelScope) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    scope.cancel(reason="the page went away")


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
