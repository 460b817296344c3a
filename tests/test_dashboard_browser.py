"""The dashboard of a real ``hydra run --sim --dashboard`` in a subprocess, in a real headless
Chromium (Debian's ``chromium`` and ``chromium-driver``, driven by selenium): an intent written
into the inbox appears as a working order, fills and moves to the fills table, the position and
its PnL update, and the kill switch with the token the process printed halts trading — all
asserted on the rendered page, with a screenshot kept.

Real clock, real processes, real sockets on 127.0.0.1: the browser and the child live in real
time, so every wait is on a condition (selenium's `WebDriverWait`), bounded. Skipped, with the
reason, where Chromium, its driver or selenium is missing (``.ci/run`` installs them).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hydra import OATS
from hydra._contracts import ROLL_DAYS
from hydra._core._front_month import front_month
from hydra._journal import Journal

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = shutil.which("chromium")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="Debian's chromium and chromium-driver are not installed (apt-get install chromium "
    "chromium-driver)",
)
START = 90.0  # seconds the child may take to start (Python, the gateway, the journal) when loaded
WAIT = 30.0  # seconds the page may take to show what happened (the ladder crosses at 3 s)
POLL = 0.05  # seconds between looks at the page: an order working for a second is seen
INTENT = {"symbol": "ZO", "side": "BUY", "quantity": 1, "intent_id": "from-inbox"}


@contextmanager
def _chromium() -> Iterator[Any]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1280,1700"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(DRIVER))
    try:
        yield driver
    finally:
        driver.quit()


@contextmanager
def _hydra_run(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """``hydra run --sim --dashboard 127.0.0.1:0`` on a config and an empty inbox in
    ``tmp_path``; standard error goes to a file. Killed if the test leaves it running."""
    journal, inbox, log = tmp_path / "j.sqlite", tmp_path / "inbox.jsonl", tmp_path / "err.log"
    config = tmp_path / "hydra.toml"
    config.write_text(f'[execution]\npatience = 2.0\n[shutdown]\ndrain_timeout = 0.5\n'
                      f'[journal]\npath = "{journal}"\n[runner]\ninbox = "{inbox}"\n'
                      f'[logging]\nformat = "json"\n')
    inbox.touch()
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_DASHBOARD_TOKEN"}
    with log.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "hydra", "run", "--sim", "--sim-hours", "none",
             "--config", str(config), "--journal", str(journal), "--dashboard", "127.0.0.1:0"],
            stdout=subprocess.DEVNULL, stderr=err, text=True, env=env)
    try:
        yield process, log
    finally:
        process.kill()
        process.wait(timeout=30)


def _printed(process: subprocess.Popen[str], log: Path) -> tuple[str, str]:
    """The page's address and the token for its actions, as the child printed them once."""
    pattern = re.compile(r"dashboard at (http://\S+) \(token for its actions: (\S+)\)")

    def started(_: object) -> re.Match[str] | None:
        assert process.poll() is None, log.read_text()
        return pattern.search(log.read_text())

    found = WebDriverWait(process, START, poll_frequency=0.2).until(
        started, message=f"no dashboard address in {START} s")
    return found[1], found[2]


def _text_of(driver: Any, element_id: str) -> str:
    return str(driver.find_element(By.ID, element_id).text)


def _shows(element_id: str, text: str) -> Callable[[Any], bool]:
    """The element's rendered text has ``text``."""
    return lambda driver: text in _text_of(driver, element_id)


def _front_month() -> str:
    """Hydra's front oats month today (the run's clock is the wall clock, in Chicago)."""
    today = dt.datetime.now(ZoneInfo(OATS.time_zone)).date()
    return front_month(OATS, today=today, roll_days=ROLL_DAYS)


def _row(driver: Any, element_id: str, value: str, *, column: int = 0) -> list[str]:
    """The cells of the row of the element's table that has ``value`` in ``column``."""
    for row in driver.find_elements(By.CSS_SELECTOR, f"#{element_id} tbody tr"):
        cells = [str(c.text) for c in row.find_elements(By.TAG_NAME, "td")]
        if len(cells) > column and cells[column] == value:
            return cells
    raise AssertionError(f"no row {value!r} in #{element_id}: {_text_of(driver, element_id)}")


def test_page_of_hydra_run_follows_an_inbox_intent_to_its_fill_and_pulls_the_kill_switch(
    tmp_path: Path,
) -> None:
    """The page of ``hydra run --sim --dashboard``: an inbox intent is pushed as a working
    order, fills and moves to the fills table, the position gets its mark and PnL, and the
    kill switch with the printed token halts trading; no reload, and a screenshot is kept."""
    shot = Path(os.environ.get("HYDRA_TEST_ARTIFACTS", tmp_path)) / "dashboard.png"
    inbox = tmp_path / "inbox.jsonl"
    with _hydra_run(tmp_path) as (process, log), _chromium() as driver:
        url, token = _printed(process, log)
        wait = WebDriverWait(driver, WAIT, poll_frequency=POLL)
        driver.get(url)
        _watch_the_banner(driver, wait)
        with inbox.open("a") as lines:
            lines.write(json.dumps(INTENT) + "\n")
        _watch_the_intent(driver, wait)
        assert driver.current_url == url  # no reload, no navigation: pushed
        driver.save_screenshot(str(shot))
        _pull_the_kill_switch(driver, wait, token)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0, log.read_text()
    assert shot.read_bytes().startswith(b"\x89PNG")
    journal = Journal.open_read_only(tmp_path / "j.sqlite")
    assert [n["reason"] for n in journal.notes("kill_switch")] == [
        "dashboard: kill switch from the dashboard"]


def _watch_the_banner(driver: Any, wait: WebDriverWait[Any]) -> None:
    wait.until(_shows("banner", "SIM"))
    assert "account DU*****67" in _text_of(driver, "banner")
    assert "ACTIVE" in _text_of(driver, "banner") and "live engine" in _text_of(driver, "banner")
    clock = driver.find_element(By.CSS_SELECTOR, "#banner time").text
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#banner time").text
               not in ("", clock))  # the exchange's clock runs, by itself
    ticked = driver.find_element(By.CSS_SELECTOR, "#banner time").text
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [A-Z]{3}", ticked), ticked
    # The script's first push: from now on what changes must come by the event stream.
    wait.until(lambda d: d.execute_script("return document.body.dataset.updated !== undefined"))
    assert "No working orders." in _text_of(driver, "working")
    assert "No fills yet." in _text_of(driver, "fills")
    assert "No positions." in _text_of(driver, "positions")


def _watch_the_intent(driver: Any, wait: WebDriverWait[Any]) -> None:
    wait.until(_shows("working", "from-inbox"))
    working = _row(driver, "working", "from-inbox")
    assert working[2:5] == ["ZO", "BUY", "0 / 1"], working
    wait.until(_shows("fills", "from-inbox"))
    wait.until(_shows("working", "No working orders."))
    filled = _row(driver, "fills", "from-inbox", column=1)
    assert filled[3:6] == ["ZO", "BUY", "1"], filled
    month = f"ZO {_front_month()}"  # the inbox line names no month: Hydra's front month's
    wait.until(lambda d: _row(d, "positions", month)[3] != "-")  # marked at that month's mid
    wait.until(lambda d: _row(d, "positions", month)[6] != "0.00")  # IB's commission, after
    held = _row(driver, "positions", month)
    assert held[1:3] == ["1", filled[6]], held  # one lot at the fill's price
    assert re.fullmatch(r"-?[\d,]+\.\d\d", held[4]), held  # unrealized PnL in dollars


def _pull_the_kill_switch(driver: Any, wait: WebDriverWait[Any], token: str) -> None:
    driver.find_element(By.CSS_SELECTOR, 'form[action="kill"] button').click()
    wait.until(lambda d: "Confirm" in d.title)
    driver.find_element(By.NAME, "token").send_keys(token)
    driver.find_element(By.CSS_SELECTOR, 'form[method="post"] button').click()
    wait.until(lambda d: "Kill switch pulled" in d.title)
    driver.find_element(By.LINK_TEXT, "back to the dashboard").click()
    wait.until(_shows("banner", "HALTED"))
    assert "kill switch from the dashboard" in _text_of(driver, "banner")
