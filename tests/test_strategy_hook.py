"""The strategy hook: loading it, and asking it safely (threads, deadlines, bad answers)."""

from __future__ import annotations

import datetime as dt
import functools
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

from hydra import OATS, InvalidValueError, OrderIntent, Side
from hydra._errors import HookFailedError
from hydra._strategy_hook import StrategyContext, ask_hook, intents_from, load_hook, timed_out


def test_targets_become_orders_for_the_difference() -> None:
    """Targets of +5 ZO from +2 in its front month buy 3 of it; a target equal to the
    position sends nothing."""
    intents = intents_from({"ZO": 5, "HE": -1}, positions={"ZO": {"202703": 2},
                                                           "HE": {"202612": -1}},
                           front_months={"ZO": "202703", "HE": "202612"}, strategy="s")
    (buy,) = intents
    assert (buy.contract, buy.side, buy.quantity, buy.strategy) == (
        OATS.for_month("202703"), Side.BUY, 3, "s")


def test_a_target_below_the_position_sells() -> None:
    """A flat target from a long sells the whole position."""
    (sell,) = intents_from({"ZO": 0}, positions={"ZO": {"202703": 4}},
                           front_months={"ZO": "202703"}, strategy="s")
    assert (sell.contract.expiry, sell.side, sell.quantity) == ("202703", Side.SELL, 4)


def test_a_target_is_held_in_the_front_month_and_every_other_month_is_closed() -> None:
    """+3 ZOZ6 (in delivery) and -1 ZOK7 with a target of +2 and ZOH7 the front month:
    sell the 3 ZOZ6, buy back the ZOK7, buy 2 ZOH7 (a roll, not a spread)."""
    intents = intents_from({"ZO": 2}, positions={"ZO": {"202612": 3, "202705": -1}},
                           front_months={"ZO": "202703"}, strategy="s")
    assert [(i.contract.expiry, i.signed_quantity) for i in intents] == [
        ("202612", -3), ("202705", 1), ("202703", 2)]


def test_a_position_the_broker_names_no_month_of_counts_as_the_front_months() -> None:
    """+2 in no month and +1 in the front month, target +3: nothing to do."""
    assert intents_from({"ZO": 3}, positions={"ZO": {None: 2, "202703": 1}},
                        front_months={"ZO": "202703"}, strategy="s") == []


def test_with_no_front_month_known_every_month_held_is_closed() -> None:
    """Without the front month, +3 ZOZ6 and a target of +1: sell the 3 ZOZ6, buy 1 in no
    month (the engine puts it in its front month)."""
    intents = intents_from({"ZO": 1}, positions={"ZO": {"202612": 3}}, strategy="s")
    assert [(i.contract.expiry, i.signed_quantity) for i in intents] == [
        ("202612", -3), (None, 1)]


@given(held=st.dictionaries(st.sampled_from([None, "202612", "202703", "202705"]),
                            st.integers(-5, 5), max_size=4),
       target=st.integers(-5, 5), front=st.sampled_from([None, "202703"]))
def test_targets_leave_the_target_in_the_front_month_and_nothing_elsewhere(
    held: dict[str | None, int], target: int, front: str | None,
) -> None:
    """Whatever is held, after the orders the front month (with no month) holds the target
    and every other month is flat."""
    intents = intents_from({"ZO": target}, positions={"ZO": held},
                           front_months={} if front is None else {"ZO": front}, strategy="s")
    after = {(front if month is None else month): 0 for month in held}
    for month, quantity in held.items():
        after[front if month is None else month] += quantity
    for intent in intents:
        month = intent.contract.expiry
        after[month] = after.get(month, 0) + intent.signed_quantity
    assert after.pop(front, 0) == target
    assert {m: q for m, q in after.items() if q} == {}


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


def _context() -> StrategyContext:
    return StrategyContext(now=dt.datetime(2026, 12, 1, 14, 35, tzinfo=dt.UTC), positions={})


async def _ask(hook: Any) -> list[OrderIntent]:
    return await ask_hook(hook, _context(), strategy="s", limiter=trio.CapacityLimiter(1))


async def test_a_hook_that_raises_fails_with_a_one_line_reason() -> None:
    """Whatever the hook raises becomes one line: its type and its message, whitespace
    collapsed, cut at 200 characters."""
    def hook(context: StrategyContext) -> None:
        raise ValueError("no\n  price " + "x" * 300)

    with pytest.raises(HookFailedError) as failed:
        await _ask(hook)
    reason = failed.value.reason
    assert reason.startswith("raised ValueError: no price xxx") and "\n" not in reason
    assert len(reason) == len("raised ") + 200 and reason.endswith("…")


@pytest.mark.parametrize(("answer", "reason"), [
    (42, "bad answer: strategy answer: must be target positions (symbol → contracts) or "
         "intents, got 42"),
    ({"ZC": 1}, "bad answer: symbol: unknown contract (known: HE, ZO), got 'ZC'"),
    ([None], "bad answer: strategy answer: must be an OrderIntent, got None"),
])
async def test_a_bad_answer_fails_with_what_was_wrong(answer: object, reason: str) -> None:
    """An answer that is not targets or intents names what was wrong with it."""
    with pytest.raises(HookFailedError) as failed:
        await _ask(lambda context: answer)
    assert failed.value.reason == reason


async def test_a_plain_hook_runs_in_a_worker_thread_generators_too() -> None:
    """A plain function, and the generator it returns, run off the Trio thread."""
    threads: list[int] = []

    def hook(context: StrategyContext) -> Iterator[OrderIntent]:
        threads.append(threading.get_ident())
        yield OrderIntent(contract=OATS, side=Side.BUY, quantity=1, strategy="mine")
        threads.append(threading.get_ident())

    (intent,) = await _ask(hook)
    assert intent.strategy == "mine"  # its own intents keep their strategy
    assert len(threads) == 2 and threading.get_ident() not in threads


async def test_an_async_hook_is_awaited_in_trio(autojump_clock: trio.testing.MockClock) -> None:
    """An ``async def`` hook runs in Trio and its targets are worked, named for the hook
    (a coroutine never awaited would be a warning, which is an error here)."""
    threads: list[int] = []

    async def hook(context: StrategyContext) -> dict[str, int]:
        threads.append(threading.get_ident())
        await trio.sleep(1)
        return {"ZO": 2}

    (intent,) = await _ask(hook)
    assert (intent.quantity, intent.strategy) == (2, "s")
    assert threads == [threading.get_ident()] and trio.current_time() == 1.0
    (other,) = await _ask(functools.partial(hook))  # a plain callable returning a coroutine
    assert other.quantity == 2


async def test_a_hook_that_hangs_holds_one_thread_however_often_it_is_called(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A call cut off at its deadline leaves its thread running; the next call waits for
    that thread (within its own deadline) instead of starting another, and once the hung
    call returns the hook is called again."""
    release, started = threading.Event(), threading.Event()
    entered: list[int] = []

    def hook(context: StrategyContext) -> dict[str, int]:
        entered.append(len(entered))
        started.set()
        release.wait()
        return {"ZO": 1}

    limiter = trio.CapacityLimiter(1)
    cut_at: list[float] = []
    for _ in range(3):
        with trio.move_on_after(30):
            await ask_hook(hook, _context(), strategy="s", limiter=limiter)
        cut_at.append(trio.current_time())
    assert cut_at == [30.0, 60.0, 90.0]
    assert started.wait(10)  # the first call's thread may start after the clock jumped
    assert len(entered) == 1 and limiter.borrowed_tokens == 1
    release.set()
    async with limiter:  # the abandoned call returns and gives the thread back
        pass
    (intent,) = await ask_hook(hook, _context(), strategy="s", limiter=limiter)
    assert intent.quantity == 1 and len(entered) == 2


def test_timed_out_says_a_thread_cannot_be_stopped() -> None:
    """The time-out's reason says what happens to the thread, and when an earlier call
    held it; an async hook is cancelled."""
    assert timed_out(30, in_thread=True, earlier_running=False).reason == (
        "no answer within 30 s; a thread cannot be stopped: it is left to finish, and the "
        "next call waits for it")
    assert "(an earlier call, past its deadline, was still running)" in timed_out(
        2.5, in_thread=True, earlier_running=True).reason
    assert timed_out(20, in_thread=False, earlier_running=False).reason == (
        "no answer within 20 s; cancelled")


@pytest.fixture
def module_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test's own directory as the current one, with sys.path and modules restored."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", os.getcwd())])
    monkeypatch.setattr(sys, "modules", dict(sys.modules))
    return tmp_path


def test_a_hook_module_in_the_current_directory_loads(module_dir: Path) -> None:
    """The ``hydra`` script does not put the current directory on sys.path; the hook's
    module is found there all the same."""
    (module_dir / "my_desk.py").write_text("def targets(context):\n    return {'ZO': 1}\n")
    assert load_hook("my_desk:targets").__name__ == "targets"


@pytest.mark.parametrize(("source", "problem"), [
    ("1 / 0\n", "cannot import broken_desk (ZeroDivisionError: division by zero)"),
    ("def f(:\n", "cannot import broken_desk (SyntaxError: invalid syntax (broken_desk.py, "
                  "line 1))"),
    ("import no_such_module_at_all\n", "cannot import broken_desk (ModuleNotFoundError: No "
                                       "module named 'no_such_module_at_all')"),
    ("import sys\nsys.exit('no config')\n", "cannot import broken_desk (SystemExit: no config)"),
])
def test_a_module_that_fails_to_import_is_one_line(module_dir: Path, source: str,
                                                   problem: str) -> None:
    """A module that raises as it loads, or does not parse, is one error naming
    runner.strategy and the cause, never a traceback."""
    (module_dir / "broken_desk.py").write_text(source)
    with pytest.raises(InvalidValueError) as failed:
        load_hook("broken_desk:f")
    assert (failed.value.field, failed.value.problem) == ("runner.strategy", problem)


async def test_a_hook_that_exits_the_interpreter_only_fails_its_call() -> None:
    """sys.exit in a hook, in its thread or in Trio, is a failed call, not the end of the
    runner."""
    def plain(context: StrategyContext) -> None:
        sys.exit(3)

    async def awaited(context: StrategyContext) -> None:
        sys.exit("bye")

    reasons = []
    for hook in (plain, awaited):
        with pytest.raises(HookFailedError) as failed:
            await _ask(hook)
        reasons.append(failed.value.reason)
    assert reasons == ["raised SystemExit: 3", "raised SystemExit: bye"]


async def test_an_exception_that_cannot_print_itself_is_still_one_line() -> None:
    """A hook raising an exception whose message raises too fails its call, said so."""
    class Sneaky(Exception):
        def __str__(self) -> str:
            raise RuntimeError("gotcha")

    def hook(context: StrategyContext) -> None:
        raise Sneaky

    with pytest.raises(HookFailedError) as failed:
        await _ask(hook)
    assert failed.value.reason == "raised Sneaky: (its message could not be printed)"


async def test_an_answer_that_fails_as_it_is_read_is_a_bad_answer() -> None:
    """An answer whose items fail even to be shown (their repr raises) is a bad answer, not
    an error of the runner."""
    class Opaque:
        def __repr__(self) -> str:
            raise RuntimeError("no repr for you")

    async def hook(context: StrategyContext) -> list[object]:
        return [Opaque()]

    with pytest.raises(HookFailedError) as failed:
        await _ask(hook)
    assert failed.value.reason == "bad answer: RuntimeError: no repr for you"
