"""A file replaced whole, in a real process under strace: each step flushed to the disk before
the next, and a SIGKILL at any step leaving the old text or the new."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hydra._durable_replace import replace_durably

pytestmark = pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")

CHILD = ("import sys; from pathlib import Path; from hydra._durable_replace import "
         "replace_durably; replace_durably(Path(sys.argv[1]), sys.argv[2], "
         "flush=sys.argv[3:] != ['--no-flush'])")


def traced(command: list[str], trace: Path, *, inject: str | None = None) -> int:
    """Run ``command`` under strace, its file writes, flushes and renames (each descriptor
    shown with its path) in ``trace``; ``inject``: strace's fault to inject. Its exit code
    (strace ends as the command did: killed by the same signal)."""
    options = ["-f", "-y", "-o", str(trace), "-e", "trace=write,fsync,fdatasync,rename,renameat,"
               "renameat2"]
    if inject is not None:
        options += ["-e", f"inject={inject}"]
    return subprocess.run(["strace", *options, *command], capture_output=True,
                          timeout=60).returncode


def steps(trace: Path, folder: Path) -> list[str]:
    """The calls in ``trace`` on files in ``folder``: ``write state.new``, ``rename state.new
    state``, ``fsync .`` (the folder itself)."""
    found = []
    for line in trace.read_text().splitlines():
        call = re.match(r"\d+\s+(\w+)\((.*)", line)
        if call is None or str(folder) not in call[2]:
            continue
        paths = re.findall(r'(?:<|")(' + re.escape(str(folder)) + r'[^>"]*)(?:>|")', call[2])
        names = [Path(p).relative_to(folder).as_posix() if p != str(folder) else "."
                 for p in paths]
        found.append(" ".join([call[1].replace("renameat2", "rename")
                               .replace("renameat", "rename"), *names]))
    return found


def test_each_step_is_flushed_before_the_next(tmp_path: Path) -> None:
    """The new text is written and flushed before the rename, and the rename is flushed with
    the folder after it."""
    state = tmp_path / "state"
    assert traced([sys.executable, "-B", "-c", CHILD, str(state), "new"], tmp_path / "trace") == 0
    assert steps(tmp_path / "trace", tmp_path) == [
        "write state.new", "fsync state.new", "rename state.new state", "fsync ."]
    assert state.read_text() == "new"


@pytest.mark.parametrize(("inject", "left"), [
    ("write:signal=KILL:when=1", "old"),  # nothing of the new text written
    ("fsync:signal=KILL:when=1", "old"),  # written, not yet on the disk
    ("rename,renameat,renameat2:signal=KILL:when=1", "old"),  # on the disk, not yet renamed
    ("fsync:signal=KILL:when=2", "new"),  # renamed, the folder not yet flushed
], ids=["at the write", "at the file's flush", "at the rename", "at the folder's flush"])
def test_a_kill_at_any_step_leaves_the_old_text_or_the_new_whole(
    tmp_path: Path, inject: str, left: str,
) -> None:
    """Killed at each step, the process leaves the path with the old text or the new, never
    empty or part-written; the next replace writes over what it left beside it."""
    state = tmp_path / "state"
    state.write_text("old")
    code = traced([sys.executable, "-B", "-c", CHILD, str(state), "new"], tmp_path / "trace",
                  inject=inject)
    assert code == -9
    assert state.read_text() == left
    replace_durably(state, "newer")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "trace") == ["state"]
    assert state.read_text() == "newer"


@pytest.mark.parametrize(("inject", "left"), [
    (None, "new"),
    ("write:signal=KILL:when=1", "old"),
    ("rename,renameat,renameat2:signal=KILL:when=1", "old"),
], ids=["not killed", "at the write", "at the rename"])
def test_without_the_flushes_a_kill_still_leaves_the_old_text_or_the_new(
    tmp_path: Path, inject: str | None, left: str,
) -> None:
    """``flush=False`` (a rehearsal's files): the write and the rename, no flush, and a
    process killed at either leaves the old text whole."""
    state = tmp_path / "state"
    state.write_text("old")
    code = traced([sys.executable, "-B", "-c", CHILD, str(state), "new", "--no-flush"],
                  tmp_path / "trace", inject=inject)
    assert code == (0 if inject is None else -9)
    if inject is None:
        assert steps(tmp_path / "trace", tmp_path) == ["write state.new",
                                                       "rename state.new state"]
    assert state.read_text() == left
