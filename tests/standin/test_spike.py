"""Spikes on demand: a page read at N times its usual rate, through Google's client.

A page's usual 30 minutes is its views over the 28 days before today divided by
28 * 48, as the dashboard reckons it; a spiked page shows at about N times that in
realtime, counts in today's reports, and changes no past day.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
import pytest
from google.analytics.data_v1beta import types as ga

from gadash.errors import ConfigError
from gadash.settings import Settings
from gadash.standin.__main__ import main as standin_main
from gadash.standin.server import StandinServicer, parse_spike
from gadash.standin.traffic import (
    EV,
    SPIKE_SOURCES,
    PageSpike,
    local_now,
    local_seconds,
    spliced,
)
from gadash.web.app import _demo
from tests.conftest import BLOG, LARGE, SHOP, skip_just_after_midnight

PAGE = "/blog/getting-started-with-python/"  # the blog's best-read article
FACTOR = 10.0


@pytest.fixture()
def spiking(standin_clean) -> Iterator[StandinServicer]:
    """The stand-in's servicer, its spikes cleared before and after (the server is shared);
    not in the first half hour of the blog's day (the spike has had no time yet)."""
    skip_just_after_midnight(standin_clean)
    servicer = standin_clean.servicer
    servicer.clear_spikes()
    try:
        yield servicer
    finally:
        servicer.clear_spikes()


def usual_30_minutes(client, prop: str = BLOG) -> dict[str, tuple[str, float]]:
    """pagePath -> (pageTitle, views over the 28 days before today / (28 * 48))."""
    response = client.run_report(ga.RunReportRequest(
        property=prop, dimensions=[{"name": "pagePath"}, {"name": "pageTitle"}],
        metrics=[{"name": "screenPageViews"}],
        date_ranges=[{"start_date": "28daysAgo", "end_date": "yesterday"}], limit=10_000))
    return {r.dimension_values[0].value: (r.dimension_values[1].value,
                                          float(r.metric_values[0].value) / (28 * 48))
            for r in response.rows}


def realtime(client, dims: list[str], metric: str = "screenPageViews", prop: str = BLOG,
             **kwargs) -> dict[tuple[str, ...], float]:
    """A realtime report of the last 30 minutes: dimension values -> the metric."""
    response = client.run_realtime_report(ga.RunRealtimeReportRequest(
        property=prop, dimensions=[{"name": d} for d in dims], metrics=[{"name": metric}],
        limit=10_000, **kwargs))
    return {tuple(d.value for d in r.dimension_values): float(r.metric_values[0].value)
            for r in response.rows}


def views_by_title(client, prop: str = BLOG) -> dict[str, float]:
    return {k[0]: v for k, v in realtime(client, ["unifiedScreenName"], prop=prop).items()}


def report_rows(client, start: str, end: str, prop: str = BLOG) -> dict[str, list[str]]:
    """pagePath -> [views, sessions, active users, total users] as GA answered them."""
    response = client.run_report(ga.RunReportRequest(
        property=prop, dimensions=[{"name": "pagePath"}],
        metrics=[{"name": m} for m in ("screenPageViews", "sessions", "activeUsers",
                                       "totalUsers")],
        date_ranges=[{"start_date": start, "end_date": end}], limit=10_000))
    return {r.dimension_values[0].value: [m.value for m in r.metric_values]
            for r in response.rows}


def own_burst(standin, prop: str = BLOG) -> bool:
    """Whether the synthetic traffic has one of its own Hacker News bursts today or
    yesterday (a few days a year): then the whole site runs hot on its own."""
    p = standin.servicer.properties[prop]
    today = local_now(p.time_zone).date().toordinal()
    t = p.store.get(local_now(p.time_zone).date())
    s0, s1 = np.searchsorted(t.s_day, [today - 1, today + 1])
    hot = np.isin(t.s_source[s0:s1], SPIKE_SOURCES)
    return bool(hot.any() and np.bincount(t.s_landing[s0:s1][hot]).max() > 100)


# ---------------------------------------------------------------- realtime


def test_a_spiked_page_trends_in_realtime(ga_client, spiking):
    title, usual = usual_30_minutes(ga_client)[PAGE]
    assert usual >= 1.0  # a well-read page: its usual 30 minutes has views
    spiking.spike(BLOG, PAGE, FACTOR)
    views = views_by_title(ga_client)[title]
    ratio = views / usual
    print(f"{title}: {views:.0f} views in 30 minutes, usual {usual:.2f}, ratio {ratio:.1f}")
    assert ratio >= 0.7 * FACTOR
    assert views >= FACTOR


def test_pages_without_a_spike_keep_their_usual_rate(ga_client, spiking, standin):
    usual = usual_30_minutes(ga_client)
    title = usual[PAGE][0]
    before = views_by_title(ga_client)
    spiking.spike(BLOG, PAGE, FACTOR)
    after = views_by_title(ga_client)
    others = (set(before) | set(after)) - {title}
    # The window moves with the clock between the two requests: a view may come or go.
    assert all(abs(after.get(t, 0) - before.get(t, 0)) <= 1 for t in others)
    rest = sum(after.get(t, 0) for t in others)
    rest_usual = sum(u for t, u in usual.values() if t != title)
    # The synthetic traffic alone passes 3x at a busy half hour about once in 300 and
    # 4x about once in 25,000; its own bursts run hotter still.
    if not own_burst(standin):
        assert rest < 4 * rest_usual


def test_a_small_page_gets_at_least_factor_views(ga_client, spiking):
    usual = usual_30_minutes(ga_client)
    path, (title, rate) = min(usual.items(), key=lambda kv: kv[1][1])
    assert rate < 0.5
    spiking.spike(BLOG, path, 5)
    assert views_by_title(ga_client)[title] >= 5


def test_realtime_users_and_countries_include_the_spike(ga_client, spiking):
    title = usual_30_minutes(ga_client)[PAGE][0]
    users_before = sum(realtime(ga_client, [], "activeUsers").values())
    spiking.spike(BLOG, PAGE, FACTOR)
    views = views_by_title(ga_client)[title]
    users_after = sum(realtime(ga_client, [], "activeUsers").values())
    assert users_after >= users_before + 0.5 * (views - 5)
    only_page = {"filter": {"field_name": "unifiedScreenName",
                            "string_filter": {"value": title}}}
    countries = realtime(ga_client, ["country"], dimension_filter=only_page)
    assert sum(countries.values()) == views
    assert len(countries) >= 2  # the page's readers come from several countries
    devices = realtime(ga_client, ["deviceCategory"], dimension_filter=only_page)
    assert sum(devices.values()) == views


def test_clear_spikes_brings_the_page_back(ga_client, spiking):
    title, usual = usual_30_minutes(ga_client)[PAGE]
    before = views_by_title(ga_client).get(title, 0)
    spiking.spike(BLOG, PAGE, FACTOR)
    assert views_by_title(ga_client)[title] >= before + 0.7 * FACTOR * usual - 1
    spiking.clear_spikes()
    assert abs(views_by_title(ga_client).get(title, 0) - before) <= 1


def test_a_spike_keeps_going_as_the_window_moves(standin):
    """Every 30 minutes from the spike on holds its share of views, spread over the
    half hour, and the same views whichever window asks."""
    prop = standin.servicer.properties[BLOG]
    now = local_now(prop.time_zone)
    traffic = prop.store.get(now.date())
    since = now.date().toordinal() * 86400 + 6 * 3600  # 06:00 today
    page = prop.profile.site.page_code(PAGE, now.date())
    assert page is not None
    spike = PageSpike(page, FACTOR, since, prop.profile.seed)
    extra = max((FACTOR - 1) * spike.usual(traffic, now.date().toordinal()), FACTOR)
    for end in range(since, since + 4 * 3600, 1234):
        starts = spike.sessions(traffic, end - 1799, end)["s_start"]
        assert extra <= starts.size <= extra + 3
        # The window is end-1799..end, both ends in: its thirds are 600 seconds from
        # end-1799 (from end-1800, a session starting at ``end`` made a fourth "third").
        thirds = np.bincount((starts - (end - 1799)) // 600, minlength=3)
        assert thirds.size == 3
        assert thirds.min() >= extra / 3 - 2
    hour = spike.sessions(traffic, since, since + 3600)
    half = spike.sessions(traffic, since + 1800, since + 3600)
    later = hour["s_start"] >= since + 1800
    for column in ("s_start", "s_user", "s_country", "s_device", "s_source"):
        assert np.array_equal(hour[column][later], half[column])
    # Nothing before the spike's 30 minutes of backfill.
    assert spike.sessions(traffic, since - 7200, since - 1801)["s_start"].size == 0


def test_spliced_traffic_keeps_its_order_and_indices(standin):
    """Spike sessions merged into a slice of the news site's traffic (which has
    purchases): sessions by start, views and events following them, nothing lost."""
    prop = standin.servicer.properties[LARGE]
    now = local_now(prop.time_zone)
    traffic = prop.store.get(now.date())
    today, now_sec = now.date().toordinal(), local_seconds(now)
    spikes = [PageSpike(0, 10, now_sec - 5000, 1), PageSpike(1, 50, now_sec, 2)]
    extra = [s.sessions(traffic, today * 86400, now_sec) for s in spikes]
    added = sum(e["s_start"].size for e in extra)
    s0, s1 = (int(i) for i in np.searchsorted(traffic.s_day, [today - 30, today + 1]))
    s1 = min(s1, int(np.searchsorted(traffic.s_start, now_sec, side="right")))
    m = spliced(traffic, s0, s1, extra)
    assert added > 0 and m.session_count == s1 - s0 + added
    for column in (m.s_start, m.e_session, m.x_view):
        assert np.all(np.diff(column) >= 0)
    assert np.array_equal(np.bincount(m.e_session, minlength=m.session_count), m.s_views)
    assert np.array_equal(np.bincount(m.e_session[m.x_view], minlength=m.session_count),
                          m.s_events)
    assert np.all(m.x_name[m.p_event] == EV["purchase"])
    assert m.p_event.size == np.count_nonzero(m.x_name == EV["purchase"])
    revenue = np.bincount(m.e_session[m.x_view[m.p_event]], weights=m.p_value,
                          minlength=m.session_count)
    assert np.allclose(revenue, m.s_revenue)
    e0, e1 = np.searchsorted(traffic.e_session, [s0, s1])
    for page in (0, 1):
        assert np.count_nonzero(m.e_page == page) == np.count_nonzero(
            traffic.e_page[e0:e1] == page) + extra[page]["s_start"].size


# ---------------------------------------------------------------- reports


def test_spike_counts_today_and_changes_no_past_day(ga_client, spiking, standin):
    prop = standin.servicer.properties[BLOG]
    if local_seconds(local_now(prop.time_zone)) % 86400 < 180:
        pytest.skip("just past midnight: the spike has had no time today yet")
    yesterday = report_rows(ga_client, "yesterday", "yesterday")
    usual = report_rows(ga_client, "28daysAgo", "yesterday")
    today = report_rows(ga_client, "today", "today")
    week = report_rows(ga_client, "7daysAgo", "today")
    spiking.spike(BLOG, PAGE, FACTOR)
    assert report_rows(ga_client, "yesterday", "yesterday") == yesterday
    assert report_rows(ga_client, "28daysAgo", "yesterday") == usual
    today_after = report_rows(ga_client, "today", "today")
    grew = [float(a) - float(b) for a, b in zip(today_after[PAGE], today.get(PAGE, [0] * 4),
                                                strict=True)]
    views, sessions, _, users = grew
    assert views >= 1 and sessions >= 1 and users >= 1
    week_after = report_rows(ga_client, "7daysAgo", "today")
    assert float(week_after[PAGE][0]) - float(week[PAGE][0]) >= views - 2


def test_a_spike_counts_in_a_range_with_today_beside_one_without(ga_client, spiking):
    request = dict(property=BLOG, dimensions=[{"name": "pagePath"}],
                   metrics=[{"name": "screenPageViews"}],
                   dimension_filter={"filter": {"field_name": "pagePath",
                                                "string_filter": {"value": PAGE}}},
                   date_ranges=[{"start_date": "yesterday", "end_date": "yesterday",
                                 "name": "past"},
                                {"start_date": "today", "end_date": "today", "name": "now"}])

    def by_range() -> dict[str, float]:
        response = ga_client.run_report(ga.RunReportRequest(**request))
        return {r.dimension_values[1].value: float(r.metric_values[0].value)
                for r in response.rows}

    before = by_range()
    spiking.spike(BLOG, PAGE, FACTOR)
    after = by_range()
    assert after["past"] == before["past"]
    assert after["now"] >= before.get("now", 0)


# ---------------------------------------------------------------- settings and errors


def test_parse_spike():
    assert parse_spike("/blog/why-we-built-gadash*10") == ("/blog/why-we-built-gadash", 10.0)
    assert parse_spike(" /a/*2.5 ") == ("/a/", 2.5)
    assert parse_spike("/odd*name/*3") == ("/odd*name/", 3.0)


@pytest.mark.parametrize("text, message", [
    ("", "not PATH\\*FACTOR"),
    ("/blog/", "not PATH\\*FACTOR"),
    ("blog*10", "not PATH\\*FACTOR"),
    ("*10", "not PATH\\*FACTOR"),
    ("/blog/*ten", "'ten' is not a number"),
    ("/blog/*", "is not a number"),
    ("/blog/*1", "more than 1"),
    ("/blog/*0.5", "more than 1"),
    ("/blog/*-3", "more than 1"),
    ("/blog/*nan", "more than 1"),
    ("/blog/*1000", "at most 100"),
])
def test_bad_spike_values_say_what_is_wrong(text, message):
    with pytest.raises(ValueError, match=message):
        parse_spike(text)


def test_unknown_page_or_property_is_refused(spiking):
    with pytest.raises(ValueError, match="unknown page '/no-such-page/'"):
        spiking.spike(BLOG, "/no-such-page/", FACTOR)
    with pytest.raises(ValueError, match="unknown page '/news/2001/01/01/nothing/'"):
        spiking.spike(LARGE, "/news/2001/01/01/nothing/", FACTOR)
    with pytest.raises(ValueError, match="no property"):
        spiking.spike("properties/42", PAGE, FACTOR)
    with pytest.raises(ValueError, match="more than 1"):
        spiking.spike(BLOG, PAGE, 0.5)
    with pytest.raises(ValueError, match="unknown page '/nowhere/'"):
        spiking.spike_everywhere("/nowhere/", FACTOR)
    assert not spiking._spikes


def test_pages_are_found_in_every_property_that_has_them(ga_client, spiking):
    assert spiking.spike_everywhere("/", 3) == [BLOG, SHOP, LARGE]
    assert spiking.spike_everywhere("/cart/", 3) == [SHOP]
    # GA's paths end with a slash; one left off is forgiven.
    spiking.spike(BLOG, PAGE.rstrip("/"), FACTOR)
    # A news article, by its dated path.
    article = next(p for p in usual_30_minutes(ga_client, LARGE) if p.count("/") == 6)
    spiking.spike(LARGE, article, FACTOR)


def test_demo_refuses_a_bad_spike_setting():
    with pytest.raises(ConfigError, match="GADASH_STANDIN_SPIKE: 'ten' is not PATH"):
        _demo(Settings(standin_spike="ten", _env_file=None))
    with pytest.raises(ConfigError, match="GADASH_STANDIN_SPIKE: unknown page '/nope/'"):
        _demo(Settings(standin_spike="/nope/*10", _env_file=None))


@pytest.mark.parametrize("value, message", [
    ("ten", "argument --spike: 'ten' is not PATH\\*FACTOR"),
    ("/nope/*10", "argument --spike: unknown page '/nope/'"),
    ("/*500", "argument --spike: .*at most 100"),
])
def test_standin_command_refuses_a_bad_spike(value, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        standin_main(["--port", "0", "--spike", value])
    assert exit_.value.code == 2
    assert re.search(message, capsys.readouterr().err)
