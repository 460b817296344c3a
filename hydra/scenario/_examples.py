"""Where the example scenarios live: ``examples/scenarios`` in the current directory, else in
the source checkout the package was loaded from."""

from __future__ import annotations

from pathlib import Path

EXAMPLES = Path("examples") / "scenarios"
"""Where example scenarios live, relative to the current directory or to a source checkout."""


def examples_dir(directory: Path | None = None) -> Path | None:
    """``directory``, else ``examples/scenarios`` in the current directory, else in the source
    checkout the package was loaded from; None when there is none."""
    if directory is not None:
        return directory if directory.is_dir() else None
    checkout = Path(__file__).resolve().parent.parent.parent
    for candidate in (Path.cwd() / EXAMPLES, checkout / EXAMPLES):
        if candidate.is_dir():
            return candidate
    return None


def example_files(directory: Path | None = None) -> list[Path]:
    """The example scenario files, by name."""
    folder = examples_dir(directory)
    return sorted(folder.glob("*.toml")) if folder is not None else []
