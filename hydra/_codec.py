"""Hydra values from the JSON-able dicts the journal and audit log hold.

`hydra._converter.unstructure` writes them and `hydra._converter.from_json` reads them back
(the one statement of each type's JSON form); these name what the journal reads.
"""

from __future__ import annotations

from typing import Any

from ._converter import from_json
from ._orders import Fill, OrderRequest, TwapPart


def request_from_json(data: dict[str, Any]) -> OrderRequest:
    """The `OrderRequest` that `unstructure` wrote."""
    return from_json(data, OrderRequest)


def fill_from_json(data: dict[str, Any]) -> Fill:
    """The `Fill` that `unstructure` wrote (one written before fills carried a delivery month
    loads with none)."""
    return from_json(data, Fill)


def part_from_json(data: dict[str, Any]) -> TwapPart:
    """The `TwapPart` that `unstructure` wrote with an order."""
    return from_json(data, TwapPart)
