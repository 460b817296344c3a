"""The healing cycle's settings (``[slippage.healing]``): when drift is called, how a candidate
model is tried, and by how much it must win to be promoted (`hydra._core._healing`)."""

from __future__ import annotations

from typing import Any

import attrs

from ._errors import InvalidValueError
from ._validate import fraction, positive_int


def _probability(_: Any, field: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise InvalidValueError(field.name, value, "must be a number above 0 and below 1")


@attrs.frozen(kw_only=True)
class HealingSettings:
    """Detect: drift when a two-sample KS test of the recent residuals against the baseline's
    gives p < ``drift_p_value``, or when the recent RMSE is more than ``rmse_margin`` above the
    version's held-out RMSE (significantly, at the same p). Experiment: the newest ``window``
    fills, the newest ``holdout_share`` of them held out. Promote: the candidate's held-out RMSE
    at most (1 − ``promote_margin``) × the current version's."""

    drift_p_value: float = attrs.field(default=0.05, validator=_probability)
    rmse_margin: float = attrs.field(default=0.10, validator=fraction)
    window: int = attrs.field(default=100, validator=positive_int)
    holdout_share: float = attrs.field(default=0.3, validator=_probability)
    promote_margin: float = attrs.field(default=0.05, validator=fraction)
