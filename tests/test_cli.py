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
        f" (in {bad_file})\n"
    )


def test_config_check_bad_value_json(bad_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With --json too, a bad file is one stderr line and exit 2, with nothing on stdout."""
    assert main(["config", "check", "--json", str(bad_file)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert "risk.max_order_quantity" in captured.err


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
