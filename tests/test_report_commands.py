import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from hydra.cli import main
from tests.paper_journal import example_journal, gate_journal

Hydra = Callable[..., int]


@pytest.fixture
def hydra() -> Hydra:
    """``hydra ARGS...``, in this process."""
    return lambda *argv: main([str(a) for a in argv])


@pytest.fixture
def example(tmp_path: Path) -> Path:
    return example_journal(tmp_path / "example.sqlite").path


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    return err


def test_fill_report_prints_tables(hydra: Hydra, example: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    """fill-report on a terminal names the journal, then the tables and the verdict; exit 0."""
    assert hydra("fill-report", "--journal", example, "--strategy", "momo") == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Fill report of {example} (strategy momo)\n")
    assert "Intents (2;" in out and "Fills (2;" in out
    assert "Slippage model: 2 fills" in out and "Pre-trade estimates: 2 fills" in out


def test_fill_report_json_is_one_object(hydra: Hydra, example: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """--json prints exactly one JSON object with the selection, the lines and the verdict."""
    assert hydra("fill-report", "--journal", example, "--json", "--since", "2026-03-03") == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data) == ["journal", "since", "strategy", "plot", "intents", "fills", "slippage",
                          "pre_trade_slippage"]
    assert (data["journal"], data["since"], data["strategy"]) == (
        str(example), "2026-03-03T00:00:00+00:00", None)
    assert [i["intent_id"] for i in data["intents"]] == ["int-b", "int-c"]
    assert [f["execution_id"] for f in data["fills"]] == ["e3", "e4", "e5"]
    assert data["slippage"] == {
        "count": 2, "bias_bps": "4", "rmse_bps": "4.123106", "correlation": 1.0,
        "calibrated": False, "max_bias_bps": "2", "min_correlation": 0.3, "min_fills": 30,
    }


def test_journal_defaults_to_the_config_then_the_built_in_name(
    hydra: Hydra, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Without --journal, the config's journal.path is read, else hydra-journal.sqlite here."""
    example_journal(tmp_path / "elsewhere.sqlite")
    config = tmp_path / "hydra.toml"
    config.write_text(f'[journal]\npath = "{tmp_path / "elsewhere.sqlite"}"\n'
                      "[slippage]\nmax_bias_bps = 5\n")
    assert hydra("fill-report", "--config", config, "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["journal"] == str(tmp_path / "elsewhere.sqlite")
    assert data["slippage"]["max_bias_bps"] == "5"
    monkeypatch.chdir(tmp_path)
    assert hydra("fill-report") == 2
    assert _one_line_error(capsys) == "journal error: hydra-journal.sqlite: no such file\n"


def test_a_bad_date_is_a_one_line_usage_error(hydra: Hydra, example: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """--since that is no date exits 2 with one line showing what was given."""
    assert hydra("fill-report", "--journal", example, "--since", "yesterday") == 2
    assert _one_line_error(capsys).startswith("--since: must be an ISO 8601 date or time")


def test_a_missing_journal_is_a_one_line_usage_error(hydra: Hydra, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """A journal path with no file exits 2 with one line naming it, for both commands."""
    missing = tmp_path / "missing.sqlite"
    for command in ("fill-report", "gate-check"):
        assert hydra(command, "--journal", missing) == 2
        assert _one_line_error(capsys) == f"journal error: {missing}: no such file\n"
    assert not missing.exists()


def test_a_bad_config_is_a_one_line_usage_error(hydra: Hydra, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """A malformed --config exits 2 with the config error line."""
    config = tmp_path / "bad.toml"
    config.write_text("[slippage]\nmin_correlation = 7\n")
    assert hydra("gate-check", "--config", config) == 2
    assert _one_line_error(capsys).startswith("config error: slippage.min_correlation")


def test_plot_writes_a_png(hydra: Hydra, example: Path, tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    """--plot writes a PNG file and still prints the report."""
    pytest.importorskip("matplotlib")
    png = tmp_path / "slippage.png"
    assert hydra("fill-report", "--journal", example, "--plot", png) == 0
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR" and data[-8:-4] == b"IEND"
    captured = capsys.readouterr()
    assert "Slippage model:" in captured.out
    assert captured.err == f"plot written to {png.resolve()}\n"


def test_plot_with_json_names_the_plot_in_the_object(
    hydra: Hydra, example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With --json the plot's path is a key of the printed object; standard error is empty."""
    pytest.importorskip("matplotlib")
    png = tmp_path / "slippage.png"
    assert hydra("fill-report", "--journal", example, "--plot", png, "--json") == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["plot"] == str(png.resolve()) and captured.err == ""


def test_a_plot_file_that_is_not_png_is_refused_before_anything_is_read(
    hydra: Hydra, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--plot out.txt exits 2 with one line, writes nothing, and reads no journal."""
    out = tmp_path / "out.txt"
    assert hydra("fill-report", "--journal", tmp_path / "none.sqlite", "--plot", out) == 2
    assert _one_line_error(capsys).startswith("--plot: must name a .png file")
    assert not out.exists()


def test_plot_into_a_missing_folder_is_a_usage_error(hydra: Hydra, example: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """A plot path that cannot be written exits 2 with one line naming it."""
    pytest.importorskip("matplotlib")
    png = tmp_path / "no" / "such" / "slippage.png"
    assert hydra("fill-report", "--journal", example, "--plot", png) == 2
    assert _one_line_error(capsys).startswith(f"cannot write the plot to '{png}'")


def test_plot_without_matplotlib_says_how_to_install_it(
    hydra: Hydra, example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Without matplotlib, --plot exits 2 with one line naming the extra to install."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    assert hydra("fill-report", "--journal", example, "--plot", tmp_path / "x.png") == 2
    assert _one_line_error(capsys) == (
        "--plot needs matplotlib: pip install 'hydra-exec[plot]'\n")
    assert not (tmp_path / "x.png").exists()


def test_gate_check_passes_with_exit_0(hydra: Hydra, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """A journal meeting every condition prints seven PASS lines and exits 0."""
    path = gate_journal(tmp_path / "j.sqlite").path
    assert hydra("gate-check", "--journal", path) == 0
    out = capsys.readouterr().out
    assert out.count("\nPASS  ") == 7
    assert out.rstrip().endswith("live-capital gate: PASSED")


def test_gate_check_fails_with_exit_1(hydra: Hydra, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """One failing condition makes the exit status 1 and the JSON says which and why."""
    path = gate_journal(tmp_path / "j.sqlite", kill=False).path
    assert hydra("gate-check", "--journal", path, "--json") == 1
    data = json.loads(capsys.readouterr().out)
    assert (data["journal"], data["passed"]) == (str(path), False)
    assert [c["name"] for c in data["criteria"]] == [
        "paper_operation", "slippage_calibrated", "reconnect_survived",
        "no_unrecoverable_error", "kill_switch_exercised", "breakers_exercised",
        "self_healing_cycle"]
    kill = data["criteria"][4]
    assert set(kill) == {"name", "requirement", "passed", "summary", "evidence"}
    assert (kill["passed"], kill["evidence"]) == (False, {"kill_switch_uses": 0, "first": None})


def test_unknown_options_are_usage_errors(hydra: Hydra,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """An option the command does not have exits 2, as argparse does."""
    assert hydra("gate-check", "--since", "2026-03-02") == 2
    assert "unrecognized arguments" in capsys.readouterr().err


def test_fill_report_json_is_as_it_was(hydra: Hydra, example: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """A golden test: ``fill-report --json`` on the example journal (None fields, decimals,
    times, an intent not filled) prints, byte for byte, what it printed on 2026-12-01
    (``tests/golden/fill_report.json``; the journal's path as ``<journal>``)."""
    assert hydra("fill-report", "--journal", example, "--json") == 0
    out = capsys.readouterr().out.replace(str(example), "<journal>")
    assert out == (Path(__file__).parent / "golden" / "fill_report.json").read_text()
