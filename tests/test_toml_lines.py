"""Finding the line where a key path is written in a TOML file."""

from __future__ import annotations

import pytest

from hydra._toml_lines import key_lines, line_of, table_at

TEXT = '''description = """Two lines,
[not] a header = nor a key"""
seed = 3

[[markets]]
symbol = "ZO"
gaps = [{ at = 3, change = 1 }]

[[markets]]
symbol = "HE"
displayed_size.mean = 4

[config.risk]
max_order_quantity = 5

[[actions]]
kind = "kill"
'''


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("seed", 3),
        ("description", 1),
        ("markets[0].symbol", 6),
        ("markets[1].symbol", 10),
        ("markets[1].displayed_size.mean", 11),
        ("config.risk.max_order_quantity", 14),
        ("config.risk", 13),
        ("actions[0].kind", 17),
    ],
)
def test_each_written_key_is_found_on_its_line(path: str, line: int) -> None:
    """Top-level keys, arrays of tables (counted from 0), dotted keys and headers."""
    assert line_of(TEXT, path) == line


def test_a_path_not_written_falls_back_to_its_nearest_ancestor() -> None:
    """Inside an inline array, or a key left out, the nearest written ancestor's line."""
    assert line_of(TEXT, "markets[0].gaps[0].change") == 7
    assert line_of(TEXT, "actions[0].at") == 16
    assert line_of(TEXT, "horizon") is None


def test_multiline_strings_are_skipped() -> None:
    """A header-like line inside a multi-line string is not a header."""
    assert ("not",) not in key_lines(TEXT)


def test_table_at_names_the_enclosing_table() -> None:
    """A line belongs to the last header above it; before any header, the top level."""
    assert table_at(TEXT, 3) == ""
    assert table_at(TEXT, 10) == "markets[1]"
    assert table_at(TEXT, 14) == "config.risk"
