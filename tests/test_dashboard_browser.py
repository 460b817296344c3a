"""The dashboard in a real headless Chromium (Debian's ``chromium`` and ``chromium-driver``,
driven by selenium): the fill, the position and the kill switch, asserted on the rendered page.

Real clock and real sockets on 127.0.0.1: the browser lives in real time. Skipped, with the
reason, where Chromium, its driver or selenium is missing (``.ci/run`` installs them).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import trio

from hydra import OATS, Distance, ExecutionSettings, HydraConfig, OrderIntent, Side, TradingState
from hydra.dashboard import open_dashboard
from hydra.sim import open_sim_exchange
from tests.simulated import open_engine, quiet_oats

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
CONFIG = HydraConfig(execution=ExecutionSettings(patience=1.0, slippage_guard=Distance.ticks(2)))
TOKEN = "browser-test-token"
WAIT = 15.0  # seconds the browser may take to show what the page was sent


@contextmanager
def _chromium() -> Iterator[Any]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1280,1600"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(DRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def _text_of(driver: Any, element_id: str) -> str:
    return str(driver.find_element(By.ID, element_id).text)


def _shows(driver: Any, element_id: str, text: str) -> Callable[[Any], bool]:
    """Wait (in the browser's own time) until the element's rendered text has ``text``."""
    def check(_: Any) -> bool:
        return text in _text_of(driver, element_id)
    return check


async def test_page_in_chromium_follows_a_fill_and_pulls_the_kill_switch(tmp_path: Path) -> None:
    """The page's clock runs, it shows the fill and the position as they happen (pushed, no
    reload), and the kill switch with the token halts trading; a screenshot is kept."""
    journal = tmp_path / "j.sqlite"
    shot = Path(os.environ.get("HYDRA_TEST_ARTIFACTS", tmp_path)) / "dashboard.png"
    with trio.fail_after(90):
        async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
            async with open_engine(exchange, journal, CONFIG) as engine:
                async with open_dashboard(engine, journal_path=journal, port=0, token=TOKEN,
                                          config=CONFIG) as dashboard:
                    with _chromium() as driver:
                        await _watch_a_fill(driver, dashboard.url, engine)
                        await trio.to_thread.run_sync(driver.save_screenshot, str(shot))
                        await _pull_the_kill_switch(driver)
                        assert engine.statistics().trading_state is TradingState.HALTED
    assert shot.read_bytes().startswith(b"\x89PNG")


async def _watch_a_fill(driver: Any, url: str, engine: Any) -> None:
    wait = WebDriverWait(driver, WAIT)
    await trio.to_thread.run_sync(driver.get, url)
    await trio.to_thread.run_sync(wait.until, _shows(driver, "banner", "SIM"))
    assert "No fills yet." in _text_of(driver, "fills")
    clock = driver.find_element(By.CSS_SELECTOR, "#banner time").text
    await trio.to_thread.run_sync(wait.until, lambda d: d.find_element(
        By.CSS_SELECTOR, "#banner time").text not in ("", clock))  # the clock runs, by itself
    ticked = driver.find_element(By.CSS_SELECTOR, "#banner time").text
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [A-Z]{3}", ticked), ticked
    # Wait for the script's first push, so the fill below must arrive by the event stream.
    await trio.to_thread.run_sync(wait.until, lambda d: d.execute_script(
        "return document.body.dataset.updated !== undefined"))
    handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=1,
                                             intent_id="in-browser"))
    await handle.wait_done()
    await trio.to_thread.run_sync(wait.until, _shows(driver, "fills", "in-browser"))
    await trio.to_thread.run_sync(wait.until, _shows(driver, "positions", "ZO 1 350.25"))
    assert driver.current_url == url  # no reload, no navigation: pushed


async def _pull_the_kill_switch(driver: Any) -> None:
    wait = WebDriverWait(driver, WAIT)
    button = driver.find_element(By.CSS_SELECTOR, 'form[action="kill"] button')
    await trio.to_thread.run_sync(button.click)
    await trio.to_thread.run_sync(wait.until, lambda d: "Confirm" in d.title)
    driver.find_element(By.NAME, "token").send_keys(TOKEN)
    confirm = driver.find_element(By.CSS_SELECTOR, 'form[method="post"] button')
    await trio.to_thread.run_sync(confirm.click)
    await trio.to_thread.run_sync(wait.until, lambda d: "Kill switch pulled" in d.title)
    await trio.to_thread.run_sync(driver.find_element(By.LINK_TEXT, "back to the dashboard")
                                  .click)
    await trio.to_thread.run_sync(wait.until, _shows(driver, "banner", "HALTED"))
