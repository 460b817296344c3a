from __future__ import annotations

import math
import re
import tomllib
import typing
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hydra import OATS, Side
from hydra._config import (
    FILE_FIELD,
    ConfigWarning,
    config_from_table,
    config_to_dict,
    config_to_toml,
    config_warnings,
    load_config,
    read_toml,
    toml_value,
)
from hydra._core._risk_checks import Denial, check_order_notional
from hydra._errors import ConfigError
from hydra._ids import ClientOrderId, IntentId
from hydra._orders import OrderRequest
from hydra._settings import (
    DEFAULT_ADV,
    BrokerSettings,
    Distance,
    DistanceUnit,
    ExecutionSettings,
    HydraConfig,
    JournalSettings,
    LogFormat,
    LogLevel,
    MarketFactsSettings,
    RiskLimits,
    RunnerSettings,
    SlippageSettings,
    Urgency,
)
from hydra._validate import WrittenFloat

EXAMPLE = Path(__file__).parent.parent / "examples" / "hydra.toml"


def config_error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        config_from_table(tomllib.loads(text))
    assert info.value.field in str(info.value)
    return info.value


def settings_fields(cls: type) -> set[str]:
    names = set()
    for name, tp in typing.get_type_hints(cls).items():
        names.add(name)
        if attrs.has(tp) and tp is not Distance:
            names |= settings_fields(tp)
    return names


# --- loading ---------------------------------------------------------------------------------


def test_empty_table_is_the_defaults() -> None:
    """An empty file configures every default."""
    assert config_from_table({}) == HydraConfig()


def test_values_of_every_kind_load() -> None:
    """Numbers, decimals (exactly, from floats too), enums and distances load as typed values."""
    config = config_from_table(tomllib.loads("""
        [execution]
        patience = 90
        price_step_pct = 0.3
        twap_threshold = "0.05"
        slippage_guard = { ticks = 4 }
        limit_offset = { absolute = 0.5 }
        [logging]
        level = "debug"
        format = "json"
        [broker]
        account = "DU1"
        [broker.backoff]
        cap = 10
    """))
    assert config.execution.patience == 90.0
    assert isinstance(config.execution.patience, float)
    assert config.execution.price_step_pct == Decimal("0.3")
    assert config.execution.twap_threshold == Decimal("0.05")
    assert config.execution.slippage_guard == Distance.ticks(4)
    assert config.execution.limit_offset == Distance.absolute(Decimal("0.5"))
    assert config.logging.level is LogLevel.DEBUG
    assert config.logging.format is LogFormat.JSON
    assert config.broker.account == "DU1"
    assert config.broker.backoff.cap == 10.0
    assert config.broker.backoff.initial == 1.0


def test_strategy_overrides_resolve_over_execution() -> None:
    """A strategy table overrides only its keys; the rest come from [execution], not defaults."""
    config = config_from_table(tomllib.loads("""
        [execution]
        patience = 30
        twap_slices = 4
        [strategies.momo]
        patience = 120
    """))
    momo = config.execution_for("momo")
    assert momo == attrs.evolve(config.execution, patience=120.0)
    assert momo.twap_slices == 4
    assert config.execution_for("other") == config.execution


def test_adv_merges_over_defaults() -> None:
    """An [adv] table adds and replaces symbols and keeps the other defaults."""
    config = config_from_table(tomllib.loads("[adv]\nZO = 900\nLE = 20000\n"))
    assert dict(config.adv) == {**DEFAULT_ADV, "ZO": 900, "LE": 20000}


def test_example_file_loads_as_the_defaults_plus_one_strategy() -> None:
    """examples/hydra.toml equals the defaults apart from its [strategies.patient] example."""
    config = load_config(EXAMPLE)
    assert attrs.evolve(config, strategies={}) == HydraConfig()
    patient = config.execution_for("patient")
    assert patient.patience > config.execution.patience
    assert patient == attrs.evolve(config.execution, patience=patient.patience)


def test_example_file_documents_every_setting() -> None:
    """Each settings field appears as a key, set or commented, in examples/hydra.toml."""
    text = EXAMPLE.read_text()
    missing = {
        name for name in settings_fields(HydraConfig)
        if not re.search(rf"^((# )?{name} =|\[([\w.]+\.)?{name}[].])", text, re.MULTILINE)
    }
    assert not missing


# --- errors ----------------------------------------------------------------------------------


def test_unknown_top_level_key_is_refused() -> None:
    """A key Hydra does not know at the top level names itself."""
    error = config_error("speed = 3\n")
    assert (error.field, error.value) == ("speed", 3)
    assert "unknown key" in str(error)


def test_unknown_nested_key_is_refused_with_a_suggestion() -> None:
    """A misspelt nested key is refused by its full path, with the key it probably meant."""
    error = config_error("[broker.backoff]\nmax_trys = 3\n")
    assert error.field == "broker.backoff.max_trys"
    assert "did you mean max_tries?" in error.problem


def test_unknown_key_in_a_strategy_is_refused() -> None:
    """A strategy table holds only execution keys."""
    error = config_error("[strategies.momo]\nmax_position = 3\n")
    assert error.field == "strategies.momo.max_position"


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('[risk]\nmax_order_quantity = "5"\n', "risk.max_order_quantity"),
        ("[risk]\nmax_order_quantity = 5.5\n", "risk.max_order_quantity"),
        ('[execution]\npatience = "60"\n', "execution.patience"),
        ("[execution]\nleave_working = 1\n", "execution.leave_working"),
        ("[execution]\nstretch_rest = 1\n", "execution.stretch_rest"),
        ('[strategies.slow]\njoin_wait = "x"\n', "strategies.slow.join_wait"),
        ("[execution]\npatience = true\n", "execution.patience"),
        ("[execution]\nprice_step_pct = [1]\n", "execution.price_step_pct"),
        ("[broker]\nhost = { name = 'x' }\n", "broker.host"),
        ("risk = 5\n", "risk"),
        ("[execution]\nslippage_guard = 50\n", "execution.slippage_guard"),
        ("strategies = 5\n", "strategies"),
        ("[strategies]\nmomo = 5\n", "strategies.momo"),
        ('[adv]\nZO = "many"\n', "adv.ZO"),
    ],
)
def test_wrong_type_is_refused(text: str, field: str) -> None:
    """A value of the wrong TOML type (string for number, table for scalar...) is refused."""
    assert config_error(text).field == field


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ("[risk]\nmax_order_quantity = -5\n", "risk.max_order_quantity", -5),
        ("[execution]\njoin_wait = 0\n", "execution.join_wait", 0),
        ("[risk]\nmax_order_notional = 0\n", "risk.max_order_notional", 0),
        ('[risk]\nmax_drawdown = "abc"\n', "risk.max_drawdown", "abc"),
        ("[risk]\nmessages_per_second = 50\n", "risk.messages_per_second", 50),
        ("[risk]\nmax_quote_age = 0\n", "risk.max_quote_age", 0),
        ("[broker]\nport = 70000\n", "broker.port", 70000),
        ("[broker.backoff]\njitter = 1.5\n", "broker.backoff.jitter", 1.5),
        ("[strategies.momo]\npatience = -1\n", "strategies.momo.patience", -1),
        ("[execution]\nslippage_guard = { bps = -3 }\n", "execution.slippage_guard.bps", -3),
        ("[adv]\nZO = 0\n", "adv.ZO", 0),
        ("[market_facts]\nroll_days = -1\n", "market_facts.roll_days", -1),
        ("[market_facts]\nsessions = 400\n", "market_facts.sessions", 400),
        ("[market_facts]\nmin_sessions = 30\n", "market_facts.min_sessions", 30),
        ("[market_facts]\nwait = 0\n", "market_facts.wait", 0),
        ("[market_facts.override]\nZO = 1\n", "market_facts.override.ZO", 1),
        ("[slippage.volatility_bps]\nZO = -5\n", "slippage.volatility_bps.ZO", -5),
        ('[slippage.volatility_bps]\nZO = "high"\n', "slippage.volatility_bps.ZO", "high"),
    ],
)
def test_bad_value_is_refused_by_path(text: str, field: str, value: Any) -> None:
    """A value the validators refuse is reported by its dotted path and as written."""
    error = config_error(text)
    assert (error.field, error.value) == (field, value)
    assert str(error).startswith(f"{field}: ")


def test_market_facts_and_per_symbol_volatility_load() -> None:
    """[market_facts] with an override table, and a volatility per symbol in exact bps."""
    config = config_from_table(tomllib.loads(
        "[market_facts]\nroll_days = 10\nsessions = 60\nmin_sessions = 40\nwait = 5\n"
        "[market_facts.override]\nHE = true\n"
        "[slippage.volatility_bps]\nZO = 110.5\n"))
    facts = config.market_facts
    assert (facts.roll_days, facts.sessions, facts.min_sessions, facts.wait) == (10, 60, 40, 5.0)
    assert facts.overrides("HE") and not facts.overrides("ZO")
    assert config.slippage.volatility_bps == {"ZO": Decimal("110.5")}
    assert config.slippage.for_symbol("ZO").daily_volatility_bps == Decimal("110.5")
    assert config.slippage.for_symbol("HE").daily_volatility_bps == Decimal(120)


def test_quote_age_limit_can_be_off() -> None:
    """``max_quote_age = inf`` turns the age check off; a whole number of seconds is fine."""
    off = config_from_table(tomllib.loads("[risk]\nmax_quote_age = inf\n"))
    assert off.risk.max_quote_age == math.inf
    assert config_error("[risk]\nmax_quote_age = nan\n").field == "risk.max_quote_age"
    assert config_from_table({"risk": {"max_quote_age": 5}}).risk.max_quote_age == 5.0


def test_bad_value_message_reads_well() -> None:
    """The message names the path, the problem and the bad value."""
    error = config_error("[risk]\nmax_order_quantity = -5\n")
    assert str(error) == "risk.max_order_quantity: must be greater than zero, got -5"


def test_bad_enum_is_refused_with_the_choices() -> None:
    """An enum value that is not one of its strings lists the ones that are."""
    error = config_error('[logging]\nlevel = "loud"\n')
    assert (error.field, error.value) == ("logging.level", "loud")
    assert "'debug', 'info', 'warning', 'error'" in error.problem


@pytest.mark.parametrize(
    "table", ["{}", "{ bps = 5, ticks = 2 }"], ids=["no unit", "two units"]
)
def test_distance_needs_exactly_one_unit(table: str) -> None:
    """A distance table with no key or two keys is refused."""
    error = config_error(f"[risk]\nprice_collar = {table}\n")
    assert error.field == "risk.price_collar"
    assert "one key of bps, ticks, absolute" in error.problem


def test_distance_unit_must_be_known() -> None:
    """A distance in an unknown unit is refused, naming the units there are."""
    error = config_error("[risk]\nprice_collar = { percent = 2 }\n")
    assert (error.field, error.value) == ("risk.price_collar.percent", 2)
    assert "bps, ticks, absolute" in error.problem


def test_distance_amount_must_be_a_number() -> None:
    """A distance's amount of the wrong type is refused by its path."""
    error = config_error("[risk]\nprice_collar = { ticks = true }\n")
    assert error.field == "risk.price_collar.ticks"


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    """A file that does not exist is a ConfigError naming the file."""
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert (info.value.field, info.value.value) == (FILE_FIELD, str(path))
    assert "no such file" in str(info.value)


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    """A path that cannot be read as a file (here, a directory) is a ConfigError."""
    with pytest.raises(ConfigError) as info:
        read_toml(tmp_path)
    assert info.value.field == FILE_FIELD
    assert str(tmp_path) in str(info.value)


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    """Malformed TOML is a ConfigError naming the file and the line."""
    path = tmp_path / "bad.toml"
    path.write_text("[risk]\nmax_order_quantity 5\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in str(info.value)
    assert "line 2" in str(info.value)


# --- writing ---------------------------------------------------------------------------------


def test_config_to_dict_is_plain_data() -> None:
    """Decimals become exact strings, enums their values, distances one-key tables."""
    plain = config_to_dict(load_config(EXAMPLE))
    assert plain["execution"]["price_step_pct"] == "0.1"
    assert plain["execution"]["slippage_guard"] == {"bps": "50"}
    assert plain["logging"] == {"level": "info", "format": "auto"}
    assert plain["broker"]["account"] is None
    assert plain["strategies"]["patient"]["patience"] == 180.0
    assert plain["adv"] == dict(DEFAULT_ADV)


def test_config_to_dict_loads_back() -> None:
    """The plain form, loaded again (with unset values left out), is the same configuration."""
    config = config_from_table({"strategies": {"x": {"twap_slices": 3}}, "adv": {"LE": 7}})
    plain = config_to_dict(config)
    del plain["broker"]["account"], plain["journal"]["audit_path"], plain["runner"]["strategy"]
    assert config_from_table(plain) == config


def test_config_to_toml_loads_back() -> None:
    """The readable TOML form loads back to an equal configuration."""
    config = config_from_table(tomllib.loads("""
        [execution]
        price_step_pct = "0.125"
        limit_offset = { ticks = 1 }
        [strategies."slow and steady"]
        patience = 600
        [broker]
        account = "DU\\"1"
        [adv]
        LE = 12
    """))
    assert config_from_table(tomllib.loads(config_to_toml(config))) == config
    assert ExecutionSettings() == config_from_table(
        tomllib.loads(config_to_toml(HydraConfig()))
    ).execution


@pytest.mark.parametrize("broker", [
    {"client_id": 3}, {"diagnostic_client_id": 1}, {"cli_client_id": 2},
])
def test_client_ids_must_differ(broker: dict[str, int]) -> None:
    """Two of Hydra's three IB client ids alike is a ConfigError on the first of the pair."""
    with pytest.raises(ConfigError) as info:
        config_from_table({"broker": broker})
    assert info.value.field.startswith("broker.") and "is the same as broker." in str(info.value)


def test_warnings_name_a_live_port_and_an_unknown_symbol() -> None:
    """A live port and an ADV for a symbol Hydra has no contract for are warnings; the
    defaults give none."""
    assert config_warnings(HydraConfig()) == ()
    config = config_from_table({"broker": {"port": 7496}, "adv": {"ZC": 100_000}})
    assert [(w.field, w.value) for w in config_warnings(config)] == [
        ("broker.port", 7496), ("adv.ZC", 100_000)]
    assert all(isinstance(w, ConfigWarning) for w in config_warnings(config))


@pytest.mark.parametrize(("value", "written"), [
    (True, "true"), ("ten", '"ten"'), (Decimal("0.25"), "0.25"), ({"bps": 5}, "{ bps = 5 }"),
    ([1, "a"], '[1, "a"]'), ({}, "{}"),
])
def test_values_are_written_as_toml(value: object, written: str) -> None:
    """toml_value spells a value as a TOML file would."""
    assert toml_value(value) == written


_names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)),
                 min_size=1, max_size=12).filter(str.strip)
_decimals = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10_000), places=4)
_execution = st.builds(
    ExecutionSettings,
    patience=st.floats(min_value=0.001, max_value=1e6),
    price_step_pct=_decimals,
    slippage_guard=st.builds(Distance, unit=st.sampled_from(list(DistanceUnit)),
                             value=_decimals),
    urgency=st.sampled_from(list(Urgency)),
    twap_slices=st.integers(min_value=1, max_value=1_000),
)
_configs = st.builds(
    HydraConfig,
    execution=_execution,
    strategies=st.dictionaries(_names, _execution, max_size=3),
    risk=st.builds(RiskLimits, max_quote_age=st.sampled_from([math.inf, 0.5, 30.0]),
                   daily_loss_limit=_decimals),
    broker=st.builds(BrokerSettings, account=st.none() | _names),
    journal=st.builds(JournalSettings, audit_path=st.none() | _names),
    runner=st.builds(RunnerSettings, strategy=st.none() | st.just("my_strategy:decide")),
    slippage=st.builds(SlippageSettings, volatility_bps=st.dictionaries(_names, _decimals,
                                                                        max_size=2)),
    adv=st.dictionaries(_names | st.sampled_from(sorted(DEFAULT_ADV)),
                        st.integers(min_value=1, max_value=10**9), max_size=3),
    market_facts=st.builds(MarketFactsSettings,
                           override=st.dictionaries(_names, st.booleans(), max_size=2)),
)


@given(_configs)
def test_config_to_toml_round_trips(config: HydraConfig) -> None:
    """Any configuration built in code, written as TOML, loads back equal: odd names,
    unset and set optional values, exact decimals, distances, an infinite age limit, and
    every mapping-valued setting (strategies, volatilities, overrides, an ADV table with or
    without the built-in contracts' entries)."""
    assert config_from_table(tomllib.loads(config_to_toml(config))) == config


def test_an_adv_table_built_in_code_holds_the_built_in_figures_unless_overridden() -> None:
    """``HydraConfig(adv=...)`` is read as a file's ``[adv]`` is: over `DEFAULT_ADV`."""
    assert dict(HydraConfig(adv={"HE": 7, "LE": 9}).adv) == {"ZO": 1500, "HE": 7, "LE": 9}
    assert HydraConfig(adv={"LE": 9}) == config_from_table({"adv": {"LE": 9}})


def test_config_to_toml_names_what_is_not_set() -> None:
    """TOML has no null: a setting that is not set is left out of the table and named in the
    comment at the top; once set, it is written and no longer named."""
    text = config_to_toml(HydraConfig())
    assert text.startswith("# not set: broker.account, journal.audit_path, runner.strategy\n\n")
    assert "account" not in tomllib.loads(text)["broker"]
    written = config_to_toml(config_from_table({"broker": {"account": "DU1"}}))
    assert written.startswith("# not set: journal.audit_path, runner.strategy\n\n")
    assert tomllib.loads(written)["broker"]["account"] == "DU1"


# --- numbers ---------------------------------------------------------------------------------


def test_a_money_limit_is_read_as_the_decimal_the_file_writes(tmp_path: Path) -> None:
    """A limit written with more digits than a binary float keeps is read exactly, so the
    check at its boundary is the one the file states: one lot of oats at 350¢ is $17,500,
    above a ``max_order_notional`` of 17499.9999999999999999 (a float would read it as 17500.0
    and let the order through)."""
    path = tmp_path / "hydra.toml"
    path.write_text("[risk]\nmax_order_notional = 17499.9999999999999999\n", encoding="utf-8")
    limits = load_config(path).risk
    assert limits.max_order_notional == Decimal("17499.9999999999999999")
    order = OrderRequest(client_order_id=ClientOrderId("int-1.1"), intent_id=IntentId("int-1"),
                         contract=OATS, side=Side.BUY, quantity=1, limit_price=Decimal(350))
    assert check_order_notional(order, limits=limits) == Denial(
        field="order_notional", value=Decimal(17500),
        limit=Decimal("17499.9999999999999999"))


@pytest.mark.parametrize(("written", "read"), [
    ("100000.10", "100000.10"), ("1_000.5", "1000.5"), ("1e3", "1000"), ("2.5E-1", "0.25"),
    ("1e300", "1E+300"),  # more digits than a decimal's precision: left with its exponent
])
def test_every_float_a_file_writes_is_read_as_its_decimal(written: str, read: str) -> None:
    """Underscores and exponents are read as the decimal written; a float setting is a float."""
    config = config_from_table(tomllib.loads(
        f"[risk]\ndaily_loss_limit = {written}\nmax_quote_age = {written}\n",
        parse_float=WrittenFloat))
    assert str(config.risk.daily_loss_limit) == read
    assert type(config.risk.max_quote_age) is float
    assert config.risk.max_quote_age == float(read)


def test_a_number_of_a_billion_digits_is_read_without_writing_them_out(tmp_path: Path) -> None:
    """``1e999999999`` (a float's infinity) is read as the finite decimal it writes, at once:
    its billion digits are never written out."""
    path = tmp_path / "hydra.toml"
    path.write_text("[risk]\ndaily_loss_limit = 1e999999999\n", encoding="utf-8")
    assert load_config(path).risk.daily_loss_limit == Decimal("1E+999999999")
