"""Where a key path is written in a TOML file: a line scan, since tomllib reports lines only
for syntax errors.

The scan knows table headers (``[config.risk]``), arrays of tables (``[[actions]]``, counted
from 0 as ``actions[0]``, ``actions[1]``, …), keys (dotted ones too) and multi-line strings,
which it skips. A path it cannot find exactly falls back to its nearest written ancestor:
``markets[0].gaps[1].at`` (inside an inline array) is reported at the ``gaps = [...]`` line.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

_ARRAY_HEADER = re.compile(r"^\[\[\s*([^\[\]]+?)\s*\]\]")
_TABLE_HEADER = re.compile(r"^\[\s*([^\[\]]+?)\s*\]")
_KEY = re.compile(r"^([A-Za-z0-9_\-.\s\"']+?)\s*=")
_INDEX = re.compile(r"\[\d+\]$")


def _parts(dotted: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in dotted.split("."))


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Each table header and key written in ``text`` (as path components) → its line (1-based)."""
    lines: dict[tuple[str, ...], int] = {}
    counts: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    closing: str | None = None  # the delimiter of the multi-line string we are inside
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if closing is not None:
            closing = None if closing in line else closing
            continue
        if not line or line.startswith("#"):
            continue
        if match := _ARRAY_HEADER.match(line):
            name = _parts(match[1])
            index = counts.get(name, 0)
            counts[name] = index + 1
            table = (*name[:-1], f"{name[-1]}[{index}]")
            lines.setdefault(table, number)
        elif match := _TABLE_HEADER.match(line):
            table = _parts(match[1])
            lines.setdefault(table, number)
        elif match := _KEY.match(line):
            lines.setdefault((*table, *_parts(match[1])), number)
            closing = _opens_multiline(line[match.end():])
    return lines


def _opens_multiline(value: str) -> str | None:
    for delimiter in ('"""', "'''"):
        if value.count(delimiter) % 2 == 1:
            return delimiter
    return None


@functools.lru_cache(maxsize=4)
def _written(text: str) -> Mapping[tuple[str, ...], int]:
    """`key_lines` of ``text``, scanned once however many keys are looked up in it."""
    return key_lines(text)


def line_of(text: str, path: str) -> int | None:
    """The line where ``path`` (``actions[2].quantity``) or its nearest ancestor is written."""
    written = _written(text)
    parts = tuple(path.split(".")) if path else ()
    for length in range(len(parts), 0, -1):
        prefix = parts[:length]
        for candidate in (prefix, (*prefix[:-1], _INDEX.sub("", prefix[-1]))):
            if candidate in written:
                return written[candidate]
    return None


def table_at(text: str, line: int) -> str:
    """The dotted path of the table that ``line`` (1-based) is in; "" for the top level."""
    best = ""
    for parts, number in sorted(key_lines(text).items(), key=lambda item: item[1]):
        if number > line:
            break
        if _is_header(text, number):
            best = ".".join(parts)
    return best


def _is_header(text: str, number: int) -> bool:
    return text.splitlines()[number - 1].lstrip().startswith("[")
