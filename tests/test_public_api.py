import importlib
import pkgutil

import hydra


def test_all_lists_exactly_the_public_names() -> None:
    """hydra.__all__ names every public attribute of the package, each one importable."""
    public = {name for name in vars(hydra) if not name.startswith("_")}
    modules = {m.name for m in pkgutil.iter_modules(hydra.__path__)}
    assert set(hydra.__all__) - {"__version__"} == public - modules
    for name in hydra.__all__:
        assert getattr(hydra, name) is not None


def test_every_private_module_imports_cleanly() -> None:
    """Each module imports on its own (no hidden import-order dependency)."""
    for module in pkgutil.iter_modules(hydra.__path__):
        if module.name != "__main__":
            importlib.import_module(f"hydra.{module.name}")


def test_order_types_offer_no_market_order() -> None:
    """The public order types are LMT and STP LMT only."""
    assert [t.value for t in hydra.OrderType] == ["LMT", "STP LMT"]
