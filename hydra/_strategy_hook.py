"""The user's strategy hook, named in the config as "module:function".

The hook is called as ``hook(context)`` with a `StrategyContext` and returns either target
positions (a mapping of symbol to signed contracts) or intents (an iterable of `OrderIntent`).
Targets become intents for the difference from the broker's position, worked by Hydra.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from ._contracts import contract_for
from ._enums import Side
from ._errors import InvalidValueError
from ._orders import OrderIntent


@attrs.frozen(kw_only=True)
class StrategyContext:
    """What the hook is told: the time and the broker's positions (symbol → contracts)."""

    now: dt.datetime
    positions: Mapping[str, int]


Hook = Callable[[StrategyContext], Any]


def load_hook(reference: str) -> Hook:
    """The function named by ``module:function``; clear errors for each way it can be wrong."""
    module_name, _, name = reference.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise InvalidValueError("runner.strategy", reference, f"cannot import {module_name}"
                                f" ({e})") from e
    hook = getattr(module, name, None)
    if not callable(hook):
        raise InvalidValueError("runner.strategy", reference, f"{module_name} has no function"
                                f" {name}")
    return hook  # type: ignore[no-any-return]


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
