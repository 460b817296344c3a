"""The healing cycle of the slippage model, pure and deterministic on a list of fills:
detect → hypothesise → experiment → promote or roll back, each step a value the journal keeps.

- *detect*: the newest fills the current version predicted (at most ``window``) against its
  baseline: the residuals (actual − predicted) on the held-out fills it was judged on when it
  was made, or, for a version without enough of them (``v1``), its own oldest fills. Drift is a
  two-sample Kolmogorov–Smirnov test at p < ``drift_p_value`` (a distribution shift), or a
  recent RMSE more than ``rmse_margin`` above the baseline's (an accuracy drop), significant at
  the same p by a one-sided F test of the mean squares, so that noise alone calls no drift.
  Each window needs ``min_fills`` fills, or nothing is called.
- *hypothesise*: on the older part of the recent window, per symbol and policy, a least-squares
  fit of the residuals on the terms the fills carry (a bias; the crossing cost and the impact
  term when stamped, and when they vary) names what changed: bias, spread cost, impact slope.
- *experiment*: the candidate is the current version with those corrections; both are judged
  on the newest ``holdout_share`` of the window, held out of the fit (walk-forward).
- *promote or roll back*: the candidate becomes current only when its held-out RMSE is at most
  (1 − ``promote_margin``) × the current version's; otherwise it is rolled back.

Each step, and the whole cycle, is written as JSON (a healing note's payload, ``model heal
--json``) by the converter (`hydra._converter.unstructure`); the hooks registered here state
only the computed fields (a detection's ``drift``, a correction's ``key``).

scipy does the statistics (`scipy.stats.ks_2samp`, `scipy.stats.f`, `scipy.linalg.lstsq`).
Pure (no I/O, no clock, no randomness), but outside `hydra._core`: importing scipy loads
``subprocess`` and ``socket``, which the core's import check rightly refuses.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import warnings
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs
import numpy as np
import scipy.linalg
import scipy.stats

from ._converter import converter, fields_out, override
from ._core._model_versions import ModelVersion, Weights, model_key, next_version_id, rmse
from ._enums import Policy
from ._settings import SlippageSettings

FILLS_PER_TERM = 5
"""Training fills a symbol and policy needs per fitted term; with fewer, only its bias is fitted
(and with fewer than this, nothing)."""

BIAS, SPREAD, IMPACT = "bias", "spread_cost", "impact_slope"


def _decimal(value: float) -> Decimal:
    """A fitted number as a Decimal, to six places (past anything a bps figure means)."""
    return Decimal(f"{value:.6f}")


def _floats(values: Sequence[Decimal]) -> list[float]:
    return [float(v) for v in values]


@attrs.frozen(kw_only=True)
class HealingFill:
    """One fill as the cycle sees it: what the model said, what happened, and the terms its
    prediction weighed (None for a fill predicted before predictions were stamped)."""

    symbol: str
    policy: Policy
    time: dt.datetime
    version_id: str
    predicted_bps: Decimal
    actual_bps: Decimal
    crossing_bps: Decimal | None = None
    impact_bps: Decimal | None = None

    @property
    def key(self) -> str:
        return model_key(self.symbol, self.policy)

    @property
    def residual_bps(self) -> Decimal:
        return self.actual_bps - self.predicted_bps


# --- detect ----------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class LeftOut:
    """How many of the journal's fills the cycle did not judge, and why (None: none left out)."""

    count: int = 0
    reason: str | None = None

    @property
    def sentence(self) -> str:
        """The words a detection's summary ends with ("" when none was left out)."""
        if not self.count:
            return ""
        return f"; {self.count} fill{'' if self.count == 1 else 's'} left out: {self.reason}"


@attrs.frozen(kw_only=True)
class Detection:
    """The drift check of one version: its windows, the two tests, the verdict, and the
    journal's fills it left out."""

    version_id: str
    baseline: str  # "heldout" (the version's own held-out fills) or "oldest_fills"
    baseline_count: int
    recent_count: int
    recent_from: dt.datetime | None
    recent_to: dt.datetime | None
    ks_statistic: float | None
    ks_p_value: float | None
    baseline_rmse_bps: Decimal | None
    recent_rmse_bps: Decimal | None
    rmse_p_value: float | None
    distribution_shift: bool
    accuracy_drop: bool
    left_out: LeftOut
    summary: str

    @property
    def drift(self) -> bool:
        return self.distribution_shift or self.accuracy_drop


_detection_fields = fields_out(Detection, summary=override(omit=True))


def _detection_out(detection: Detection) -> dict[str, Any]:
    """A detection as the converter writes it, with ``drift`` (computed: either test called
    it) stated by hand before the summary."""
    return {**_detection_fields(detection), "drift": detection.drift,
            "summary": detection.summary}


converter.register_unstructure_hook(Detection, _detection_out)


def windows(fills: Sequence[HealingFill], version: ModelVersion, *,
            settings: SlippageSettings) -> tuple[str, list[Decimal], list[HealingFill]]:
    """(what the baseline is, its residuals, the recent fills) for ``version``: see the module
    docstring. The recent fills are oldest first."""
    own = sorted((f for f in fills if f.version_id == version.version_id), key=lambda f: f.time)
    window = settings.healing.window
    if len(version.heldout_residuals) >= settings.min_fills:
        return "heldout", list(version.heldout_residuals), own[-window:]
    recent = own[len(own) - min(window, len(own) // 2):]
    older = own[:len(own) - len(recent)][:window]
    return "oldest_fills", [f.residual_bps for f in older], recent


def detect(fills: Sequence[HealingFill], version: ModelVersion, *,
           settings: SlippageSettings, left_out: LeftOut = LeftOut()) -> Detection:
    """Whether the residuals of ``version``'s recent fills drifted from its baseline;
    ``left_out``: the fills the journal holds that ``fills`` leaves out, said in the summary."""
    kind, baseline, recent = windows(fills, version, settings=settings)
    residuals = [f.residual_bps for f in recent]
    found = functools.partial(
        Detection, version_id=version.version_id, baseline=kind, baseline_count=len(baseline),
        recent_count=len(recent), recent_from=recent[0].time if recent else None,
        recent_to=recent[-1].time if recent else None, baseline_rmse_bps=rmse(baseline),
        recent_rmse_bps=rmse(residuals), left_out=left_out)
    if min(len(baseline), len(residuals)) < settings.min_fills:
        return found(ks_statistic=None, ks_p_value=None, rmse_p_value=None,
                     distribution_shift=False, accuracy_drop=False,
                     summary=f"not enough fills: {len(baseline)} baseline and "
                     f"{len(residuals)} recent, {settings.min_fills} needed in each"
                     + left_out.sentence)
    with warnings.catch_warnings():
        # Heavily tied residuals (a quiet market's identical fills) defeat the exact p-value:
        # scipy falls back to the asymptotic one, as it should, and warns that it did.
        warnings.filterwarnings("ignore", "ks_2samp: Exact calculation unsuccessful",
                                RuntimeWarning)
        ks = scipy.stats.ks_2samp(_floats(baseline), _floats(residuals))
    ks_p, ks_stat = float(ks.pvalue), float(ks.statistic)
    rmse_p = _rmse_p_value(baseline, residuals, margin=settings.healing.rmse_margin)
    alpha = settings.healing.drift_p_value
    shift, drop = ks_p < alpha, rmse_p < alpha
    return found(ks_statistic=ks_stat, ks_p_value=ks_p, rmse_p_value=rmse_p,
                 distribution_shift=shift, accuracy_drop=drop,
                 summary=f"{'drift' if shift or drop else 'no drift'}: KS p={ks_p:.4f}, RMSE "
                 f"{rmse(baseline):.2f} -> {rmse(residuals):.2f} bps (a rise of more than "
                 f"{settings.healing.rmse_margin:.0%}: p={rmse_p:.4f}), {len(baseline)} "
                 f"baseline and {len(residuals)} recent fills" + left_out.sentence)


def _rmse_p_value(baseline: Sequence[Decimal], recent: Sequence[Decimal], *,
                  margin: float) -> float:
    """One-sided p-value that the recent mean square exceeds (1 + margin)² × the baseline's:
    under that boundary their ratio is F-distributed with (n_recent, n_baseline) degrees."""
    base = float(np.mean(np.square(_floats(baseline))))
    now = float(np.mean(np.square(_floats(recent))))
    if base == 0:
        return 0.0 if now > 0 else 1.0
    ratio = now / base / (1 + margin) ** 2
    return float(scipy.stats.f.sf(ratio, len(recent), len(baseline)))


# --- hypothesise -----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Correction:
    """What the fit says one symbol and policy needs: a change to each weight, and each term's
    mean effect over the fills it was fitted on (bps)."""

    symbol: str
    policy: Policy
    fills: int
    bias_bps: Decimal = Decimal(0)
    spread_weight: Decimal = Decimal(0)
    impact_weight: Decimal = Decimal(0)
    effects: Mapping[str, Decimal] = attrs.field(factory=dict)

    @property
    def key(self) -> str:
        return model_key(self.symbol, self.policy)

    def adjustment(self, fill: HealingFill) -> Decimal:
        """How much this correction moves ``fill``'s prediction (bps)."""
        return (self.bias_bps + self.spread_weight * (fill.crossing_bps or 0)
                + self.impact_weight * (fill.impact_bps or 0))

    def applied(self, weights: Weights) -> Weights:
        return Weights(bias_bps=weights.bias_bps + self.bias_bps,
                       spread_weight=weights.spread_weight + self.spread_weight,
                       impact_weight=weights.impact_weight + self.impact_weight)


_correction_fields = fields_out(Correction)


def _correction_out(correction: Correction) -> dict[str, Any]:
    """A correction as the converter writes it, led by its ``key`` (computed: the symbol and
    policy its weights are kept under) stated by hand."""
    return {"key": correction.key, **_correction_fields(correction)}


converter.register_unstructure_hook(Correction, _correction_out)


@attrs.frozen(kw_only=True)
class Hypothesis:
    """What changed, per symbol and policy: the corrections fitted and the terms they name (a
    term is named when its mean effect is at least ``max_bias_bps``)."""

    corrections: tuple[Correction, ...]
    changes: tuple[str, ...]
    summary: str


def _terms(fills: Sequence[HealingFill]) -> list[tuple[str, list[float]]]:
    """The fitted terms and their columns: the bias always; the crossing cost and the impact
    term when every fill carries them, they vary, and there are fills enough."""
    terms = [(BIAS, [1.0] * len(fills))]
    for name, values in ((SPREAD, [f.crossing_bps for f in fills]),
                         (IMPACT, [f.impact_bps for f in fills])):
        column = [float(v) for v in values if v is not None]
        if len(column) == len(fills) and np.ptp(column) > 0:
            terms.append((name, column))
    return terms[:max(1, len(fills) // FILLS_PER_TERM)]


def fit_correction(symbol: str, policy: Policy, fills: Sequence[HealingFill]) -> Correction:
    """The least-squares correction of one symbol and policy's residuals over ``fills``."""
    terms = _terms(fills)
    matrix = np.column_stack([column for _, column in terms])
    coefficients, *_ = scipy.linalg.lstsq(matrix, _floats([f.residual_bps for f in fills]))
    fitted = {name: _decimal(c) for (name, _), c in zip(terms, coefficients, strict=True)}
    effects = {name: _decimal(float(c) * float(np.mean(column)))
               for (name, column), c in zip(terms, coefficients, strict=True)}
    return Correction(symbol=symbol, policy=policy, fills=len(fills), bias_bps=fitted[BIAS],
                      spread_weight=fitted.get(SPREAD, Decimal(0)),
                      impact_weight=fitted.get(IMPACT, Decimal(0)), effects=effects)


def hypothesise(training: Sequence[HealingFill], *, settings: SlippageSettings) -> Hypothesis:
    """Per symbol and policy with at least `FILLS_PER_TERM` training fills: the correction its
    residuals ask for, and the terms that moved by ``max_bias_bps`` or more."""
    groups: dict[tuple[str, Policy], list[HealingFill]] = {}
    for fill in sorted(training, key=lambda f: f.key):  # stable: each group stays in order
        groups.setdefault((fill.symbol, fill.policy), []).append(fill)
    corrections = tuple(fit_correction(symbol, policy, group)
                        for (symbol, policy), group in groups.items()
                        if len(group) >= FILLS_PER_TERM)
    changes = tuple(f"{c.key}: {term.replace('_', ' ')} {effect:+.2f} bps"
                    for c in corrections for term, effect in c.effects.items()
                    if abs(effect) >= settings.max_bias_bps)
    summary = ("; ".join(changes) if changes else
               f"no term moved by {settings.max_bias_bps} bps or more: the errors spread out")
    return Hypothesis(corrections=corrections, changes=changes, summary=summary)


# --- experiment ------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Experiment:
    """The candidate fitted on the training fills, and both versions on the held-out ones."""

    candidate: ModelVersion
    training_count: int
    heldout_count: int
    heldout_from: dt.datetime
    current_rmse_bps: Decimal
    candidate_rmse_bps: Decimal


def split(recent: Sequence[HealingFill], *, settings: SlippageSettings
          ) -> tuple[list[HealingFill], list[HealingFill]]:
    """(training, held out): the newest ``holdout_share`` of ``recent`` (at least one) is held
    out; the rest, all older, is for fitting."""
    held = max(1, round(len(recent) * settings.healing.holdout_share))
    return list(recent[:len(recent) - held]), list(recent[len(recent) - held:])


def experiment(version: ModelVersion, hypothesis: Hypothesis, *, training_count: int,
               heldout: Sequence[HealingFill], detection: Detection,
               now: dt.datetime) -> Experiment:
    """``version`` corrected as ``hypothesis`` says, as a candidate version, and both judged on
    ``heldout``."""
    by_key = {c.key: c for c in hypothesis.corrections}
    residuals = tuple(f.residual_bps - (by_key[f.key].adjustment(f) if f.key in by_key else 0)
                      for f in heldout)
    weights = dict(version.weights)
    for c in hypothesis.corrections:
        weights[c.key] = c.applied(version.weights_for(c.symbol, c.policy))
    current, candidate = rmse([f.residual_bps for f in heldout]), rmse(residuals)
    assert current is not None and candidate is not None
    return Experiment(
        candidate=ModelVersion(
            version_id=next_version_id(version.version_id), created_at=now,
            parent=version.version_id, weights=weights, heldout_residuals=residuals,
            reason=f"healing: {detection.summary}; hypothesis: {hypothesis.summary}"),
        training_count=training_count, heldout_count=len(heldout),
        heldout_from=heldout[0].time, current_rmse_bps=current, candidate_rmse_bps=candidate)


# --- promote or roll back --------------------------------------------------------------------


class Outcome(enum.StrEnum):
    PROMOTED = "promoted"
    ROLLED_BACK = "rolled_back"


@attrs.frozen(kw_only=True)
class Decision:
    """Whether the candidate became current, and the held-out numbers it was judged by."""

    outcome: Outcome
    current_id: str  # the version current after the decision
    candidate_id: str
    current_rmse_bps: Decimal
    candidate_rmse_bps: Decimal
    needed_rmse_bps: Decimal
    summary: str


def decide(version: ModelVersion, trial: Experiment, *, settings: SlippageSettings) -> Decision:
    """Promote the candidate when it beats ``version`` on held-out RMSE by the margin."""
    margin = Decimal(repr(settings.healing.promote_margin))
    needed = trial.current_rmse_bps * (1 - margin)
    candidate_rmse = trial.candidate_rmse_bps
    better = candidate_rmse <= needed and candidate_rmse < trial.current_rmse_bps
    outcome = Outcome.PROMOTED if better else Outcome.ROLLED_BACK
    candidate = trial.candidate.version_id
    return Decision(
        outcome=outcome, current_id=candidate if better else version.version_id,
        candidate_id=candidate, current_rmse_bps=trial.current_rmse_bps,
        candidate_rmse_bps=trial.candidate_rmse_bps, needed_rmse_bps=needed,
        summary=f"{candidate} {outcome.value.replace('_', ' ')}: held-out RMSE "
        f"{trial.candidate_rmse_bps:.2f} bps against {version.version_id}'s "
        f"{trial.current_rmse_bps:.2f} (needed at most {needed:.2f}) over "
        f"{trial.heldout_count} held-out fills")


# --- the whole cycle -------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class HealingCycle:
    """One run of the cycle: the detection, and when it found drift, the other three steps."""

    detection: Detection
    hypothesis: Hypothesis | None = None
    experiment: Experiment | None = None
    decision: Decision | None = None

    @property
    def completed(self) -> bool:
        """Whether it got to a decision (promoted or rolled back)."""
        return self.decision is not None


def run_cycle(fills: Sequence[HealingFill], version: ModelVersion, *,
              settings: SlippageSettings, now: dt.datetime,
              left_out: LeftOut = LeftOut()) -> HealingCycle:
    """The cycle over ``fills`` for the current ``version``; ``now`` stamps a candidate;
    ``left_out``: the journal's fills not among ``fills`` (the detection says so)."""
    detection = detect(fills, version, settings=settings, left_out=left_out)
    if not detection.drift:
        return HealingCycle(detection=detection)
    _, _, recent = windows(fills, version, settings=settings)
    training, heldout = split(recent, settings=settings)
    hypothesis = hypothesise(training, settings=settings)
    trial = experiment(version, hypothesis, training_count=len(training), heldout=heldout,
                       detection=detection, now=now)
    return HealingCycle(detection=detection, hypothesis=hypothesis, experiment=trial,
                        decision=decide(version, trial, settings=settings))
