"""One line for why Hydra stopped, from nested exception groups."""

import trio

from hydra._errors import BrokerConnectionError, InvalidValueError
from hydra._stop_reasons import describe_error, first_cause, leaves, only_stopping


def test_leaves_flatten_nested_groups_in_order() -> None:
    """Every exception inside nested groups, depth first, in order."""
    a, b, c = ValueError("a"), KeyError("b"), OSError("c")
    assert leaves(ExceptionGroup("x", [a, ExceptionGroup("y", [b, c])])) == [a, b, c]
    assert leaves(a) == [a]


def test_cancellations_and_interrupts_are_a_way_of_stopping() -> None:
    """A group of Cancelled and KeyboardInterrupt only is a stop; one real error is not."""
    cancelled = trio.Cancelled._create()  # type: ignore[attr-defined]
    assert only_stopping(BaseExceptionGroup("g", [cancelled, KeyboardInterrupt()]))
    assert not only_stopping(BaseExceptionGroup("g", [cancelled, ValueError("v")]))
    assert first_cause(BaseExceptionGroup("g", [cancelled, ValueError("v")])).args == ("v",)


def test_a_hydra_error_is_its_message_and_others_are_typed() -> None:
    """Hydra's errors speak for themselves; a foreign one shows its type; lines are joined."""
    assert describe_error(BrokerConnectionError("IB Gateway has lost IB")) == \
        "IB Gateway has lost IB"
    assert describe_error(RuntimeError("two\n  lines")) == "RuntimeError: two lines"
    assert describe_error(InvalidValueError("price", 0, "must be positive")) == \
        "price: must be positive, got 0"
