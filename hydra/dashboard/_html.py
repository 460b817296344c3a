"""The page as server-rendered HTML: one function per section, each returning the section's
inner HTML, so the first page load and every pushed update draw the same markup.

Every value from the journal goes through `escape`; nothing here reads anything but a
`Picture`. Forms work without JavaScript: the script only swaps sections in as they change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from html import escape

import attrs

from .._contracts import BUILT_IN_CONTRACTS, ContractSpec
from .._core._positions import Position
from .._fill_report import FillLine, predicted_by, verdict
from .._gate import Criterion
from .._quote_source import contract_name
from .._working_view import WorkingOrder, price_text
from ._picture import Banner, Breaker, Picture
from ._svg import predicted_vs_actual, shortfall_over_time

NONE = "-"


def _text(value: object) -> str:
    return NONE if value is None else escape(str(value))


def _bps(value: Decimal | None) -> str:
    return NONE if value is None else f"{value:+.2f}"


def _price(value: Decimal | None, contract: ContractSpec | None) -> str:
    return NONE if value is None else escape(price_text(value, contract))


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, empty: str) -> str:
    if not rows:
        return f'<p class="empty">{escape(empty)}</p>'
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def banner(b: Banner) -> str:
    link = "connected" if b.session_up else "DISCONNECTED"
    source = "live engine" if b.running else "read-only from the journal"
    reason = f" ({escape(b.reason)})" if b.reason else ""
    markets = f"{b.hours.value} hours: " + " ".join(
        f'<span class="session session-{state.value}">{escape(symbol)} {state.value}</span>'
        for symbol, state in b.sessions)
    return (
        f'<span class="mode mode-{escape(b.mode)}">{escape(b.mode)}</span> '
        f'<span class="account">account {_text(b.account)}</span> '
        f'<span class="link link-{"up" if b.session_up else "down"}">{link}</span> '
        f"<span>reconnects: {b.reconnects}</span> "
        f'<span class="state state-{b.trading_state.value}">{b.trading_state.value}'
        f"{reason}</span> "
        f'<time datetime="{b.now.isoformat(timespec="seconds")}" '
        f'data-zone="{escape(str(b.now.tzinfo))}">'
        f"{b.now:%Y-%m-%d %H:%M:%S %Z}</time> {markets} <span>{source}</span>"
        + ("" if b.problem is None else f' <span class="problem">{escape(b.problem)} '
           "(working orders unknown; the rest as last read)</span>")
    )


def _stage_left(order: WorkingOrder) -> str:
    what = "until it ends" if order.last_stage else "to the next step"
    return (f'<span data-left="{order.stage_left:.1f}">{order.stage_left:.0f} s</span> '
            f"{what}")


def working(orders: Sequence[WorkingOrder], *, actions: bool,
            empty: str = "No working orders.") -> str:
    headers = ["intent", "order", "contract", "side", "filled / qty", "limit", "bid / ask",
               "stage", "time", "TWAP slices"]
    rows = [[_text(o.intent_id), _text(o.client_order_id), _text(o.symbol), o.side.value,
             f"{o.filled} / {o.quantity}", _price(o.limit_price, o.contract),
             NONE if o.quote is None else
             f"{_price(o.quote.bid, o.contract)} / {_price(o.quote.ask, o.contract)}",
             _text(o.stage),
             _stage_left(o), NONE if o.slices is None else f"{o.slices[0]} of {o.slices[1]}"]
            + ([_cancel_button(o.intent_id)] if actions else [])
            for o in orders]
    return _table(headers + (["action"] if actions else []), rows, empty=empty)


def _cancel_button(intent_id: str) -> str:
    return (f'<form method="get" action="cancel"><input type="hidden" name="intent" '
            f'value="{escape(intent_id)}"><button>cancel</button></form>')


FILL_PREDICTIONS = (
    "predicted: the fill's own prediction, by the model version shown (its order's estimate "
    "where the model says \"order\", for a fill journaled before fills had their own); "
    "pre-trade: its intent's estimate before the first order; slippage in bps of the "
    "arrival mid, positive = cost")
"""What the fills table's two predictions are, as `hydra fill-report` says it."""


FILL_HEADERS = ["executed (UTC)", "intent", "execution", "contract", "side", "qty", "price",
                "predicted bps (fill's own)", "model", "pre-trade bps (intent's)", "actual bps"]


def fill_row(f: FillLine) -> list[str]:
    """One fill's cells in the fills table."""
    return [f"{f.fill.time:%Y-%m-%d %H:%M:%S}", _text(f.intent_id), _text(f.fill.execution_id),
            _text(f.fill.symbol), f.fill.side.value, str(f.fill.quantity),
            _price(f.fill.price, BUILT_IN_CONTRACTS.get(f.fill.symbol)),
            _bps(f.predicted_bps), _text(predicted_by(f)), _bps(f.pre_trade_bps),
            _bps(f.actual_bps)]


def fills(lines: Sequence[FillLine], *, drawn: Drawn | None = None) -> str:
    """The fills table, newest first (with ``drawn``, each row drawn once per fill line)."""
    row = fill_row if drawn is None else drawn.fill_row
    rows = [row(f) for f in reversed(lines)]
    table = _table(FILL_HEADERS, rows, empty="No fills yet.")
    return table if not rows else f'<p class="note">{escape(FILL_PREDICTIONS)}</p>{table}'


def positions(held: Sequence[Position], marks: Mapping[str, Decimal],
              breakers: Sequence[Breaker]) -> str:
    headers = ["contract", "position", "average price", "mark", "unrealized PnL ($)",
               "realized PnL ($)", "commission ($)"]
    rows = [[_text(contract_name(p.contract)), str(p.quantity),
             _price(p.average_price, p.contract),
             _price(marks.get(contract_name(p.contract)), p.contract),
             _unrealized(p, marks.get(contract_name(p.contract))),
             _money(p.realized_pnl), _money(p.commission)] for p in held]
    bars = "".join(
        f'<div class="breaker"><label>{escape(b.name)}: {_money(b.value)} of '
        f'{_money(b.limit)}</label><meter min="0" max="1" high="0.8" value="{b.used:.3f}">'
        f"{b.used:.0%}</meter></div>"
        for b in breakers
    )
    table = _table(headers, rows, empty="No positions.")
    return f'{table}<div class="breakers">{bars}</div>'


def _unrealized(position: Position, mark: Decimal | None) -> str:
    return NONE if mark is None else _money(position.unrealized_pnl(mark))


def slippage(p: Picture) -> str:
    report = p.report
    return (
        f'<p class="verdict">{escape(verdict(report.slippage, report.settings))}</p>'
        f'<div class="charts">{predicted_vs_actual(report)}{shortfall_over_time(report)}</div>'
    )


def gate(criteria: Sequence[Criterion]) -> str:
    rows = [[f'<span class="{"pass" if c.passed else "fail"}">'
             f'{"PASS" if c.passed else "FAIL"}</span>', _text(c.name), _text(c.summary)]
            for c in criteria]
    passed = all(c.passed for c in criteria)
    head = f'<p class="gate">live-capital gate: {"PASSED" if passed else "NOT PASSED"}</p>'
    return head + _table(["", "condition", "evidence"], rows, empty="No conditions.")


@attrs.define
class Drawn:
    """The HTML last drawn of the sections that only new events change (fills, slippage,
    gate), each kept with the value it was drawn from: a page drawn again before anything new
    was journaled, or a second page drawing after the same events, reuses it."""

    _kept: dict[str, tuple[object, str]] = attrs.Factory(dict)
    _rows: dict[int, tuple[FillLine, list[str]]] = attrs.Factory(dict)  # by id of the line

    def fill_row(self, line: FillLine) -> list[str]:
        """`fill_row` of ``line``, drawn once (a fill line never changes; a line a report
        replaced is drawn anew, and the table's rows are kept for the lines it shows)."""
        kept = self._rows.get(id(line))
        if kept is None or kept[0] is not line:
            kept = self._rows[id(line)] = (line, fill_row(line))
        return kept[1]

    def rows_for(self, lines: Sequence[FillLine]) -> None:
        """Keep the rows of ``lines`` alone (the table's), so replaced lines are let go."""
        shown = {id(line) for line in lines}
        for key in [key for key in self._rows if key not in shown]:
            del self._rows[key]

    def section(self, key: str, source: object, draw: Callable[[], str]) -> str:
        """Section ``key`` drawn from ``source`` by ``draw``, or as drawn from it before."""
        kept = self._kept.get(key)
        if kept is not None and kept[0] is source:
            return kept[1]
        html = draw()
        self._kept[key] = (source, html)
        return html


def _fills_kept(lines: Sequence[FillLine], drawn: Drawn) -> str:
    table = fills(lines, drawn=drawn)
    drawn.rows_for(lines)
    return table


def sections(p: Picture, *, actions: bool, drawn: Drawn | None = None) -> dict[str, str]:
    """Each section's inner HTML by its element id (with ``drawn``, the sections it keeps
    are drawn again only from a new report or gate)."""
    drawn = drawn or Drawn()
    return {
        "banner": banner(p.banner),
        "working": working(p.working, actions=actions, empty=(
            "No working orders." if p.banner.problem is None
            else "Working orders unknown: the journal cannot be read.")),
        "fills": drawn.section("fills", p.report, lambda: _fills_kept(p.report.fills, drawn)),
        "positions": positions(p.positions, p.marks, p.breakers),
        "slippage": drawn.section("slippage", p.report, lambda: slippage(p)),
        "gate": drawn.section("gate", p.gate, lambda: gate(p.gate)),
    }


TITLES: Mapping[str, str] = {
    "working": "Working orders", "fills": "Fills", "positions": "Positions and breakers",
    "slippage": "Slippage", "gate": "Live-capital gate",
}

STYLE = """
body{font:14px system-ui,sans-serif;margin:1em;color:#222}
#banner{display:flex;gap:1em;flex-wrap:wrap;padding:.5em;background:#eef;position:sticky;top:0}
.mode-LIVE,.state-HALTED,.link-down,.fail,.problem{color:#b00;font-weight:bold}
.state-REDUCING{color:#a60;font-weight:bold}.pass,.state-ACTIVE{color:#070}
table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #ddd;
text-align:right}.chart{width:360px;height:220px;margin-right:1em}
.chart .frame{fill:none;stroke:#999}.chart .guide{stroke:#999;stroke-dasharray:4}
.chart circle{fill:#36c;opacity:.7}.chart text{font-size:10px}
.breaker label{display:inline-block;min-width:24em}.breaker meter{width:16em}
form{display:inline}
"""


def page(p: Picture, *, actions: bool, script: str) -> str:
    """The whole page: each section, then the forms of the actions (when there are any)."""
    parts = sections(p, actions=actions)
    body = "".join(f'<section><h2>{escape(TITLES[key])}</h2><div id="{key}">{html}</div>'
                   f"</section>" for key, html in parts.items() if key != "banner")
    kill = ('<section><h2>Actions</h2><form method="get" action="kill">'
            "<button>kill switch…</button></form></section>") if actions else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Hydra dashboard</title>"
        f"<style>{STYLE}</style></head><body>"
        f'<header id="banner">{parts["banner"]}</header>{body}{kill}'
        f'<script src="{escape(script)}" defer></script></body></html>'
    )


def confirmation(*, what: str, action: str, fields: Mapping[str, str]) -> str:
    """The confirmation step of an action: asks for the token and posts once with a nonce."""
    hidden = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
                     for k, v in fields.items())
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Confirm: {escape(what)}</title></head><body>"
        f"<h1>Confirm: {escape(what)}</h1>"
        f'<form method="post" action="{escape(action)}">{hidden}'
        '<label>token <input type="password" name="token" autocomplete="off" required></label>'
        f' <button>{escape(what)}</button></form> <a href="./">back</a></body></html>'
    )


def sign_in() -> str:
    """The page a reader beyond loopback gets until the token's cookie is set."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Hydra dashboard: sign in</title></head><body><h1>Hydra dashboard</h1>"
        '<form method="post" action="sign-in"><label>token <input type="password" '
        'name="token" autocomplete="off" required></label> <button>sign in</button></form>'
        "</body></html>"
    )


def message(title: str, text: str) -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}'
            f'</title></head><body><h1>{escape(title)}</h1><p>{escape(text)}</p>'
            f'<a href="./">back to the dashboard</a></body></html>')

