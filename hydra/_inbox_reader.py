"""The inbox file as the runner reads it: each new complete line once, with its line number,
across rotation and truncation.

A file is known by its content, not its inode (an editor's save replaces the inode): while the
file at the inbox's path still begins with every byte read so far, it is the same file, grown.
When it is shorter than that, or begins differently (emptied and written again, rotated, an
earlier line edited), it is a new *generation*, read from its first line. Ids derived from
id-less lines include the generation (`hydra._inbox`), so a new day's line identical to an old
one is new work, while a restart that re-reads the same file derives the same ids (and the
journal refuses to work them twice). The reader keeps the generation, the number of bytes read
and their digest in a small state file, so a file rewritten while Hydra was stopped is a new
generation too. Lost state cannot be told from a first run: keep the file with the journal.

Reads happen on Trio's thread on purpose: the inbox is a small local file, and a worker thread
would let a virtual clock jump past the read. So nothing but a regular file is read: a FIFO, a
directory or a device at the path (or a file that cannot be opened) is no lines, and one
``inbox_unreadable`` warning until it is a readable file again, never a read that blocks.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import attrs
import structlog

from ._converter import json_text, structure
from ._errors import InvalidValueError

log = structlog.get_logger()


@attrs.frozen(kw_only=True)
class Seen:
    """What the reader has taken from the file: its generation, how many bytes of it were
    read, and their SHA-256. Every field is required: a state file lacking one is damaged."""

    generation: int = attrs.field(validator=attrs.validators.ge(0))
    read: int = attrs.field(validator=attrs.validators.ge(0))
    digest: str

    @classmethod
    def nothing_of(cls, generation: int) -> Seen:
        """Nothing read yet of ``generation``."""
        return cls(generation=generation, read=0, digest=hashlib.sha256(b"").hexdigest())


@attrs.frozen(kw_only=True)
class InboxLine:
    """One complete, non-blank line; ``reread``: the run before this one read it already."""

    number: int
    text: str
    reread: bool = False


class InboxReader:
    """New complete lines of the inbox at ``path``; what was read is kept in ``state`` (None:
    in memory only, so a restart reads the file as generation 0)."""

    def __init__(self, path: Path, *, state: Path | None = None) -> None:
        self.path = path
        self._state = state
        self._seen = _load(state)
        self._reread = self._seen.read  # bytes the last run read (in this generation)
        self._content: bytes | None = None  # what this reader read (None: nothing yet)
        self._partial = b""
        self._number = 0
        self._problem: str | None = None  # why the path cannot be read, once warned of

    @property
    def generation(self) -> int:
        return self._seen.generation

    def read_lines(self) -> list[InboxLine]:
        """The lines completed since the last call, numbered from 1 in their generation."""
        try:
            data = _read_regular_file(self.path)
        except FileNotFoundError:
            return []
        except OSError as e:
            self._unreadable(e.strerror or str(e))
            return []
        self._problem = None
        if not self._continues(data):
            self._new_generation()
        start = len(self._content or b"") - len(self._partial)
        if self._content is not None and len(data) == len(self._content):
            return []
        self._content = data
        self._seen = attrs.evolve(self._seen, read=len(data),
                                  digest=hashlib.sha256(data).hexdigest())
        self._save()
        *lines, self._partial = data[start:].split(b"\n")
        numbered = []
        for raw in lines:
            self._number += 1
            start += len(raw) + 1
            if raw.strip():
                numbered.append(InboxLine(number=self._number, text=raw.decode("utf-8", "replace"),
                                          reread=start <= self._reread))
        return numbered

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

    def _save(self) -> None:
        if self._state is None:
            return
        temporary = self._state.with_name(self._state.name + ".new")
        try:
            temporary.write_text(json_text(self._seen))
            temporary.replace(self._state)
        except OSError as e:
            # Not fatal, and not the runner's to stop for: a state file a save or two behind
            # still tells the next run the generation (an unsaved new generation is found
            # again from the file), and the journal it sits beside fails on the same disk.
            log.warning("inbox_state_not_saved", path=str(self._state), error=str(e))


def _read_regular_file(path: Path) -> bytes:
    """The bytes of the regular file at ``path``; anything else is an `OSError` (opened
    without blocking: a FIFO with no writer would otherwise hold the open forever)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise OSError(f"not a regular file ({_kind(mode)})")
    with os.fdopen(fd, "rb") as file:
        return file.read()


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
        return structure(json.loads(state.read_text()), Seen)  # every key, of its type
    except FileNotFoundError:
        return Seen.nothing_of(0)
    except (OSError, ValueError, TypeError) as e:
        raise InvalidValueError(
            "inbox state", str(state), "cannot be read; restore it from a backup (deleting "
            "it would work the inbox's id-less lines again)") from e
