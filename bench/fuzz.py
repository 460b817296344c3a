"""Fuzz the simulated gateway's wire protocol, the configuration loader and the scenario loader.

(a) Gateway: random and malformed input over real sockets on 127.0.0.1 at `serve_gateway`
    (in a thread of this process, on the real clock): random bytes, truncated and oversized
    length prefixes, a bad version range, a valid handshake followed by frames of garbage
    fields, a valid handshake and startApi followed by garbage bytes, and valid-looking requests
    (every message id the gateway parses, and others) with wrong field counts and garbage
    values. After each input the client closes its side and reads until the gateway closes the
    connection; then a fresh plain-socket client (no ib_async) does the handshake and startApi
    and must get managedAccounts and nextValidId. A failure is: the gateway thread died, the
    health check failed, the fuzzed connection was not closed within 5 s of the client's end of
    input, or the gateway logged ``gateway_connection_failed`` (a non-protocol exception caught
    at the connection boundary: a bug that only the boundary contained).
(b) Configuration: mutated and random tables (`config_from_table`) and TOML text (`load_config`
    on a file): each input loads or raises `ConfigError` whose message starts with the field it
    names; anything else is a failure.
(c) Scenarios: the same for `scenario_from_table` and `load_scenario` (text in a file), with
    `ScenarioError`; the bases are the example and benchmark scenarios.

Hypothesis drives every target with no deadline, ``--examples`` examples each (default 2000),
no example database; failures are collected (not raised) and printed with their input.

Run: ``.venv/bin/python bench/fuzz.py [--examples N] [--only gateway,config,scenario]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import socket
import struct
import sys
import tempfile
import threading
import time
import tomllib
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import structlog
import trio
from _common import header
from hypothesis import HealthCheck, given, settings

from hydra import HydraConfig
from hydra._config import config_from_table, config_to_dict, load_config
from hydra._errors import ConfigError
from hydra.gateway import MAX_FRAME_BYTES, serve_gateway
from hydra.scenario import ScenarioError, load_scenario, scenario_from_table
from hydra.sim import open_sim_exchange

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 5.0

# --- findings ----------------------------------------------------------------------------------


class Tally:
    """Per target: inputs tried, accepted, refused, and failures (input and what went wrong)."""

    def __init__(self) -> None:
        self.tried: Counter[str] = Counter()
        self.accepted: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self.failures: dict[str, list[tuple[str, str]]] = {}
        self.kinds: Counter[tuple[str, str]] = Counter()  # distinct failure signatures
        self.strict = False  # raise on a failure (the shrinking pass)
        self.minimal: dict[str, str] = {}  # target: Hypothesis' shrunk failing example

    def fail(self, target: str, given: Any, what: str, signature: str) -> None:
        if self.strict:
            raise AssertionError(what)
        self.kinds[target, signature] += 1
        if self.kinds[target, signature] == 1:  # keep the first input of each signature
            self.failures.setdefault(target, []).append((_short(given), what))

    def report(self) -> int:
        print(f"{'target':<34}{'tried':>8}{'accepted':>10}{'refused':>10}{'failures':>10}")
        for target in self.tried:
            failures = sum(n for (t, _), n in self.kinds.items() if t == target)
            print(f"{target:<34}{self.tried[target]:>8}{self.accepted[target]:>10}"
                  f"{self.refused[target]:>10}{failures:>10}")
        for target, items in self.failures.items():
            print(f"\nFAILURES in {target} (first input of each distinct signature):")
            for shown, what in items:
                print(f"  input: {shown}\n  {what}\n")
            if target in self.minimal:
                print(f"  shrunk by Hypothesis:\n{self.minimal[target]}\n")
        return 1 if self.failures else 0

    def shrink(self, target: str, test: Callable[[], None]) -> None:
        """Run ``test`` again, raising on the first failure, to keep Hypothesis' minimal
        failing example for ``target`` (counts are not changed)."""
        if target not in self.failures:
            return
        counts = self.tried.copy(), self.accepted.copy(), self.refused.copy()
        self.strict = True
        try:
            test()
        except AssertionError as e:
            notes = "\n".join(getattr(e, "__notes__", []))
            self.minimal[target] = f"    {notes}\n    -> {e}".replace("\n", "\n    ")
        finally:
            self.strict = False
            self.tried, self.accepted, self.refused = counts


def _short(value: Any, limit: int = 400) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} chars)"


def _traceback_summary(e: BaseException) -> tuple[str, str]:
    """(readable summary, signature): the exception and its innermost Hydra frames."""
    frames = [f for f in traceback.extract_tb(e.__traceback__) if "/hydra/" in f.filename]
    where = " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in frames[::-1][:4])
    summary = f"{type(e).__name__}: {str(e)[:300]}\n    at {where or '(outside hydra)'}"
    last = frames[-1] if frames else None
    signature = f"{type(e).__name__} {last.filename}:{last.lineno}" if last else type(e).__name__
    return summary, signature


# --- (a) the gateway ---------------------------------------------------------------------------


class GatewayThread:
    """`serve_gateway` on the default simulated exchange, in a thread, on the real clock; its
    warning and error log events are kept in ``events``."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._ready = threading.Event()
        self._token: trio.lowlevel.TrioToken | None = None
        self._scope: trio.CancelScope | None = None
        self.port = 0
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="gateway", daemon=True)

    def _keep(self, _: Any, method: str, event: dict[str, Any]) -> Any:
        if method in ("warning", "error", "critical", "exception"):
            self.events.append(event)
        raise structlog.DropEvent

    def start(self) -> None:
        structlog.configure(processors=[self._keep], cache_logger_on_first_use=False)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError(f"the gateway did not start: {self.error!r}")

    def _main(self) -> None:
        try:
            trio.run(self._serve)
        except BaseException as e:  # reported as a finding by alive()
            self.error = e

    async def _serve(self) -> None:
        self._token = trio.lowlevel.current_trio_token()
        async with open_sim_exchange(seed=1) as exchange, trio.open_nursery() as nursery:
            self._scope = nursery.cancel_scope
            gateway = await nursery.start(serve_gateway, exchange)
            self.port = gateway.port
            self._ready.set()

    def alive(self) -> bool:
        return self._thread.is_alive() and self.error is None

    def stop(self) -> None:
        if self._token is not None and self._scope is not None and self.alive():
            trio.from_thread.run_sync(self._scope.cancel, trio_token=self._token)
        self._thread.join(10)


def frame(payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + payload


def fields_frame(fields: list[str]) -> bytes:
    return frame(b"".join(f.encode("utf-8", "surrogatepass") + b"\0" for f in fields))


HELLO = b"API\0" + frame(b"v157..178")


def start_api(client_id: int) -> bytes:
    return fields_frame(["71", "2", str(client_id), ""])


_client_ids = itertools.count(1000)


def exchange_bytes(port: int, data: bytes) -> bool:
    """Send ``data``, end our side, read until the gateway closes; False if it did not."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            return True  # the gateway closed first (it refused what it had read): fine
        deadline = time.monotonic() + TIMEOUT
        try:
            while time.monotonic() < deadline:
                if not sock.recv(65536):
                    return True
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False
    return False


def read_frames(sock: socket.socket, want: set[str]) -> set[str]:
    """Message ids of the frames read until all of ``want`` were seen (or the socket ends)."""
    seen: set[str] = set()
    buffer = b""
    while not want <= seen:
        data = sock.recv(65536)
        if not data:
            break
        buffer += data
        while len(buffer) >= 4:
            (length,) = struct.unpack_from(">I", buffer)
            if len(buffer) < 4 + length:
                break
            payload, buffer = buffer[4:4 + length], buffer[4 + length:]
            seen.add(payload.split(b"\0", 1)[0].decode(errors="replace"))
    return seen


def healthy(port: int) -> str | None:
    """None when a fresh client gets the hello, managedAccounts (15) and nextValidId (9)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
            sock.sendall(HELLO)
            hello = read_frames(sock, {"157"})
            if "157" not in hello:
                return f"no server hello (got {hello})"
            sock.sendall(start_api(next(_client_ids)))
            seen = read_frames(sock, {"15", "9"})
            if not {"15", "9"} <= seen:
                return f"no managedAccounts/nextValidId after startApi (got {sorted(seen)})"
    except OSError as e:
        return f"health check failed: {e!r}"
    return None


PLAUSIBLE = ["", "0", "1", "2", "-1", "157", "ZO", "HE", "FUT", "CBOT", "CME", "USD", "BUY",
             "SELL", "LMT", "MKT", "STP LMT", "DAY", "GTC", "350.25", "350.1", "85.025", "202605",
             "20250314", "DU1234567", "1.7976931348623157e+308", "NaN", "inf", "-0", "1e309",
             "9" * 40, "-" + "9" * 25, "0x10", " 1", "1 ", "１２", "\u00e9", "\ud800"]
field_text = st.one_of(
    st.sampled_from(PLAUSIBLE), st.text(max_size=12),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.from_regex(r"-?\d{1,12}(\.\d{1,6})?([eE][+-]?\d{1,4})?", fullmatch=True),
)
MESSAGE_IDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 49, 58, 59, 61, 62, 63, 64, 71, 76, 77, 92,
               93, 99]
message_id = st.one_of(st.sampled_from(MESSAGE_IDS).map(str), field_text)
fields = st.lists(field_text, max_size=90)


@st.composite
def _random_bytes(draw: st.DrawFn) -> bytes:
    data = draw(st.binary(max_size=300))
    return (b"API\0" + data) if draw(st.booleans()) else data


@st.composite
def _bad_length(draw: st.DrawFn) -> bytes:
    length = draw(st.one_of(st.integers(0, 64), st.integers(MAX_FRAME_BYTES - 2,
                                                            MAX_FRAME_BYTES + 2),
                            st.integers(0, 2**32 - 1)))
    body = draw(st.binary(max_size=200))
    prefix = draw(st.sampled_from([b"API\0", HELLO]))
    return prefix + struct.pack(">I", length) + body


@st.composite
def _handshake_garbage_fields(draw: st.DrawFn) -> bytes:
    version = draw(st.one_of(st.just(b"v157..178"), st.binary(max_size=20),
                             st.from_regex(rb"v\d{1,5}(\.\.\d{1,5})?( .{0,8})?", fullmatch=True)))
    frames = draw(st.lists(fields, min_size=1, max_size=3))
    return b"API\0" + frame(version) + b"".join(fields_frame(f) for f in frames)


@st.composite
def _handshake_then_garbage(draw: st.DrawFn) -> bytes:
    return HELLO + start_api(next(_client_ids)) + draw(st.binary(min_size=1, max_size=300))


@st.composite
def _wrong_field_counts(draw: st.DrawFn) -> bytes:
    requests = draw(st.lists(st.tuples(message_id, fields), min_size=1, max_size=4))
    body = b"".join(fields_frame([mid, *rest]) for mid, rest in requests)
    return HELLO + start_api(next(_client_ids)) + body


CONTRACT = ["0", "ZO", "FUT", "", "", "", "", "CBOT", "", "USD", "", ""]
TEMPLATES = [  # requests as ib_async sends them at server version 157 (a few tail fields)
    ["9", "8", "1", *CONTRACT],  # reqContractDetails
    ["1", "11", "2", *CONTRACT, "0", "", "0", "0", ""],  # reqMktData
    ["3", "1", *CONTRACT, "", "", "BUY", "1", "LMT", "350.25", "", "DAY", "", "", "O", "0",
     "ref", "1", "0", "0", "0", "", "", ""],  # placeOrder
    ["3", "2", *CONTRACT, "", "", "SELL", "2", "STP LMT", "349.00", "349.25", "GTC", "oca",
     "DU1234567", "O", "0", "ref", "1", "0"],  # placeOrder, stop limit
    ["4", "1", "1"], ["8", "1", "1"], ["7", "3", "1", "0", "", "", "", "", "", ""],
    ["61", "1"], ["64", "1"], ["6", "2", "1", "DU1234567"], ["62", "1", "3", "All", "NetLiq"],
    ["63", "1", "3"], ["92", "4", "DU1234567", ""], ["93", "4"], ["99", "0"], ["58", "1"],
    ["5", "1"], ["16", "1"], ["15", "1", "1"], ["2", "2", "2"], ["59", "1", "3"], ["49", "1"],
    ["17", "1"], ["76", "1", "5", "DU1234567", ""], ["77", "1", "5"],
]


@st.composite
def _mutated_request(draw: st.DrawFn) -> list[str]:
    request = list(draw(st.sampled_from(TEMPLATES)))
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(["replace", "replace", "delete", "insert", "truncate"]))
        at = draw(st.integers(1, max(1, len(request) - 1)))
        if op == "replace" and at < len(request):
            request[at] = draw(field_text)
        elif op == "delete" and at < len(request):
            del request[at]
        elif op == "insert":
            request.insert(at, draw(field_text))
        else:
            del request[at:]
    return request


@st.composite
def _valid_requests_mutated(draw: st.DrawFn) -> bytes:
    requests = draw(st.lists(_mutated_request(), min_size=1, max_size=5))
    return HELLO + start_api(next(_client_ids)) + b"".join(fields_frame(r) for r in requests)


GATEWAY_KINDS: dict[str, st.SearchStrategy[bytes]] = {
    "random-bytes": _random_bytes(),
    "bad-length-prefix": _bad_length(),
    "handshake+garbage-frames": _handshake_garbage_fields(),
    "startApi+garbage-bytes": _handshake_then_garbage(),
    "requests-wrong-fields": _wrong_field_counts(),
    "valid-requests-mutated": _valid_requests_mutated(),
}


def fuzz_gateway(tally: Tally, examples: int) -> None:
    gateway = GatewayThread()
    gateway.start()
    try:
        for kind, strategy in GATEWAY_KINDS.items():
            target = f"gateway:{kind}"
            test = _gateway_test(tally, gateway, target, strategy, examples)
            test()
            tally.shrink(target, test)
            print(f"  {target}: {tally.tried[target]} inputs", flush=True)
    finally:
        gateway.stop()
        structlog.reset_defaults()


def _gateway_test(tally: Tally, gateway: GatewayThread, target: str,
                  strategy: st.SearchStrategy[bytes], examples: int) -> Callable[[], None]:
    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def one(data: bytes) -> None:
        tally.tried[target] += 1
        seen = len(gateway.events)
        closed = exchange_bytes(gateway.port, data)
        new = gateway.events[seen:]
        refused = any(e.get("event") == "gateway_connection_closed" for e in new)
        (tally.refused if refused else tally.accepted)[target] += 1
        for event in new:
            if event.get("event") == "gateway_connection_failed":
                summary, signature = _exc_info_summary(event)
                tally.fail(target, data, f"gateway_connection_failed: {summary}",
                           signature)
        if not closed:
            tally.fail(target, data, "connection not closed 5 s after end of input",
                       "hang")
        problem = healthy(gateway.port) if gateway.alive() else (
            f"gateway thread died: {gateway.error!r}")
        if problem:
            tally.fail(target, data, problem, problem[:60])

    return one


def _exc_info_summary(event: dict[str, Any]) -> tuple[str, str]:
    error = event.get("exc_info")
    if isinstance(error, BaseException):
        while isinstance(error, BaseExceptionGroup) and error.exceptions:
            error = error.exceptions[0]
        return _traceback_summary(error)
    return repr(event)[:300], "gateway_connection_failed"


# --- TOML values, tables and text ----------------------------------------------------------------

scalars = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1), st.integers(),
    st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.text(max_size=16),
    st.sampled_from(["", " ", "0", "-1", "1e309", "NaN", "inf", "0.1", "50", "bps", "ticks",
                     "auto", "json", "09:30", "Mon-Fri", "America/Chicago", "x:y", "ZO", "HE"]),
    st.datetimes(timezones=st.sampled_from([None, dt.UTC])), st.dates(), st.times(),
)
toml_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)


def _paths(tree: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value in a tree of dicts and lists (the root is ())."""
    out = [path]
    if isinstance(tree, dict):
        for key, value in tree.items():
            out += _paths(value, (*path, key))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            out += _paths(value, (*path, index))
    return out


def _copy(tree: Any) -> Any:
    if isinstance(tree, dict):
        return {k: _copy(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_copy(v) for v in tree]
    return tree


@st.composite
def mutated(draw: st.DrawFn, bases: list[dict[str, Any]], keys: list[str]) -> dict[str, Any]:
    """A base table with one to four changes: a value replaced, a key removed or added, a
    known key moved to a wrong place, a list emptied or grown."""
    tree = _copy(draw(st.sampled_from(bases)))
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(_paths(tree)))
        parent = tree
        for step in path[:-1]:
            parent = parent[step]
        op = draw(st.sampled_from(["replace", "delete", "add", "add-known", "grow"]))
        if not path:
            op = "add" if op != "add-known" else op
        if op == "replace":
            parent[path[-1]] = draw(toml_values)
        elif op == "delete":
            del parent[path[-1]]
        else:
            node = parent[path[-1]] if path else tree
            if isinstance(node, dict):
                key = draw(st.sampled_from(keys)) if op == "add-known" else draw(
                    st.text(max_size=10))
                node[key] = draw(toml_values)
            elif isinstance(node, list):
                node.append(_copy(node[0]) if node and op == "grow" else draw(toml_values))
            elif path:
                parent[path[-1]] = draw(toml_values)
    return tree


def _key(key: str) -> str:
    return json.dumps(key)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return "nan"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string (surrogates aside)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(str(value))


def toml_text(table: dict[str, Any]) -> str:
    """``table`` as TOML text: one ``key = value`` line per top-level key, inline below."""
    return "\n".join(f"{_key(k)} = {toml_value(v)}" for k, v in table.items()) + "\n"


@st.composite
def text_mutation(draw: st.DrawFn, texts: list[str]) -> str:
    """A base text with lines dropped, duplicated or swapped, and characters changed."""
    lines = draw(st.sampled_from(texts)).splitlines()
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        index = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["drop", "duplicate", "edit", "truncate", "value"]))
        line = lines[index]
        if op == "drop":
            del lines[index]
        elif op == "duplicate":
            lines.insert(index, line)
        elif op == "truncate":
            lines[index] = line[: draw(st.integers(0, len(line)))]
        elif op == "value" and "=" in line:
            key = line.split("=", 1)[0]
            lines[index] = f"{key}= {toml_value(draw(toml_values))}"
        else:
            at = draw(st.integers(0, len(line)))
            lines[index] = line[:at] + draw(st.text(max_size=4)) + line[at + 1:]
    return "\n".join(lines) + "\n"


def file_inputs(tables: st.SearchStrategy[dict[str, Any]], texts: list[str]
                ) -> st.SearchStrategy[bytes]:
    """File contents: mutated tables as TOML, mutated example text, random text or bytes."""
    def encode(text: str) -> bytes:
        return text.encode("utf-8", "surrogatepass")

    return st.one_of(
        tables.map(toml_text).map(encode),
        text_mutation(texts).map(encode),
        st.text(max_size=200).map(encode),
        st.binary(max_size=200),
    )


def check_load(tally: Tally, target: str, given: Any, load: Callable[[], Any],
               error: type[ConfigError]) -> None:
    """Count ``load()``: accepted, refused with ``error`` naming a field, or a failure."""
    tally.tried[target] += 1
    try:
        load()
    except error as e:
        message = e.message if isinstance(e, ScenarioError) else str(e)
        if isinstance(e.field, str) and e.field and message.startswith(f"{e.field}:"):
            tally.refused[target] += 1
        else:
            tally.fail(target, given, f"{type(e).__name__} names no field: {message!r}",
                       f"no field {type(e).__name__} {e.field!r} {e.problem[:40]}")
    except Exception as e:  # the point: any other exception is a finding
        summary, signature = _traceback_summary(e)
        tally.fail(target, given, summary, signature)
    else:
        tally.accepted[target] += 1


# --- (b) configuration, (c) scenarios ------------------------------------------------------------


def _drop_none(tree: Any) -> Any:
    if isinstance(tree, dict):
        return {k: _drop_none(v) for k, v in tree.items() if v is not None}
    return tree


def _all_keys(tree: Any) -> list[str]:
    keys: set[str] = set()
    for path in _paths(tree):
        keys |= {p for p in path if isinstance(p, str)}
    return sorted(keys)


CONFIG_BASE = _drop_none(config_to_dict(HydraConfig()))
CONFIG_TEXTS = [(ROOT / "examples" / "hydra.toml").read_text()]
CONFIG_BASES = [CONFIG_BASE, tomllib.loads(CONFIG_TEXTS[0]), {}]
SCENARIO_FILES = sorted((ROOT / "examples" / "scenarios").glob("*.toml")) + sorted(
    (ROOT / "bench" / "scenarios").glob("*.toml"))
SCENARIO_TEXTS = [p.read_text() for p in SCENARIO_FILES]
SCENARIO_BASES = [tomllib.loads(t) for t in SCENARIO_TEXTS]

config_tables = st.one_of(mutated(CONFIG_BASES, _all_keys(CONFIG_BASE)),
                          st.dictionaries(st.sampled_from(_all_keys(CONFIG_BASE)), toml_values,
                                          max_size=4))
scenario_tables = mutated(SCENARIO_BASES, _all_keys(SCENARIO_BASES))


def _write(folder: Path, data: bytes) -> Path:
    path = folder / "input.toml"
    path.write_bytes(data)
    return path


def fuzz_inputs(tally: Tally, examples: int, which: set[str]) -> None:
    run = settings(max_examples=examples, deadline=None, database=None,
                   suppress_health_check=list(HealthCheck))
    with tempfile.TemporaryDirectory(prefix="hydra-fuzz-") as name:
        folder = Path(name)

        @run
        @given(config_tables)
        def config_table(table: dict[str, Any]) -> None:
            check_load(tally, "config:table", table, lambda: config_from_table(table),
                       ConfigError)

        @run
        @given(file_inputs(config_tables, CONFIG_TEXTS))
        def config_text(data: bytes) -> None:
            path = _write(folder, data)
            check_load(tally, "config:text", data, lambda: load_config(path), ConfigError)

        @run
        @given(scenario_tables)
        def scenario_table(table: dict[str, Any]) -> None:
            check_load(tally, "scenario:table", table, lambda: scenario_from_table(table),
                       ScenarioError)

        @run
        @given(file_inputs(scenario_tables, SCENARIO_TEXTS))
        def scenario_text(data: bytes) -> None:
            path = _write(folder, data)
            check_load(tally, "scenario:text", data, lambda: load_scenario(path), ScenarioError)

        targets = [("config:table", config_table), ("config:text", config_text),
                   ("scenario:table", scenario_table), ("scenario:text", scenario_text)]
        for target, test in targets:
            if target.split(":")[0] in which:
                test()
                tally.shrink(target, test)
                print(f"  {target}: {tally.tried[target]} inputs", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000,
                        help="Hypothesis examples per target (default 2000)")
    parser.add_argument("--only", default="gateway,config,scenario",
                        help="comma-separated targets (default: all three)")
    args = parser.parse_args()
    which = set(args.only.split(","))
    header("Hydra fuzz: gateway wire protocol, configuration and scenario loaders")
    tally = Tally()
    started = time.perf_counter()
    if "gateway" in which:
        fuzz_gateway(tally, args.examples)
    fuzz_inputs(tally, args.examples, which)
    print(f"\n{time.perf_counter() - started:.0f} s wall\n")
    return tally.report()


if __name__ == "__main__":
    sys.exit(main())
