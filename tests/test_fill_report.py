import datetime as dt
import statistics
from decimal import Decimal
from pathlib import Path

import pytest

from hydra._enums import Side
from hydra._fill_report import (
    FillReport,
    fill_report,
    render_report,
    report_to_json,
    slippage_pairs,
    tidy,
)
from hydra._journal import Journal
from hydra._journal_records import read_journal
from hydra._settings import SlippageSettings
from tests.paper_journal import T0, example_journal, own_predictions_journal

SETTINGS = SlippageSettings()


def _report(tmp_path: Path, *, since: dt.datetime | None = None,
            strategy: str | None = None) -> FillReport:
    paper = example_journal(tmp_path / "j.sqlite")
    return fill_report(read_journal(paper.path), settings=SETTINGS, since=since,
                       strategy=strategy)


def test_intents_average_their_fills_against_the_arrival_mid(tmp_path: Path) -> None:
    """Each intent shows its fills' average price and the shortfall of it against the mid."""
    a, b, c = _report(tmp_path).intents
    assert (a.intent_id, a.filled, a.average_price, a.actual_bps) == (
        "int-a", 4, Decimal("400.125"), Decimal("3.125"))
    assert (b.intent_id, b.filled, b.average_price, b.actual_bps) == (
        "int-b", 4, Decimal("399.5625"), Decimal("10.9375"))
    assert (a.predicted_bps, b.predicted_bps) == (Decimal(2), Decimal(5))
    assert (a.error_bps, b.error_bps) == (Decimal("1.125"), Decimal("5.9375"))
    assert (c.filled, c.average_price, c.actual_bps, c.error_bps) == (0, None, None, None)


def test_fills_carry_their_journaled_slippage(tmp_path: Path) -> None:
    """Each fill shows the predicted and actual slippage journaled with it, and their gap."""
    fills = _report(tmp_path).fills
    assert [f.fill.execution_id for f in fills] == ["e1", "e2", "e3", "e4", "e5"]
    assert [f.error_bps for f in fills] == [Decimal(-1), Decimal(1), Decimal(3), Decimal(5), None]
    assert [f.strategy for f in fills] == ["momo", "momo", "carry", "carry", None]
    assert fills[-1].intent_id is None


def test_reconciler_runs_over_fills_with_both_slippages(tmp_path: Path) -> None:
    """Errors −1, 1, 3, 5 give bias 2 and RMSE 3; at the bias limit the model is calibrated."""
    stats = _report(tmp_path).slippage
    assert (stats.count, stats.bias_bps, stats.rmse_bps) == (4, Decimal(2), Decimal(3))
    predicted, actual = [1, 5.25, 3.25, 7.5], [0, 6.25, 6.25, 12.5]
    assert stats.correlation == pytest.approx(statistics.correlation(predicted, actual))
    assert stats.calibrated


def test_since_keeps_later_intents_and_stray_fills(tmp_path: Path) -> None:
    """--since keeps intents journaled from then on, and fills without an intent made since."""
    report = _report(tmp_path, since=T0 + dt.timedelta(days=2))
    assert [i.intent_id for i in report.intents] == ["int-c"]
    assert [f.fill.execution_id for f in report.fills] == ["e5"]
    assert report.slippage.count == 0


def test_since_keeps_all_fills_of_a_kept_intent(tmp_path: Path) -> None:
    """An intent kept by --since brings all its fills; one left out brings none."""
    report = _report(tmp_path, since=T0 + dt.timedelta(days=1))
    assert [i.intent_id for i in report.intents] == ["int-b", "int-c"]
    assert [f.fill.execution_id for f in report.fills] == ["e3", "e4", "e5"]


def test_strategy_keeps_only_its_intents_and_their_fills(tmp_path: Path) -> None:
    """--strategy keeps that strategy's intents and fills; stray fills have no strategy."""
    report = _report(tmp_path, strategy="momo")
    assert [i.intent_id for i in report.intents] == ["int-a", "int-c"]
    assert [f.fill.execution_id for f in report.fills] == ["e1", "e2"]
    assert (report.slippage.count, report.slippage.bias_bps) == (2, Decimal(0))
    assert report.slippage.rmse_bps == Decimal(1)


def test_json_is_exact_and_plain(tmp_path: Path) -> None:
    """The JSON form writes decimals as exact strings and keeps every field of a line."""
    data = report_to_json(_report(tmp_path, strategy="carry"))
    assert set(data) == {"intents", "fills", "slippage", "pre_trade_slippage"}
    (intent,) = data["intents"]
    assert intent == {
        "intent_id": "int-b", "strategy": "carry", "symbol": "ZO", "side": "SELL",
        "quantity": 4, "recorded_at": "2026-03-03T14:30:00+00:00", "arrival_mid": "400.00",
        "filled": 4, "average_price": "399.5625", "predicted_bps": "5",
        "actual_bps": "10.9375", "slippage_usd": "87.5", "commission_usd": "0",
        "cost_usd": "87.5", "cost_bps": "10.9375", "ended": "filled",
    }
    assert data["fills"][0]["price"] == "399.75"
    assert data["slippage"]["bias_bps"] == "4"


def test_text_has_both_tables_and_the_verdict(tmp_path: Path) -> None:
    """The readable form lists intents and fills and ends with the reconciler's verdict: 4
    fills that agree are not enough to call the model calibrated (30 are needed), unless
    slippage.min_fills says 4 are."""
    text = render_report(_report(tmp_path))
    assert "Intents (3;" in text and "Fills (5;" in text
    assert "int-b" in text and "+10.94" in text
    judged = ("4 fills with predicted and actual slippage: bias +2.00 bps, RMSE 3.00 bps, "
              "correlation 0.956 -> NOT calibrated: 4 of the 30 fills needed (bias and "
              "correlation within the limits: needs |bias| <= 2 bps and correlation >= 0.3)")
    assert text.splitlines()[-2:] == [  # fills with their orders' predictions only: the same
        f"Pre-trade estimates: {judged}", f"Slippage model: {judged}"]
    four = fill_report(read_journal(tmp_path / "j.sqlite"),
                       settings=SlippageSettings(min_fills=4))
    assert render_report(four).splitlines()[-1].endswith("-> calibrated (needs |bias| <= 2 bps "
                                                         "and correlation >= 0.3)")
    assert report_to_json(four)["slippage"]["calibrated"] is True
    assert report_to_json(_report(tmp_path))["slippage"]["calibrated"] is False


def test_every_intent_says_how_it_ended_and_what_it_cost(tmp_path: Path) -> None:
    """Filled intents say "filled"; one that ended short gives its journaled reason (the
    intent_finished note, or intent_interrupted after a lost journal); one with no end says
    so. Costs add the commissions of the commission notes to the shortfall, in dollars and in
    bps of the notional at the arrival mid."""
    paper = example_journal(tmp_path / "j.sqlite")
    paper.journal = Journal.open(paper.path, clock=paper.clock)
    paper.at(10.1).note("intent_finished", intent_id="int-c", filled=0, quantity=1,
                        reason="stopped: kill switch: drill")
    paper.note("commission", execution_id="e1", client_order_id="int-a.1", commission="2.50")
    paper.note("commission", execution_id="e2", client_order_id="int-a.1", commission="2.50")
    paper.intent("int-d", side=Side.BUY, quantity=2, arrival_mid="400.00", predicted="1")
    paper.note("intent_interrupted", intent_id="int-d", filled=0, reason="the journal had lost"
               " intent int-d; its orders had ended at the broker (0 filled today)")
    paper.intent("int-e", side=Side.BUY, quantity=1, arrival_mid="400.00", predicted="1")
    paper.close()
    report = fill_report(read_journal(paper.path), settings=SETTINGS)
    a, b, c, d, e = report.intents
    assert [i.ended for i in (a, b, c, d)] == [
        "filled", "filled", "stopped: kill switch: drill",
        "the journal had lost intent int-d; its orders had ended at the broker (0 filled today)"]
    assert e.ended == "no end journaled (still working, or stopped before it ended)"
    # int-a: 4 bought at 400.125 against 400.00 is 0.125 × 4 × $50 = $25, plus $5 commission.
    assert (a.slippage_usd, a.commission_usd, a.cost_usd) == (25, 5, 30)
    assert a.cost_bps == Decimal("3.75")  # $30 of $80,000
    text = render_report(report)
    assert text.splitlines()[-3] == ("Cost: 2 filled intents: shortfall $112.50 + commissions "
                                     "$5.00 = $117.50, +7.34 bps of $160,000.00 traded")
    assert all(line.rstrip().endswith(i.ended) for line, i in zip(
        text.splitlines()[2:7], report.intents, strict=True))


def test_an_empty_journal_reports_nothing_and_is_not_calibrated(tmp_path: Path) -> None:
    """No fills: empty tables, zero counts, no made-up bias or RMSE, and an uncalibrated
    model."""
    report = fill_report([], settings=SETTINGS)
    assert (report.intents, report.fills, report.slippage.count) == ((), (), 0)
    assert not report.slippage.calibrated
    nothing = ("no fills with both a predicted and an actual slippage: nothing to judge -> "
               "NOT calibrated")
    assert render_report(report).splitlines()[-3:] == [
        "Cost: no filled intent with an arrival mid: no cost to show",
        f"Pre-trade estimates: {nothing}", f"Slippage model: {nothing}"]
    slippage = report_to_json(report)["slippage"]
    assert (slippage["bias_bps"], slippage["rmse_bps"], slippage["calibrated"]) == (
        None, None, False)


def test_each_fill_shows_its_own_prediction_beside_the_pre_trade_one(tmp_path: Path) -> None:
    """A fill's predicted slippage is its own, by the version that made it, at the
    aggressiveness its limit had; its intent's pre-trade estimate stays beside it. An older
    fill shows its order's estimate, and says so (no version)."""
    paper = own_predictions_journal(tmp_path / "j.sqlite")
    report = fill_report(read_journal(paper.path), settings=SETTINGS)
    assert [(f.predicted_bps, f.pre_trade_bps, f.predicted_by, f.aggressiveness, f.error_bps)
            for f in report.fills] == [
        (Decimal(0), Decimal(3), "v1", Decimal(0), Decimal(0)),
        (Decimal("6.25"), Decimal(3), "v2", Decimal(1), Decimal(0)),
        (Decimal(3), Decimal(3), None, None, Decimal("3.25"))]
    (intent,) = report.intents
    assert intent.predicted_bps == Decimal(3)
    assert slippage_pairs(report.fills) == [(Decimal(0), Decimal(0)),
                                            (Decimal("6.25"), Decimal("6.25")),
                                            (Decimal(3), Decimal("6.25"))]
    text = render_report(report)
    assert " v1 " in text and " v2 " in text and " order " in text


def test_json_has_both_predictions_and_both_verdicts(tmp_path: Path) -> None:
    """--json gives each fill its own prediction, the version that made it, its
    aggressiveness and the pre-trade estimate; ``slippage`` (the gate's verdict) judges the
    fills' own predictions (errors 0, 0, 3.25) and ``pre_trade_slippage`` the pre-trade ones
    (−3, 3.25, 3.25)."""
    paper = own_predictions_journal(tmp_path / "j.sqlite")
    data = report_to_json(fill_report(read_journal(paper.path), settings=SETTINGS))
    first = data["fills"][0]
    assert {k: first[k] for k in ("predicted_bps", "pre_trade_bps", "predicted_by",
                                  "aggressiveness", "actual_bps")} == {
        "predicted_bps": "0", "pre_trade_bps": "3", "predicted_by": "v1",
        "aggressiveness": "0", "actual_bps": "0"}
    assert data["fills"][2]["predicted_by"] is None
    assert data["pre_trade_slippage"]["count"] == data["slippage"]["count"] == 3
    assert data["slippage"]["bias_bps"] == tidy(Decimal("3.25") / 3).to_eng_string()
    assert data["pre_trade_slippage"]["bias_bps"] == tidy(Decimal("3.5") / 3).to_eng_string()


@pytest.mark.parametrize(("value", "text"), [
    (Decimal("400.1250000"), "400.125"), (Decimal(100), "100"), (Decimal("1") / 3, "0.333333"),
])
def test_tidy_rounds_without_e_notation(value: Decimal, text: str) -> None:
    """Computed numbers are shown to six places at most, never in E notation."""
    assert str(tidy(value)) == text
