import pytest

from hydra import OATS, InvalidValueError, OrderIntent, Side
from hydra._strategy_hook import intents_from, load_hook


def test_targets_become_orders_for_the_difference() -> None:
    """Targets of +5 ZO from +2 buy 3; a target equal to the position sends nothing."""
    intents = intents_from({"ZO": 5, "HE": -1}, positions={"ZO": 2, "HE": -1}, strategy="s")
    (buy,) = intents
    assert (buy.contract, buy.side, buy.quantity, buy.strategy) == (OATS, Side.BUY, 3, "s")


def test_a_target_below_the_position_sells() -> None:
    """A flat target from a long sells the whole position."""
    (sell,) = intents_from({"ZO": 0}, positions={"ZO": 4}, strategy="s")
    assert (sell.side, sell.quantity) == (Side.SELL, 4)


def test_intents_pass_through() -> None:
    """A hook may answer with intents of its own."""
    intent = OrderIntent(contract=OATS, side=Side.SELL, quantity=1)
    assert intents_from([intent], positions={}, strategy="s") == [intent]


@pytest.mark.parametrize("answer", [None, 3, "ZO", [1], {"ZO": 1.5}, {"XX": 1}])
def test_other_answers_are_refused(answer: object) -> None:
    """Anything but targets or intents is a clear error."""
    with pytest.raises(InvalidValueError):
        intents_from(answer, positions={}, strategy="s")


def test_load_hook_finds_the_function_or_says_why_not() -> None:
    """module:function loads; a missing module or function names runner.strategy."""
    assert load_hook("tests.strategy_fixture:daily_targets").__name__ == "daily_targets"
    for reference in ("tests.nowhere:x", "tests.strategy_fixture:missing"):
        with pytest.raises(InvalidValueError, match=r"^runner\.strategy:"):
            load_hook(reference)
