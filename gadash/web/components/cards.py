"""Cards, KPI tiles, filter chips and notes: small ``create_*`` factories."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from dash import dcc, html

from gadash.core.catalog import FILTERS
from gadash.core.frames import ReportFrame
from gadash.core.query import Condition
from gadash.core.transforms import Kpi, format_number, kpi_delta
from gadash.data.shares import Provider, ShareCounts
from gadash.errors import GadashError

FILTER_LABELS = {f.name: f.label for f in FILTERS.values()}


def fetched_clock(report: ReportFrame, zone: str = "UTC") -> str:
    """When a report was fetched, as HH:MM on the property's clock, with the zone's
    abbreviation (realtime answers carry no zone of their own; ``zone`` is used then)."""
    when = report.meta.fetched_at.astimezone(ZoneInfo(report.meta.time_zone or zone))
    return f"{when:%H:%M %Z}".strip()


def labelled(text: str, control: Any, label_id: str, hidden: bool = False,
             class_name: str = "") -> html.Div:
    """A control under a visible label that is also its accessible name (Dash 4's
    dropdown button is not named by a wrapping <label>)."""
    aria: Any = {"aria-labelledby": label_id}
    return html.Div(role="group", **aria, hidden=hidden,
                    className=f"ctl-label {class_name}".strip(),
                    children=[html.Span(text, id=label_id), control])


def create_card(title: str, body: Any, footer_id: str, tools: Any = None,
                class_name: str = "", footer: bool = True) -> html.Section:
    """A titled panel with a loading indicator and a footer for data notes
    (``footer=False``: the body brings its own, as a panel mounted when seen does)."""
    title_id = f"{footer_id}-title"  # the card's title names its region (and grid)
    aria: Any = {"aria-labelledby": title_id}
    return html.Section(
        className=f"card {class_name}".strip(),
        **aria,
        children=[
            html.Header(className="card-head", children=[html.H2(title, id=title_id), tools]),
            # No dcc.Loading: while a callback redraws what is inside, Dash marks that
            # element data-dash-is-loading and gadash.css dims the body under a spinner
            # (each Loading was one more component for every store update to check).
            html.Div(body, className="card-body"),
            *([html.Footer(id=footer_id, className="card-foot")] if footer else []),
        ],
    )


def create_kpi_tile(kpi: Kpi, comparing: bool, id_prefix: str, note: str = "",
                    estimated: bool = False) -> html.Div:
    """A KPI: label, big value, change against the comparison period (or ``note``
    instead, e.g. for a day that is not over); ``estimated``: GA sampled the report,
    so the value is marked "≈"."""
    children: list[Any] = [
        html.Div(kpi.label, className="kpi-label"),
        html.Div(f"≈ {kpi.text}" if estimated else kpi.text, className="kpi-value",
                 id=f"{id_prefix}-{kpi.metric}"),
    ]
    if note:
        children.append(html.Div(note, className="kpi-delta flat"))
    elif comparing:
        text, tone = kpi_delta(kpi)
        children.append(html.Div(text, className=f"kpi-delta {tone}"))
    title = f"{kpi.label}: {kpi.exact}" + (" (estimated from GA's sample)" if estimated else "")
    return html.Div(children, className="kpi", title=title)


_HIDDEN: Any = {"aria-hidden": "true"}


def create_chips(active: dict[str, Condition], chip_type: str) -> list[html.Button]:
    """One removable chip per active filter, saying its condition."""
    chips = []
    for name, cond in active.items():
        text = f"{FILTER_LABELS[name]} {cond.describe()}"
        aria: Any = {"aria-label": f"{text}. Remove this filter"}
        chips.append(html.Button(
            [html.Span(f"{FILTER_LABELS[name]} "), html.B(cond.describe()),
             html.Span(" ×", className="x", **_HIDDEN)],
            id={"type": chip_type, "filter": name}, className="chip",
            title=f"Remove: {text}", n_clicks=0, **aria,
        ))
    return chips


def create_nav(here: str) -> html.Nav:
    """Links between the analyst view, Explore and the big screen."""
    pages = [("/", "Analyst view"), ("/explore", "Explore"), ("/tv", "Big screen")]
    aria: Any = {"aria-label": "Pages"}
    current: Any = {"aria-current": "page"}
    return html.Nav(className="pagenav", **aria, children=[
        html.A(name, href=href, className="pagenav-link", **(current if href == here else {}))
        for href, name in pages])


def create_user_badge() -> html.Div:
    """Who is looking: the signed-in user with a sign-out button, a TV link, or the open demo."""
    from flask import current_app, has_request_context, session

    from gadash.web.auth import AUTH_EXTENSION, csrf_token

    auth = current_app.extensions.get(AUTH_EXTENSION)
    if auth is None or not auth.enabled:
        reach = "anyone who reaches it" if auth is not None and auth.settings.allow_open \
            else "local only"
        return html.Div(f"Open · {reach}", className="user-badge open",
                        title="Set GADASH_OIDC_CLIENT_ID to require Google sign-in")
    if not has_request_context():
        return html.Div(className="user-badge")
    if isinstance(session.get("tv"), dict):
        return html.Div("TV link (read-only)", className="user-badge")
    user = session.get("user") or {}
    children: list[Any] = []
    if user.get("picture"):
        children.append(html.Img(src=user["picture"], className="avatar", alt=""))
    children += [
        html.Span(user.get("email", ""), className="user-email"),
        html.A("TV links", href="/tv-links", className="user-link"),
        html.Form([
            dcc.Input(type="hidden", name="csrf", value=csrf_token()),
            html.Button("Sign out", className="btn btn-small", type="submit"),
        ], method="post", action="/logout", className="user-form"),
    ]
    return html.Div(children, className="user-badge")


def create_error(exc: GadashError) -> html.Div:
    """An inline error: what went wrong and what to do, never a traceback."""
    return html.Div(
        [html.Strong(exc.title + ": "), html.Span(exc.message)],
        className="alert alert-error",
        role="alert",
    )


def create_notes(notes: list[str]) -> list[html.Div]:
    return [html.Div(note, className="alert alert-note") for note in notes]


def share_summary(counts: dict[str, ShareCounts], providers: list[Provider]) -> str:
    """"120 HN points · 45 Reddit score" for what each network said (nothing if zero)."""
    parts = []
    for p in providers:
        c = counts.get(p.name)
        if c is not None and c.ok and c.counts.get(p.headline):
            parts.append(f"{format_number(c.counts[p.headline])} {p.short} {p.headline}")
    return " · ".join(parts)

