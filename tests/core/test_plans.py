"""Which reports each page asks for: grains, panels, fields a property lacks."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from gadash.core.plans import resolve_grain, tv_query, view_query
from gadash.core.query import DateRange, Filters


def days(n: int) -> DateRange:
    end = date(2026, 6, 30)
    return DateRange(end - timedelta(days=n - 1), end)


@pytest.mark.parametrize(("grain", "length", "expected"), [
    ("auto", 1, "hour"), ("auto", 7, "day"), ("auto", 90, "day"), ("auto", 91, "week"),
    ("auto", 731, "week"), ("auto", 732, "month"), ("auto", 2_738, "month"),
    ("day", 2_738, "day"), ("week", 1, "week"), ("month", 30, "month"),
])
def test_grain_is_automatic_for_long_ranges_unless_chosen(grain, length, expected):
    assert resolve_grain(grain, days(length)) == expected


def test_view_query_asks_channels_only_when_comparing():
    one = view_query("properties/1", (days(28),), Filters(), frozenset())
    assert one.panels == ("trend", "sources", "pages", "audience", "landing")
    two = view_query("properties/1", (days(28), days(28)), Filters(), frozenset(), "week")
    assert two.panels == ("trend_week", "sources", "pages", "audience", "landing", "channels")
    assert two.compare_tables and two.cache_key() != one.cache_key()


def test_fields_a_property_lacks_are_left_out():
    fields = frozenset({"date", "sessionSource", "sessionMedium", "sessionDefaultChannelGroup",
                        "pagePath", "pageTitle", "country", "deviceCategory", "newVsReturning",
                        "sessions", "totalUsers", "screenPageViews", "averageSessionDuration",
                        "engagementRate", "bounceRate", "engagedSessions",
                        "userEngagementDuration"})
    query = view_query("properties/1", (days(28),), Filters(), fields)
    assert "landing" not in query.panels  # no landingPage dimension
    assert {"keyEvents", "totalRevenue", "transactions", "sessionKeyEventRate"} <= query.omit
    tv = tv_query("properties/1", (days(28), days(28)), fields)
    assert tv.panels == ("trend", "sources", "pages") and not tv.compare_tables
