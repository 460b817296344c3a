"""A Hypothesis state machine over journal writes, real crashes (SIGKILL) and reopens.

A child process (`tests.journal_writer`) owns the `Journal` and answers each write only after
it is committed. The machine writes intents, orders, acks, statuses, fills (repeating
execution ids) and notes; `kill` SIGKILLs the child, sometimes with writes in flight that were
never answered, sometimes deletes the ``-wal`` too, and a new child opens the same file at
once (the kernel released the flock). After every step the journal, read with
`Journal.open_read_only`, must hold exactly what the model says it may.
"""

from __future__ import annotations

import multiprocessing
import signal
import tempfile
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from hydra._enums import OrderStatus
from hydra._errors import JournalLockedError
from hydra._journal import Journal
from hydra._journal_schema import SCHEMA_VERSION
from tests.journal_writer import serve

CHECKPOINT_EVERY = 4
"""The child's `hydra._journal.CHECKPOINT_EVERY`: small, so a short run crosses several."""

TIMEOUT = 30.0
"""Seconds to wait for any one answer of the child: generous, never a timing assumption."""

CONTEXT = multiprocessing.get_context("forkserver")
CONTEXT.set_forkserver_preload(["tests.journal_writer"])


class Writer:
    """One child process owning the journal at ``path`` (`tests.journal_writer.serve`)."""

    def __init__(self, path: Path, *, durable: bool) -> None:
        self.connection, theirs = CONTEXT.Pipe()
        self.process = CONTEXT.Process(target=serve,
                                       args=(theirs, str(path), CHECKPOINT_EVERY, durable))
        self.process.start()
        theirs.close()
        answer = self.receive()
        assert answer[0] == "ready", answer  # refused (the lock still held): an error here
        self.journal_id = str(answer[1])

    def send(self, message: dict[str, Any]) -> None:
        self.connection.send(message)

    def receive(self) -> Any:
        """The child's next answer, waited for at most `TIMEOUT` seconds."""
        assert self.connection.poll(TIMEOUT), f"no answer from the journal writer in {TIMEOUT} s"
        try:
            return self.connection.recv()
        except EOFError:
            self.process.join(TIMEOUT)
            raise AssertionError(f"the journal writer died (exit {self.process.exitcode})"
                                 ) from None

    def kill(self) -> None:
        """SIGKILL: no close, no checkpoint, no cleanup of any kind."""
        self.process.kill()
        self.process.join(TIMEOUT)
        assert self.process.exitcode == -signal.SIGKILL, self.process.exitcode
        self.process.close()
        self.connection.close()


@attrs.frozen
class Write:
    """One write command; ``event`` is False for a fill the journal must refuse (a repeat)."""

    n: int
    op: str
    fields: dict[str, Any]
    event: bool = True

    def command(self) -> dict[str, Any]:
        return {"n": self.n, "op": self.op, **self.fields}


OPS = ["intent", "order", "ack", "status", "fill", "repeat_fill", "note"]
LIVE = {OrderStatus.PENDING, OrderStatus.WORKING, OrderStatus.LEFT_WORKING}


def event_number(kind: str, payload: dict[str, Any]) -> int:
    """The write number an event carries (each write makes its event recognisable)."""
    if kind == "intent":
        return int(payload["intent"]["intent_id"].removeprefix("int-"))
    if kind == "order":
        return int(payload["request"]["client_order_id"].removeprefix("ord-"))
    if kind == "ack":
        return int(payload["broker_order_id"])
    if kind == "status":
        return int(payload["reason"].removeprefix("w"))
    if kind == "fill":
        return int(payload["fill"]["execution_id"].removeprefix("e"))
    assert kind == "note", kind
    return int(payload["number"])


class JournalCrash(RuleBasedStateMachine):
    """The model: ``held``, the writes whose events the journal holds, in order (what the
    current child was told since it opened and answered is at the end of it)."""

    durable = True  # the journal opened as hydra run opens it

    @initialize()
    def start(self) -> None:
        self.folder = tempfile.TemporaryDirectory()
        self.path = Path(self.folder.name) / "j.sqlite"
        self.writer = Writer(self.path, durable=self.durable)
        self.journal_id = self.writer.journal_id
        self.numbers = 0
        self.held: list[Write] = []
        self.at_open = 0  # events held when the current child opened (checkpointed then)
        self.crashes = 0

    def teardown(self) -> None:
        writer = getattr(self, "writer", None)
        if writer is not None:
            writer.kill()
        folder = getattr(self, "folder", None)
        if folder is not None:
            folder.cleanup()

    # The writes.

    def _next(self, op: str, data: st.DataObject, pending: list[Write]) -> Write:
        """A write ``op`` drawn against the journal as it will be after ``pending``. The draws
        are the same whatever the journal holds (what survives a crash is not up to
        Hypothesis): a pick indexes the keys known at the time."""
        pick, quantity, dry, status = data.draw(st.tuples(
            st.integers(0, 1000), st.integers(1, 10), st.sampled_from([False, False, False, True]),
            st.sampled_from(OrderStatus)), label=op)
        self.numbers += 1
        n = self.numbers
        known = self.held + pending
        intents = [w.fields["intent_id"] for w in known if w.op == "intent"] or ["int-0"]
        orders = [w.fields["coid"] for w in known if w.op == "order"]
        fills = sorted({w.fields["execution_id"] for w in known if w.op == "fill" and w.event})
        if op in ("ack", "status", "fill", "repeat_fill") and not orders:
            op = "order"
        if op == "repeat_fill" and not fills:
            op = "fill"
        coid = orders[pick % len(orders)] if orders else None
        if op == "intent":
            return Write(n, op, {"intent_id": f"int-{n}", "quantity": quantity})
        if op == "order":
            return Write(n, op, {"coid": f"ord-{n}", "intent_id": intents[pick % len(intents)],
                                 "quantity": quantity, "dry": dry})
        if op == "ack":
            return Write(n, op, {"coid": coid})
        if op == "status":
            return Write(n, op, {"coid": coid, "status": status.value})
        if op == "fill":
            return Write(n, op, {"coid": coid, "execution_id": f"e{n}", "quantity": quantity})
        if op == "repeat_fill":  # another report of a journaled execution: refused
            return Write(n, "fill", {"coid": coid, "execution_id": fills[pick % len(fills)],
                                     "quantity": quantity}, event=False)
        return Write(n, "note", {})

    def _answered(self, write: Write) -> None:
        """Wait for the child's answer to ``write`` and check what the journal call said."""
        answer = self.writer.receive()
        assert answer.get("n") == write.n and "error" not in answer, (write, answer)
        expected = write.event if write.op == "fill" else None
        assert answer["result"] == expected, (write, answer)
        if write.event:
            self.held.append(write)

    @rule(op=st.sampled_from(OPS), data=st.data())
    def write(self, op: str, data: st.DataObject) -> None:
        write = self._next(op, data, [])
        self.writer.send(write.command())
        self._answered(write)

    # The crash.

    @rule(data=st.data(), in_flight=st.integers(0, 4), delete_wal=st.booleans(),
          delete_shm=st.booleans())
    def kill(self, data: st.DataObject, in_flight: int, delete_wal: bool,
             delete_shm: bool) -> None:
        """Send ``in_flight`` writes, wait for the answers of some of them, SIGKILL the child
        (the others may or may not be committed), maybe delete the ``-wal`` (and ``-shm``),
        and open the journal in a new child at once."""
        sent: list[Write] = []
        for _ in range(in_flight):
            write = self._next(data.draw(st.sampled_from(OPS)), data, sent)
            self.writer.send(write.command())
            sent.append(write)
        answered = data.draw(st.integers(0, in_flight))
        for write in sent[:answered]:
            self._answered(write)
        unanswered = [w for w in sent[answered:] if w.event]
        self.writer.kill()
        self.crashes += 1
        checkpointed = self.at_open + (len(self.held) - self.at_open) // CHECKPOINT_EVERY * (
            CHECKPOINT_EVERY)
        if delete_wal:
            wal = Path(f"{self.path}-wal")
            wal.unlink(missing_ok=True)
            if delete_shm:
                Path(f"{self.path}-shm").unlink(missing_ok=True)
        # at once: the kernel released the dead child's flock
        self.writer = Writer(self.path, durable=self.durable)
        assert self.writer.journal_id == self.journal_id
        found = [number for number, _ in self._events()]
        may = self.held + unanswered
        least = checkpointed if delete_wal else len(self.held)
        assert found == [w.n for w in may[:len(found)]], (found, may, delete_wal)
        assert least <= len(found) <= len(may), (found, least, may, delete_wal)
        event(f"kill: {len(found) - len(self.held):+d} unanswered kept"
              if len(found) >= len(self.held) else "kill: -wal lost answered writes")
        self.held = may[:len(found)]
        self.at_open = len(self.held)

    @rule()
    def second_writer_is_refused(self) -> None:
        with pytest.raises(JournalLockedError):
            Journal.open(self.path)

    # What the journal holds.

    def _events(self) -> list[tuple[int, int]]:
        """(write number, seq) of every event, read as a report would, strictly in order."""
        journal = Journal.open_read_only(self.path)
        try:
            events = [(event_number(kind.value, payload), seq)
                      for seq, kind, payload in journal.events()]
        finally:
            journal.close()
        seqs = [seq for _, seq in events]
        assert seqs == sorted(set(seqs)), seqs
        return events

    @invariant()
    def holds_exactly_the_answered_writes(self) -> None:
        assert [number for number, _ in self._events()] == [w.n for w in self.held]

    @invariant()
    def one_fill_per_execution(self) -> None:
        journal = Journal.open_read_only(self.path)
        try:
            executions = [f.execution_id for f in journal.fills()]
        finally:
            journal.close()
        assert len(executions) == len(set(executions))

    @invariant()
    def live_orders_are_the_model(self) -> None:
        status: dict[str, OrderStatus] = {}
        ack: dict[str, int | None] = {}
        filled: dict[str, int] = {}
        dry: set[str] = set()
        for w in self.held:
            coid = w.fields.get("coid")
            if w.op == "order":
                status[coid], ack[coid], filled[coid] = OrderStatus.PENDING, None, 0
                if w.fields["dry"]:
                    dry.add(coid)
            elif w.op == "status":
                status[coid] = OrderStatus(w.fields["status"])
            elif w.op == "ack":
                ack[coid] = w.n
            elif w.op == "fill":
                filled[coid] = filled.get(coid, 0) + w.fields["quantity"]
        expected = {coid: (s, ack[coid], filled[coid]) for coid, s in status.items()
                    if s in LIVE and coid not in dry}
        journal = Journal.open_read_only(self.path)
        try:
            found = {o.request.client_order_id: (o.status, o.broker_order_id, o.filled)
                     for o in journal.live_orders()}
        finally:
            journal.close()
        assert found == expected

    @invariant()
    def same_schema_and_same_journal(self) -> None:
        journal = Journal.open_read_only(self.path)
        try:
            assert journal.journal_id == self.journal_id
            (version,) = journal._db.execute("PRAGMA user_version").fetchone()
        finally:
            journal.close()
        assert version == SCHEMA_VERSION


TestJournalCrash = JournalCrash.TestCase
TestJournalCrash.settings = settings(max_examples=20, stateful_step_count=20, deadline=None)


class RehearsalJournalCrash(JournalCrash):
    """The same crashes on a journal opened not ``durable`` (a rehearsal's): a killed process
    loses no answered write either (only a lost machine could)."""

    durable = False


TestRehearsalJournalCrash = RehearsalJournalCrash.TestCase
TestRehearsalJournalCrash.settings = settings(max_examples=20, stateful_step_count=20,
                                              deadline=None)
