"""The live-capital gate of the paper-trading plan, judged from the journal alone.

Pure: `gate_report` reads `JournalRecord` values and returns one `Criterion` per condition, each
with the evidence it was judged on, over the paper sessions only (`hydra._gate_sessions`: the
sim, live and unrecorded sessions of a mixed journal are left out of every condition, and the
report says so; a journal of rehearsals is judged on those, marked, and never passes). The
conditions (docs/PAPER_TRADING_PLAN.md states them too):

- **paper operation** — the first and last journaled events are at least 28 days apart, and each
  of the four weeks counted from the first event (days 0–6, 7–13, 14–20, 21–27) holds at least
  one event. Any event counts as activity: an intent, order, status, fill or note.
- **slippage calibrated** — `hydra._core._slippage.reconcile` over every journaled fill that carries
  both a predicted and an actual slippage says ``calibrated``, over at least
  ``slippage.min_fills`` such fills.
- **reconnect survived** — at least one ``reconnected`` note: a session was lost, Hydra
  reconnected and resynced.
- **no unrecoverable error** — no ``unrecoverable_error`` note (``open_hydra`` writes one when
  it stops on an error).
- **kill switch exercised** — at least one ``kill_switch`` note.
- **breakers exercised** — each circuit breaker (`BreakerSettings`: daily loss, drawdown,
  position value, single-trade loss) seen to trip and latch: a ``breaker_tripped`` note with
  that cause and the state it latched, in paper trading or in a drill.
- **self-healing cycle** — at least one healing cycle of the slippage model completed: drift
  detected, a hypothesis, an experiment, and the candidate promoted or rolled back (both count;
  `hydra._model_journal` writes the cycles' notes, `hydra._model_store` reads them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from ._converter import fields_out, override
from ._enums import NoteKind
from ._fill_report import FillReport, fill_report, stats_to_json, utc_minute, verdict
from ._gate_sessions import Counted, counted
from ._journal_records import JournalRecord
from ._model_store import cycles, model_versions
from ._settings import BreakerSettings, SlippageSettings

BREAKERS = tuple(attrs.fields_dict(BreakerSettings))
"""The circuit breakers, by the cause their ``breaker_tripped`` notes name."""

PAPER_DAYS = 28
WEEKS = 4
WEEK = dt.timedelta(days=7)

@attrs.frozen(kw_only=True)
class Criterion:
    """One gate condition: what it requires, whether the journal meets it, and why."""

    name: str
    requirement: str
    passed: bool
    summary: str  # the evidence in one line
    evidence: Mapping[str, Any]  # the evidence as JSON-able data


@attrs.frozen(kw_only=True)
class GateReport:
    """The gate's verdict: what it counted, each condition over that, and whether it passed."""

    counted: Counted
    criteria: tuple[Criterion, ...]

    @property
    def passed(self) -> bool:
        """Every condition met over paper sessions (a rehearsal never passes)."""
        return not self.counted.rehearsal and all(c.passed for c in self.criteria)

    def to_json(self) -> dict[str, Any]:
        """The verdict as plain data (`hydra._converter`): the computed `passed`, then what
        was counted (as ``sessions``) and each condition's fields."""
        return {"passed": self.passed, **_report_fields(self)}


_report_fields = fields_out(
    GateReport, counted=override(rename="sessions", unstruct_hook=Counted.to_json))


def gate_report(records: Sequence[JournalRecord], *, settings: SlippageSettings,
                report: FillReport | None = None) -> GateReport:
    """Every gate condition judged over the counted sessions of ``records`` (a whole journal,
    in order). ``report``: the fill report over ``records`` (with ``settings``), when the
    caller has it (the dashboard's), judged from when every record is counted."""
    chosen = counted(records)
    whole = report if len(chosen.records) == len(records) else None
    return GateReport(counted=chosen, criteria=tuple(judge(chosen.records, settings=settings,
                                                           report=whole)))


def gate_check(records: Sequence[JournalRecord], *, settings: SlippageSettings,
               report: FillReport | None = None) -> list[Criterion]:
    """The conditions of `gate_report` alone."""
    return list(gate_report(records, settings=settings, report=report).criteria)


def judge(records: Sequence[JournalRecord], *, settings: SlippageSettings,
          report: FillReport | None = None) -> list[Criterion]:
    """Every gate condition judged over ``records`` as they are (the counted ones, in order;
    ``report``, when given, is the fill report over them)."""
    return [
        paper_operation(records),
        slippage_calibrated(records, settings=settings, report=report),
        reconnect_survived(records),
        no_unrecoverable_error(records),
        kill_switch_exercised(records),
        breakers_exercised(records),
        self_healing_cycle(records),
    ]


def _time(record: JournalRecord) -> str:
    return record.recorded_at.isoformat()


def _notes(records: Sequence[JournalRecord], what: NoteKind) -> list[JournalRecord]:
    return [r for r in records if r.is_note(what)]


def paper_operation(records: Sequence[JournalRecord]) -> Criterion:
    requirement = (f"first to last journaled event at least {PAPER_DAYS} days apart, with an "
                   f"event in each of the {WEEKS} weeks counted from the first")
    if not records:
        return Criterion(name="paper_operation", requirement=requirement, passed=False,
                         summary="no event in a counted session", evidence={"events": 0})
    times = sorted(r.recorded_at for r in records)
    first, last = times[0], times[-1]
    per_week = [sum(1 for t in times if first + k * WEEK <= t < first + (k + 1) * WEEK)
                for k in range(WEEKS)]
    days = (last - first) / dt.timedelta(days=1)
    starts = _notes(records, NoteKind.ENGINE_STARTED)
    brokers = sorted({str(r.payload.get("broker")) for r in starts})
    ports = sorted({r.payload["port"] for r in starts if r.payload.get("port") is not None})
    accounts = sorted({str(r.payload["account"]) for r in starts if r.payload.get("account")})
    passed = days >= PAPER_DAYS and all(per_week)
    return Criterion(
        name="paper_operation", requirement=requirement, passed=passed,
        summary=f"{days:.1f} days from {utc_minute(first)} to {utc_minute(last)} UTC; "
        f"events in weeks 1-{WEEKS}: {', '.join(map(str, per_week))}",
        evidence={"events": len(times), "first": first.isoformat(), "last": last.isoformat(),
                  "days": round(days, 3), "events_per_week": per_week,
                  "engine_starts": len(starts), "brokers": brokers, "ports": ports,
                  "accounts": accounts},
    )


def slippage_calibrated(
    records: Sequence[JournalRecord], *, settings: SlippageSettings,
    report: FillReport | None = None,
) -> Criterion:
    stats = (report or fill_report(records, settings=settings)).slippage
    enough = stats.count >= settings.min_fills
    summary = verdict(stats, settings)
    if not enough:
        summary += f"; needs at least {settings.min_fills} fills"
    return Criterion(
        name="slippage_calibrated",
        requirement="the reconciler calls the slippage model calibrated over every fill with "
        f"both a predicted and an actual slippage, at least {settings.min_fills} of them",
        passed=stats.calibrated and enough, summary=summary,
        evidence={**stats_to_json(stats, settings), "min_fills": settings.min_fills},
    )


def reconnect_survived(records: Sequence[JournalRecord]) -> Criterion:
    reconnects = _notes(records, NoteKind.RECONNECTED)
    losses = _notes(records, NoteKind.SESSION_DOWN)
    summary = f"{len(reconnects)} reconnects after {len(losses)} session losses"
    if reconnects:
        summary += f"; first reconnected at {utc_minute(reconnects[0].recorded_at)} UTC"
    return Criterion(
        name="reconnect_survived",
        requirement=f"at least one '{NoteKind.RECONNECTED}' note (session lost, reconnected, "
        "resynced)",
        passed=bool(reconnects), summary=summary,
        evidence={"reconnects": len(reconnects), "session_losses": len(losses),
                  "first_reconnect": _time(reconnects[0]) if reconnects else None},
    )


def no_unrecoverable_error(records: Sequence[JournalRecord]) -> Criterion:
    errors = _notes(records, NoteKind.UNRECOVERABLE_ERROR)
    first = None
    if errors:
        first = {"at": _time(errors[0]), "error": errors[0].payload.get("error")}
    summary = f"{len(errors)} unrecoverable errors"
    if first is not None:
        summary += f"; first at {utc_minute(errors[0].recorded_at)} UTC: {first['error']}"
    return Criterion(
        name="no_unrecoverable_error",
        requirement=f"no '{NoteKind.UNRECOVERABLE_ERROR}' note",
        passed=not errors, summary=summary,
        evidence={"unrecoverable_errors": len(errors), "first": first,
                  "unclean_stops": unclean_stops(records)},
    )


def unclean_stops(records: Sequence[JournalRecord]) -> int:
    """Engine starts not preceded by a stop note of the run before (the process died without
    a word: power loss, kill -9). Evidence only: restart recovery is designed for this."""
    count, running = 0, False
    for record in records:
        if record.is_note(NoteKind.ENGINE_STARTED):
            count += running
            running = True
        elif (record.is_note(NoteKind.ENGINE_STOPPED)
              or record.is_note(NoteKind.UNRECOVERABLE_ERROR)):
            running = False
    return count


def kill_switch_exercised(records: Sequence[JournalRecord]) -> Criterion:
    kills = _notes(records, NoteKind.KILL_SWITCH)
    summary = f"{len(kills)} kill switch uses"
    if kills:
        summary += (f"; first at {utc_minute(kills[0].recorded_at)} UTC, reason "
                    f"{kills[0].payload.get('reason')!r}")
    return Criterion(
        name="kill_switch_exercised",
        requirement=f"at least one '{NoteKind.KILL_SWITCH}' note",
        passed=bool(kills), summary=summary,
        evidence={"kill_switch_uses": len(kills),
                  "first": None if not kills else {"at": _time(kills[0]),
                                                   "reason": kills[0].payload.get("reason")}},
    )


def breakers_exercised(records: Sequence[JournalRecord]) -> Criterion:
    trips = _notes(records, NoteKind.BREAKER_TRIPPED)
    first = {b: next((t for t in trips if t.payload.get("cause") == b), None) for b in BREAKERS}
    missing = [b for b, trip in first.items() if trip is None]
    summary = f"{len(BREAKERS) - len(missing)} of {len(BREAKERS)} breakers seen to trip"
    if missing:
        summary += f"; never tripped: {', '.join(missing)}"
    return Criterion(
        name="breakers_exercised",
        requirement=f"each circuit breaker ({', '.join(BREAKERS)}) seen to trip and latch: a "
        f"'{NoteKind.BREAKER_TRIPPED}' note naming it",
        passed=not missing, summary=summary,
        evidence={"trips": len(trips), "resumes": len(_notes(records, NoteKind.RESUME)),
                  "first_trips": {b: None if t is None else {
                      "at": _time(t), "latched": t.payload.get("state"),
                      "reason": t.payload.get("reason")} for b, t in first.items()}},
    )


def self_healing_cycle(records: Sequence[JournalRecord]) -> Criterion:
    found = cycles(records)
    completed = [c for c in found if "decision" in c]
    outcomes = [c["decision"]["outcome"] for c in completed]
    promoted, rolled_back = outcomes.count("promoted"), outcomes.count("rolled_back")
    summary = (f"{len(found)} healing cycles, {len(completed)} completed ({promoted} promoted, "
               f"{rolled_back} rolled back)")
    first = None
    if completed:
        cycle = completed[0]
        first = {"cycle_id": cycle["cycle_id"], "at": cycle["at"],
                 "detected": cycle["detected"]["summary"],
                 "hypothesis": cycle["hypothesis"]["summary"],
                 "decision": cycle["decision"]["summary"]}
        summary += (f"; first {cycle['cycle_id']} at "
                    f"{utc_minute(dt.datetime.fromisoformat(cycle['at']))} UTC: "
                    f"{cycle['decision']['summary']}")
    versions = model_versions(records)
    return Criterion(
        name="self_healing_cycle",
        requirement="at least one healing cycle of the slippage model completed: drift "
        "detected, hypothesis, experiment, then promoted or rolled back",
        passed=bool(completed), summary=summary,
        evidence={"cycles": len(found), "completed": len(completed), "promoted": promoted,
                  "rolled_back": rolled_back, "first_completed": first,
                  "current_version": versions[-1].version_id if versions else None},
    )


def render_gate(report: GateReport) -> str:
    """What was counted, the criteria as readable lines, then the verdict."""
    criteria = report.criteria
    failing = [c for c in criteria if not c.passed]
    lines = [report.counted.summary(), ""]
    lines += [f"{'PASS' if c.passed else 'FAIL'}  {c.name}: {c.summary}" for c in criteria]
    lines.append("")
    if failing:
        lines.append(f"live-capital gate: NOT PASSED ({len(failing)} of {len(criteria)} "
                     f"failing: {', '.join(c.name for c in failing)})"
                     + ("; and this is a rehearsal" if report.counted.rehearsal else ""))
    elif report.counted.rehearsal:
        lines.append("live-capital gate: NOT PASSED (a rehearsal: every condition met, but "
                     "only paper trading counts)")
    else:
        lines.append("live-capital gate: PASSED")
    return "\n".join(lines)
