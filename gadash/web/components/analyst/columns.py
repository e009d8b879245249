"""The analyst view's table columns: AG Grid column specs, their formatters, share columns."""

from __future__ import annotations

import json
from typing import Any

from babel.numbers import get_currency_precision, get_currency_symbol

from gadash.data.shares import Provider, ShareCounts

_NUM = {"function": "params.value == null ? '–' : d3.format(',')(params.value)"}
_PCT = {"function": "params.value == null ? '–' : d3.format('.1%')(params.value)"}
# A row the comparison period did not have (GA omits rows without sessions) is new.
_CHANGE = {"function": "params.value == null ? (params.data.isOther ? '–' : 'new') : "
                       "d3.format('+.1%')(params.value)"}
# Click targets look like links; GA's (other) row is no value to filter by.
_LINK_RULES = {"cell-link": "!params.data.isOther", "cell-other": "params.data.isOther"}


def _seconds() -> dict[str, Any]:
    """Seconds shown as h:mm:ss (GA's own format); CSV keeps the seconds."""
    r = "(+d3.format('.0f')(params.value))"
    return {"function": f"params.value == null ? '–' : (({r} - {r} % 3600) / 3600) + ':' + "
                        f"d3.format('02d')((({r} % 3600) - ({r} % 60)) / 60) + ':' + "
                        f"d3.format('02d')({r} % 60)"}


def _duration(field: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"field": field, "headerName": name, "valueFormatter": _seconds(),
            "type": "numericColumn", "headerTooltip": f"{name} (h:mm:ss; seconds in CSV)",
            **extra}


def _num(field: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"field": field, "headerName": name, "valueFormatter": _NUM,
            "type": "numericColumn", **extra}


def _pct(field: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"field": field, "headerName": name, "valueFormatter": _PCT,
            "type": "numericColumn", **extra}


def _link(field: str, name: str, what: str, **extra: Any) -> dict[str, Any]:
    return {"field": field, "headerName": name, "cellClassRules": _LINK_RULES,
            "tooltipField": "otherTip",
            "headerTooltip": f"Click a {what} to filter the dashboard by it", **extra}


def currency_digits(currency: str) -> int:
    """The currency's minor units, as CLDR (through Babel) gives them and as the tiles
    write amounts: JPY 0 (¥51,740), EUR and USD 2, KWD 3; 2 without a currency."""
    return get_currency_precision(currency) if currency else 2


def money_header(name: str, currency: str) -> str:
    """A money column's header, naming its currency (``Revenue (EUR)``): a CSV of
    plain numbers keeps what they count in."""
    return f"{name} ({currency})" if currency else name


def money_column(field: str, name: str, currency: str) -> dict[str, Any]:
    """A money column in the currency GA names for the property, to the currency's
    minor units; ``context`` carries them to the CSV (``csv_export_params``)."""
    symbol = get_currency_symbol(currency, locale="en") if currency else ""
    digits = currency_digits(currency)
    locale = ("{decimal: '.', thousands: ',', grouping: [3], currency: "
              f"[{json.dumps(symbol, ensure_ascii=False)}, '']}}")
    return {"field": field, "headerName": name, "type": "numericColumn",
            "headerTooltip": f"In {currency}, the property's currency in GA" if currency else "",
            "context": {"currencyDigits": digits},
            "valueFormatter": {"function": "params.value == null ? '–' : "
                               f"d3.formatLocale({locale}).format('$,.{digits}f')(params.value)"}}


# A CSV cell is the value, not its display text (useValueFormatterForExport is off):
# money is rounded to its currency's minor units (a plain number, ASCII minus sign).
_CSV_CELL = {"function": "params.value == null || params.column.getColDef().context == null"
                         " ? params.value : (+params.value).toFixed("
                         "params.column.getColDef().context.currencyDigits)"}


def csv_export_params(file_name: str) -> dict[str, Any]:
    """A grid's ``csvExportParams``: its file name, and money cells rounded as above."""
    return {"fileName": file_name, "processCellCallback": _CSV_CELL}


SOURCE_COLUMNS: list[dict[str, Any]] = [
    _link("sessionSource", "Source", "source", minWidth=170),
    _link("sessionMedium", "Medium", "medium"),
    _link("sessionDefaultChannelGroup", "Channel", "channel", minWidth=140),
    _num("sessions", "Sessions", sort="desc"),
    _num("screenPageViews", "Page views"),
    _duration("averageSessionDuration", "Avg. session duration"),
    _pct("engagementRate", "Engagement rate"),
]
CHANGE_COLUMN = {"field": "sessionsChange", "headerName": "Sessions change",
                 "valueFormatter": _CHANGE, "type": "numericColumn",
                 "headerTooltip": "Against the comparison period, for exactly these rows"}
CHANNEL_COLUMNS: list[dict[str, Any]] = [
    _link("sessionDefaultChannelGroup", "Channel", "channel", minWidth=150),
    _num("sessions", "Sessions", sort="desc"),
    _pct("share", "Share of sessions"),
    _pct("engagementRate", "Engagement rate"),
]
LANDING_COLUMNS: list[dict[str, Any]] = [
    _link("landingPage", "Landing page", "landing page", minWidth=240, flex=2),
    _num("sessions", "Sessions", sort="desc",
         headerTooltip="Sessions that started on this page"),
    _pct("engagementRate", "Engagement rate"),
    _duration("averageSessionDuration", "Avg. session duration"),
]
PAGE_COLUMNS: list[dict[str, Any]] = [
    _link("pagePath", "Page", "page", minWidth=220, flex=2),
    {"field": "pageTitle", "headerName": "Title", "minWidth": 160, "flex": 2,
     "tooltipField": "pageTitle"},
    _num("screenPageViews", "Views", sort="desc"),
    _num("totalUsers", "Users"),
    _duration("engagementPerView", "Avg. engagement / view"),
    _pct("bounceRate", "Bounce rate"),
]
ENTRANCES_COLUMN = _num("entrances", "Entrances",
                        headerTooltip="Sessions that started on this page")
VIEWS_CHANGE_COLUMN = {**CHANGE_COLUMN, "field": "viewsChange", "headerName": "Views change"}


def outcome_columns(frame: Any, currency: str, rate: bool = True) -> list[dict[str, Any]]:
    """Key-event and revenue columns, for a property that has them."""
    cols: list[dict[str, Any]] = []
    if "keyEvents" in frame.columns and frame["keyEvents"].fillna(0).gt(0).any():
        cols.append(_num("keyEvents", "Key events"))
        if rate and "sessionKeyEventRate" in frame.columns:
            cols.append(_pct("sessionKeyEventRate", "Session key event rate"))
    if "totalRevenue" in frame.columns and frame["totalRevenue"].fillna(0).gt(0).any():
        cols.append(money_column("totalRevenue", money_header("Revenue", currency), currency))
    return cols


def share_columns(providers: list[Provider]) -> list[dict[str, Any]]:
    """One column per share provider: its headline count, details or the error on hover."""
    cols = []
    for p in providers:
        field = f"share_{p.name}"
        cols.append({
            "field": field, "headerName": f"{p.short} {p.headline}", "type": "numericColumn",
            "headerTooltip": f"{p.label} {p.headline} for the top pages; hover a cell for more",
            "tooltipField": f"{field}_tip", "minWidth": 84,
            "valueFormatter": {"function": f"params.value == null ? (params.data.{field}_err "
                                           "? '!' : '') : d3.format(',')(params.value)"},
            "cellClassRules": {"share-error": f"params.data.{field}_err"},
        })
    return cols


def share_fields(counts: dict[str, ShareCounts] | None, providers: list[Provider],
                 top: int) -> dict[str, Any]:
    """A row's share cells: headline count, tooltip text, error flag."""
    out: dict[str, Any] = {}
    for p in providers:
        field = f"share_{p.name}"
        c = (counts or {}).get(p.name)
        if c is None:
            out |= {field: None, f"{field}_tip": f"Only the top {top} pages are looked up",
                    f"{field}_err": False}
        elif c.ok:
            out |= {field: c.counts.get(p.headline, 0),
                    f"{field}_tip": f"{p.label}: {p.describe(c.counts)}", f"{field}_err": False}
        else:
            out |= {field: None, f"{field}_tip": f"{p.label}: {c.error}", f"{field}_err": True}
    return out


_FLOAT = {"function": "params.value == null ? '–' : d3.format(',.2~f')(params.value)"}


def metric_column(field: str, name: str, ga_type: str, currency: str = "",
                  **extra: Any) -> dict[str, Any]:
    """A column for any GA metric, formatted by its type in GetMetadata (rates as
    percentages, seconds as h:mm:ss, money in the property's currency); CSV keeps
    the plain values."""
    if ga_type == "TYPE_CURRENCY":
        return {**money_column(field, name, currency), **extra}
    if ga_type == "TYPE_SECONDS":
        return _duration(field, name, **extra)
    if ga_type == "TYPE_FLOAT" and field.split("@")[0].split(":")[0].endswith(("Rate", "rate")):
        return _pct(field, name, **extra)
    if ga_type == "TYPE_INTEGER":
        return _num(field, name, **extra)
    return {"field": field, "headerName": name, "valueFormatter": _FLOAT,
            "type": "numericColumn", **extra}


def change_column(field: str, name: str, metric: str = "") -> dict[str, Any]:
    """A metric's change against the comparison period, for exactly these rows: "new"
    only where the row has a value now and none then."""
    if not metric:
        return {**CHANGE_COLUMN, "field": field, "headerName": name}
    now = f"params.data[{json.dumps(metric)}]"
    return {**CHANGE_COLUMN, "field": field, "headerName": name, "valueFormatter": {
        "function": f"params.value == null ? ((params.data.isOther || !{now}) ? '–' : 'new')"
                    " : d3.format('+.1%')(params.value)"}}


def link_column(field: str, name: str, what: str, **extra: Any) -> dict[str, Any]:
    """A dimension column whose values are click targets (GA's (other) is none)."""
    return _link(field, name, what, **extra)
