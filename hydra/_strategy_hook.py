"""The user's strategy hook, named in the config as "module:function", and how it is asked.

The hook is called as ``hook(context)`` with a `StrategyContext` and returns either target
positions (a mapping of symbol to signed contracts) or intents (an iterable of `OrderIntent`).
A symbol's target is the position to hold in its front month, and every other month of it is
closed (a systematic trader's one position per product, rolled out of a month near delivery
as the front month moves on): targets become intents for the difference from what the month
will hold once the hook's own unfinished intents are over (the broker's position plus what
they will still buy or sell, ``StrategyContext.unfinished``), in the front month and, toward
flat, in every other month held, worked by Hydra and named for the hook: their ``strategy``
is the function's name. Intents the hook makes itself keep their own ``strategy``.

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
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs
import trio

from ._contracts import ContractSpec, contract_for
from ._enums import Side
from ._errors import HookFailedError, InvalidValueError
from ._orders import OrderIntent
from ._validate import MAX_ID_CHARS, printable_text

REASON_LENGTH = 200
"""The longest reason a failed call is journaled with (a hook's message may be a page)."""


Holdings = Mapping[str, Mapping[str | None, int]]
"""The broker's positions by symbol and month ("YYYYMM"; None when the broker names none)."""

NO_MONTHS: Mapping[str, str] = types.MappingProxyType({})


@attrs.frozen(kw_only=True)
class StrategyContext:
    """What the hook is told: the time, the broker's positions (symbol → contracts, summed
    over months), the same by month (symbol → month → contracts), each product's front
    month, where its target is held (symbol → "YYYYMM"), and what the hook's own intents
    still working or held for the open will yet buy (+) or sell (−), by symbol and month."""

    now: dt.datetime
    positions: Mapping[str, int]
    positions_by_month: Holdings = attrs.field(factory=lambda: types.MappingProxyType({}))
    front_months: Mapping[str, str] = NO_MONTHS
    unfinished: Holdings = attrs.field(factory=lambda: types.MappingProxyType({}))


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
        return intents_from(answer, positions=context.positions_by_month, strategy=strategy,
                            front_months=context.front_months, unfinished=context.unfinished)
    except InvalidValueError as e:
        raise HookFailedError(f"bad answer: {one_line(e, named=False)}") from e
    except Exception as e:  # the answer's own code (a repr, a hash) may fail as it is read
        raise HookFailedError(f"bad answer: {one_line(e)}") from e


def runs_in_thread(hook: Hook) -> bool:
    """Whether `ask_hook` calls ``hook`` in a worker thread (else it awaits it in Trio)."""
    return not inspect.iscoroutinefunction(hook)


def called_inline(hook: Hook) -> Hook:
    """``hook`` as an ``async def`` hook: a plain function is called in Trio's own thread,
    its answer read out there (an ``async def`` hook is returned as it is). For a virtual
    clock, which jumps to a call's deadline as soon as Trio waits for a worker thread: there
    the clock stands still while the hook computes, and a hook that never returns stops the
    run until Ctrl-C."""
    if not runs_in_thread(hook):
        return hook

    async def inline(context: StrategyContext) -> Any:
        return await _awaited(_materialized(hook, context))

    return inline


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
    return await _awaited(await trio.to_thread.run_sync(
        _materialized, hook, context, abandon_on_cancel=True, limiter=limiter))


async def _awaited(answer: Any) -> Any:
    """A plain function's ``answer``, awaited when it returned a coroutine."""
    return await answer if inspect.isawaitable(answer) else answer


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


def intents_from(answer: Any, *, positions: Holdings, strategy: str,
                 front_months: Mapping[str, str] = NO_MONTHS,
                 unfinished: Holdings = types.MappingProxyType({})) -> list[OrderIntent]:
    """The intents a hook's answer asks for: its intents, or orders toward its targets from
    ``positions`` and what the hook's ``unfinished`` intents will yet trade (see
    `toward_target`)."""
    if isinstance(answer, Mapping):
        intents = []
        for symbol, target in answer.items():
            if isinstance(target, bool) or not isinstance(target, int):
                raise InvalidValueError(f"target {symbol}", target, "must be a whole number")
            intents += toward_target(contract_for(symbol), target,
                                     held=positions.get(symbol, {}),
                                     front=front_months.get(symbol), strategy=strategy,
                                     unfinished=unfinished.get(symbol, {}))
        return intents
    if isinstance(answer, Iterable) and not isinstance(answer, str | bytes):
        intents = list(answer)
        for item in intents:
            if not isinstance(item, OrderIntent):
                raise InvalidValueError("strategy answer", item, "must be an OrderIntent")
            # the inbox's rule: the id goes to the broker in orderRef, both to logs and journal
            printable_text("intent_id", item.intent_id, MAX_ID_CHARS)
            printable_text("strategy", item.strategy, MAX_ID_CHARS)
        return intents
    raise InvalidValueError("strategy answer", answer,
                            "must be target positions (symbol → contracts) or intents")


def toward_target(spec: ContractSpec, target: int, *, held: Mapping[str | None, int],
                  front: str | None, strategy: str,
                  unfinished: Mapping[str | None, int] = types.MappingProxyType({}),
                  ) -> list[OrderIntent]:
    """Orders that close every month of ``spec`` held other than ``front``, then bring the
    front month (with a position the broker names no month of) to ``target``, each counted
    from what the month will hold once the ``unfinished`` intents (signed contracts still to
    trade, by month) are over: a target already being worked asks for nothing more. With no
    ``front`` known, every month named is closed and the target worked in no month (the
    engine's front month)."""
    planned = {month: held.get(month, 0) + unfinished.get(month, 0)
               for month in {*held, *unfinished}}
    intents = [_order(spec.for_month(month), -quantity, strategy)
               for month, quantity in sorted((m, q) for m, q in planned.items()
                                             if m is not None and m != front and q)]
    difference = target - sum(q for m, q in planned.items() if m in (front, None))
    if difference:
        intents.append(_order(spec if front is None else spec.for_month(front), difference,
                              strategy))
    return intents


def _order(contract: ContractSpec, signed_quantity: int, strategy: str) -> OrderIntent:
    return OrderIntent(contract=contract, side=Side.BUY if signed_quantity > 0 else Side.SELL,
                       quantity=abs(signed_quantity), strategy=strategy)
