"""The fill report: predicted against actual slippage per fill and per intent, and how well the
pre-trade model agrees with what happened (`hydra._core._slippage.reconcile`).

Pure: it reads `JournalRecord` values and returns a `FillReport`; nothing here opens a file.

What is selected: an intent is in the report when it was journaled at or after ``since`` and
belongs to ``strategy`` (when given); a fill is in it when its intent is, or — for a fill with
no journaled intent, which has no strategy — when no strategy is asked for and it executed at or
after ``since``. An intent's average price and shortfall always use all of its fills.

Each intent says how it ended: ``filled``, the reason its ``intent_finished`` (or
``intent_interrupted``) note gives, or that the journal has no end for it (still working, or
stopped by a crash). Its cost is in dollars and in bps of the notional it traded at the
arrival mid: the shortfall, the commissions (each execution's ``commission`` note, else what
the fill carried) and both together. The model is called calibrated only over at least
``slippage.min_fills`` fills.

Two predictions, two verdicts. A fill's *own prediction* is the model version's for that fill
(the aggressiveness its order's limit had against the crowd's quote before it, the fill's own
quantity: `hydra._fill_prediction`): it is the fill's ``predicted_bps``, the point the scatter
plots, the healing cycle's residual, and the reconciler's verdict over it (``slippage``) is the
one the gate judges, for it judges the model the cycle fits. An intent's *pre-trade estimate*
is made once, when it arrives (its policy's expected aggressiveness, its whole quantity): the
intents table shows it, every fill of the intent carries it (``pre_trade_bps``), and the
reconciler's verdict over it is ``pre_trade_slippage``. A fill journaled before fills had their
own predictions shows its order's pre-trade estimate as its prediction (``predicted_by``
None), as it did before.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from ._codec import fill_prediction_from_json
from ._contracts import ContractSpec
from ._converter import fields_out, from_json, override, unstructure
from ._core._model_versions import FillPrediction
from ._core._slippage import SlippageStats, reconcile, shortfall_bps
from ._enums import NoteKind, Side
from ._errors import JournalNoteError
from ._journal import EventKind
from ._journal_records import JournalRecord, unreadable_as_format_error
from ._orders import Fill
from ._settings import SlippageSettings

PLACES = Decimal("0.000001")
"""Computed averages and bps are rounded to six places; journaled values are shown as stored."""


def _decimal(value: Any) -> Decimal | None:
    """A journaled number; None when absent, not a number or not finite (a damaged or
    hand-mended journal's "abc", NaN or infinity measures nothing, and would stop every
    verdict over the fills)."""
    try:
        number = None if value is None else Decimal(value)
    except (ArithmeticError, TypeError, ValueError):  # decimal's InvalidOperation is the first
        return None
    return number if number is not None and number.is_finite() else None


def tidy(value: Decimal) -> Decimal:
    """``value`` rounded to six places, without trailing zeros (and never in E notation)."""
    value = value.quantize(PLACES)
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def _a_price(price: Decimal) -> bool:
    """Whether ``price`` can be a fill's price: a broker anomaly's (0, NaN) is journaled as
    the broker gave it, and leaves its intent without an average price or shortfall."""
    return price.is_finite() and price > 0


def _like_prices(average: Decimal, fills: Sequence[FillLine]) -> Decimal:
    """``average`` with at least as many decimal places as the fill prices (400.00, not 400)."""
    places = min(int(f.fill.price.as_tuple().exponent) for f in fills)
    exponent = int(average.as_tuple().exponent)
    return average.quantize(Decimal(1).scaleb(places)) if exponent > places else average


def _aware(when: dt.datetime) -> dt.datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def _difference(actual: Decimal | None, predicted: Decimal | None) -> Decimal | None:
    return None if actual is None or predicted is None else actual - predicted


@attrs.frozen(kw_only=True)
class FillLine:
    """One journaled fill with the slippage predicted for it and the slippage it had:
    ``predicted_bps`` is its own prediction, by the version ``predicted_by``, at the
    ``aggressiveness`` its limit had (None for a fill journaled before fills had their own:
    then it is its order's pre-trade estimate); ``pre_trade_bps`` is its intent's."""

    fill: Fill
    intent_id: str | None
    strategy: str | None
    recorded_at: dt.datetime
    predicted_bps: Decimal | None
    actual_bps: Decimal | None
    pre_trade_bps: Decimal | None = None
    predicted_by: str | None = None
    aggressiveness: Decimal | None = None

    @property
    def error_bps(self) -> Decimal | None:
        """actual − predicted: positive when the fill cost more than the model said."""
        return _difference(self.actual_bps, self.predicted_bps)


@attrs.frozen(kw_only=True)
class IntentLine:
    """One journaled intent: what was asked, what filled, and its shortfall against the arrival
    mid beside the slippage predicted for it (None where it cannot be known)."""

    intent_id: str
    strategy: str
    symbol: str
    side: Side
    quantity: int
    recorded_at: dt.datetime
    arrival_mid: Decimal | None
    predicted_bps: Decimal | None
    filled: int
    average_price: Decimal | None
    actual_bps: Decimal | None
    ended: str  # "filled", the journaled reason it ended short, or that no end is journaled
    slippage_usd: Decimal | None = None  # the shortfall in dollars (positive: cost)
    commission_usd: Decimal = Decimal(0)
    notional_usd: Decimal | None = None  # the filled quantity's worth at the arrival mid

    @property
    def error_bps(self) -> Decimal | None:
        return _difference(self.actual_bps, self.predicted_bps)

    @property
    def cost_usd(self) -> Decimal | None:
        """Shortfall and commissions together, in dollars (None when unfilled)."""
        return None if self.slippage_usd is None else self.slippage_usd + self.commission_usd

    @property
    def cost_bps(self) -> Decimal | None:
        """Shortfall and commissions together, in bps of the notional at the arrival mid."""
        cost, notional = self.cost_usd, self.notional_usd
        return None if cost is None or not notional else tidy(cost / notional * 10_000)


@attrs.frozen(kw_only=True)
class FillReport:
    """The selected intents and fills, oldest first, and the reconciler's verdict over the fills
    that carry both a predicted and an actual slippage."""

    intents: tuple[IntentLine, ...]
    fills: tuple[FillLine, ...]
    # The reconciler's own verdicts, whatever the number of fills: over the fills' own
    # predictions (the gate's), and over their intents' pre-trade estimates.
    slippage: SlippageStats
    pre_trade_slippage: SlippageStats
    settings: SlippageSettings

    @property
    def judged(self) -> SlippageStats:
        """The verdict the report gives on the fills' own predictions: calibrated only over
        ``min_fills`` fills or more (two fills that agree prove nothing)."""
        return self._judged(self.slippage)

    @property
    def pre_trade_judged(self) -> SlippageStats:
        """The same verdict on the intents' pre-trade estimates."""
        return self._judged(self.pre_trade_slippage)

    def _judged(self, stats: SlippageStats) -> SlippageStats:
        if stats.count >= self.settings.min_fills:
            return stats
        return attrs.evolve(stats, calibrated=False)


def fill_report(
    records: Iterable[JournalRecord],
    *,
    settings: SlippageSettings,
    since: dt.datetime | None = None,
    strategy: str | None = None,
) -> FillReport:
    """The fill report over ``records`` (a whole journal, in order), selected as the module
    docstring says."""
    lines = FillLines()
    lines.take(records)
    return lines.report(settings=settings, since=since, strategy=strategy)


@attrs.define
class FillLines:
    """The fill report's lines, taken in a few records at a time, in journal order: after
    any series of `take`, `report` is `fill_report` over every record taken (the dashboard
    follows the journal so: each record is read once, and an intent's line is made again
    only when a record about it comes)."""

    _intents: dict[str, JournalRecord] = attrs.Factory(dict)  # the first of each intent id
    _fills: list[FillLine] = attrs.Factory(list)
    _fills_of: dict[str, list[int]] = attrs.Factory(dict)  # intent id → indexes in _fills
    _intent_of: dict[str, str] = attrs.Factory(dict)  # execution id → intent id
    _commissions: dict[str, Decimal] = attrs.Factory(dict)  # each execution's latest note
    _ends: dict[str, str] = attrs.Factory(dict)  # how each intent ended short
    _lines: dict[str, IntentLine] = attrs.Factory(dict)

    def take(self, records: Iterable[JournalRecord]) -> bool:
        """Take in ``records``, the journal's next ones; False when none of them changes the
        report (no intent, fill, commission or end among them: a status, a ladder step)."""
        touched: set[str] = set()
        for record in records:
            with _read_as(record):
                touched |= self._taken(record)
        for key in touched & self._intents.keys():
            with _read_as(self._intents[key]):
                self._lines[key] = _intent_line(
                    self._intents[key], [self._fills[i] for i in self._fills_of.get(key, [])],
                    commissions=self._commissions, end=self._ends.get(key))
        return bool(touched)

    def _taken(self, record: JournalRecord) -> set[str]:
        """Take in one record; the intents whose line it changes."""
        key = record.intent_id
        if record.kind is EventKind.INTENT and key is not None and key not in self._intents:
            self._intents[key] = record
            for index in self._fills_of.get(key, []):  # fills journaled before their intent
                self._fills[index] = attrs.evolve(
                    self._fills[index], strategy=record.payload["intent"]["strategy"])
            return {key}
        if record.kind is EventKind.FILL:
            line = _fill_line(record, self._intents.get(key or ""))
            self._fills_of.setdefault(key or "", []).append(len(self._fills))
            self._fills.append(line)
            self._intent_of[line.fill.execution_id] = key or ""
            return {key or ""}
        if record.is_note(NoteKind.COMMISSION):
            execution = str(record.payload["execution_id"])
            self._commissions[execution] = Decimal(str(record.payload["commission"]))
            return {self._intent_of.get(execution, "")}
        if record.is_note(NoteKind.INTENT_FINISHED) or record.is_note(
                NoteKind.INTENT_INTERRUPTED):
            ended = record.payload.get("intent_id")
            if isinstance(ended, str):
                self._ends[ended] = str(record.payload.get("reason")
                                        or "ended short, no reason journaled")
                return {ended}
        return set()

    @property
    def fills(self) -> Sequence[FillLine]:
        """Every fill line so far, one per fill record taken, in journal order."""
        return self._fills

    def report(self, *, settings: SlippageSettings, since: dt.datetime | None = None,
               strategy: str | None = None) -> FillReport:
        """The fill report over every record taken, selected as the module docstring says."""
        chosen = [line for line in (self._lines[key] for key in self._intents)
                  if _chosen(line.recorded_at, line.strategy, since, strategy)]
        chosen_ids = {i.intent_id for i in chosen}
        chosen_fills = [f for f in self._fills if f.intent_id in chosen_ids or (
            f.strategy is None and _chosen(_aware(f.fill.time), None, since, strategy))]
        return FillReport(intents=tuple(chosen), fills=tuple(chosen_fills),
                          slippage=reconcile(slippage_pairs(chosen_fills), settings=settings),
                          pre_trade_slippage=reconcile(pre_trade_pairs(chosen_fills),
                                                       settings=settings),
                          settings=settings)


def _read_as(record: JournalRecord) -> contextlib.AbstractContextManager[None]:
    """A record that does not read as its kind (a fill that lost its side, a price that is
    no number) as a `JournalFormatError` naming its event."""
    return unreadable_as_format_error(
        f"event {record.seq}", lambda what: f"a {record.kind.value} record that does not "
                                            f"read: {what}")


def slippage_pairs(fills: Iterable[FillLine]) -> list[tuple[Decimal, Decimal]]:
    """(predicted, actual) of every fill that has both, its own prediction where it has one:
    one point per fill, and what the gate's verdict compares."""
    return [(f.predicted_bps, f.actual_bps) for f in fills
            if f.predicted_bps is not None and f.actual_bps is not None]


def pre_trade_pairs(fills: Iterable[FillLine]) -> list[tuple[Decimal, Decimal]]:
    """(its intent's pre-trade estimate, actual) of every fill that has both."""
    return [(f.pre_trade_bps, f.actual_bps) for f in fills
            if f.pre_trade_bps is not None and f.actual_bps is not None]


def _chosen(when: dt.datetime, owner: str | None, since: dt.datetime | None,
            strategy: str | None) -> bool:
    return (since is None or when >= since) and (strategy is None or owner == strategy)


def _fill_line(record: JournalRecord, intent: JournalRecord | None) -> FillLine:
    payload = record.payload
    pre_trade = _decimal(payload.get("predicted_bps"))
    told = payload.get("fill_prediction")  # None: journaled before fills had their own
    own = None if told is None else _own_prediction(told)
    return FillLine(
        fill=from_json(payload["fill"], Fill),
        intent_id=record.intent_id,
        strategy=None if intent is None else intent.payload["intent"]["strategy"],
        recorded_at=record.recorded_at,
        predicted_bps=pre_trade if told is None else None if own is None else own.prediction.bps,
        actual_bps=_decimal(payload.get("actual_bps")),
        pre_trade_bps=pre_trade,
        predicted_by=None if own is None else own.prediction.version_id,
        aggressiveness=None if own is None else own.aggressiveness,
    )


def _own_prediction(told: Any) -> FillPrediction | None:
    """A fill's own prediction as its payload keeps it; None when it lost a field or holds a
    wrong one (a damaged or hand-mended journal): the fill shows no prediction."""
    try:
        return fill_prediction_from_json(told)
    except JournalNoteError:
        return None


NOT_ENDED = "no end journaled (still working, or stopped before it ended)"


def _intent_line(record: JournalRecord, fills: Sequence[FillLine], *,
                 commissions: Mapping[str, Decimal], end: str | None) -> IntentLine:
    """The intent's line over its fills on its own side: a bracket's exits (its take-profit
    and stop, journaled under its intent) close the position its entry opened, and are no
    part of what the intent filled or of its shortfall."""
    intent: Mapping[str, Any] = record.payload["intent"]
    side = Side(intent["side"])
    fills = [f for f in fills if f.fill.side is side]
    point_value = from_json(intent["contract"], ContractSpec).point_value
    arrival_mid = _decimal(record.payload.get("arrival_mid"))
    filled = sum(f.fill.quantity for f in fills)
    average = actual = slippage = notional = None
    if filled and all(_a_price(f.fill.price) for f in fills):  # else a broker anomaly's fill
        exact = sum((f.fill.price * f.fill.quantity for f in fills), Decimal(0)) / filled
        average = _like_prices(tidy(exact), fills)
        if arrival_mid is not None and arrival_mid > 0:
            actual = tidy(shortfall_bps(side, average_price=exact, arrival_mid=arrival_mid))
            notional = arrival_mid * filled * point_value
            slippage = tidy(side.sign * (exact - arrival_mid) * filled * point_value)
    commission = sum((commissions.get(f.fill.execution_id, f.fill.commission) for f in fills),
                     Decimal(0))
    return IntentLine(
        intent_id=intent["intent_id"],
        strategy=intent["strategy"],
        symbol=intent["contract"]["symbol"],
        side=side,
        quantity=intent["quantity"],
        recorded_at=record.recorded_at,
        arrival_mid=arrival_mid,
        predicted_bps=_decimal(record.payload.get("predicted_bps")),
        filled=filled,
        average_price=average,
        actual_bps=actual,
        ended="filled" if filled >= intent["quantity"] else end or NOT_ENDED,
        slippage_usd=slippage,
        commission_usd=tidy(commission),
        notional_usd=notional,
    )


# --- as JSON ---------------------------------------------------------------------------------


def stats_to_json(stats: SlippageStats, settings: SlippageSettings) -> dict[str, Any]:
    """The reconciler's verdict with the thresholds it was judged by; decimals as strings
    (bias and RMSE None over no fills: there is nothing to measure). Stated by hand, for
    every figure is computed (rounded, or None by the count) or another value's."""
    plain: dict[str, Any] = unstructure({
        "count": stats.count,
        "bias_bps": tidy(stats.bias_bps) if stats.count else None,
        "rmse_bps": tidy(stats.rmse_bps) if stats.count else None,
        "correlation": None if stats.correlation is None else round(stats.correlation, 6),
        "calibrated": stats.calibrated,
        "max_bias_bps": settings.max_bias_bps,
        "min_correlation": settings.min_correlation,
        "min_fills": settings.min_fills,
    })
    return plain


def report_to_json(report: FillReport) -> dict[str, Any]:
    """``report`` as plain JSON-able data (`hydra._converter`): decimals as strings (exact),
    times in ISO 8601; its verdicts are the judged ones (computed: calibrated only over
    ``min_fills``), not the attributes as they are."""
    plain: dict[str, Any] = unstructure({
        "intents": [_intent_json(i) for i in report.intents],
        "fills": [_fill_json(f) for f in report.fills],
        "slippage": stats_to_json(report.judged, report.settings),
        "pre_trade_slippage": stats_to_json(report.pre_trade_judged, report.settings),
    })
    return plain


_intent_fields = fields_out(IntentLine, notional_usd=override(omit=True))


def _intent_json(line: IntentLine) -> dict[str, Any]:
    """An intent's line as the converter writes it, less its notional (the denominator of
    ``cost_bps``, not shown), and with its costs stated by hand: they are computed."""
    return {**_intent_fields(line), "cost_usd": unstructure(line.cost_usd),
            "cost_bps": unstructure(line.cost_bps)}


def _fill_json(line: FillLine) -> dict[str, Any]:
    """A fill's line: the fill's own fields the report shows beside the line's, picked by
    hand in the order the report has always printed them (the rest of the fill and when it
    was journaled are left out)."""
    fill = line.fill
    return {
        "execution_id": fill.execution_id, "client_order_id": fill.client_order_id,
        "intent_id": line.intent_id, "strategy": line.strategy, "symbol": fill.symbol,
        "side": fill.side, "quantity": fill.quantity, "price": fill.price, "time": fill.time,
        "predicted_bps": line.predicted_bps, "actual_bps": line.actual_bps,
        "predicted_by": line.predicted_by, "aggressiveness": line.aggressiveness,
        "pre_trade_bps": line.pre_trade_bps,
    }


# --- as text ---------------------------------------------------------------------------------

NONE = "-"


def _bps(value: Decimal | None) -> str:
    return NONE if value is None else f"{value:+.2f}"


def _plain(value: object) -> str:
    return NONE if value is None else str(value)


def _share(value: Decimal | None) -> str:
    return NONE if value is None else f"{value:.2f}"


def utc_minute(when: dt.datetime) -> str:
    """``when`` in UTC to the minute: ``2026-03-02 14:30``."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, left: int = 0,
          text_last: bool = False) -> list[str]:
    """Columns padded to their widest cell: the first ``left`` columns flush left, the rest
    (numbers) flush right, but for a last column of text (``text_last``), flush left."""
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]
    last = len(widths) - 1 if text_last else None

    def line(cells: Sequence[str]) -> str:
        padded = [c.ljust(w) if i < left or i == last else c.rjust(w)
                  for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        return "  ".join(padded).rstrip()

    return [line(headers), *(line(row) for row in rows)]


def verdict(stats: SlippageStats, settings: SlippageSettings) -> str:
    """One line: the reconciler's numbers and whether the model is calibrated."""
    if not stats.count:
        return ("no fills with both a predicted and an actual slippage: nothing to judge -> "
                "NOT calibrated")
    state = "calibrated" if stats.calibrated else "NOT calibrated"
    return f"{_measured(stats)} -> {state} ({_limits(settings)})"


def _measured(stats: SlippageStats) -> str:
    correlation = NONE if stats.correlation is None else f"{stats.correlation:.3f}"
    return (f"{stats.count} fills with predicted and actual slippage: bias "
            f"{_bps(stats.bias_bps)} bps, RMSE {stats.rmse_bps:.2f} bps, correlation "
            f"{correlation}")


def _limits(settings: SlippageSettings) -> str:
    return (f"needs |bias| <= {settings.max_bias_bps} bps and correlation >= "
            f"{settings.min_correlation}")


def _usd(value: Decimal | None) -> str:
    return NONE if value is None else f"{value:,.2f}"


def costs(intents: Sequence[IntentLine]) -> str:
    """One line: shortfall and commissions over the filled intents, in dollars and in bps of
    the notional they traded at the arrival mid."""
    priced = [i for i in intents if i.cost_usd is not None and i.notional_usd]
    if not priced:
        return "no filled intent with an arrival mid: no cost to show"
    slippage = sum((i.slippage_usd or Decimal(0) for i in priced), Decimal(0))
    commission = sum((i.commission_usd for i in priced), Decimal(0))
    notional = sum((i.notional_usd or Decimal(0) for i in priced), Decimal(0))
    together = slippage + commission
    return (f"{len(priced)} filled intents: shortfall ${_usd(slippage)} + commissions "
            f"${_usd(commission)} = ${_usd(together)}, {together / notional * 10_000:+.2f} bps "
            f"of ${_usd(notional)} traded")


def calibration(report: FillReport, *, pre_trade: bool = False) -> str:
    """The verdict on the fills' own predictions (the gate's), or with ``pre_trade`` on their
    intents' pre-trade estimates, with how many fills it lacks when too few to call the model
    calibrated."""
    settings = report.settings
    stats = report.pre_trade_slippage if pre_trade else report.slippage
    if not stats.count or stats.count >= settings.min_fills:
        return verdict(report.pre_trade_judged if pre_trade else report.judged, settings)
    within = "within" if stats.calibrated else "outside"
    return (f"{_measured(stats)} -> NOT calibrated: {stats.count} of the {settings.min_fills} "
            f"fills needed (bias and correlation {within} the limits: {_limits(settings)})")


def predicted_by(fill: FillLine) -> str:
    """Who made a fill's prediction: the model version, its order's estimate ("order"), or
    nobody (a fill of an order Hydra did not price: a bracket's exit, an adopted unknown one)."""
    if fill.predicted_by is not None:
        return fill.predicted_by
    return NONE if fill.predicted_bps is None else "order"


def render_report(report: FillReport) -> str:
    """``report`` as readable text: an intents table (each with its cost and how it ended), a
    fills table, the cost and the verdict (times in UTC, slippage in bps, positive = cost)."""
    intent_rows = [
        [utc_minute(i.recorded_at), i.intent_id, i.strategy, i.symbol, i.side.value,
         str(i.quantity), str(i.filled), _plain(i.arrival_mid), _plain(i.average_price),
         _bps(i.predicted_bps), _bps(i.actual_bps), _bps(i.error_bps), _usd(i.slippage_usd),
         _usd(i.commission_usd), _bps(i.cost_bps), i.ended]
        for i in report.intents
    ]
    fill_rows = [
        [utc_minute(f.fill.time), _plain(f.intent_id), f.fill.execution_id, f.fill.side.value,
         str(f.fill.quantity), str(f.fill.price), _bps(f.predicted_bps), _bps(f.actual_bps),
         _bps(f.error_bps), predicted_by(f), _share(f.aggressiveness),
         _bps(f.pre_trade_bps)]
        for f in report.fills
    ]
    slippage = ["predicted", "actual", "diff"]
    return "\n".join([
        f"Intents ({len(report.intents)}; slippage in bps of the arrival mid, positive = cost)",
        *table(["journaled (UTC)", "intent", "strategy", "contract", "side", "qty", "filled",
                "arrival mid", "avg price", *slippage, "slippage $", "comm. $", "cost bps",
                "ended"], intent_rows, left=5, text_last=True),
        "",
        f"Fills ({len(report.fills)}; predicted: the fill's own, by the model version shown at "
        "its limit's aggressiveness, or its order's estimate where the model says \"order\"; "
        "pre-trade: its intent's estimate)",
        *table(["executed (UTC)", "intent", "execution", "side", "qty", "price", *slippage,
                "model", "aggr.", "pre-trade"], fill_rows, left=4),
        "",
        "Cost: " + costs(report.intents),
        "Pre-trade estimates: " + calibration(report, pre_trade=True),
        "Slippage model: " + calibration(report),
    ])
