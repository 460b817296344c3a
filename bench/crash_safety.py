"""Crash safety: SIGKILL Hydra at random moments while it works TWAPs, brackets, closes,
rolls, a `cancel_all` and a reconnect resync through the IB adapter, restart it on the same
journal each time (a quarter of the restarts with the journal's ``-wal`` file deleted first),
and check the journal against the gateway.

The simulated gateway runs as one long-lived subprocess on a free port (``bench/_gateway.py``
with three delivery months of oats; SIGUSR1 makes it drop every connection, the gateway's drop
fault). Each round starts ``bench/_crash_driver.py`` (Hydra in its own process: `open_ib_broker`
+ `open_hydra` on the one journal file), which adopts what the last life left working, resumes
the intents it interrupted (``[restart] resume = true``), and takes the next step of a fixed
plan, one step a life: TWAP, `submit_bracket`, `close_position`, TWAP, `roll`, TWAP +
`cancel_all`, TWAP with a gateway drop (the reconnect resync), `close_position`. Rounds 0–7 are
clean lives (one cycle): the longest, ×1.1, bounds the seeded random kill delays (counted from
the driver's first line, so start-up, recovery, resume, submission, working and the resync are
all hit). Before a quarter of the restarts (``--wal-loss``) the journal's ``-wal`` file is
deleted (at most the events since the last checkpoint are lost); a restart that then refuses
with `JournalBehindError` is restarted with ``--adopt-unknown`` (``adopt_unknown=True``), the
operator's documented answer, and counted. After at least ``--kills`` kills, a last round runs
to the end. Then, from the gateway (a separate ib_async client, client id 2):

* no fill lost: every gateway execution is in the journal, as a fill or, after a lost WAL, as an
  ``unknown_execution`` note (adopted);
* no fill duplicated or invented: each execution id at most once in the journal (fill events
  and ``unknown_execution`` notes together), each one the gateway reports;
* no order sent twice: each orderRef (``<journal id>:<intent id>.<n>``) at most once at the
  gateway, and no intent the broker had seen (in a snapshot of the gateway's orders taken at
  each WAL deletion) submitted again by a later life;
* write-ahead: every gateway order is in the journal or in its audit log (which a lost WAL
  does not take);
* every intent ended: ``intent_finished``, or ``intent_interrupted`` with its reason, or its
  orders adopted as unknown after a lost WAL (left to the trader, by design);
* nothing overfilled (gateway executions per order, and per intent but for a bracket's
  exits), nothing left working but
  orders adopted as unknown.

It reports the completion of the interrupted intents that restarts resumed against the
uninterrupted ones, per step kind.

Run: ``.venv/bin/python bench/crash_safety.py`` (100 kills, seed 1); ``--quick`` (12 kills);
``--kills N``, ``--seed N``, ``--max-delay S``, ``--wal-loss P``, ``--keep DIR`` (keep the
journal, the audit log and the logs in a new folder). Exit status 0 on PASS, 1 on
FAIL.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from _common import BENCH, PYTHON, gateway_process, gateway_view, header

from hydra._journal import Journal

ROUND_TIMEOUT = 120.0
CLEAN_ROUNDS = 8  # one cycle of the driver's plan
STEP_KINDS = ("twap", "bracket", "close", "roll", "cancel-all", "reconnect", "close-july")


def run_round(args: argparse.Namespace, port: int, gateway_pid: int, journal: Path, log: Path,
              kill_after: float | None, adopt_unknown: bool = False,
              ) -> tuple[str, list[str], float]:
    """One life of the driver; returns (outcome, its output lines, seconds it lived)."""
    command = [PYTHON, str(BENCH / "_crash_driver.py"), "--port", str(port),
               "--journal", str(journal), "--quantity", str(args.quantity),
               "--slices", str(args.slices), "--horizon", str(args.horizon),
               "--gateway-pid", str(gateway_pid)]
    if adopt_unknown:
        command.append("--adopt-unknown")
    with log.open("a") as err:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err, text=True)
        assert process.stdout is not None
        first = process.stdout.readline()
        born = time.perf_counter()
        try:
            process.wait(timeout=ROUND_TIMEOUT if kill_after is None else kill_after)
            outcome = {0: "finished", 3: "behind"}.get(process.returncode,
                                                         f"exit {process.returncode}")
        except subprocess.TimeoutExpired:
            if kill_after is None:
                process.kill()
                outcome = "HUNG (killed)"
            else:
                process.send_signal(signal.SIGKILL)
                outcome = "killed"
        rest, _ = process.communicate()
        lived = time.perf_counter() - born
    return outcome, [first.strip(), *rest.splitlines()], lived


def journal_summary(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {"intents": 0, "orders": 0, "fills": 0}
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        kinds = dict(db.execute("SELECT kind, count(*) FROM events GROUP BY kind").fetchall())
    finally:
        db.close()
    return {"intents": kinds.get("intent", 0), "orders": kinds.get("order", 0),
            "fills": kinds.get("fill", 0)}


def intent_of(coid: str | None) -> str | None:
    """``<journal id>:<intent id>.<n>`` → the intent id."""
    if not coid:
        return None
    return coid.split(":", 1)[-1].rsplit(".", 1)[0]


def audit_orders(path: Path) -> set[str]:
    """Client order ids of the audit log's ``order`` lines."""
    found: set[str] = set()
    if not path.exists():
        return found
    for line in path.read_text().splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if entry.get("event") == "order":
            request = entry.get("request") or {}
            coid = entry.get("client_order_id") or request.get("client_order_id")
            if coid:
                found.add(coid)
    return found


def journal_view(path: Path) -> dict[str, Any]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT kind, intent_id, client_order_id, execution_id, payload FROM events "
            "ORDER BY seq"
        ).fetchall()
    finally:
        db.close()
    intents = Counter(r[1] for r in rows if r[0] == "intent")
    orders = Counter(r[2] for r in rows if r[0] == "order")
    fills = [(r[3], r[2], json.loads(r[4])["fill"]["quantity"]) for r in rows if r[0] == "fill"]
    order_quantity = {r[2]: json.loads(r[4])["request"]["quantity"] for r in rows
                      if r[0] == "order"}
    intent_quantity = {r[1]: json.loads(r[4])["intent"]["quantity"] for r in rows
                       if r[0] == "intent"}
    notes = [json.loads(r[4]) | {"_intent": r[1], "_coid": r[2]} for r in rows if r[0] == "note"]
    journal = Journal.open(path)
    try:
        live = [o.request.client_order_id for o in journal.live_orders()]
    finally:
        journal.close()
    return {"intents": intents, "orders": orders, "fills": fills, "order_quantity":
            order_quantity, "intent_quantity": intent_quantity, "live": live,
            "notes": notes, "note_counts": Counter(n.get("what") for n in notes)}


def notes_of(jn: dict[str, Any], what: str) -> list[dict[str, Any]]:
    return [n for n in jn["notes"] if n.get("what") == what]


def note_intent(note: dict[str, Any]) -> str | None:
    return note.get("intent_id") or note.get("_intent")


def ended(jn: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    """Each intent's last ending in the journal: (how, detail)."""
    out: dict[str, tuple[str, Any]] = {}
    for note in jn["notes"]:
        what = note.get("what")
        intent = note_intent(note)
        if what == "intent_finished" and intent:
            out[intent] = ("finished", (note.get("filled"), note.get("quantity")))
        elif what == "intent_interrupted" and intent:
            out[intent] = ("interrupted", note.get("reason") or note.get("description") or "?")
    return out


def check(gw: dict[str, Any], jn: dict[str, Any], audited: set[str], plan: dict[str, int],
          resent: list[str]) -> tuple[list[tuple[str, bool, str]], dict[str, Any]]:
    gw_exec = Counter(e[0] for e in gw["executions"])
    unknown_exec = Counter(str(n.get("execution_id")) for n in notes_of(jn, "unknown_execution"))
    jn_exec = Counter(f[0] for f in jn["fills"]) + unknown_exec
    lost = sorted(set(gw_exec) - set(jn_exec))
    invented = sorted(set(jn_exec) - set(gw_exec))
    duplicated = sorted(e for e, n in jn_exec.items() if n > 1)
    gw_refs = Counter(gw["open_refs"] + gw["completed_refs"])
    sent_twice = sorted(r for r, n in gw_refs.items() if n > 1)
    journaled_twice = sorted(c for c, n in jn["orders"].items() if n > 1)
    unknown_orders = {n.get("client_order_id") or n["_coid"] for n in notes_of(jn, "unknown_order")}
    not_journaled = sorted(set(gw_refs) - set(jn["orders"]) - audited)
    lost_with_wal = sorted((set(gw_refs) - set(jn["orders"])) & audited)
    intents_twice = sorted(i for i, n in jn["intents"].items() if n > 1)
    order_quantity: dict[str, int] = {}
    for coid, quantity in jn["order_quantity"].items():
        order_quantity[coid] = quantity
    filled_order: Counter[str] = Counter()
    filled_intent: Counter[str] = Counter()
    for _, ref, quantity in gw["executions"]:
        filled_order[ref] += quantity
        filled_intent[intent_of(ref) or ""] += quantity
    quantity_of = {**plan, **jn["intent_quantity"]}
    over_order = sorted(c for c, q in filled_order.items()
                        if c in order_quantity and q > order_quantity[c])
    over_intent = sorted(i for i, q in filled_intent.items()  # a bracket's exits: per order
                         if i in quantity_of and q > quantity_of[i] and kind_of(i) != "bracket")
    # every intent ended: the journal's intents, the ones the gateway saw, the ones driven
    endings = ended(jn)
    adopted_intents = {intent_of(c) for c in unknown_orders} | {
        intent_of(n.get("client_order_id") or n["_coid"])
        for n in notes_of(jn, "unknown_execution")}
    every = set(jn["intents"]) | {intent_of(r) for r in gw_refs}
    no_end = sorted(i for i in every if i and i not in endings and i not in adopted_intents)
    interrupted = {i: d for i, (how, d) in endings.items() if how == "interrupted"}
    live_left = sorted(set(jn["live"]) - unknown_orders)
    open_left = sorted(set(gw["open_refs"]) - unknown_orders)
    results = [
        ("no fill lost (every gateway execution journaled)", not lost,
         f"{len(gw_exec)} executions at the gateway, {sum(jn_exec.values())} journaled "
         f"({sum(unknown_exec.values())} of them as unknown_execution after a lost WAL), "
         f"lost {lost[:5]}"),
        ("no fill duplicated in the journal", not duplicated, f"duplicated {duplicated[:5]}"),
        ("no fill invented (every journaled fill at the gateway)", not invented,
         f"not at the gateway {invented[:5]}"),
        ("no order sent twice (orderRef unique at the gateway)", not sent_twice,
         f"{sum(gw_refs.values())} gateway orders, {len(gw_refs)} distinct orderRefs, "
         f"twice {sent_twice[:5]}"),
        ("no intent the broker had seen submitted again", not resent,
         f"re-submitted {resent[:5]}"),
        ("no order journaled twice", not journaled_twice,
         f"{sum(jn['orders'].values())} order events, twice {journaled_twice[:5]}"),
        ("every gateway order journaled first (journal or its audit log)", not not_journaled,
         f"in neither {not_journaled[:5]}; {len(lost_with_wal)} only in the audit log "
         f"(their journal event went with a deleted WAL)"),
        ("no intent journaled twice", not intents_twice,
         f"{len(jn['intents'])} intents, twice {intents_twice[:5]}"),
        ("every intent ended (finished, interrupted with a reason, or adopted as unknown)",
         not no_end, f"{len(every)} intents: "
         f"{sum(1 for h, _ in endings.values() if h == 'finished')} finished, "
         f"{len(interrupted)} interrupted, {len(adopted_intents)} with orders adopted as "
         f"unknown; no ending {no_end[:5]}"),
        ("no order or intent overfilled (gateway executions)", not over_order and not over_intent,
         f"orders {over_order[:5]}, intents {over_intent[:5]}"),
        ("nothing left working but orders adopted as unknown", not live_left and not open_left,
         f"journal live {live_left[:5]}, gateway open {open_left[:5]}; adopted as unknown and "
         f"left to the trader: {len(unknown_orders & set(gw['open_refs']))} open at the gateway"),
    ]
    facts = {"lost": len(lost), "duplicated": len(duplicated), "twice": len(sent_twice),
             "resent": len(resent), "filled_intent": filled_intent, "interrupted": interrupted,
             "unknown_orders": unknown_orders, "adopted_intents": adopted_intents,
             "endings": endings, "quantity_of": quantity_of, "lost_with_wal": len(lost_with_wal)}
    return results, facts


def step_of(lines: list[str]) -> str:
    steps = [line.split() for line in lines if line.startswith("STEP ")]
    return steps[-1][2] if steps else "start-up"


def last_step(lines: list[str]) -> str:
    words = [line.split()[0] for line in lines if line.strip()]
    tail = [line for line in lines if line.split() and line.split()[0] in
            ("STEP", "DONE", "SKIPPED", "ADOPTED_DONE", "BEHIND")]
    return (words[-1] if words else "-") + (f" ({'; '.join(tail)})" if tail else "")


def completion(shares: list[float]) -> str:
    if not shares:
        return "—"
    return f"{statistics.fmean(shares):.0%} ({sum(x == 1 for x in shares)} full)"


def kind_of(intent: str) -> str:
    """crash-0012-twap → twap; crash-0004-rc / -ro → roll."""
    suffix = intent.split("-", 2)[-1]
    return "roll" if suffix in ("rc", "ro") else suffix


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=100, help="SIGKILLs at least (default 100)")
    parser.add_argument("--seed", type=int, default=1, help="seeds the kill delays (default 1)")
    parser.add_argument("--max-delay", type=float, default=None,
                        help="kill delays are uniform in [0, max-delay] s after the driver "
                        "starts (default: 1.1× the longest clean life of the first cycle)")
    parser.add_argument("--wal-loss", type=float, default=0.25,
                        help="share of the restarts after a kill with the -wal deleted (0.25)")
    parser.add_argument("--quantity", type=int, default=6, help="lots per TWAP intent (6)")
    parser.add_argument("--slices", type=int, default=3, help="TWAP slices (3)")
    parser.add_argument("--horizon", type=float, default=2.0, help="TWAP horizon, s (2)")
    parser.add_argument("--quick", action="store_true", help="12 kills")
    parser.add_argument("--keep", type=Path, default=None,
                        help="work in this new folder and keep the journal and logs there")
    args = parser.parse_args()
    if args.quick:
        args.kills = 12
    header("Hydra crash safety: SIGKILL and restart on one journal (IB adapter, sim gateway)")
    rng = random.Random(args.seed)
    if args.keep is not None:
        args.keep.mkdir(parents=True)  # a new folder: an old journal would change the run
    with (contextlib.nullcontext(str(args.keep)) if args.keep is not None
          else tempfile.TemporaryDirectory(prefix="hydra-crash-")) as tmp_dir:
        tmp = Path(tmp_dir)
        journal, log = tmp / "crash.sqlite", tmp / "driver.log"
        wal = journal.with_name(journal.name + "-wal")
        with gateway_process(tmp / "gateway.log", seed=args.seed, market="oats-months") as gateway:
            pid = gateway.process.pid
            print(f"gateway subprocess on port {gateway.port}; journal {journal}; TWAPs of "
                  f"{args.quantity} lots in {args.slices} slices over {args.horizon:g} s; "
                  f"seed {args.seed}; WAL deleted before {args.wal_loss:.0%} of the restarts",
                  flush=True)
            submitted_in: dict[str, list[int]] = defaultdict(list)
            seen_snapshot: set[str] = set()  # intents the gateway had orders of, last snapshot
            resent: list[str] = []

            def note_round(rnd: int, lines: list[str]) -> None:
                for line in lines:
                    words = line.split()
                    if words[:1] == ["SUBMITTED"]:
                        for intent in words[1:]:
                            if intent in seen_snapshot or submitted_in[intent]:
                                resent.append(f"{intent} (round {rnd}, earlier "
                                              f"{submitted_in[intent] or 'at the gateway'})")
                            submitted_in[intent].append(rnd)

            clean = []
            for rnd in range(CLEAN_ROUNDS):
                outcome, lines, life = run_round(args, gateway.port, pid, journal, log, None)
                note_round(rnd, lines)
                clean.append(life)
                print(f"round {rnd:3d}: clean life {life:5.2f} s: {outcome}, "
                      f"{last_step(lines)}", flush=True)
            max_delay = args.max_delay or 1.1 * max(clean)
            print(f"kill delays uniform in [0, {max_delay:.2f}] s after the driver's first line")
            kills = rounds = finished = behind = adopt_runs = wal_deleted = latched = 0
            during: Counter[str] = Counter()
            outcomes: Counter[str] = Counter()
            adopt = False
            lose_wal_next = False
            while kills < args.kills:
                rounds += 1
                rnd = CLEAN_ROUNDS + rounds - 1
                lost_wal = ""
                if lose_wal_next:
                    seen_snapshot = {intent_of(r) or "" for r in
                                     (lambda v: v["open_refs"] + v["completed_refs"])(
                                         gateway_view(gateway.port))}
                    if wal.exists():
                        size = wal.stat().st_size
                        wal.unlink()
                        wal_deleted += 1
                        lost_wal = f"; -wal deleted ({size:,} bytes)"
                    else:
                        lost_wal = "; -wal absent"
                lose_wal_next = False
                delay = rng.uniform(0, max_delay)
                adopt_runs += adopt
                was_adopt = adopt
                outcome, lines, lived = run_round(args, gateway.port, pid, journal, log, delay,
                                                  adopt_unknown=adopt)
                note_round(rnd, lines)
                latched += any(line.startswith("LATCHED") for line in lines)
                outcomes[outcome] += 1
                kills += outcome == "killed"
                finished += outcome == "finished"
                if outcome == "behind":
                    behind += 1
                    adopt = True  # the operator's answer, on the next restart
                else:
                    adopt = False
                if outcome == "killed":
                    step = step_of(lines)
                    word = last_step(lines).split()[0]
                    if step == "reconnect" and any(w.startswith("DROP") for w in lines):
                        word = "after DROP (resync)"
                    during[f"{step}: {word}"] += 1
                    lose_wal_next = rng.random() < args.wal_loss
                j = journal_summary(journal)
                print(f"round {rnd:3d}: kill at {delay:5.2f} s → {outcome:8s} after "
                      f"{lived:5.2f} s{' (adopt-unknown)' if was_adopt else ''}"
                      f"{lost_wal}; last {last_step(lines)}; journal {j['intents']} intents, "
                      f"{j['orders']} orders, {j['fills']} fills", flush=True)
            outcome, lines, lived = run_round(args, gateway.port, pid, journal, log, None,
                                              adopt_unknown=adopt)
            note_round(CLEAN_ROUNDS + rounds, lines)
            print(f"final    : {outcome} after {lived:.2f} s; {last_step(lines)}")
            final_ok = outcome == "finished"
            gw = gateway_view(gateway.port)
            jn = journal_view(journal)
            rate_exceeded = gateway.count("gateway_rate_exceeded")
            drops = gateway.count("gateway_dropping_connections")
        audited = audit_orders(journal.with_suffix(".audit.jsonl"))
        driver_errors = [line for line in log.read_text().splitlines()
                         if '"level": "error"' in line or "Traceback" in line]
        error_kinds = Counter(
            (json.loads(line).get("event") if line.startswith("{") else line.strip()[:60])
            for line in driver_errors)
    plan = {}  # planned quantities of the TWAP-like steps (closes and rolls: the position)
    for intent in submitted_in:
        if kind_of(intent) in ("twap", "cancel-all", "reconnect"):
            plan[intent] = args.quantity
        elif kind_of(intent) == "bracket":
            plan[intent] = 2
    results, facts = check(gw, jn, audited, plan, resent)
    results.append(("last life finished cleanly", final_ok, outcome))
    results.append(("no error 100 at the gateway", rate_exceeded == 0, f"{rate_exceeded}"))
    passed = all(ok for _, ok, _ in results)
    print()
    print(f"rounds {rounds + CLEAN_ROUNDS + 1} ({CLEAN_ROUNDS} clean, {rounds} with a kill "
          f"timer, 1 final); kills {kills}; finished before the kill {finished}; outcomes "
          f"{dict(outcomes)}")
    print(f"killed during (step: last line): {dict(sorted(during.items()))}")
    kinds = Counter(k.split(":")[0] for k in during.elements())
    print(f"kills per step kind: {dict(kinds)}")
    print(f"WAL deleted before {wal_deleted} restarts; refused with JournalBehindError "
          f"{behind} times, each restarted with --adopt-unknown ({adopt_runs} such lives, "
          f"+ final {'with' if adopt else 'without'}); gateway drops {drops}")
    print(f"lives that found trading HALTED by a latch at start and cleared it with "
          f"Engine.resume (the operator's `hydra resume`): {latched}")
    print(f"journal notes: {dict(jn['note_counts'])}")
    print(f"driver error lines / tracebacks in its log: {len(driver_errors)} {dict(error_kinds)}")
    # completion, resumed against uninterrupted
    resumed = {note_intent(n) for n in notes_of(jn, "intent_resumed")}
    interrupted = set(facts["interrupted"])
    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    for intent, (how, detail) in facts["endings"].items():
        if how != "finished":
            continue
        filled, quantity = detail  # the intent's own side (a bracket's exits not counted)
        if not quantity:
            continue
        group = "resumed" if intent in resumed else "uninterrupted"
        groups[(kind_of(intent), group)].append(min(filled, quantity) / quantity)
    print()
    print("| step | uninterrupted: intents | completion | resumed after a kill: intents "
          "| completion |")
    print("|---|---|---|---|---|")
    for kind in ("twap", "bracket", "close", "roll", "cancel-all", "reconnect", "close-july"):
        u, r = groups.get((kind, "uninterrupted"), []), groups.get((kind, "resumed"), [])
        print(f"| {kind} | {len(u)} | {completion(u)} | {len(r)} | {completion(r)} |")
    print(f"interrupted and not resumed (intent_interrupted, with reasons): {len(interrupted)} "
          f"{dict(Counter(str(d)[:70] for d in facts['interrupted'].values()))}")
    unsent = set(jn["orders"]) - set(gw["open_refs"]) - set(gw["completed_refs"])
    print(f"orders journaled (write-ahead) but never at the gateway (killed before the wire, "
          f"settled on restart): {len(unsent)}")
    for name, ok, detail in results:
        print(f"  {'PASS' if ok else 'FAIL'}  {name}: {detail}")
    total_fills = sum(e[2] for e in gw["executions"])
    print(f"RESULT: {'PASS' if passed else 'FAIL'}")
    print()
    print("For BENCHMARKS.md:")
    print()
    print("| kills | seed | WAL deleted | behind → adopt | intents | orders (journal / gateway) "
          "| executions | lots filled | lost | duplicated | sent twice | result |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    gw_orders = len(gw["open_refs"]) + len(gw["completed_refs"])
    print(f"| {kills} | {args.seed} | {wal_deleted} | {behind} | {len(jn['intents'])} "
          f"| {sum(jn['orders'].values())} / {gw_orders} | {len(gw['executions'])} "
          f"| {total_fills:g} | {facts['lost']} | {facts['duplicated']} "
          f"| {facts['twice'] + facts['resent']} | {'PASS' if passed else 'FAIL'} |")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
