import pytest

from hydra import OATS, InvalidValueError, Policy, Side
from hydra._inbox import KillRequest, ResumeRequest, parse_inbox_line, resume_line


def test_a_line_becomes_an_intent_with_a_stable_derived_id() -> None:
    """A minimal line is an intent from the inbox strategy; its id repeats for the same line."""
    line = '{"symbol": "ZO", "side": "buy", "quantity": 3}'
    intent = parse_inbox_line(line, number=4)
    assert (intent.contract, intent.side, intent.quantity, intent.strategy) == (
        OATS, Side.BUY, 3, "inbox")
    assert intent.intent_id == parse_inbox_line(line, number=4).intent_id
    assert intent.intent_id != parse_inbox_line(line, number=5).intent_id


def test_optional_keys_are_used() -> None:
    """Month, policy, strategy and an explicit id are taken from the line."""
    intent = parse_inbox_line(
        '{"symbol": "ZO", "side": "SELL", "quantity": 1, "month": "202612", '
        '"policy": "cross", "strategy": "carry", "intent_id": "carry-7"}', number=1)
    assert intent.contract.expiry == "202612" and intent.policy is Policy.CROSS
    assert (intent.strategy, intent.intent_id) == ("carry", "carry-7")


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("not json", "line 2"),
        ("[1, 2]", "line 2"),
        ('{"symbol": "ZO", "side": "BUY", "quantity": 1, "price": 3}', "line 2: price"),
        ('{"symbol": "XX", "side": "BUY", "quantity": 1}', "line 2: symbol"),
        ('{"symbol": "ZO", "side": "HOLD", "quantity": 1}', "line 2: side"),
        ('{"symbol": "ZO", "side": "BUY", "quantity": -1}', "line 2: quantity"),
        ('{"symbol": "ZO", "side": "BUY", "quantity": 1, "month": "202602"}', "line 2: expiry"),
    ],
)
def test_malformed_lines_name_line_and_key(line: str, field: str) -> None:
    """Each malformed line is refused with its line number and the offending key."""
    with pytest.raises(InvalidValueError) as caught:
        parse_inbox_line(line, number=2)
    assert caught.value.field == field


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
