"""The inbox file as the runner reads it: each new complete line once, with its line number,
across rotation and truncation.

A file is known by its content, not its inode (an editor's save replaces the inode): while the
file at the inbox's path still begins with every byte read so far, it is the same file, grown.
When it is shorter than that, or begins differently (emptied and written again, rotated, an
earlier line edited), it is a new *generation*, read from its first line; but a file found
within `SETTLE_NS` of its change holding the beginning of what was read, and no more, decides
nothing until the next poll (a writer that rewrites the file whole may be between its
truncation and its write, or between two of its writes; a restart, which does not keep the
bytes read, knows their beginning by a short digest of each line's prefix). Ids derived from
id-less lines include the generation (`hydra._inbox`), so a new day's line identical to an old
one is new work, while a restart that re-reads the same file derives the same ids (and the
journal refuses to work them twice). The reader keeps the generation, the number of bytes
read, their digest and the prefixes' digests (8 hex digits a line) in a small state file, so a
file rewritten while Hydra was stopped is a new generation too. Lost state cannot be told from
a first run: keep the file with the journal.

Each line gets a deadline when it is first read, ``wait`` seconds later (how long it may wait
for a broker session that is down, unless it names its own), and the state file keeps it with
the bytes read, in the same write, until the runner says the line is `done` (handed to the
engine, refused, or dropped): a restart that reads a line not done again gives it the
deadline it had, never a later one, and a kill at any point cannot leave a line read but
undated. A line done before (an intent held for the market's open is done, and a restart
holds it again) or read by a Hydra that kept no deadlines gets a new one. The state is
replaced whole and flushed to the disk (`hydra._durable_replace`): a crash leaves the last
state or the one before it (a rehearsal's is not flushed: a killed process leaves one or the
other, a power cut may lose the last).

A poll that finds the file as it was costs one ``stat``, not a read (`Stamp`): the file is
read again only when its device, inode, size, modification or change time differs from the last
read's, or when that read came within `SETTLE_NS` of the file's last change (a write in the same
tick of the filesystem's clock would leave the stamp as it was). The change time cannot be set
back (``os.utime`` sets it to now), so a rewrite of the same size with its modification time put
back is seen too. Keep the inbox on a local filesystem: a network one stamps files by the
server's clock.

The runner calls the reader through `OffloadedReader`: each call (its stat, its read and the
state file's flushes, tens of milliseconds on a loaded disk) in a worker thread in ``hydra
run``, so the event loop never waits on the disk, and on Trio's thread on a virtual clock,
which a worker thread would let jump past the read; one call at a time, in the order asked, so
two saves never run at once and a later state never reaches the disk before an earlier one. A
call that never returned would hold every later one (a thread is never abandoned), so nothing
but a regular file is read: a FIFO, a directory or a device at the path (or a file that cannot
be opened) is no lines, and one ``inbox_unreadable`` warning until it is a readable file
again, never a read that blocks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import stat
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

import attrs
import structlog
import trio

from ._converter import json_text, make_converter, notes_converter, structure
from ._core._instants import later
from ._durable_replace import replace_durably
from ._errors import InvalidValueError
from ._journal import utc_now
from ._journal_actor import Offload

log = structlog.get_logger()

T = TypeVar("T")

_STATE = make_converter()  # a table's checks, an unknown key refused; a time with its zone
_STATE.register_structure_hook(dt.datetime, notes_converter.get_structure_hook(dt.datetime))

SETTLE_NS = 20_000_000
"""How long after a file's last change a read must come before an unchanged `Stamp` proves
nothing was written since: twice the longest tick of the clock Linux stamps files with (10 ms at
100 Hz; later changes get a later time)."""
COARSE_SETTLE_NS = 2_000_000_000
"""The same for a file stamped in whole milliseconds or coarser (FAT keeps 2 s; ext3, HFS+ and
some network filesystems whole seconds)."""


@attrs.frozen(kw_only=True)
class Pending:
    """Lines of a generation, by number, read and not yet done, and the deadline they got
    when first read."""

    lines: tuple[int, ...]
    deadline: dt.datetime


@attrs.frozen(kw_only=True)
class Seen:
    """What the reader has taken from the file: its generation, how many bytes of it were
    read, their SHA-256, the deadlines of its lines not yet done, and ``prefixes``: for each
    line read, the `short_digest` of the file up to its end (a restart knows a file that
    holds the first lines of what was read by them). Every field but the deadlines and the
    prefixes is required: a state file lacking one is damaged (a Hydra before this one kept
    neither)."""

    generation: int = attrs.field(validator=attrs.validators.ge(0))
    read: int = attrs.field(validator=attrs.validators.ge(0))
    digest: str
    deadlines: tuple[Pending, ...] = ()
    prefixes: tuple[str, ...] = ()

    @classmethod
    def nothing_of(cls, generation: int) -> Seen:
        """Nothing read yet of ``generation``."""
        return cls(generation=generation, read=0, digest=hashlib.sha256(b"").hexdigest())


def short_digest(data: bytes) -> str:
    """The first 8 hex digits of the SHA-256 of ``data`` (see `_short`)."""
    return _short(hashlib.sha256(data))


def _short(sha256: hashlib._Hash) -> str:
    """A digest's first 8 hex digits: two prefixes that differ match by chance once in 4
    billion times, and then only wait for the file to settle."""
    return sha256.hexdigest()[:8]


@attrs.frozen(kw_only=True)
class InboxLine:
    """One complete, non-blank line; ``reread``: the run before this one read it already;
    ``deadline``: until when it may wait for a session that is down (see `InboxReader`)."""

    number: int
    text: str
    reread: bool
    deadline: dt.datetime


@attrs.frozen(kw_only=True)
class Stamp:
    """What ``stat`` tells of a file without reading it."""

    device: int
    inode: int
    size: int
    modified_ns: int
    changed_ns: int  # the inode's change time: any write, truncation, chmod or utime sets it

    @classmethod
    def of(cls, status: os.stat_result) -> Stamp:
        return cls(device=status.st_dev, inode=status.st_ino, size=status.st_size,
                   modified_ns=status.st_mtime_ns, changed_ns=status.st_ctime_ns)

    def settled_at(self, now_ns: int) -> bool:
        """True when, read at ``now_ns`` (the filesystem's clock), the file's last change was
        longer ago than a tick of that clock: a change after the read then stamps it anew."""
        coarse = self.changed_ns % 1_000_000 == 0 and self.modified_ns % 1_000_000 == 0
        return now_ns - self.changed_ns > (COARSE_SETTLE_NS if coarse else SETTLE_NS)


@attrs.frozen(kw_only=True)
class ReaderStatistics:
    """How many times the reader was asked for lines, and how many of those read the file."""

    polls: int
    reads: int


class InboxReader:
    """New complete lines of the inbox at ``path``; what was read is kept in ``state`` (None:
    in memory only, so a restart reads the file as generation 0), flushed to the disk at each
    save unless not ``durable`` (a rehearsal's: see `replace_durably`). ``clock``: the time
    the filesystem stamps files by, in nanoseconds; a line first read at ``now()`` gets the
    deadline ``wait`` seconds later."""

    def __init__(self, path: Path, *, state: Path | None = None, durable: bool = True,
                 clock: Callable[[], int] = time.time_ns,
                 now: Callable[[], dt.datetime] = utc_now, wait: float = math.inf) -> None:
        self.path = path
        self._state, self._durable = state, durable
        self._clock = clock
        self._now, self._wait = now, wait
        self._seen = _load(state)
        self._reread = self._seen.read  # bytes the last run read (in this generation)
        self._content: bytes | None = None  # what this reader read (None: nothing yet)
        self._partial = b""
        self._hashed: tuple[int, hashlib._Hash] | None = None  # bytes hashed for prefixes
        self._number = 0
        self._problem: str | None = None  # why the path cannot be read, once warned of
        self._unchanged: Stamp | None = None  # a stamp that proves the file unchanged since
        self._polls = self._reads = 0

    @property
    def generation(self) -> int:
        return self._seen.generation

    def statistics(self) -> ReaderStatistics:
        return ReaderStatistics(polls=self._polls, reads=self._reads)

    def read_lines(self) -> list[InboxLine]:
        """The lines completed since the last call, numbered from 1 in their generation."""
        self._polls += 1
        if self._unchanged is not None and self._stamp() == self._unchanged:
            return []
        self._unchanged = None
        self._reads += 1
        began = self._clock()
        try:
            data, stamp = _read_regular_file(self.path)
        except FileNotFoundError:
            return []
        except OSError as e:
            self._unreadable(e.strerror or str(e))
            return []
        self._problem = None
        if stamp.settled_at(began):
            self._unchanged = stamp
        elif self._may_be_rewriting(data):
            return []
        return self._lines(data)

    def _may_be_rewriting(self, data: bytes) -> bool:
        """True when ``data``, read within a tick of its change, is shorter than what was read
        and may be its beginning: a rewrite of the whole file between two of its writes. After
        a restart the bytes read are not known, only the prefixes' digests: its complete lines
        must be the first lines read, and what follows them may be the next line's beginning
        (taking a rewrite caught between its writes for a new generation would work its lines
        again; deciding nothing costs a new one a poll)."""
        if len(data) >= self._seen.read:
            return False
        if self._content is not None:
            return self._content.startswith(data)
        complete = data[:data.rfind(b"\n") + 1]
        lines = complete.count(b"\n")
        return lines == 0 or (lines <= len(self._seen.prefixes)
                              and short_digest(complete) == self._seen.prefixes[lines - 1])

    def _stamp(self) -> Stamp | None:
        try:
            return Stamp.of(os.stat(self.path))
        except OSError:  # gone or unreadable: the read says which
            return None

    def _lines(self, data: bytes) -> list[InboxLine]:
        if not self._continues(data):
            self._new_generation()
        start = len(self._content or b"") - len(self._partial)
        if self._content is not None and len(data) == len(self._content):
            return []
        self._content = data
        *raws, self._partial = data[start:].split(b"\n")
        lines = []  # (number, text, read by the run before) of each line that is not blank
        for raw in raws:
            self._number += 1
            start += len(raw) + 1
            if raw.strip():
                lines.append((self._number, raw, start <= self._reread))
        self._seen = attrs.evolve(self._seen, read=len(data),
                                  digest=hashlib.sha256(data).hexdigest(),
                                  deadlines=self._dated([number for number, *_ in lines]),
                                  prefixes=self._prefixes(data, len(data) - len(self._partial)))
        self._save()
        deadlines = {n: pending.deadline for pending in self._seen.deadlines
                     for n in pending.lines}
        return [InboxLine(number=number, text=raw.decode("utf-8", "replace"), reread=reread,
                          deadline=deadlines[number]) for number, raw, reread in lines]

    def done(self, generation: int, numbers: Iterable[int]) -> None:
        """Forget the deadlines of the lines ``numbers`` of ``generation`` (none when the file
        has moved on to another): they were handed to the engine, refused or dropped."""
        gone = set(numbers)
        if generation != self._seen.generation or not gone:
            return
        kept = tuple(attrs.evolve(pending, lines=left) for pending in self._seen.deadlines
                     if (left := tuple(n for n in pending.lines if n not in gone)))
        if kept != self._seen.deadlines:
            self._seen = attrs.evolve(self._seen, deadlines=kept)
            self._save()

    def _prefixes(self, data: bytes, end: int) -> tuple[str, ...]:
        """The prefixes kept, and those of the lines of ``data`` that end by ``end`` and have
        none yet (the first read of a run hashes again the lines the run before read)."""
        known = self._seen.prefixes
        if self._hashed is None:
            hashed = 0
            for _ in known:
                hashed = data.index(b"\n", hashed) + 1
            self._hashed = (hashed, hashlib.sha256(data[:hashed]))
        hashed, running = self._hashed
        fresh = []
        while hashed < end:
            line_end = data.index(b"\n", hashed) + 1
            running.update(data[hashed:line_end])
            fresh.append(_short(running))
            hashed = line_end
        self._hashed = (hashed, running)
        return (*known, *fresh)

    def _dated(self, numbers: list[int]) -> tuple[Pending, ...]:
        """The deadlines kept, and one for those of the lines ``numbers`` that have none (new,
        or done by a run before), joined to the last kept when it is the same (waiting for
        ever gives every line one: the state stays one entry)."""
        known = self._seen.deadlines
        dated = {n for pending in known for n in pending.lines}
        fresh = tuple(n for n in numbers if n not in dated)
        if not fresh:
            return known
        deadline = later(self._now(), self._wait)
        if known and known[-1].deadline == deadline:
            return (*known[:-1], attrs.evolve(known[-1], lines=known[-1].lines + fresh))
        return (*known, Pending(lines=fresh, deadline=deadline))

    def _unreadable(self, problem: str) -> None:
        if problem != self._problem:
            log.warning("inbox_unreadable", path=str(self.path), problem=problem)
        self._problem = problem

    def _continues(self, data: bytes) -> bool:
        """True when ``data`` begins with what was read (in this run, or the run before)."""
        if self._content is not None:
            return data.startswith(self._content)
        head = data[:self._seen.read]
        return len(head) == self._seen.read and (
            hashlib.sha256(head).hexdigest() == self._seen.digest)

    def _new_generation(self) -> None:
        generation = self._seen.generation + 1
        log.warning("inbox_replaced", path=str(self.path), generation=generation,
                    lines_read=self._number)
        self._seen = Seen.nothing_of(generation)
        self._reread = 0
        self._content, self._partial, self._number = None, b"", 0
        self._hashed = None

    def _save(self) -> None:
        if self._state is None:
            return
        try:
            replace_durably(self._state, json_text(self._seen), flush=self._durable)
        except OSError as e:
            # Not fatal, and not the runner's to stop for: a state file a save or two behind
            # still tells the next run the generation (an unsaved new generation is found
            # again from the file), and the journal it sits beside fails on the same disk.
            log.warning("inbox_state_not_saved", path=str(self._state), error=str(e))


class OffloadedReader:
    """An `InboxReader`'s calls, each run through ``offload`` (`hydra.run_in_thread` off the
    event loop, `hydra.run_inline` on a virtual clock: then no call yields to another task)
    and one at a time, in the order they were made: each saves the state it made, so the
    state file goes through the reader's states in their order."""

    def __init__(self, reader: InboxReader, offload: Offload) -> None:
        self._reader, self._offload = reader, offload
        self._turn = trio.Lock()  # fair: the calls waiting get it in the order they came

    async def read_lines(self) -> tuple[list[InboxLine], int]:
        """`InboxReader.read_lines`, and the generation the lines are of."""
        return await self._in_turn(lambda: (self._reader.read_lines(), self._reader.generation))

    async def done(self, generation: int, numbers: Iterable[int]) -> None:
        """`InboxReader.done` (none: nothing to call)."""
        gone = list(numbers)
        if gone:
            await self._in_turn(lambda: self._reader.done(generation, gone))

    async def _in_turn(self, call: Callable[[], T]) -> T:
        try:  # a free turn is taken without a checkpoint: inline, the task goes on as before
            self._turn.acquire_nowait()
        except trio.WouldBlock:
            await self._turn.acquire()
        try:
            result: T = await self._offload(call)
            return result
        finally:
            self._turn.release()


def _read_regular_file(path: Path) -> tuple[bytes, Stamp]:
    """The bytes of the regular file at ``path`` and its stamp before they were read; anything
    else is an `OSError` (opened without blocking: a FIFO with no writer would otherwise hold
    the open forever)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise OSError(f"not a regular file ({_kind(status.st_mode)})")
        chunks = [os.read(fd, status.st_size + 1)]
        while len(chunks[0]) > status.st_size and chunks[-1]:  # grown since the fstat
            chunks.append(os.read(fd, 1 << 16))
        return b"".join(chunks), Stamp.of(status)
    finally:
        os.close(fd)


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    return "a directory" if stat.S_ISDIR(mode) else "a device or socket"


def _load(state: Path | None) -> Seen:
    """What the last run read; a state file that cannot be read refuses the start (its
    generation is unknown, and a guess could work old lines again)."""
    if state is None:
        return Seen.nothing_of(0)
    try:
        return structure(json.loads(state.read_text()), Seen, using=_STATE)  # of its types
    except FileNotFoundError:
        return Seen.nothing_of(0)
    except (OSError, ValueError, TypeError) as e:
        raise InvalidValueError(
            "inbox state", str(state), "cannot be read; restore it from a backup (deleting "
            "it would work the inbox's id-less lines again)") from e
