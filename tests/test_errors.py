import pytest

from hydra._errors import (
    BrokerConnectionError,
    BrokerError,
    ConfigError,
    HydraError,
    InvalidValueError,
    LiveTradingRefusedError,
    OrderRejectedError,
    RiskDeniedError,
    UnsupportedOrderTypeError,
)


@pytest.mark.parametrize(
    ("error", "builtin"),
    [
        (InvalidValueError, ValueError),
        (ConfigError, ValueError),
        (UnsupportedOrderTypeError, ValueError),
        (RiskDeniedError, PermissionError),
        (OrderRejectedError, RuntimeError),
        (BrokerError, RuntimeError),
        (BrokerConnectionError, ConnectionError),
        (LiveTradingRefusedError, PermissionError),
    ],
)
def test_each_error_is_a_hydra_error_and_its_nearest_builtin(
    error: type[Exception], builtin: type[Exception]
) -> None:
    """Every Hydra error can be caught as HydraError or as the builtin it resembles."""
    assert issubclass(error, HydraError)
    assert issubclass(error, builtin)


def test_order_rejected_keeps_code_and_reason() -> None:
    """A rejection carries the broker's code and reason and shows both."""
    error = OrderRejectedError(110, "price does not conform to the tick")
    assert error.code == 110
    assert str(error) == "order rejected (110): price does not conform to the tick"


def test_config_error_names_key_path() -> None:
    """A config error's message starts with the dotted key path."""
    error = ConfigError("risk.max_position", -1, "must be greater than zero")
    assert str(error) == "risk.max_position: must be greater than zero, got -1"
