"""Crash safety: SIGKILL Hydra at random moments while it works TWAPs through the IB adapter,
restart it on the same journal each time, and check the journal against the gateway.

The simulated gateway runs as one long-lived subprocess on a free port (``bench/_gateway.py``).
Each round starts ``bench/_crash_driver.py`` (Hydra in its own process: `open_ib_broker` +
`open_hydra` on the one journal file), which adopts what the last life left working and submits
the next intent of a fixed list if the journal does not have it (`Engine.was_submitted`); the
round kills it with SIGKILL after a seeded random delay (counted from the driver's first line,
so start-up, recovery, submission and working are all hit), unless it finished first. After at
least ``--kills`` kills, a last round runs to the end. Then, with the gateway still up:

* no fill lost: every execution the gateway reports for the account (asked by a separate
  ib_async client, client id 2, with reqExecutions) is journaled, exactly once;
* no fill duplicated or invented: execution ids are unique in the journal, and each is one the
  gateway reports;
* no order sent twice: each orderRef appears at most once among the gateway's orders (open and
  completed), each client order id at most once among the journal's ``order`` events, and every
  order at the gateway was journaled first (write-ahead);
* no intent submitted twice: each intent id at most once among the journal's ``intent`` events;
* nothing overfilled, and nothing left working: no order still live in the journal or open at
  the gateway at the end.

Run: ``.venv/bin/python bench/crash_safety.py`` (30 kills, seed 1); ``--quick`` (5 kills);
``--kills N``, ``--seed N``, ``--max-delay S``. Exit status 0 on PASS, 1 on FAIL.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from _common import BENCH, PYTHON, gateway_process, gateway_view, header

from hydra._journal import Journal

ROUND_TIMEOUT = 120.0


def run_round(args: argparse.Namespace, port: int, journal: Path, log: Path,
              kill_after: float | None) -> tuple[str, list[str], float]:
    """One life of the driver; returns (outcome, its output lines, seconds it lived)."""
    command = [PYTHON, str(BENCH / "_crash_driver.py"), "--port", str(port),
               "--journal", str(journal), "--quantity", str(args.quantity),
               "--slices", str(args.slices), "--horizon", str(args.horizon)]
    with log.open("a") as err:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err, text=True)
        assert process.stdout is not None
        first = process.stdout.readline()
        born = time.perf_counter()
        try:
            process.wait(timeout=ROUND_TIMEOUT if kill_after is None else kill_after)
            outcome = "finished" if process.returncode == 0 else f"exit {process.returncode}"
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


def journal_view(path: Path) -> dict[str, Any]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT kind, intent_id, client_order_id, execution_id, payload FROM events"
        ).fetchall()
    finally:
        db.close()
    intents = Counter(r[1] for r in rows if r[0] == "intent")
    orders = Counter(r[2] for r in rows if r[0] == "order")
    fills = [(r[3], r[2], json.loads(r[4])["fill"]["quantity"]) for r in rows if r[0] == "fill"]
    order_quantity = {r[2]: json.loads(r[4])["request"]["quantity"] for r in rows
                      if r[0] == "order"}
    order_intent = {r[2]: r[1] for r in rows if r[0] == "order"}
    intent_quantity = {r[1]: json.loads(r[4])["intent"]["quantity"] for r in rows
                       if r[0] == "intent"}
    notes = Counter(json.loads(r[4]).get("what") for r in rows if r[0] == "note")
    journal = Journal.open(path)
    try:
        live = [o.request.client_order_id for o in journal.live_orders()]
    finally:
        journal.close()
    return {"intents": intents, "orders": orders, "fills": fills, "order_quantity":
            order_quantity, "order_intent": order_intent, "intent_quantity": intent_quantity,
            "live": live, "notes": notes}


def check(gw: dict[str, Any], jn: dict[str, Any]) -> list[tuple[str, bool, str]]:
    gw_exec = Counter(e[0] for e in gw["executions"])
    jn_exec = Counter(f[0] for f in jn["fills"])
    lost = sorted(set(gw_exec) - set(jn_exec))
    invented = sorted(set(jn_exec) - set(gw_exec))
    duplicated = sorted(e for e, n in jn_exec.items() if n > 1)
    gw_refs = Counter(gw["open_refs"] + gw["completed_refs"])
    sent_twice = sorted(r for r, n in gw_refs.items() if n > 1)
    journaled_twice = sorted(c for c, n in jn["orders"].items() if n > 1)
    not_journaled = sorted(set(gw_refs) - set(jn["orders"]))
    intents_twice = sorted(i for i, n in jn["intents"].items() if n > 1)
    filled_order: Counter[str] = Counter()
    filled_intent: Counter[str] = Counter()
    for _, coid, quantity in jn["fills"]:
        filled_order[coid] += quantity
        filled_intent[jn["order_intent"].get(coid)] += quantity
    over_order = sorted(c for c, q in filled_order.items() if q > jn["order_quantity"].get(c, 0))
    over_intent = sorted(i for i, q in filled_intent.items()
                         if q > jn["intent_quantity"].get(i, 0))
    return [
        ("no fill lost (every gateway execution journaled)", not lost,
         f"{len(gw_exec)} executions at the gateway, {len(jn_exec)} journaled, lost {lost[:5]}"),
        ("no fill duplicated in the journal", not duplicated, f"duplicated {duplicated[:5]}"),
        ("no fill invented (every journaled fill at the gateway)", not invented,
         f"not at the gateway {invented[:5]}"),
        ("no order sent twice (orderRef unique at the gateway)", not sent_twice,
         f"{sum(gw_refs.values())} gateway orders, {len(gw_refs)} distinct orderRefs, "
         f"twice {sent_twice[:5]}"),
        ("no order journaled twice", not journaled_twice,
         f"{sum(jn['orders'].values())} order events, twice {journaled_twice[:5]}"),
        ("every gateway order journaled first (write-ahead)", not not_journaled,
         f"not journaled {not_journaled[:5]}"),
        ("no intent submitted twice", not intents_twice,
         f"{len(jn['intents'])} intents, twice {intents_twice[:5]}"),
        ("no order or intent overfilled", not over_order and not over_intent,
         f"orders {over_order[:5]}, intents {over_intent[:5]}"),
        ("nothing left working (journal live orders, gateway open orders)",
         not jn["live"] and not gw["open_refs"],
         f"journal live {jn['live'][:5]}, gateway open {gw['open_refs'][:5]}"),
    ]


def last_step(lines: list[str]) -> str:
    steps = [line.split()[0] for line in lines if line.strip()]
    tail = [line for line in lines if line.split() and line.split()[0] in
            ("SUBMITTED", "DONE", "READY", "ADOPTED_DONE")]
    return (steps[-1] if steps else "-") + (f" ({'; '.join(tail)})" if tail else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=30, help="SIGKILLs at least (default 30)")
    parser.add_argument("--seed", type=int, default=1, help="seeds the kill delays (default 1)")
    parser.add_argument("--max-delay", type=float, default=None,
                        help="kill delays are uniform in [0, max-delay] s after the driver "
                        "starts (default: 1.1× a clean life, measured first)")
    parser.add_argument("--quantity", type=int, default=6, help="lots per TWAP intent (6)")
    parser.add_argument("--slices", type=int, default=3, help="TWAP slices (3)")
    parser.add_argument("--horizon", type=float, default=2.0, help="TWAP horizon, s (2)")
    parser.add_argument("--quick", action="store_true", help="5 kills")
    args = parser.parse_args()
    if args.quick:
        args.kills = 5
    header("Hydra crash safety: SIGKILL and restart on one journal (IB adapter, sim gateway)")
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="hydra-crash-") as tmp_dir:
        tmp = Path(tmp_dir)
        journal, log = tmp / "crash.sqlite", tmp / "driver.log"
        with gateway_process(tmp / "gateway.log", seed=args.seed) as gateway:
            print(f"gateway subprocess on port {gateway.port}; journal {journal}; TWAP of "
                  f"{args.quantity} lots in {args.slices} slices over {args.horizon:g} s per "
                  f"intent; seed {args.seed}", flush=True)
            outcome, lines, clean_life = run_round(args, gateway.port, journal, log, None)
            print(f"round  0: clean life {clean_life:.2f} s: {outcome}, {last_step(lines)}")
            max_delay = args.max_delay or 1.1 * clean_life
            print(f"kill delays uniform in [0, {max_delay:.2f}] s after the driver's first line")
            kills = rounds = finished = 0
            outcomes: Counter[str] = Counter()
            while kills < args.kills:
                rounds += 1
                delay = rng.uniform(0, max_delay)
                outcome, lines, lived = run_round(args, gateway.port, journal, log, delay)
                kills += outcome == "killed"
                finished += outcome == "finished"
                outcomes[last_step(lines).split()[0] if outcome == "killed" else outcome] += 1
                j = journal_summary(journal)
                print(f"round {rounds:2d}: kill at {delay:5.2f} s → {outcome:8s} after "
                      f"{lived:5.2f} s; last step {last_step(lines)}; journal {j['intents']} "
                      f"intents, {j['orders']} orders, {j['fills']} fills", flush=True)
            outcome, lines, lived = run_round(args, gateway.port, journal, log, None)
            print(f"final   : {outcome} after {lived:.2f} s; {last_step(lines)}")
            final_ok = outcome == "finished"
            gw = gateway_view(gateway.port)
            jn = journal_view(journal)
            rate_exceeded = gateway.count("gateway_rate_exceeded")
        driver_errors = [line for line in log.read_text().splitlines()
                         if '"level": "error"' in line or "Traceback" in line]
    results = check(gw, jn)
    results.append(("last life finished cleanly", final_ok, outcome))
    results.append(("no error 100 at the gateway", rate_exceeded == 0, f"{rate_exceeded}"))
    passed = all(ok for _, ok, _ in results)
    print()
    print(f"rounds {rounds + 2} (1 clean, {rounds} with a kill timer, 1 final); kills {kills}; "
          f"finished before the kill {finished}")
    print(f"killed during: {dict(outcomes)}")
    print(f"journal notes: {dict(jn['notes'])}")
    print(f"driver error lines / tracebacks in its log: {len(driver_errors)}")
    filled_by_intent: Counter[str] = Counter()
    for _, coid, quantity in jn["fills"]:
        filled_by_intent[jn["order_intent"].get(coid)] += quantity
    short = [i for i, q in jn["intent_quantity"].items() if filled_by_intent[i] < q]
    orderless = [i for i in jn["intent_quantity"] if i not in jn["order_intent"].values()]
    print(f"intents filled short of their quantity: {len(short)} of {len(jn['intents'])} "
          f"({len(orderless)} with no order at all): a killed TWAP is not resumed on restart "
          f"(only its working order is adopted); restarts journaled "
          f"{jn['notes'].get('intent_interrupted', 0)} intent_interrupted notes")
    unsent = set(jn["orders"]) - set(gw["open_refs"]) - set(gw["completed_refs"])
    print(f"orders journaled (write-ahead) but never at the gateway (killed before the wire, "
          f"settled on restart): {len(unsent)}")
    for name, ok, detail in results:
        print(f"  {'PASS' if ok else 'FAIL'}  {name}: {detail}")
    total_fills = sum(q for _, _, q in jn["fills"])
    print(f"RESULT: {'PASS' if passed else 'FAIL'}")
    print()
    print("For BENCHMARKS.md:")
    print()
    print("| kills | seed | intents | orders (journal) | orders (gateway) | executions "
          "| lots filled | lost | duplicated | sent twice | result |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    gw_orders = len(gw["open_refs"]) + len(gw["completed_refs"])
    lost = len({e[0] for e in gw["executions"]} - {f[0] for f in jn["fills"]})
    duplicated = len(jn["fills"]) - len({f[0] for f in jn["fills"]})
    twice = sum(1 for n in Counter(gw["open_refs"] + gw["completed_refs"]).values() if n > 1)
    print(f"| {kills} | {args.seed} | {len(jn['intents'])} | {sum(jn['orders'].values())} "
          f"| {gw_orders} | {len(gw['executions'])} | {total_fills} | {lost} | {duplicated} "
          f"| {twice} | {'PASS' if passed else 'FAIL'} |")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
