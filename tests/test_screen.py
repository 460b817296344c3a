"""Log lines and the status line sharing a terminal: never on one line, never wrapped."""

from __future__ import annotations

import io

import pytest

from hydra._screen import CLEAR_LINE, StatusScreen


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_line_goes_above_the_status_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """A log line written in parts clears the status first and draws it again after; the
    status is cut to one column less than the terminal's width."""
    monkeypatch.setenv("COLUMNS", "20")
    terminal = Terminal()
    screen = StatusScreen(terminal)
    screen.show("hydra: connected | risk ACTIVE")
    print("order_placed qty=1", file=screen)  # print writes the text, then the newline
    assert terminal.getvalue() == (
        f"{CLEAR_LINE}hydra: connected | "
        f"{CLEAR_LINE}order_placed qty=1\nhydra: connected | ")
    assert screen.isatty()


def test_clearing_leaves_an_empty_line_for_the_last_words() -> None:
    """After clear(), what is written next starts on an empty line."""
    terminal = Terminal()
    screen = StatusScreen(terminal)
    screen.show("status")
    screen.clear()
    assert terminal.getvalue().endswith(CLEAR_LINE)
