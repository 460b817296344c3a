"""One client's view of the account: positions, account values and portfolio, the account
summary, PnL (account and per contract), and the subscriptions that follow them. Synchronous."""

from __future__ import annotations

from decimal import Decimal

import trio

from .._contracts import ContractSpec
from . import _replies as r
from . import _requests as q
from ._account import account_value_replies, account_values, money, portfolio_replies
from ._account import position_replies as position_reports
from ._margins import Margin, requirement
from ._registry import Registry
from ._unserved import NO_SECURITY

Replies = list[r.Reply]


class SessionAccount:
    """The account as one client asked to see it."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._exchange = registry.exchange
        self._account = registry.account
        self._account_updates = False
        self._position_updates = False
        self._changed = False
        self._pnl: set[int] = set()

    # --- requests -----------------------------------------------------------------------------

    def positions(self, *, subscribe: bool) -> Replies:
        self._position_updates = subscribe
        return [*self._positions(), r.PositionEnd()] if subscribe else []

    def account_updates(self, *, subscribe: bool) -> Replies:
        self._account_updates = subscribe
        if not subscribe:
            return []
        return [*self._download(), r.AccountDownloadEnd(account=self._account)]

    def account_multi(self, req_id: int) -> Replies:
        snapshot = self._exchange.account()
        values: Replies = [
            r.AccountUpdateMulti(
                req_id=req_id,
                account=self._account,
                key=key,
                value=money(value),
                currency=snapshot.currency,
            )
            for key, value in account_values(snapshot, self._margin()).items()
        ]
        return [*values, r.AccountUpdateMultiEnd(req_id=req_id)]

    def summary(self, req_id: int, tags: str) -> Replies:
        snapshot = self._exchange.account()
        wanted = {t for t in tags.split(",") if t}
        rows: Replies = [
            r.AccountSummary(
                req_id=req_id,
                account=self._account,
                tag=key,
                value=money(value),
                currency=snapshot.currency,
            )
            for key, value in account_values(snapshot, self._margin()).items()
            if not wanted or key in wanted or "All" in wanted
        ]
        return [*rows, r.AccountSummaryEnd(req_id=req_id)]

    def pnl(self, req_id: int, *, subscribe: bool) -> Replies:
        if not subscribe:
            self._pnl.discard(req_id)
            return []
        self._pnl.add(req_id)
        return self._pnl_replies()

    def pnl_single(self, request: q.RequestPnLSingle) -> Replies:
        found = self._registry.catalog.matches(q.ContractFields(con_id=request.con_id))
        if not found:
            return [r.ErrorMessage(req_id=request.req_id, code=200, message=NO_SECURITY)]
        spec = found[0].spec
        mark = self._exchange.quote(spec).mid
        catalog = self._registry.catalog
        held = [
            p
            for p in self._exchange.positions()
            if (listing := catalog.for_contract(p.contract)) is not None and listing.spec == spec
        ]
        quantity = sum(p.quantity for p in held)
        unrealized = sum((p.unrealized_pnl(mark) for p in held), Decimal(0))
        realized = sum((p.realized_pnl for p in held), Decimal(0))
        pnl = r.PnLSingle(
            req_id=request.req_id,
            position=quantity,
            daily=realized + unrealized,
            unrealized=unrealized,
            realized=realized,
            value=quantity * mark * spec.point_value,
        )
        return [pnl]

    def positions_multi(self, req_id: int) -> Replies:
        rows: Replies = [
            r.PositionMulti(
                req_id=req_id,
                account=p.account,
                contract=p.contract,
                position=p.position,
                average_cost=p.average_cost,
            )
            for p in self._positions()
        ]
        return [*rows, r.PositionMultiEnd(req_id=req_id)]

    # --- what follows the account -------------------------------------------------------------

    def changed(self) -> None:
        """The account changed (a position, a value): subscribers hear at the next update."""
        self._changed = True

    def updates(self) -> Replies:
        """The account, portfolio, positions and PnL to subscribers, once after the account
        changed (the server asks after each burst of events)."""
        if not self._changed:
            return []
        self._changed = False
        replies: Replies = self._download() if self._account_updates else []
        if self._position_updates:
            replies += self._positions()
        return replies + self._pnl_replies()

    def _positions(self) -> list[r.PositionReport]:
        return position_reports(self._exchange.positions(), self._registry.catalog, self._account)

    def _margin(self) -> Margin:
        """The margin the account's positions take (estimates per contract: `_margins`)."""
        marks = self._marks()
        held = [(p.contract, p.quantity) for p in self._exchange.positions()]
        return requirement(held, marks)

    def _marks(self) -> dict[ContractSpec, Decimal]:
        """The mid of each market, by the exchange's contract (as positions carry it)."""
        exchange = self._exchange
        return {m.contract: exchange.quote(m.contract).mid for m in exchange.params.markets}

    def _download(self) -> Replies:
        snapshot, margin = self._exchange.account(), self._margin()
        replies: Replies = list(account_value_replies(snapshot, margin, self._account))
        replies += portfolio_replies(
            self._exchange.positions(), self._marks(), self._registry.catalog, self._account
        )
        now = self._exchange.timestamp(trio.current_time())
        replies.append(r.AccountTime(time=f"{now:%H:%M}"))
        return replies

    def _pnl_replies(self) -> Replies:
        snapshot = self._exchange.account()
        daily = snapshot.realized + snapshot.unrealized - snapshot.commission
        return [
            r.PnL(
                req_id=req_id,
                daily=daily,
                unrealized=snapshot.unrealized,
                realized=snapshot.realized,
            )
            for req_id in sorted(self._pnl)
        ]
