"""A small in-process ASGI client for the dashboard tests: requests go straight to the app,
no socket, so they run on the virtual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

import attrs
import trio

from hydra.dashboard import DashboardApp

HOST = "127.0.0.1:8765"


@attrs.frozen(kw_only=True)
class Response:
    status: int
    headers: Mapping[str, str]
    text: str


def _scope(method: str, path: str, query: str, headers: Mapping[str, str]) -> dict[str, Any]:
    every = {"host": HOST, **headers}
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": method, "path": path, "query_string": query.encode(),
            "headers": [(k.lower().encode(), v.encode()) for k, v in every.items()]}


async def request(app: DashboardApp, method: str, path: str, *, query: str = "",
                  form: Mapping[str, str] | None = None,
                  headers: Mapping[str, str] | None = None) -> Response:
    """One whole request and its whole response."""
    body = urlencode(form or {}).encode()
    sent = [{"type": "http.request", "body": body, "more_body": False}]
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if sent:
            return sent.pop()
        await trio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    await app(_scope(method, path, query, headers or {}), receive, send)
    start = messages[0]
    return Response(
        status=start["status"],
        headers={k.decode(): v.decode() for k, v in start["headers"]},
        text=b"".join(m.get("body", b"") for m in messages[1:]).decode(),
    )


async def get(app: DashboardApp, path: str, **kwargs: Any) -> Response:
    return await request(app, "GET", path, **kwargs)


async def post(app: DashboardApp, path: str, **kwargs: Any) -> Response:
    return await request(app, "POST", path, **kwargs)


@asynccontextmanager
async def open_stream(app: DashboardApp, path: str = "/events"
                      ) -> AsyncIterator[trio.MemoryReceiveChannel[tuple[float, bytes]]]:
    """Open ``path`` and yield its body chunks as they come; the page goes away on exit."""
    gone = trio.Event()
    chunk_send, chunk_receive = trio.open_memory_channel[tuple[float, bytes]](100)
    first = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if first:
            return first.pop()
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            chunk_send.send_nowait((trio.current_time(), message.get("body", b"")))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(app, _scope("GET", path, "", {}), receive, send)
        yield chunk_receive
        gone.set()
