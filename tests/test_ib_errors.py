"""IB error codes sort into kinds; a client id in use is a retryable connection error."""

from __future__ import annotations

import pytest

from hydra._errors import BrokerConnectionError
from hydra.ib import ClientIdInUseError, ErrorKind, error_kind


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (1100, ErrorKind.CONNECTION_LOST),
        (504, ErrorKind.CONNECTION_LOST),
        (1101, ErrorKind.CONNECTION_RESTORED_DATA_LOST),
        (1102, ErrorKind.CONNECTION_RESTORED),
        (326, ErrorKind.CLIENT_ID_IN_USE),
        (110, ErrorKind.REFUSAL),
        (201, ErrorKind.REFUSAL),
        (103, ErrorKind.REFUSAL),
        (2104, ErrorKind.NOTICE),
        (2106, ErrorKind.NOTICE),
        (2158, ErrorKind.NOTICE),
        (202, ErrorKind.NOTICE),
        (135, ErrorKind.ERROR),
        (161, ErrorKind.ERROR),
        (104, ErrorKind.ERROR),
        (105, ErrorKind.ERROR),
        (399, ErrorKind.ERROR),
        (100, ErrorKind.ERROR),
    ],
)
def test_codes_sort_into_kinds(code: int, kind: ErrorKind) -> None:
    """Each IB code has the kind that decides what Hydra does with it."""
    assert error_kind(code) is kind


def test_client_id_in_use_names_the_id() -> None:
    """ClientIdInUseError is a BrokerConnectionError (the supervisor retries it) naming the id."""
    error = ClientIdInUseError(7)
    assert isinstance(error, BrokerConnectionError)
    assert error.client_id == 7
    assert "client id 7" in str(error) and "326" in str(error)
