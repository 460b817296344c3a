"""The scenario model: policies, action order and its validators."""

from __future__ import annotations

import pytest

from hydra import OATS, InvalidValueError, Policy, Side
from hydra._ids import IntentId
from hydra.scenario import (
    CancelIntent,
    KillSwitch,
    Roll,
    RunPolicy,
    Scenario,
    SubmitIntent,
)
from hydra.sim import SimParams


def _intent(at: float, name: str = "a") -> SubmitIntent:
    return SubmitIntent(at=at, intent_id=IntentId(name), contract=OATS, side=Side.BUY,
                        quantity=1)


def test_run_policies_map_to_engine_policies() -> None:
    """hydra leaves routing to Hydra; cross and passive are the baselines."""
    assert RunPolicy.HYDRA.policy is None
    assert RunPolicy.CROSS.policy is Policy.CROSS
    assert RunPolicy.PASSIVE.policy is Policy.PASSIVE


def test_actions_are_kept_in_time_order_stably() -> None:
    """Actions sort by time; two at the same time keep the file's order."""
    scenario = Scenario(name="s", sim=SimParams(), actions=(
        _intent(5, "late"), KillSwitch(at=1), _intent(1, "tie")))
    assert [type(a).__name__ for a in scenario.actions] == ["KillSwitch", "SubmitIntent",
                                                            "SubmitIntent"]
    assert scenario.actions[2].intent_id == "late"  # type: ignore[union-attr]


def test_ids_must_be_unique_and_cancels_must_name_an_intent() -> None:
    """Two actions with one id, or a cancel of an unknown intent, are refused."""
    with pytest.raises(InvalidValueError, match="unique"):
        Scenario(name="s", sim=SimParams(), actions=(_intent(0), _intent(1)))
    with pytest.raises(InvalidValueError, match="unknown intent"):
        Scenario(name="s", sim=SimParams(), actions=(CancelIntent(at=0, intent_id=IntentId("x")),))


def test_a_roll_goes_forward_from_a_month() -> None:
    """A roll needs the month it rolls from and a later month to roll to."""
    may = OATS.for_month("202605")
    with pytest.raises(InvalidValueError, match="after 202605"):
        Roll(at=0, label="r", contract=may, to_month="202603")
    with pytest.raises(InvalidValueError, match="month"):
        Roll(at=0, label="r", contract=OATS, to_month="202607")


@pytest.mark.parametrize("at", [-1, float("inf"), True])
def test_action_times_are_finite_and_not_negative(at: object) -> None:
    """An action's time is seconds from 0 on."""
    with pytest.raises(InvalidValueError, match="at"):
        KillSwitch(at=at)  # type: ignore[arg-type]


def test_the_summary_line_is_the_descriptions_first() -> None:
    """scenario list shows the first line of the description."""
    scenario = Scenario(name="s", description="\nFirst line.\nSecond.", sim=SimParams(),
                        actions=(KillSwitch(at=0),))
    assert scenario.summary_line == "First line."
