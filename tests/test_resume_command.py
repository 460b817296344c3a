"""``hydra resume --reason TEXT`` as a process: one control line appended to the inbox."""

import json
import subprocess
import sys
from pathlib import Path

from hydra._inbox import ResumeRequest, parse_inbox_line


def _hydra(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hydra", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60)


def test_resume_appends_one_control_line_to_the_configured_inbox(tmp_path: Path) -> None:
    """The line goes to runner.inbox with the reason and a fresh id; each call adds one."""
    inbox = tmp_path / "in.jsonl"
    inbox.write_text('{"kill": "drill"}\n')
    config = tmp_path / "hydra.toml"
    config.write_text(f'[runner]\ninbox = "{inbox}"\n')
    first = _hydra("resume", "--reason", "drill  over", "--config", str(config), cwd=tmp_path)
    second = _hydra("resume", "--reason", "again", "--config", str(config), cwd=tmp_path)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    lines = inbox.read_text().splitlines()
    assert lines[0] == '{"kill": "drill"}' and len(lines) == 3
    requests = [parse_inbox_line(line, number=n) for n, line in enumerate(lines[1:], start=2)]
    assert [r.reason for r in requests if isinstance(r, ResumeRequest)] == ["drill over", "again"]
    ids = {json.loads(line)["id"] for line in lines[1:]}
    assert len(ids) == 2 and all(i in first.stdout + second.stdout for i in ids)


def test_resume_without_a_reason_is_refused_in_one_line(tmp_path: Path) -> None:
    """A blank reason exits 2 with one line and writes nothing."""
    result = _hydra("resume", "--reason", "  ", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "resume: --reason must say why trading resumes"]
    assert not (tmp_path / "hydra-inbox.jsonl").exists()
