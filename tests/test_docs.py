"""Every Python and shell snippet of the README and the guides runs as written, on the simulator.

The snippets are the fenced blocks of README.md, docs/*.md and examples/scenarios/README.md
whose info string starts with ``python``, ``bash`` or (in examples/scenarios) ``toml``. Each
runs in a fresh directory of its own, in a subprocess: Python with this interpreter; shell
with bash, where that directory holds ``.venv`` (this test's own environment), ``examples``
(the repository's) and ``hydra.toml`` (a copy of examples/hydra.toml, as the guide says to
make); a scenario with ``hydra scenario run``. A snippet that is not meant to run says why
after ``no-run:`` in its info string (``bash no-run: a live account``): a fragment, a command
that needs IB or runs until a signal. ``python file=PATH`` is the code of PATH, and is
checked to be exactly that. Blocks in any other language (``text``, output) are not run.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

from hydra.cli._main import build_parser

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
             ROOT / "examples" / "scenarios" / "README.md"]
RUN = {"python", "bash", "toml"}
MOST_NOT_RUN = 9
"""The not-run list is kept small: a new one needs a reason here as well as in its fence. The
ninth: the plan's four-week rehearsal takes a minute (bench/rehearse.py runs it)."""
SNIPPET_SECONDS = 120
_FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>[\w-]*)\s*(?P<info>.*)$")


@attrs.frozen
class Snippet:
    document: Path
    line: int
    lang: str
    info: str
    text: str

    @property
    def name(self) -> str:
        return f"{self.document.relative_to(ROOT)}:{self.line}"

    @property
    def not_run(self) -> str | None:
        """Why the snippet is not run (None: it is)."""
        return self.info.partition("no-run:")[2].strip() or None

    @property
    def copy_of(self) -> Path | None:
        match = re.match(r"file=(\S+)", self.info)
        return ROOT / match[1] if match else None


def snippets_of(document: Path) -> list[Snippet]:
    """The fenced blocks of ``document`` (indented ones, in a list item, too)."""
    found, lines = [], document.read_text().splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent, body, line = opening["indent"], [], index + 1
        index += 1
        while index < len(lines) and lines[index].strip() != "```":
            body.append(lines[index].removeprefix(indent))
            index += 1
        found.append(Snippet(document=document, line=line, lang=opening["lang"],
                             info=opening["info"],
                             text="\n".join(body) + "\n"))
        index += 1
    return found


SNIPPETS = [s for d in DOCUMENTS for s in snippets_of(d) if s.lang in RUN]
RUNNABLE = [s for s in SNIPPETS if s.not_run is None and s.copy_of is None
            and (s.lang != "toml" or s.document.parent.name == "scenarios")]


def test_the_docs_have_snippets_and_few_are_not_run() -> None:
    """The extraction finds the README's and the guides' snippets; those not run say why."""
    assert len(RUNNABLE) >= 7
    not_run = [s for s in SNIPPETS if "no-run" in s.info]
    assert all(s.not_run for s in not_run), [s.name for s in not_run if not s.not_run]
    assert len(not_run) <= MOST_NOT_RUN, [s.name for s in not_run]


@pytest.mark.parametrize("snippet", [s for s in SNIPPETS if s.copy_of], ids=lambda s: s.name)
def test_a_snippet_that_copies_a_file_is_that_files_code(snippet: Snippet) -> None:
    """``file=PATH``: the snippet is PATH's code, after its docstring."""
    assert snippet.copy_of is not None
    code = snippet.copy_of.read_text()
    assert code.endswith(snippet.text) and code.removesuffix(snippet.text).rstrip().endswith('"""')


def _workdir(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    (work / ".venv").symlink_to(sys.prefix)
    (work / "examples").symlink_to(ROOT / "examples")
    shutil.copy(ROOT / "examples" / "hydra.toml", work / "hydra.toml")
    return work


def _command(snippet: Snippet, work: Path) -> list[str]:
    if snippet.lang == "python":
        (work / "snippet.py").write_text(snippet.text)
        return [sys.executable, "snippet.py"]
    if snippet.lang == "toml":
        (work / "scenario.toml").write_text(snippet.text)
        return [str(work / ".venv" / "bin" / "hydra"), "scenario", "run", "scenario.toml"]
    return ["bash", "-euo", "pipefail", "-c", snippet.text]


@pytest.mark.parametrize("snippet", RUNNABLE, ids=lambda s: s.name)
def test_every_snippet_runs_as_written(snippet: Snippet, tmp_path: Path) -> None:
    """The snippet exits 0 and leaves nothing in its directory that it did not say it makes."""
    work = _workdir(tmp_path)
    before = set(work.iterdir())
    env = os.environ | {"PYTHONPATH": str(ROOT), "PATH": f"{work / '.venv' / 'bin'}:"
                        f"{os.environ.get('PATH', '')}"}
    done = subprocess.run(_command(snippet, work), cwd=work, env=env, capture_output=True,
                          text=True, timeout=SNIPPET_SECONDS, check=False)
    assert done.returncode == 0, f"{snippet.name}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
    made = {p.name for p in set(work.iterdir()) - before} - {"snippet.py", "scenario.toml"}
    assert not made, f"{snippet.name} left {sorted(made)} in the current directory"


_NAMED = re.compile(r"((?:[\w.-]+/)*[A-Z][\w-]*\.md)\b"  # any mention of a document
                    r"|`((?:[\w.-]+/)+[\w.*-]+\.(?:py|toml|png|json))`|\]\(([\w./-]+)\)")


def test_every_file_the_docs_name_exists() -> None:
    """A document a document mentions, and a repository path it names in backticks or links,
    exists (beside the document or from the repository's root)."""
    missing = []
    for document in DOCUMENTS:
        for match in _NAMED.finditer(document.read_text()):
            name = match[1] or match[2] or match[3]
            if name.startswith("http") or "*" in name:
                continue
            if not ((ROOT / name).exists() or (document.parent / name).exists()):
                missing.append(f"{document.relative_to(ROOT)}: {name}")
    assert not missing


def _help_texts(parser: argparse.ArgumentParser, prefix: str = "hydra") -> dict[str, str]:
    texts = {prefix: parser.format_help()}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                texts |= _help_texts(sub, f"{prefix} {name}")
    return texts


def test_no_help_text_shows_rst_markup() -> None:
    """``--help`` of every command speaks plain text: no RST double backticks."""
    texts = _help_texts(build_parser())
    assert "hydra run" in texts and len(texts) > 10
    assert [name for name, text in texts.items() if "``" in text] == []
