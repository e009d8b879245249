"""The analyst view's trend against the GA4 stand-in: partial weeks and months are
drawn apart and compared per day, and periods of different lengths are named in the
footer (issues 27, 31)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from gadash.core.plans import view_query
from gadash.core.urls import ViewState
from gadash.web.components.analyst.render import render_view
from gadash.web.context import get_service
from tests.conftest import BLOG


@pytest.fixture()
def ctx(app):
    with app.server.test_request_context():
        yield app


def _render(state: ViewState):
    service = get_service()
    today = service.today(BLOG)
    ranges = state.ranges(today)
    query = view_query(BLOG, ranges, state.filters, service.available_fields(BLOG),
                       state.grain)
    return render_view(service.view(query), state, ranges,
                       partial=ranges[0].end >= today), ranges, today


def test_weeks_cut_by_the_range_are_hollow_and_compared_per_day(ctx):
    service = get_service()
    today = service.today(BLOG)
    # Tuesday to Tuesday five weeks on (36 days), against the 36 days before (Monday to
    # Monday): this period's first week holds 6 days, the comparison's 7; its last 2, 1
    end = today - timedelta(days=(today.weekday() - 1) % 7 + 7)  # a Tuesday, in the past
    start = end - timedelta(days=35)
    out, ranges, _ = _render(ViewState("Blog", f"{start}..{end}", "previous", grain="week"))
    data = out.figures["trend"]["data"]
    hollow = [t for t in data if t["name"] == "Sessions (partial)"][1]
    first, last = hollow["customdata"]
    assert "partial: 6 of 7 days" in first and "partial: 2 of 7 days" in last
    solid = next(t for t in data if t["name"] == "Sessions")
    assert solid["y"][0] is None and solid["y"][-1] is None
    assert all(v is not None for v in solid["y"][1:-1])
    assert ranges[1].start.weekday() == 0 and ranges[1].end.weekday() == 0
    assert " a day against " in first and "in the comparison's 7 days" in first
    assert " a day against " in last and "in the comparison's 1 day:" in last
    footer = " ".join(str(p) for p in out.footers["trend"])
    assert "hollow, on a dotted line" in footer


def test_today_is_a_partial_point_of_this_month(ctx):
    out, _, today = _render(ViewState("Blog", "thismonth", "none", grain="day"))
    data = out.figures["trend"]["data"]
    hollow = [t for t in data if t["name"] == "Sessions (partial)"][1]
    assert hollow["x"] == [f"{today} 00:00"]
    assert hollow["customdata"][0].endswith("partial: today is not over")


def test_same_period_last_year_over_29_february_is_named_under_the_trend(ctx):
    out, ranges, _ = _render(ViewState("Blog", "2025-02-28..2025-03-01", "year"))
    assert ranges[1] == type(ranges[1])(date(2024, 2, 28), date(2024, 3, 1))
    footer = " ".join(str(p) for p in out.footers["trend"])
    assert "The comparison has 3 days (with 29 Feb 2024), this period 2" in footer
