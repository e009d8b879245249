"""The recent days first: a store answers from its last RECENT_DAYS days exactly as from
the whole history, and makes the whole history from them."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from google.analytics.data_v1beta import types as ga

from gadash.standin.server import StandinProperty, StandinServer
from gadash.standin.traffic import (
    _COLUMNS,
    RECENT_DAYS,
    TrafficProfile,
    extended,
    generate,
    local_now,
)

TODAY = date(2026, 3, 14)


@pytest.mark.parametrize("kind", ["blog", "shop"])
def test_the_whole_history_made_from_the_recent_days_is_the_same(kind):
    profile = TrafficProfile(200, RECENT_DAYS + 90, 11, kind=kind)
    whole = generate(profile, TODAY)
    recent = generate(profile, TODAY, TODAY - timedelta(days=RECENT_DAYS - 1))
    assert recent.first_day == TODAY.toordinal() - RECENT_DAYS + 1
    assert recent.session_count < whole.session_count
    made = extended(profile, recent)
    assert (made.first_day, made.last_day) == (whole.first_day, whole.last_day)
    for name in [*_COLUMNS]:
        a, b = getattr(made, name), getattr(whole, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name


def _property(name: str, kind: str, **kwargs) -> StandinProperty:
    ids = {"blog": "properties/1", "shop": "properties/2"}
    return StandinProperty(ids[kind], name, TrafficProfile(300, RECENT_DAYS + 200, 5, kind=kind,
                                                           time_zone="Europe/Berlin"),
                           **kwargs)


def _answers(server: StandinServer, prop: StandinProperty, today: date
             ) -> dict[str, bytes]:
    y = today - timedelta(days=1)

    def span(days: int, back: int = 0) -> ga.DateRange:
        return ga.DateRange(start_date=str(y - timedelta(days=back + days - 1)),
                            end_date=str(y - timedelta(days=back)))

    out = {}
    ranges = {"last28+previous": [span(28), span(28, 28)], "last7": [span(7)],
              "today": [ga.DateRange(start_date="today", end_date="today")],
              "last90": [span(90)]}
    reports = {"date": (["date"], ["sessions", "totalUsers", "keyEvents"]),
               "sources": (["sessionSource", "sessionMedium"], ["sessions", "engagementRate"]),
               "pages": (["pagePath"], ["screenPageViews", "totalUsers"]),
               "events": (["eventName"], ["eventCount"]),
               "totals": ([], ["sessions", "newUsers", "totalRevenue", "bounceRate"])}
    if prop.profile.kind == "shop":
        reports["items"] = (["itemName"], ["itemRevenue", "itemsPurchased"])
    for rname, date_ranges in ranges.items():
        for name, (dims, metrics) in reports.items():
            request = ga.RunReportRequest(
                property=prop.property_id, date_ranges=date_ranges, limit=500,
                dimensions=[ga.Dimension(name=d) for d in dims],
                metrics=[ga.Metric(name=m) for m in metrics])
            response = server._run_report(request, prop)
            out[f"{rname} {name}"] = type(response).serialize(response)
    return out


@pytest.mark.parametrize("kind", ["blog", "shop"])
@pytest.mark.parametrize("sampling", [None, 20_000])
def test_reports_from_the_recent_days_are_those_of_the_whole_history(kind, sampling):
    early, late = (_property("P", kind, sampling_event_limit=sampling) for _ in range(2))
    today = local_now("Europe/Berlin").date()
    late.store.get(today)  # the whole history, before any report
    answers = {}
    for prop in (early, late):
        server = StandinServer([prop]).servicer
        answers[prop is early] = _answers(server, prop, today)
    # The early one answered from its recent days: it made no whole history for them
    # (a sampled range is counted over the whole history: then it did).
    assert (early.store._traffic is None) == (sampling is None)
    assert answers[True].keys() == answers[False].keys()
    for key, value in answers[True].items():
        assert value == answers[False][key], key


def test_a_range_past_the_recent_days_is_answered_from_the_whole_history():
    prop = _property("P", "blog")
    server = StandinServer([prop]).servicer
    today = local_now("Europe/Berlin").date()
    start = today - timedelta(days=RECENT_DAYS + 30)
    request = ga.RunReportRequest(
        property=prop.property_id, metrics=[ga.Metric(name="sessions")],
        date_ranges=[ga.DateRange(start_date=str(start), end_date="yesterday")])
    got = server._run_report(request, prop)
    whole = prop.store.get(today)
    s0, s1 = np.searchsorted(whole.s_day, [start.toordinal(), today.toordinal()])
    assert int(got.rows[0].metric_values[0].value) == s1 - s0
