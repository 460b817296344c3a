import datetime as dt
import json

import pytest

from hydra import OATS, InvalidValueError, Policy, Side
from hydra._inbox import (
    MAX_LINE_CHARS,
    InboxIntent,
    KillRequest,
    ResumeRequest,
    parse_inbox_line,
    resume_line,
)


def _intent(line: str, *, number: int = 1, generation: int = 0) -> InboxIntent:
    parsed = parse_inbox_line(line, number=number, generation=generation)
    assert isinstance(parsed, InboxIntent)
    return parsed


def test_a_line_becomes_an_intent_with_a_stable_derived_id() -> None:
    """A minimal line is an intent from the inbox strategy; its id repeats for the same line."""
    line = '{"symbol": "ZO", "side": "buy", "quantity": 3}'
    intent = _intent(line, number=4).intent
    assert (intent.contract, intent.side, intent.quantity, intent.strategy) == (
        OATS, Side.BUY, 3, "inbox")
    assert intent.intent_id == _intent(line, number=4).intent.intent_id
    assert intent.intent_id != _intent(line, number=5).intent.intent_id


def test_a_new_generation_of_the_file_derives_new_ids() -> None:
    """The same line at the same number of a rewritten file (generation 1) is a new intent;
    generation 0 keeps the ids Hydra derived before it counted generations."""
    line = '{"symbol": "ZO", "side": "BUY", "quantity": 3}'
    first, again = _intent(line, number=1), _intent(line, number=1, generation=1)
    assert first.intent.intent_id == "inbox-1-51d22cab61"
    assert again.intent.intent_id != first.intent.intent_id
    assert again.intent.intent_id == _intent(line, number=1, generation=1).intent.intent_id


def test_optional_keys_are_used() -> None:
    """Month, policy, strategy and an explicit id are taken from the line."""
    parsed = _intent(
        '{"symbol": "ZO", "side": "SELL", "quantity": 1, "month": "202612", '
        '"policy": "cross", "strategy": "carry", "intent_id": "carry-7", '
        '"deadline": "2026-12-01T19:30:00Z"}')
    intent = parsed.intent
    assert intent.contract.expiry == "202612" and intent.policy is Policy.CROSS
    assert (intent.strategy, intent.intent_id) == ("carry", "carry-7")
    assert parsed.deadline == dt.datetime(2026, 12, 1, 19, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("not json", "line 2"),
        ("[1, 2]", "line 2"),
        ('{"symbol": "ZO", "side": "BUY", "quantity": 1, "price": 3}', "line 2: price"),
        ('{"symbol": "XX", "side": "BUY", "quantity": 1}', "line 2: symbol"),
        ('{"symbol": "ZO", "side": "HOLD", "quantity": 1}', "line 2: side"),
        ('{"symbol": "ZO", "side": "BUY", "quantity": -1}', "line 2: quantity"),
        ('{"symbol": "ZO", "side": "BUY", "quantity": 1, "month": "202602"}', "line 2: month"),
        ('{"symbol": "ZO", "side": "BUY", "quantity": 1, "month": 202612}', "line 2: month"),
        ('{"symbol": "ZO", "side": "BUY", "quantity": 1, "month": "2026-12"}', "line 2: month"),
        ('{"symbol": "ZO", "side": "BUY", "quantity": 0}', "line 2: quantity"),
        ('{"symbol": "ZO", "side": "BUY", "quantity": 1000001}', "line 2: quantity"),
        ('{"symbol": "ZO", "side": "BUY", "quantity": 2.5}', "line 2: quantity"),
        ('{"symbol": "ZO", "side": "BUY", "quantity": true}', "line 2: quantity"),
        ('{"symbol": "ZO", "side": "BUY", "quantity": "3"}', "line 2: quantity"),
        ('{"symbol": "ZO", "side": "BUY", "quantity": 1, "intent_id": "a\\u0000b"}',
         "line 2: intent_id"),
        ('{"symbol": "ZO", "side": "BUY", "quantity": 1, "intent_id": "a\\nb"}',
         "line 2: intent_id"),
        ('{"symbol": "ZO", "side": "BUY", "quantity": 1, "intent_id": ""}', "line 2: intent_id"),
        ('{"symbol": "ZO", "side": "BUY", "quantity": 1, "intent_id": 7}', "line 2: intent_id"),
        ('{"symbol": "ZO", "side": "BUY", "quantity": 1, "strategy": "x\\u001b[2J"}',
         "line 2: strategy"),
        ('{"symbol": "ZO", "side": "BUY", "quantity": 1, "deadline": "tomorrow"}',
         "line 2: deadline"),
        ('{"symbol": "ZO", "side": "BUY", "quantity": 1, "deadline": "2026-12-01T19:30"}',
         "line 2: deadline"),
        ('{"symbol": ["ZO"], "side": "BUY", "quantity": 1}', "line 2: symbol"),
        ('{"side": "BUY", "quantity": 1}', "line 2: symbol"),
        ('{"kill": 5}', "line 2: kill"),
        ('{"kill": "' + "x" * 201 + '"}', "line 2: kill"),
    ],
)
def test_malformed_lines_name_line_and_key(line: str, field: str) -> None:
    """Each malformed line is refused with its line number and the offending key."""
    with pytest.raises(InvalidValueError) as caught:
        parse_inbox_line(line, number=2)
    assert caught.value.field == field


def test_an_id_longer_than_64_characters_is_refused_without_echoing_it() -> None:
    """An intent id of 65 characters is refused; the error shows only its first 64."""
    with pytest.raises(InvalidValueError) as caught:
        _intent(json.dumps({"symbol": "ZO", "side": "BUY", "quantity": 1,
                            "intent_id": "i" * 64 + "j"}))
    assert caught.value.field == "line 1: intent_id"
    assert "must be at most 64 characters" in str(caught.value) and "j" not in str(caught.value)
    assert _intent(json.dumps({"symbol": "ZO", "side": "BUY", "quantity": 1,
                               "intent_id": "i" * 64})).intent.intent_id == "i" * 64


@pytest.mark.parametrize(("line", "problem"), [
    ('{"symbol": "ZO", "side": "BUY", "quantity": ' + "9" * 5000 + "}", "longer than 4096"),
    ("[" * 100_000 + "]" * 100_000, "longer than 4096"),
    ("[" * 2000 + "]" * 2000, "nested too deeply"),
    (json.dumps({"symbol": "ZO", "side": "BUY", "quantity": 1, "intent_id": "x" * 200_000}),
     "longer than 4096"),
    ('{"symbol": "ZO", "side": "BUY", "quantity": ' + "9" * 30 + "}", "a 30-digit number"),
])
def test_huge_or_deep_lines_are_refused_with_one_short_error(line: str, problem: str) -> None:
    """A 5000-digit quantity, 100,000-deep nesting or a 200,000-character id is one
    `InvalidValueError` naming the line (never a ValueError or RecursionError), whose message
    stays short."""
    with pytest.raises(InvalidValueError) as caught:
        parse_inbox_line(line, number=3)
    assert caught.value.field.startswith("line 3")
    assert problem in str(caught.value) and len(str(caught.value)) < 200
    assert MAX_LINE_CHARS == 4096


def test_a_kill_line_asks_for_the_kill_switch() -> None:
    """{"kill": reason} is a kill request carrying its line, its reason and an id derived from
    both (the same after a restart re-reads the file)."""
    kill = parse_inbox_line('{"kill": "drill"}', number=9)
    assert isinstance(kill, KillRequest) and kill.reason == "inbox line 9: drill"
    assert kill.request_id.startswith("kill-9-")
    assert parse_inbox_line('{"kill": "drill"}', number=9) == kill
    assert parse_inbox_line('{"kill": "drill"}', number=10) != kill


def test_a_resume_line_carries_its_reason_and_id() -> None:
    """{"resume": reason, "id": id} (what `hydra resume` writes) asks to clear the latches."""
    line = resume_line("breaker reviewed", request_id="resume-abc")
    assert parse_inbox_line(line, number=3) == ResumeRequest(reason="breaker reviewed",
                                                            request_id="resume-abc")


@pytest.mark.parametrize(("line", "field"), [
    ('{"resume": ""}', "line 2: resume"),
    ('{"resume": 5}', "line 2: resume"),
    ('{"resume": "ok", "id": 7}', "line 2: id"),
    ('{"resume": "ok", "extra": 1}', "line 2: extra"),
])
def test_a_bad_resume_line_names_the_field(line: str, field: str) -> None:
    """A resume line without a reason, with a non-text id or an unknown key is refused."""
    with pytest.raises(InvalidValueError) as caught:
        parse_inbox_line(line, number=2)
    assert caught.value.field == field
