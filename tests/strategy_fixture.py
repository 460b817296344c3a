"""A strategy hook for the runner tests: hold 3 oats."""

from hydra._strategy_hook import StrategyContext


def daily_targets(context: StrategyContext) -> dict[str, int]:
    return {"ZO": 3}
