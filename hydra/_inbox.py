"""Ad-hoc intents as JSON lines: {"symbol": "ZO", "side": "BUY", "quantity": 3, ...}.

Each line is one intent; optional keys are "strategy", "policy" (auto, patience, twap, cross,
passive), "month" ("YYYYMM"), "intent_id" and "deadline" (an ISO 8601 time with its UTC offset:
how long the intent may wait for a broker session that is down). A line without an id gets one
derived from its text, its line number and the file's generation (`hydra._inbox_reader`), so
re-reading the file after a restart finds the same ids and the journal refuses to work a line
twice, while a new day's file is new work. Two control lines: {"kill": "reason"} trips the kill
switch, {"resume": "reason", "id": "..."} (what ``hydra resume --reason`` writes) clears the
kill and latched breakers. Each control line has an id (given, or derived like an intent's), and
the runner applies each id once: a restart that re-reads the file does not kill again.

Every field is checked here, before anything reaches the engine or the broker: a line of at most
`MAX_LINE_CHARS`, ids and names printable and at most `MAX_ID_CHARS`, a quantity from 1 to
`MAX_QUANTITY`. A delivery month the broker does not list is refused when the intent is
submitted (the broker resolves it before anything is journaled).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import attrs

from ._contracts import contract_for
from ._enums import Policy, Side
from ._errors import InvalidValueError
from ._ids import IntentId
from ._orders import OrderIntent
from ._validate import MAX_ID_CHARS, printable_text

MAX_LINE_CHARS = 4096
"""The longest inbox line read (a longer one is refused unread)."""

MAX_REASON_CHARS = 200
"""The longest kill or resume reason."""

MAX_QUANTITY = 1_000_000
"""The most contracts one line may ask for (the risk limits are far lower; this bounds the
number before anything else sees it)."""

_KEYS = {"symbol", "side", "quantity", "strategy", "policy", "month", "intent_id", "deadline"}


@attrs.frozen(kw_only=True)
class InboxIntent:
    """An intent line: the intent, and until when it may wait for a session that is down
    (None: the runner's ``inbox_deadline`` after it was first read)."""

    intent: OrderIntent
    deadline: dt.datetime | None = None


@attrs.frozen(kw_only=True)
class KillRequest:
    """A line asking for the kill switch: halt trading and cancel every working order."""

    reason: str
    request_id: str = ""


@attrs.frozen(kw_only=True)
class ResumeRequest:
    """A line asking to clear the kill switch and every latched breaker."""

    reason: str
    request_id: str


ControlRequest = KillRequest | ResumeRequest


def resume_line(reason: str, *, request_id: str) -> str:
    """The inbox line ``hydra resume`` appends."""
    return json.dumps({"resume": reason, "id": request_id})


def parse_inbox_line(line: str, *, number: int, generation: int = 0
                     ) -> InboxIntent | ControlRequest:
    """The intent (or control request) on line ``number`` of the file's ``generation``; a
    malformed line is an `InvalidValueError` naming the line and the key."""
    data = _json_object(line, number)
    try:
        if set(data) == {"kill"}:
            reason = _text(data, "kill", MAX_REASON_CHARS)
            return KillRequest(reason=f"inbox line {number}: {reason}",
                               request_id=_derived_id(line, number, generation, prefix="kill"))
        if "resume" in data:
            return _resume(data, line, number, generation)
        unknown = sorted(set(data) - _KEYS)
        if unknown:
            raise InvalidValueError(unknown[0], data[unknown[0]], "unknown key")
        return _intent(data, line, number, generation)
    except InvalidValueError as e:
        raise InvalidValueError(f"line {number}: {e.field}", e.value, e.problem) from e


def _json_object(line: str, number: int) -> dict[str, Any]:
    if len(line) > MAX_LINE_CHARS:
        raise InvalidValueError(f"line {number}", f"{line[:40]}…",
                                f"is longer than {MAX_LINE_CHARS} characters")
    try:
        data = json.loads(line)
    except json.JSONDecodeError as e:
        raise InvalidValueError(f"line {number}", line.strip(), f"is not JSON ({e.msg})") from e
    except RecursionError as e:
        raise InvalidValueError(f"line {number}", f"{line[:40]}…", "is nested too deeply") from e
    if not isinstance(data, dict):
        raise InvalidValueError(f"line {number}", data, "must be a JSON object")
    return data


def _intent(data: dict[str, Any], line: str, number: int, generation: int) -> InboxIntent:
    contract = contract_for(_text(data, "symbol", MAX_ID_CHARS) if "symbol" in data else "")
    if data.get("month") is not None:
        month = _text(data, "month", len("YYYYMM"))
        try:
            contract = contract.for_month(month)
        except InvalidValueError as e:  # the contract calls it expiry; the inbox, month
            raise InvalidValueError("month", month, e.problem) from e
    intent_id = (_text(data, "intent_id", MAX_ID_CHARS) if "intent_id" in data
                 else _derived_id(line, number, generation))
    intent = OrderIntent(
        contract=contract,
        side=_choice(Side, "side", data.get("side")),
        quantity=_quantity(data.get("quantity")),
        strategy=_text(data, "strategy", MAX_ID_CHARS) if "strategy" in data else "inbox",
        policy=None if data.get("policy") is None else _choice(Policy, "policy", data["policy"]),
        intent_id=IntentId(intent_id),
    )
    return InboxIntent(intent=intent, deadline=_deadline(data.get("deadline")))


def _text(data: dict[str, Any], key: str, longest: int) -> str:
    """``data[key]``: a string of printable characters, not blank, at most ``longest`` long."""
    return printable_text(key, data[key], longest)


def _quantity(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValueError("quantity", value, "must be a whole number of contracts")
    if not 1 <= value <= MAX_QUANTITY:
        shown = value if abs(value) < 10**12 else f"a {len(str(abs(value)))}-digit number"
        raise InvalidValueError("quantity", shown, f"must be from 1 to {MAX_QUANTITY:,}")
    return value


def _deadline(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    problem = "must be an ISO 8601 time with its UTC offset, like 2026-12-01T19:30:00Z"
    if not isinstance(value, str) or len(value) > 40:
        raise InvalidValueError("deadline", value, problem)
    try:
        deadline = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidValueError("deadline", value, problem) from None
    if deadline.tzinfo is None:
        raise InvalidValueError("deadline", value, problem)
    return deadline


def _choice(kind: type[Side] | type[Policy], field: str, value: Any) -> Any:
    for member in kind:
        if isinstance(value, str) and value.lower() == member.value.lower():
            return member
    choices = ", ".join(member.value for member in kind)
    raise InvalidValueError(field, value, f"must be one of {choices}")


def _resume(data: dict[str, Any], line: str, number: int, generation: int) -> ResumeRequest:
    unknown = sorted(set(data) - {"resume", "id"})
    if unknown:
        raise InvalidValueError(unknown[0], data[unknown[0]], "unknown key")
    reason = data["resume"]
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidValueError("resume", reason, "must say why trading resumes")
    reason = _text(data, "resume", MAX_REASON_CHARS)
    if data.get("id") is not None and not isinstance(data["id"], str):
        raise InvalidValueError("id", data["id"], "must be a string")
    request_id = (_text(data, "id", MAX_ID_CHARS) if data.get("id")
                  else _derived_id(line, number, generation, prefix="resume"))
    return ResumeRequest(reason=reason, request_id=request_id)


def _derived_id(line: str, number: int, generation: int, *, prefix: str = "inbox") -> str:
    """An id from the line's text and number (and, after the first, the file's generation);
    the first generation's ids are those Hydra derived before it counted generations."""
    salt = f"{generation}:" if generation else ""
    digest = hashlib.sha1(f"{salt}{number}:{line.strip()}".encode(), usedforsecurity=False)
    return f"{prefix}-{number}-{digest.hexdigest()[:10]}"
