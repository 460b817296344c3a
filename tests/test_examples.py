import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_embed_example_fills_both_intents_and_summarises() -> None:
    """examples/embed.py runs on the simulator and ends with a one-line summary of fills."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "embed.py"), "--seed", "7"],
        capture_output=True, text=True, check=True, timeout=120,
    )
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("BUY 3 ZO: filled ")
    assert lines[1].startswith("SELL 30 ZO: filled ")
    assert lines[-1].startswith("summary: ") and "(types: LMT)" in lines[-1]
