"""The user's strategy hook, named in the config as "module:function", and how it is asked.

The hook is called as ``hook(context)`` with a `StrategyContext` and returns either target
positions (a mapping of symbol to signed contracts) or intents (an iterable of `OrderIntent`).
Targets become intents for the difference from the broker's position, worked by Hydra and
named for the hook: their ``strategy`` is the function's name. Intents the hook makes itself
keep their own ``strategy``.

`ask_hook` keeps the engine safe from the hook: a plain function runs in a worker thread, an
``async def`` one in Trio, both under one deadline. A thread cannot be killed: one still
running at its deadline is left to finish on its own, and the next call waits for it (within
its own deadline), so a hook that hangs every day holds one thread, never more.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs
import trio

from ._contracts import contract_for
from ._enums import Side
from ._errors import HookFailedError, InvalidValueError
from ._orders import OrderIntent

REASON_LENGTH = 200
"""The longest reason a failed call is journaled with (a hook's message may be a page)."""


@attrs.frozen(kw_only=True)
class StrategyContext:
    """What the hook is told: the time and the broker's positions (symbol → contracts)."""

    now: dt.datetime
    positions: Mapping[str, int]


Hook = Callable[[StrategyContext], Any]


def load_hook(reference: str) -> Hook:
    """The function named by ``module:function``, found on ``sys.path`` or in the current
    directory (the ``hydra`` script does not put it on the path as ``python -m`` does); each
    way it can be wrong is one `InvalidValueError` line."""
    module_name, _, name = reference.partition(":")
    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except (Exception, SystemExit) as e:  # the user's module may fail in any way as it loads
        raise InvalidValueError("runner.strategy", reference, f"cannot import {module_name}"
                                f" ({one_line(e)})") from e
    hook = getattr(module, name, None)
    if not callable(hook):
        raise InvalidValueError("runner.strategy", reference, f"{module_name} has no function"
                                f" {name}")
    return hook  # type: ignore[no-any-return]


async def ask_hook(
    hook: Hook, context: StrategyContext, *, strategy: str, limiter: trio.CapacityLimiter,
) -> list[OrderIntent]:
    """The intents ``hook`` asks for in ``context``; a raise or a bad answer is a
    `HookFailedError`. The caller bounds the call (`timed_out` says why it was cut off);
    ``limiter`` (one token) is the hook's thread: a call abandoned at its deadline holds it
    until that call returns."""
    try:
        answer = await _answer(hook, context, limiter=limiter)
    except (Exception, SystemExit) as e:  # the user's code may fail in any way, sys.exit too
        raise HookFailedError(f"raised {one_line(e)}") from e
    try:
        return intents_from(answer, positions=context.positions, strategy=strategy)
    except InvalidValueError as e:
        raise HookFailedError(f"bad answer: {one_line(e, named=False)}") from e
    except Exception as e:  # the answer's own code (a repr, a hash) may fail as it is read
        raise HookFailedError(f"bad answer: {one_line(e)}") from e


def runs_in_thread(hook: Hook) -> bool:
    """Whether `ask_hook` calls ``hook`` in a worker thread (else it awaits it in Trio)."""
    return not inspect.iscoroutinefunction(hook)


def timed_out(seconds: float, *, in_thread: bool, earlier_running: bool) -> HookFailedError:
    """Why a call cut off after ``seconds`` failed: an ``async def`` hook is cancelled; a
    thread is left running (``earlier_running``: it was still busy with a call abandoned
    before)."""
    if not in_thread:
        return HookFailedError(f"no answer within {seconds:g} s; cancelled")
    why = " (an earlier call, past its deadline, was still running)" if earlier_running else ""
    return HookFailedError(f"no answer within {seconds:g} s{why}; a thread cannot be stopped:"
                           f" it is left to finish, and the next call waits for it")


async def _answer(hook: Hook, context: StrategyContext, *, limiter: trio.CapacityLimiter
                  ) -> Any:
    """The hook's answer: awaited in Trio for an ``async def`` hook, else computed in a
    thread (with any generator or mapping it returns read there too)."""
    if not runs_in_thread(hook):
        return await hook(context)
    answer = await trio.to_thread.run_sync(_materialized, hook, context,
                                           abandon_on_cancel=True, limiter=limiter)
    if inspect.isawaitable(answer):  # a plain function that returned a coroutine
        return await answer
    return answer


def _materialized(hook: Hook, context: StrategyContext) -> Any:
    """``hook(context)`` with a lazy answer read out (in the hook's thread, not in Trio's)."""
    answer = hook(context)
    if isinstance(answer, Mapping):
        return dict(answer)
    if isinstance(answer, Iterable) and not isinstance(answer, str | bytes):
        return list(answer)
    return answer


def one_line(error: BaseException, *, named: bool = True) -> str:
    """``error`` as one short line: its type (unless not ``named``), and its message with
    whitespace collapsed (a message that itself fails to print is said to)."""
    try:
        message = " ".join(str(error).split())
    except Exception:  # the user's exception class may fail in any way, even here
        message = "(its message could not be printed)"
    name = type(error).__name__
    text = message if not named else f"{name}: {message}" if message else name
    return text if len(text) <= REASON_LENGTH else text[:REASON_LENGTH - 1] + "…"


def intents_from(answer: Any, *, positions: Mapping[str, int], strategy: str) -> list[OrderIntent]:
    """The intents a hook's answer asks for: its intents, or orders toward its targets."""
    if isinstance(answer, Mapping):
        return _toward_targets(answer, positions=positions, strategy=strategy)
    if isinstance(answer, Iterable) and not isinstance(answer, str | bytes):
        intents = list(answer)
        for item in intents:
            if not isinstance(item, OrderIntent):
                raise InvalidValueError("strategy answer", item, "must be an OrderIntent")
        return intents
    raise InvalidValueError("strategy answer", answer,
                            "must be target positions (symbol → contracts) or intents")


def _toward_targets(
    targets: Mapping[Any, Any], *, positions: Mapping[str, int], strategy: str
) -> list[OrderIntent]:
    intents = []
    for symbol, target in targets.items():
        if isinstance(target, bool) or not isinstance(target, int):
            raise InvalidValueError(f"target {symbol}", target, "must be a whole number")
        difference = target - positions.get(symbol, 0)
        if difference:
            intents.append(OrderIntent(
                contract=contract_for(symbol), side=Side.BUY if difference > 0 else Side.SELL,
                quantity=abs(difference), strategy=strategy,
            ))
    return intents
