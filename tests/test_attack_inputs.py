"""Attacks on what Hydra reads at start: a broker's daily bars (`hydra._market_facts`) and the
configuration file (`hydra config check`). Each test states what a hostile input must not do:
crash or hang the start, or leave Hydra running on a nonsense figure."""

from __future__ import annotations

import datetime as dt
import math
import subprocess
import sys
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from hydra import HydraConfig
from hydra._contracts import ContractSpec
from hydra._core._market_stats import DailyBar, market_stats
from hydra._core._positions import Position
from hydra._errors import BrokerError, InvalidValueError
from hydra._journal_actor import JournalClient
from hydra._market_facts import read_market_facts
from hydra._settings import MarketFactsSettings

TODAY = dt.date(2025, 3, 3)
CONFIGURED = {"ZO": 1500, "HE": 30000}
CONFIG = HydraConfig(adv=CONFIGURED)

Script = Callable[[ContractSpec, int], Any]


@attrs.define
class ScriptedBars:
    """A market view whose daily bars are what ``script`` says (by symbol): bars, an error to
    raise, or a wait before answering. Holds no positions."""

    script: dict[str, Script]
    asked: list[str] = attrs.Factory(list)

    async def positions(self) -> list[Position]:
        await trio.lowlevel.checkpoint()
        return []

    async def daily_bars(self, contract: ContractSpec, *, sessions: int) -> tuple[DailyBar, ...]:
        self.asked.append(contract.symbol)
        answer = self.script[contract.symbol](contract, sessions)
        if isinstance(answer, float):
            await trio.sleep(answer)
            return _bars([Decimal(350) + k for k in range(sessions)])
        if isinstance(answer, Exception):
            raise answer
        await trio.lowlevel.checkpoint()
        return tuple(answer)


def _bars(closes: Sequence[Decimal], *, volume: int = 1500, last: dt.date = TODAY,
          ) -> tuple[DailyBar, ...]:
    """One bar per weekday-free calendar day ending the day before ``last``."""
    first = last - dt.timedelta(days=len(closes))
    return tuple(DailyBar(day=first + dt.timedelta(days=k), open=c, high=c, low=c, close=c,
                          volume=volume) for k, c in enumerate(closes))


def _steady(n: int = 21) -> tuple[DailyBar, ...]:
    return _bars([Decimal(350) + Decimal(k % 3) for k in range(n)])


async def _facts(broker: ScriptedBars, config: HydraConfig = CONFIG,
                 ) -> tuple[HydraConfig, dict[str, dict[str, Any]]]:
    journal = JournalClient(trio.open_memory_channel[Any](0)[0])  # no position: no note
    with capture_logs() as logs:
        ran = await read_market_facts(config, broker, journal, today=TODAY)  # type: ignore[arg-type]
    return ran, {e["symbol"]: e for e in logs if e["event"] == "market_facts"}


def _sane(config: HydraConfig) -> None:
    """Every ADV and volatility Hydra runs on is a positive, finite, plausible figure."""
    for symbol, adv in config.adv.items():
        assert 0 < adv <= 10_000_000, (symbol, adv)
    for symbol, bps in config.slippage.volatility_bps.items():
        assert bps.is_finite() and 0 < bps <= 5000, (symbol, bps)


# --- the daily bars ---------------------------------------------------------------------------

HOSTILE_CLOSES = {
    "a close too small for a float": [Decimal("1E-400"), *[Decimal(350)] * 20],
    "a close too large for a float": [Decimal("1E+400"), *[Decimal(350)] * 20],
    "closes that overflow the ratio": [Decimal("5E-324"), Decimal("1E+300")] * 11,
    "closes that never move": [Decimal(350)] * 21,
    "closes that halve and double": [Decimal(350), Decimal(175)] * 11,
}


@pytest.mark.parametrize("closes", HOSTILE_CLOSES.values(), ids=HOSTILE_CLOSES.keys())
async def test_hostile_closes_fall_back_to_the_configured_volatility(
    closes: list[Decimal],
) -> None:
    """Closes a float cannot hold, that never move, or swing absurdly: the start goes on,
    on the configured volatility, and says why."""
    ran, lines = await _facts(ScriptedBars({"ZO": lambda c, n: _bars(closes),
                                            "HE": lambda c, n: _steady()}))
    _sane(ran)
    assert lines["ZO"]["volatility_source"] == "config fallback"
    assert lines["ZO"]["volatility_problem"]
    assert lines["HE"]["volatility_source"] == "bars"


@pytest.mark.parametrize("volume", [10**300, 10**12])
async def test_an_absurd_volume_falls_back_to_the_configured_adv(volume: int) -> None:
    """A broker saying 10**12 (or 10**300) contracts a day of oats: the configured ADV, not
    that, nor a crash."""
    ran, lines = await _facts(ScriptedBars({
        "ZO": lambda c, n: _bars([Decimal(350) + k % 3 for k in range(21)], volume=volume),
        "HE": lambda c, n: _steady()}))
    _sane(ran)
    assert ran.adv["ZO"] == 1500
    assert (lines["ZO"]["adv_source"], lines["ZO"]["log_level"]) == ("config fallback", "warning")
    assert "not plausible" in lines["ZO"]["adv_problem"]


async def test_zero_volume_is_no_adv() -> None:
    """Bars that traded nothing: the configured ADV (an ADV of 0 would divide by zero)."""
    ran, lines = await _facts(ScriptedBars({
        "ZO": lambda c, n: _bars([Decimal(350) + k % 3 for k in range(21)], volume=0),
        "HE": lambda c, n: _steady()}))
    _sane(ran)
    assert (ran.adv["ZO"], lines["ZO"]["adv_source"]) == (1500, "config fallback")


async def test_duplicate_unsorted_and_future_bars_are_measured_once() -> None:
    """The same bars shuffled, each twice, with bars for today and tomorrow: the same
    figures as the clean bars (one bar a day, today's and later ones left out)."""
    clean = _steady()
    later = _bars([Decimal(9999)] * 2, volume=10**6, last=TODAY + dt.timedelta(days=2))
    hostile = [*reversed(clean), *later, *clean[::2], *clean[1::2]]
    _, clean_lines = await _facts(ScriptedBars({"ZO": lambda c, n: clean,
                                                "HE": lambda c, n: clean}))
    _, lines = await _facts(ScriptedBars({"ZO": lambda c, n: hostile,
                                          "HE": lambda c, n: clean}))
    keys = ("adv", "volatility_bps", "sessions", "adv_source")
    assert {k: lines["ZO"][k] for k in keys} == {k: clean_lines["ZO"][k] for k in keys}


async def test_a_huge_count_of_bars_is_measured_on_the_latest_sessions() -> None:
    """100,000 bars for 20 sessions asked: measured on the latest 20, without a crash."""
    many = _bars([Decimal(350) + Decimal(k % 7) for k in range(100_000)])
    ran, lines = await _facts(ScriptedBars({"ZO": lambda c, n: many,
                                            "HE": lambda c, n: _steady()}))
    _sane(ran)
    assert (lines["ZO"]["sessions"], lines["ZO"]["adv_source"]) == (20, "bars")


async def test_one_symbol_failing_of_three_leaves_the_others_read(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Three symbols (ZO, HE and one Hydra knows no dates of): HE's broker raises mid-way;
    ZO is still read from its bars, HE falls back, the third is not asked for."""
    broker = ScriptedBars({"ZO": lambda c, n: _steady(),
                           "HE": lambda c, n: BrokerError("pacing violation")})
    ran, lines = await _facts(broker, HydraConfig(adv={**CONFIGURED, "XX": 10}))
    _sane(ran)
    assert sorted(broker.asked) == ["HE", "ZO"]
    assert (lines["ZO"]["adv_source"], lines["HE"]["adv_source"],
            lines["XX"]["adv_source"]) == ("bars", "config fallback", "config fallback")
    assert "pacing violation" in lines["HE"]["adv_problem"]


@pytest.mark.parametrize(("field", "value"), [
    ("close", math.nan), ("close", Decimal("sNaN")), ("close", math.inf), ("close", -1),
    ("close", 0), ("low", 0), ("volume", -1), ("volume", math.nan), ("volume", 1.5)])
def test_a_nonsense_bar_cannot_be_made(field: str, value: object) -> None:
    """A NaN, infinite, negative or zero price, or a volume not a whole number of zero or more:
    no bar, one `InvalidValueError` naming the field (what a broker's adapter raises, and the
    start falls back on)."""
    fields: dict[str, Any] = {"day": TODAY, "open": 1, "high": 1, "low": 1, "close": 1,
                              "volume": 1, field: value}
    with pytest.raises(InvalidValueError) as raised:
        DailyBar(**fields)
    assert raised.value.field == field


async def test_a_bad_bar_from_the_broker_falls_back(autojump_clock: trio.testing.MockClock,
                                                    ) -> None:
    """A bar the broker's adapter refused (a NaN volume: `InvalidValueError` naming it) is a
    fallback with a warning, not a crash."""
    bad = InvalidValueError("volume", math.nan, "must be a whole number of contracts")
    ran, lines = await _facts(ScriptedBars({"ZO": lambda c, n: bad,
                                            "HE": lambda c, n: _steady()}))
    _sane(ran)
    assert (lines["ZO"]["adv_source"], lines["ZO"]["log_level"]) == ("config fallback", "warning")
    assert "volume" in lines["ZO"]["adv_problem"]


async def test_a_broker_answering_after_the_wait_does_not_hold_the_start(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """HE's broker answers after an hour: the start goes on at exactly market_facts.wait
    (10 s), ZO read from its bars, HE on its configured figures."""
    config = attrs.evolve(CONFIG, market_facts=MarketFactsSettings(wait=10.0))
    start = trio.current_time()
    ran, lines = await _facts(ScriptedBars({"ZO": lambda c, n: _steady(),
                                            "HE": lambda c, n: 3600.0}), config)
    assert trio.current_time() - start == 10.0
    _sane(ran)
    assert (lines["HE"]["adv_source"], lines["ZO"]["adv_source"]) == ("config fallback", "bars")


bar_prices = st.decimals(min_value=Decimal("1E-30"), max_value=Decimal("1E+30"),
                         allow_nan=False, allow_infinity=False, places=None).filter(
                             lambda d: d > 0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(bar_prices, st.integers(min_value=0, max_value=10**20)),
                min_size=0, max_size=24))
def test_market_stats_give_a_plausible_figure_or_a_reason(bars: list[tuple[Decimal, int]],
                                                          ) -> None:
    """Whatever valid bars say, market_stats never raises, and each figure it gives is
    finite, above zero and plausible, or None with a reason."""
    daily = [DailyBar(day=TODAY - dt.timedelta(days=len(bars) - k), open=c, high=c, low=c,
                      close=c, volume=v) for k, (c, v) in enumerate(bars)]
    stats = market_stats(daily, before=TODAY, sessions=20, min_sessions=10)
    assert (stats.adv is None) == (stats.adv_problem is not None)
    assert (stats.volatility_bps is None) == (stats.volatility_problem is not None)
    assert stats.adv is None or 0 < stats.adv <= 10_000_000
    assert stats.volatility_bps is None or 0 < stats.volatility_bps <= 5000


# --- the configuration file -------------------------------------------------------------------

HOSTILE_TOML: dict[str, bytes] = {
    "deep nesting": b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n",
    "deep tables": b"[" + b".".join(b"a%d" % k for k in range(3000)) + b"]\n",
    "a huge number": b"[risk]\nmax_order_quantity = " + b"9" * 5000 + b"\n",
    "a huge float": b"[execution]\npatience = 1e999\n",
    "an ADV of infinity": b"[adv]\nZO = inf\n",
    "a duplicate key": b"[risk]\nmax_order_quantity = 5\nmax_order_quantity = 6\n",
    "a duplicate table": b"[risk]\nmax_order_quantity = 5\n[risk]\nmax_position = 6\n",
    "not UTF-8": b"[risk]\nmax_order_quantity = 5 # \xff\xfe caf\xe9\n",
    "a NUL byte": b"[risk]\nmax_order_quantity\x00 = 5\n",
    "a BOM": b"\xef\xbb\xbf[risk]\nmax_order_quantity = 5\n",
    "a key nested in a value": b"[risk]\nmax_order_quantity = {a = {b = {c = 1}}}\n",
    "nan": b"[execution]\npatience = nan\n",
    "an empty key": b'[risk]\n"" = 5\n',
    "a megabyte string": b'[risk]\nmax_order_quantity = "' + b"x" * 1_000_000 + b'"\n',
    "a 100,000 character key": b"[risk]\n" + b"k" * 100_000 + b" = 5\n",
    "a list of 200,000": b"[risk]\nmax_order_quantity = [" + b"1," * 200_000 + b"1]\n",
}


@pytest.mark.parametrize("text", HOSTILE_TOML.values(), ids=HOSTILE_TOML.keys())
def test_config_check_answers_hostile_toml_in_one_line(tmp_path: Path, text: bytes) -> None:
    """``hydra config check`` on a hostile file: exit 2 with one line (no traceback) naming
    the field or the place in the file."""
    path = tmp_path / "hydra.toml"
    path.write_bytes(text)
    done = subprocess.run([sys.executable, "-m", "hydra", "config", "check", str(path)],
                          capture_output=True, timeout=60, check=False)
    err = done.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err
    assert done.returncode == 2, (done.returncode, err, done.stdout)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert len(lines[0]) < 400, lines[0]


def test_config_check_of_100_000_keys_warns_of_each_in_time(tmp_path: Path) -> None:
    """100,000 [adv] keys for symbols Hydra does not know: one warning line each, and done
    in well under a minute (each key's line was found by scanning the whole file again)."""
    path = tmp_path / "hydra.toml"
    path.write_bytes(b"[adv]\n" + b"".join(b"S%d = 5\n" % k for k in range(100_000)))
    done = subprocess.run([sys.executable, "-m", "hydra", "config", "check", str(path)],
                          capture_output=True, timeout=60, check=False)
    assert done.returncode == 0
    warnings = done.stderr.decode().splitlines()
    assert len(warnings) == 100_000 and warnings[-1].endswith("line 100001)")
