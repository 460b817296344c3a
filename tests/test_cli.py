from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from hydra._config import config_from_table, config_to_dict, load_config
from hydra._version import __version__
from hydra.cli import main

EXAMPLE = str(Path(__file__).parent.parent / "examples" / "hydra.toml")


@pytest.fixture
def bad_file(tmp_path: Path) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text("[risk]\nmax_order_quantity = -5\n")
    return path


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """--version prints the package version and exits 0."""
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"hydra {__version__}\n"


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    """--help exits 0 and lists the config command."""
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: hydra")
    assert "config" in out


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """Without a command, hydra prints its usage and exits 2."""
    assert main([]) == 2
    assert "usage: hydra" in capsys.readouterr().err


def test_config_check_prints_the_effective_configuration(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """config check prints readable TOML that loads back to the file's configuration."""
    assert main(["config", "check", EXAMPLE]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "[strategies.patient]\npatience = 180.0\n" in captured.out
    assert config_from_table(tomllib.loads(captured.out)) == load_config(EXAMPLE)


def test_config_check_json(capsys: pytest.CaptureFixture[str]) -> None:
    """config check --json prints one JSON object: the plain form of the configuration."""
    assert main(["config", "check", EXAMPLE, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == config_to_dict(load_config(EXAMPLE))
    assert printed["risk"]["max_order_quantity"] == 50


def test_config_check_bad_value(bad_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A bad value exits 2 with one stderr line naming the key, the value and the file."""
    assert main(["config", "check", str(bad_file)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "config error: risk.max_order_quantity: must be greater than zero, got -5"
        f" (in {bad_file}, line 2)\n"
    )


def test_config_check_bad_value_json(bad_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With --json, a bad file is one JSON object on standard error (the message, key, value,
    file and line) and exit 2, with nothing on stdout."""
    assert main(["config", "check", "--json", str(bad_file)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert json.loads(captured.err) == {
        "error": "config error: risk.max_order_quantity: must be greater than zero, got -5 "
                 f"(in {bad_file}, line 2)",
        "field": "risk.max_order_quantity", "value": -5, "problem": "must be greater than zero",
        "file": str(bad_file), "line": 2,
    }


def test_a_missing_file_with_json_is_a_json_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """config check --json on a file that is not there: one JSON object naming it."""
    path = tmp_path / "nope.toml"
    assert main(["config", "check", str(path), "--json"]) == 2
    assert json.loads(capsys.readouterr().err) == {
        "error": f"config error: {path}: no such file", "field": "file", "file": str(path),
        "problem": "no such file"}


def _check(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    path = tmp_path / "hydra.toml"
    path.write_text(text)
    status = main(["config", "check", str(path)])
    return status, capsys.readouterr().err.replace(str(path), "hydra.toml")


def test_a_live_port_is_a_warning_naming_the_key_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """port = 4001 loads (hydra run --live may use it) with one warning line saying what it
    takes."""
    status, err = _check(tmp_path, "# IB Gateway\n[broker]\nhost = 'gw'\nport = 4001\n", capsys)
    assert status == 0
    assert err == ("config warning: broker.port: is a live trading port: hydra run refuses it "
                   "unless given --live with HYDRA_LIVE_CONFIRMED=true (paper ports: 4002 or "
                   "7497), got 4001 (in hydra.toml, line 4)\n")


def test_a_client_id_clash_is_an_error_naming_the_key_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """client_id = 3 is the CLI's id: hydra status would cut hydra run off, so it is refused."""
    status, err = _check(tmp_path, "[broker]\nport = 4002\nclient_id = 3\n", capsys)
    assert status == 2
    assert err == ("config error: broker.client_id: is the same as broker.cli_client_id: IB "
                   "takes one connection per client id (give client_id, diagnostic_client_id "
                   "and cli_client_id each their own), got 3 (in hydra.toml, line 3)\n")


def test_an_adv_for_an_unknown_symbol_is_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """[adv] ZC = 100000 names no contract Hydra knows: a warning with its key and line."""
    status, err = _check(tmp_path, "[adv]\nZO = 2000\nZC = 100000\n", capsys)
    assert status == 0
    assert err.startswith("config warning: adv.ZC: is for a contract Hydra does not know "
                          "(known: HE, ZO)")
    assert err.endswith(", got 100000 (in hydra.toml, line 3)\n")


@pytest.mark.parametrize(("text", "shown"), [
    ("[runner]\ninbox = true\n", "got true (in hydra.toml, line 2)"),
    ("[risk]\nmax_position = 'ten'\n", 'got "ten" (in hydra.toml, line 2)'),
    ("[execution]\nslippage_guard = { bps = 5, ticks = 2 }\n",
     "got { bps = 5, ticks = 2 } (in hydra.toml, line 2)"),
])
def test_values_are_shown_as_the_file_writes_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, shown: str
) -> None:
    """An error shows the value in TOML's words (true, "ten"), not Python's (True, 'ten')."""
    status, err = _check(tmp_path, text, capsys)
    assert status == 2 and err.endswith(shown + "\n"), err


def test_a_strategy_hook_that_does_not_import_is_an_error_naming_the_key_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """config check imports the hook: a module that does not exist, or lacks the function,
    is one error line naming runner.strategy and its line."""
    status, err = _check(tmp_path, "[runner]\n# the desk's hook\nstrategy = "
                         "'no_such_module:f'\n", capsys)
    assert status == 2
    assert err == ("config error: runner.strategy: cannot import no_such_module "
                   "(ModuleNotFoundError: No module named 'no_such_module'), got "
                   "\"no_such_module:f\" (in hydra.toml, line 3)\n")
    status, err = _check(tmp_path, "[runner]\nstrategy = 'json:no_such_function'\n", capsys)
    assert (status, err) == (2, "config error: runner.strategy: json has no function "
                             "no_such_function, got \"json:no_such_function\" (in hydra.toml,"
                             " line 2)\n")


def test_config_check_imports_a_hook_from_the_current_directory(tmp_path: Path) -> None:
    """Through the ``hydra`` script, whose sys.path lacks the current directory, a hook
    module there is found: config check accepts it."""
    (tmp_path / "desk_hook.py").write_text("def targets(context):\n    return {}\n")
    (tmp_path / "hydra.toml").write_text("[runner]\nstrategy = 'desk_hook:targets'\n")
    hydra = Path(sys.executable).parent / "hydra"
    result = subprocess.run([str(hydra), "config", "check", "hydra.toml"], cwd=tmp_path,
                            capture_output=True, text=True, check=False)
    assert (result.returncode, result.stderr) == (0, "")
    assert 'strategy = "desk_hook:targets"' in result.stdout


def test_a_reader_that_goes_away_ends_the_command_quietly() -> None:
    """``hydra config check FILE | head -0``: the pipe closes before hydra writes; it exits
    141 (the shell's status for a writer stopped by a closed pipe) with no traceback."""
    process = subprocess.Popen([sys.executable, "-m", "hydra", "config", "check", EXAMPLE],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    with process.stderr:
        err = process.stderr.read()
    assert (process.wait(timeout=60), err) == (141, b"")


def test_config_check_syntax_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Malformed TOML exits 2 with one stderr line naming the file and the line."""
    path = tmp_path / "broken.toml"
    path.write_text("[risk]\n\nmax_order_quantity 5\n")
    assert main(["config", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"config error: {path}: is not valid TOML")
    assert "line 3" in err
    assert err.count("\n") == 1


def test_config_check_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing file exits 2 with one stderr line naming it."""
    path = tmp_path / "nope.toml"
    assert main(["config", "check", str(path)]) == 2
    assert capsys.readouterr().err == f"config error: {path}: no such file\n"


def test_python_dash_m_hydra() -> None:
    """``python -m hydra --version`` runs the same command line."""
    result = subprocess.run(
        [sys.executable, "-m", "hydra", "--version"],
        capture_output=True, text=True, check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, f"hydra {__version__}\n", "")
