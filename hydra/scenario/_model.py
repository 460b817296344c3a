"""What a scenario is: the simulated markets, Hydra's configuration and a timeline of actions.

Frozen values with validators; `hydra.scenario._load` builds them from a TOML file, and a
program may build them directly. Times are virtual seconds after the simulated exchange opened
(the clock of the simulator's gaps, halts, flows and faults).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

import attrs

from .._bracket import BracketIntent
from .._contracts import ContractSpec
from .._enums import Policy, Side
from .._errors import InvalidValueError
from .._ids import IntentId
from .._settings import HydraConfig
from .._validate import non_empty_str, positive_int, positive_seconds
from ..sim import SESSION_SECONDS, SimParams


def _time(_: Any, field: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValueError(field.name, value, "must be a number of seconds")
    if not 0 <= value < float("inf"):
        raise InvalidValueError(field.name, value, "must be a finite number of seconds, 0 or more")


class RunPolicy(enum.Enum):
    """How a run works the intents that do not name their own policy."""

    HYDRA = "hydra"  # Hydra's routing: patience below the TWAP threshold, TWAP at or above
    CROSS = "cross"  # a marketable limit at the far touch at once
    PASSIVE = "passive"  # rest at the near touch, never step

    @property
    def policy(self) -> Policy | None:
        """The `Policy` given to such intents (None: Hydra routes them)."""
        return {RunPolicy.HYDRA: None, RunPolicy.CROSS: Policy.CROSS,
                RunPolicy.PASSIVE: Policy.PASSIVE}[self]


@attrs.frozen(kw_only=True)
class SubmitIntent:
    """At ``at``, submit an order intent (``policy`` None: the run's policy)."""

    at: float = attrs.field(validator=_time)
    intent_id: IntentId = attrs.field(validator=non_empty_str)
    contract: ContractSpec
    side: Side = attrs.field(validator=attrs.validators.instance_of(Side))
    quantity: int = attrs.field(validator=positive_int)
    strategy: str = attrs.field(default="default", validator=non_empty_str)
    policy: Policy | None = None


@attrs.frozen(kw_only=True)
class SubmitBracket:
    """At ``at``, submit a bracket: entry, take-profit and protective stop limit."""

    at: float = attrs.field(validator=_time)
    bracket: BracketIntent


@attrs.frozen(kw_only=True)
class ClosePosition:
    """At ``at``, flatten the position in ``contract`` (its month, when it names one)."""

    at: float = attrs.field(validator=_time)
    label: str = attrs.field(validator=non_empty_str)  # names its intent in the results
    contract: ContractSpec
    strategy: str = attrs.field(default="default", validator=non_empty_str)


@attrs.frozen(kw_only=True)
class Roll:
    """At ``at``, close the position in ``contract``'s month and open it in ``to_month``."""

    at: float = attrs.field(validator=_time)
    label: str = attrs.field(validator=non_empty_str)
    contract: ContractSpec
    to_month: str = attrs.field(validator=non_empty_str)
    strategy: str = attrs.field(default="default", validator=non_empty_str)

    @to_month.validator
    def _after(self, field: attrs.Attribute[str], value: str) -> None:
        if self.contract.expiry is None:
            raise InvalidValueError("month", None, "is required to roll from")
        if value <= self.contract.expiry:
            raise InvalidValueError(field.name, value, f"must be after {self.contract.expiry}")


@attrs.frozen(kw_only=True)
class KillSwitch:
    """At ``at``, halt trading and cancel every working order."""

    at: float = attrs.field(validator=_time)
    reason: str = attrs.field(default="kill switch (scenario)", validator=non_empty_str)


@attrs.frozen(kw_only=True)
class CancelIntent:
    """At ``at``, stop working one intent (or bracket) of this scenario."""

    at: float = attrs.field(validator=_time)
    intent_id: IntentId = attrs.field(validator=non_empty_str)


Action = SubmitIntent | SubmitBracket | ClosePosition | Roll | KillSwitch | CancelIntent
"""Anything a scenario does at a time."""


def _actions(value: Iterable[Action]) -> tuple[Action, ...]:
    return tuple(sorted(value, key=lambda action: action.at))  # stable: file order at a tie


def _horizon(_: Any, field: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        _time(_, field, value)


def intent_ids(actions: Iterable[Action]) -> list[IntentId]:
    """The intent ids the scenario's intents and brackets declare, in order."""
    return [
        action.intent_id if isinstance(action, SubmitIntent) else action.bracket.intent_id
        for action in actions if isinstance(action, SubmitIntent | SubmitBracket)
    ]


def _unique_ids(_: Any, field: attrs.Attribute[Any], value: tuple[Action, ...]) -> None:
    ids = intent_ids(value)
    labels = [a.label for a in value if isinstance(a, ClosePosition | Roll)]
    for name in ids + labels:
        if (ids + labels).count(name) > 1:
            raise InvalidValueError(field.name, name, "names two actions; ids must be unique")
    for action in value:
        if isinstance(action, CancelIntent) and action.intent_id not in ids:
            raise InvalidValueError(field.name, action.intent_id, "cancels an unknown intent")


@attrs.frozen(kw_only=True)
class Scenario:
    """A simulated exchange, Hydra's configuration and what happens when.

    ``horizon``: seconds to run after the last action; None runs until every intent has
    finished (at most ``max_duration`` seconds after the exchange opened). A roll always runs
    to its end. Then Hydra closes as a program would: ``shutdown.drain_timeout``, then cancel.
    """

    name: str = attrs.field(validator=non_empty_str)
    description: str = ""
    seed: int = 1
    sim: SimParams
    config: HydraConfig = HydraConfig()
    actions: tuple[Action, ...] = attrs.field(converter=_actions, validator=_unique_ids)
    horizon: float | None = attrs.field(default=None, validator=_horizon)
    max_duration: float = attrs.field(default=SESSION_SECONDS, validator=positive_seconds)

    @property
    def summary_line(self) -> str:
        """The first line of the description."""
        lines = self.description.strip().splitlines()
        return lines[0].strip() if lines else ""
