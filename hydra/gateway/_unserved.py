"""What the gateway answers a request for a service the simulator does not have: IB's own empty
answer where IB gives one to an account without the service (no news providers, no option
chains, no display groups …), else the error IB sends for it. Pure.

Nothing here is silence: every request the gateway cannot serve is answered at once, so that a
client never waits out a time-out for it (see `SILENT` for the few messages IB itself never
answers).
"""

from __future__ import annotations

from collections.abc import Callable

from . import _replies as r
from ._catalog import Catalog
from ._message_ids import ClientMessage as M
from ._requests import UnservedRequest

Replies = list[r.Reply]

NO_SECURITY = "No security definition has been found for the request"

SILENT = frozenset(
    {
        M.SET_SERVER_LOG_LEVEL,
        M.REQ_NEWS_BULLETINS,  # a subscription: bulletins come when IB has some
        M.CANCEL_NEWS_BULLETINS,
    }
)
"""Messages IB acknowledges with nothing (a setting, or a subscription that may stay quiet)."""


def _error(code: int, text: str) -> Callable[[int, Catalog], Replies]:
    return lambda req_id, _: [r.ErrorMessage(req_id=req_id, code=code, message=text)]


def _not_validated(cause: str) -> Callable[[int, Catalog], Replies]:
    return _error(321, f"Error validating request.-'gateway' : cause - {cause}")


def _answer(reply: Callable[[int], r.Reply]) -> Callable[[int, Catalog], Replies]:
    return lambda req_id, _: [reply(req_id)]


def _depth_exchanges(_: int, catalog: Catalog) -> Replies:
    exchanges = sorted({x.wire.exchange for x in catalog.listings})
    return [r.MarketDepthExchanges(exchanges=tuple(exchanges))]


_ANSWERS: dict[M, Callable[[int, Catalog], Replies]] = {
    M.REQUEST_FA: _not_validated("FA data operations ignored for non FA customers."),
    M.REPLACE_FA: _not_validated("FA data operations ignored for non FA customers."),
    M.EXERCISE_OPTIONS: _error(200, NO_SECURITY),  # the simulator lists no options
    M.REQ_CALC_IMPLIED_VOLAT: _error(200, NO_SECURITY),
    M.REQ_CALC_OPTION_PRICE: _error(200, NO_SECURITY),
    M.REQ_SCANNER_SUBSCRIPTION: _error(
        162, "Historical Market Data Service error message:no scanner subscription"
    ),
    M.REQ_SCANNER_PARAMETERS: _answer(lambda _: r.ScannerParameters()),
    M.REQ_FUNDAMENTAL_DATA: _error(
        430,
        "We are sorry, but fundamentals data for the security specified is not available.",
    ),
    M.VERIFY_REQUEST: _not_validated("API verification is not required"),
    M.VERIFY_MESSAGE: _not_validated("API verification is not required"),
    M.VERIFY_AND_AUTH_REQUEST: _not_validated("API verification is not required"),
    M.VERIFY_AND_AUTH_MESSAGE: _not_validated("API verification is not required"),
    M.QUERY_DISPLAY_GROUPS: _answer(lambda req_id: r.DisplayGroupList(req_id=req_id)),
    M.SUBSCRIBE_TO_GROUP_EVENTS: _answer(lambda req_id: r.DisplayGroupUpdated(req_id=req_id)),
    M.UPDATE_DISPLAY_GROUP: _answer(lambda req_id: r.DisplayGroupUpdated(req_id=req_id)),
    M.REQ_SEC_DEF_OPT_PARAMS: _answer(lambda req_id: r.OptionParametersEnd(req_id=req_id)),
    M.REQ_SOFT_DOLLAR_TIERS: _answer(lambda req_id: r.SoftDollarTiers(req_id=req_id)),
    M.REQ_FAMILY_CODES: _answer(lambda _: r.FamilyCodes()),
    M.REQ_MKT_DEPTH_EXCHANGES: _depth_exchanges,
    M.REQ_SMART_COMPONENTS: _answer(lambda req_id: r.SmartComponents(req_id=req_id)),
    M.REQ_NEWS_ARTICLE: _not_validated("no news provider is subscribed"),
    M.REQ_NEWS_PROVIDERS: _answer(lambda _: r.NewsProviders()),
    M.REQ_HISTORICAL_NEWS: _answer(lambda req_id: r.HistoricalNewsEnd(req_id=req_id)),
    M.REQ_WSH_META_DATA: _not_validated("Wall Street Horizon data is not subscribed"),
    M.REQ_WSH_EVENT_DATA: _not_validated("Wall Street Horizon data is not subscribed"),
    M.REQ_USER_INFO: _answer(lambda req_id: r.UserInfo(req_id=req_id)),
}


def unserved_replies(request: UnservedRequest, catalog: Catalog) -> Replies:
    """IB's answer to ``request`` (nothing for the `SILENT` ones)."""
    answer = _ANSWERS.get(request.message)
    return [] if answer is None else answer(request.req_id, catalog)
