import ast
import pathlib
import re
import subprocess
import sys

import hydra

PACKAGE = pathlib.Path(hydra.__file__).parent


def _layer_map() -> dict[str, int]:
    """Module (or subpackage) name → its layer, parsed from hydra/__init__.py's docstring."""
    doc = hydra.__doc__ or ""
    layers: dict[str, int] = {}
    current = 0
    for line in doc[doc.index("Layers"):].splitlines()[2:]:
        numbered = re.match(r"\s+(\d+)\.\s(.*)", line)
        if numbered:
            current, text = int(numbered.group(1)), numbered.group(2)
        elif line.startswith("     "):
            text = line.strip()
        else:
            continue
        names = re.split(r"\s{2,}", text.strip())[0]
        for name in filter(None, (n.strip() for n in names.split(","))):
            if name.startswith("_") or (name.isidentifier() and (PACKAGE / name).is_dir()):
                layers[name] = current
    return layers


def _top_level_modules() -> set[str]:
    files = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    return files | packages


def _hydra_imports(path: pathlib.Path, *, depth: int) -> set[str]:
    """The top-level hydra modules that ``path`` imports (relative imports resolved)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == depth and node.module:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level == depth and not node.module:
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] == "hydra" and len(parts) > 1:
                found.add(parts[1])
    return found


def test_layer_map_names_every_module() -> None:
    """Every module and subpackage of hydra appears in the layer map, and nothing else does."""
    assert set(_layer_map()) == _top_level_modules()


def test_modules_import_only_from_their_layer_or_below() -> None:
    """No module imports from a layer above its own, as the map in hydra/__init__.py says."""
    layers = _layer_map()
    wrong = []
    for name, layer in layers.items():
        path = PACKAGE / name
        files = [path.with_suffix(".py")] if path.with_suffix(".py").exists() else []
        files += [(f, 2) for f in path.rglob("*.py")] if path.is_dir() else []
        for entry in files:
            file, depth = entry if isinstance(entry, tuple) else (entry, 1)
            depth = len(file.relative_to(PACKAGE).parts)
            for imported in _hydra_imports(file, depth=depth):
                if imported in layers and layers[imported] > layer:
                    wrong.append(f"{file.relative_to(PACKAGE)} imports {imported}")
    assert wrong == []


def test_core_map_names_every_core_module() -> None:
    """hydra._core's docstring lists each of its modules."""
    doc = (PACKAGE / "_core" / "__init__.py").read_text()
    modules = {p.stem for p in (PACKAGE / "_core").glob("_*.py")} - {"__init__"}
    assert modules and all(re.search(rf"\b{m}\b", doc) for m in modules)


_PURITY_PROBE = """
import importlib, pathlib, sys, types
package = types.ModuleType("hydra")
package.__path__ = [{path!r}]  # the package without its __init__, which wires up the actors
sys.modules["hydra"] = package
for module in sorted(pathlib.Path({path!r}, "_core").glob("_*.py")):
    if module.stem != "__init__":
        importlib.import_module("hydra._core." + module.stem)
forbidden = {{"trio", "asyncio", "sqlite3", "socket", "ib_async", "trio_asyncio", "structlog",
             "selectors", "subprocess"}}
print(sorted(forbidden & {{name.split(".")[0] for name in sys.modules}}))
"""


def test_core_imports_no_trio_and_no_io() -> None:
    """In a fresh interpreter, every module of hydra._core loads without trio, asyncio, sqlite,
    sockets, subprocesses, logging or ib_async."""
    probe = _PURITY_PROBE.format(path=str(PACKAGE))
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
