"""Ad-hoc intents as JSON lines: {"symbol": "ZO", "side": "BUY", "quantity": 3, ...}.

Each line is one intent; optional keys are "strategy", "policy" (auto, patience, twap, cross,
passive), "month" ("YYYYMM") and "intent_id". A line without an id gets one derived from its
text and line number, so re-reading the file after a restart finds the same ids and the
journal refuses to work a line twice. Two control lines: {"kill": "reason"} trips the kill
switch, {"resume": "reason", "id": "..."} (what ``hydra resume --reason`` writes) clears the
kill and latched breakers. Each control line has an id (given, or derived like an intent's), and
the runner applies each id once: a restart that re-reads the file does not kill again.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import attrs

from ._contracts import contract_for
from ._enums import Policy, Side
from ._errors import InvalidValueError
from ._ids import IntentId
from ._orders import OrderIntent

_KEYS = {"symbol", "side", "quantity", "strategy", "policy", "month", "intent_id"}


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


def parse_inbox_line(line: str, *, number: int) -> OrderIntent | ControlRequest:
    """The intent (or control request) on line ``number``; a malformed line names the key
    and the line."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as e:
        raise InvalidValueError(f"line {number}", line.strip(), f"is not JSON ({e.msg})") from e
    if not isinstance(data, dict):
        raise InvalidValueError(f"line {number}", data, "must be a JSON object")
    if set(data) == {"kill"}:
        return KillRequest(reason=f"inbox line {number}: {data['kill']}",
                           request_id=_derived_id(line, number, prefix="kill"))
    if "resume" in data:
        return _resume(data, line, number)
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise InvalidValueError(f"line {number}: {unknown[0]}", data[unknown[0]], "unknown key")
    try:
        return _intent(data, line, number)
    except InvalidValueError as e:
        raise InvalidValueError(f"line {number}: {e.field}", e.value, e.problem) from e


def _intent(data: dict[str, Any], line: str, number: int) -> OrderIntent:
    contract = contract_for(data.get("symbol"))  # type: ignore[arg-type]
    if data.get("month") is not None:
        contract = contract.for_month(data["month"])
    return OrderIntent(
        contract=contract,
        side=_choice(Side, "side", data.get("side")),
        quantity=data.get("quantity"),  # type: ignore[arg-type]
        strategy=data.get("strategy", "inbox"),
        policy=None if data.get("policy") is None else _choice(Policy, "policy", data["policy"]),
        intent_id=IntentId(data.get("intent_id") or _derived_id(line, number)),
    )


def _choice(kind: type[Side] | type[Policy], field: str, value: Any) -> Any:
    for member in kind:
        if isinstance(value, str) and value.lower() == member.value.lower():
            return member
    choices = ", ".join(member.value for member in kind)
    raise InvalidValueError(field, value, f"must be one of {choices}")


def _resume(data: dict[str, Any], line: str, number: int) -> ResumeRequest:
    unknown = sorted(set(data) - {"resume", "id"})
    if unknown:
        raise InvalidValueError(f"line {number}: {unknown[0]}", data[unknown[0]], "unknown key")
    reason = data["resume"]
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidValueError(f"line {number}: resume", reason, "must say why trading resumes")
    request_id = data.get("id") or _derived_id(line, number, prefix="resume")
    if not isinstance(request_id, str):
        raise InvalidValueError(f"line {number}: id", request_id, "must be a string")
    return ResumeRequest(reason=reason, request_id=request_id)


def _derived_id(line: str, number: int, *, prefix: str = "inbox") -> str:
    digest = hashlib.sha1(f"{number}:{line.strip()}".encode(), usedforsecurity=False)
    return f"{prefix}-{number}-{digest.hexdigest()[:10]}"
