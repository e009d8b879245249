"""Pure transforms and figure builders."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from gadash.core.frames import ReportFrame, ReportMeta
from gadash.core.transforms import (
    align_previous,
    delta,
    fill_timeline,
    format_duration,
    format_number,
    kpis,
    pages_table,
    sources_table,
)
from gadash.web.figures import bar_figure, donut_figure, message_figure, trend_figure


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0:00:00"), (59.6, "0:01:00"), (89.4, "0:01:29"), (3600, "1:00:00"),
    (36061, "10:01:01"), (-3, "0:00:00"), (float("nan"), "–"), (None, "–"),
])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_format_number_and_delta():
    assert [format_number(x) for x in (950, 12_345, 1_234_567)] == ["950", "12.3K", "1.2M"]
    assert delta(110, 100) == pytest.approx(0.1)
    assert delta(5, 0) is None and delta(5, None) is None


def meta() -> ReportMeta:
    return ReportMeta("properties/1", "UTC", "USD", fetched_at=datetime(2026, 1, 1, tzinfo=UTC))


def trend_report() -> ReportFrame:
    days = pd.date_range("2026-01-01", periods=3)
    prev_days = pd.date_range("2025-12-29", periods=3)
    rows = pd.DataFrame({
        "date": list(days) + list(prev_days),
        "sessions": [10, 20, 30, 5, 10, 15],
        "totalUsers": [8, 16, 24, 4, 8, 12],
        "dateRange": ["current"] * 3 + ["previous"] * 3,
    })
    totals = pd.DataFrame({
        "totalUsers": [40, 20], "sessions": [60, 30], "screenPageViews": [100, 100],
        "averageSessionDuration": [61.0, 30.0], "engagementRate": [0.5, 0.4],
        "bounceRate": [0.5, 0.6], "dateRange": ["current", "previous"],
    })
    return ReportFrame("trend", rows, totals, meta())


def test_kpis_from_totals():
    tiles = {k.metric: k for k in kpis(trend_report())}
    assert tiles["sessions"].text == "60" and tiles["sessions"].change == pytest.approx(1.0)
    assert tiles["averageSessionDuration"].text == "0:01:01"
    assert tiles["screenPageViews"].change == 0
    assert tiles["bounceRate"].higher_is_better is False
    assert tiles["engagementRate"].text == "50.0%"


def test_align_previous_puts_comparison_on_current_axis():
    rows = trend_report().rows
    cur = rows[rows.dateRange == "current"]
    prev = rows[rows.dateRange == "previous"]
    shifted = align_previous(cur, prev, "date")
    assert list(shifted["date"]) == list(cur["date"])
    assert list(shifted["original"]) == list(prev["date"])


def test_fill_timeline_adds_zero_days():
    frame = pd.DataFrame({"date": [pd.Timestamp("2026-01-01"), pd.Timestamp("2026-01-03")],
                          "sessions": [5, 7]})
    full = fill_timeline(frame, "date", pd.Timestamp("2026-01-01"), pd.Timestamp("2026-01-04"),
                         ["sessions"])
    assert list(full["sessions"]) == [5, 0, 7, 0]


def test_sources_and_pages_tables():
    rows = pd.DataFrame({
        "sessionSource": ["google", "bing", "google"], "sessionMedium": ["organic"] * 3,
        "sessions": [100, 10, 50], "screenPageViews": [150, 12, 60],
        "averageSessionDuration": [75.0, 3725.0, 60.0], "totalUsers": [80, 9, 40],
        "engagementRate": [0.6, 0.5, 0.55], "dateRange": ["current", "current", "previous"],
    })
    table = sources_table(ReportFrame("sources", rows, rows.iloc[0:0], meta()))
    assert list(table["averageSessionDuration"]) == [75.0, 3725.0]  # seconds, for CSV too
    assert table["sessionsChange"].iloc[0] == pytest.approx(1.0)
    assert pd.isna(table["sessionsChange"].iloc[1])
    pages = pd.DataFrame({
        "pagePath": ["/", "/a/"], "pageTitle": ["Home", "A"], "screenPageViews": [10, 0],
        "totalUsers": [5, 0], "userEngagementDuration": [300.0, 0.0], "bounceRate": [0.3, 0.0],
        "sessions": [6, 0], "dateRange": ["current", "current"],
    })
    landing = pd.DataFrame({"landingPage": ["/"], "sessions": [4], "dateRange": ["current"]})
    table = pages_table(ReportFrame("pages", pages, pages.iloc[0:0], meta()),
                        ReportFrame("landing", landing, landing.iloc[0:0], meta()))
    assert list(table["engagementPerView"]) == [30.0, 0.0]
    assert list(table["entrances"]) == [4, 0]


def test_figures_never_blank():
    empty = trend_report().rows.iloc[0:0]
    blank = trend_figure(empty, "date")
    assert blank["layout"]["annotations"][0]["text"] == "No data for this period"
    fig = trend_figure(trend_report().rows, "date")
    assert [t["name"] for t in fig["data"]] == ["Sessions", "Sessions (comparison)", "Users",
                                          "Users (comparison)"]
    bars = bar_figure(pd.DataFrame({"c": ["a", "b"], "v": [1, 3]}), "c", "v", "users")
    assert bars["data"][0]["y"] == ["a", "b"] and bars["data"][0]["customdata"] == ["a", "b"]
    donut = donut_figure(pd.DataFrame({"d": ["x"], "v": [0]}), "d", "v")
    assert donut["layout"]["annotations"][0]["text"] == "No data for this period"
    assert message_figure("GA is down")["layout"]["annotations"][0]["text"] == "GA is down"


def test_rollup_sums_additive_metrics_over_the_other_dimension():
    from gadash.core.transforms import rollup

    rows = pd.DataFrame({
        "country": ["Japan", "Japan", "Peru", "Peru"],
        "deviceCategory": ["mobile", "desktop", "mobile", "mobile"],
        "sessions": [3, 4, 10, 99], "screenPageViews": [5, 6, 20, 0],
        "dateRange": ["current", "current", "current", "previous"],
    })
    report = ReportFrame("audience", rows, rows.iloc[0:0], meta())
    countries = rollup(report, "country")
    assert countries.to_dict("list") == {"country": ["Peru", "Japan"], "sessions": [10, 7],
                                         "screenPageViews": [20, 11]}
    devices = rollup(report, "deviceCategory")
    assert devices.set_index("deviceCategory")["sessions"].to_dict() == {"mobile": 13,
                                                                         "desktop": 4}


def test_fill_days_shows_days_without_sessions_as_zero():
    from datetime import date

    from gadash.core.query import DateRange
    from gadash.core.transforms import fill_days

    rows = pd.DataFrame({
        "date": [pd.Timestamp("2026-01-02"), pd.Timestamp("2025-12-30")],
        "sessions": [5, 7], "dateRange": ["current", "previous"],
    })
    filled = fill_days(rows, (DateRange(date(2026, 1, 1), date(2026, 1, 3)),
                              DateRange(date(2025, 12, 29), date(2025, 12, 31))))
    current = filled[filled.dateRange == "current"]
    assert list(current["sessions"]) == [0, 5, 0]
    assert list(filled[filled.dateRange == "previous"]["sessions"]) == [0, 7, 0]
    assert fill_days(rows, ()) is rows  # no ranges known: as GA answered


def test_missing_totals_show_a_dash_never_zero():
    report = trend_report()
    only_previous = report.totals[report.totals.dateRange == "previous"]
    tiles = {k.metric: k for k in kpis(ReportFrame("trend", report.rows, only_previous,
                                                   meta()))}
    assert tiles["sessions"].value is None and tiles["sessions"].text == "–"
    assert tiles["sessions"].change is None
    no_previous = report.totals[report.totals.dateRange == "current"]
    tiles = {k.metric: k for k in kpis(ReportFrame("trend", report.rows, no_previous, meta()))}
    assert tiles["sessions"].text == "60" and tiles["sessions"].change is None


def _outcomes(key_events: list[int], revenue: list[float], currency: str) -> ReportFrame:
    report = trend_report()
    totals = report.totals.assign(keyEvents=key_events, sessionKeyEventRate=[0.1, 0.05],
                                  totalRevenue=revenue, transactions=[3, 0])
    return ReportFrame("trend", report.rows, totals,
                       ReportMeta("properties/1", "UTC", currency))


@pytest.mark.parametrize(("currency", "text"), [("GBP", "£12,345.67"), ("EUR", "€12,345.67"),
                                                ("JPY", "¥12,346")])
def test_revenue_in_the_currency_ga_names(currency, text):
    from gadash.core.transforms import format_money

    assert format_money(12_345.67, currency) == text
    tiles = {k.metric: k for k in kpis(_outcomes([4, 2], [12_345.67, 0.0], currency))}
    assert tiles["totalRevenue"].text.startswith(text[0]) and tiles["totalRevenue"].text[-1] == "K"
    assert tiles["transactions"].text == "3" and tiles["keyEvents"].change == pytest.approx(1.0)
    assert tiles["totalRevenue"].exact == text  # the tooltip keeps every digit


def test_key_event_and_revenue_tiles_only_where_the_property_has_them():
    from gadash.core.transforms import outcome_metrics

    assert outcome_metrics(_outcomes([4, 2], [0.0, 0.0], "USD")) == ["keyEvents",
                                                                     "sessionKeyEventRate"]
    assert outcome_metrics(_outcomes([0, 0], [0.0, 9.5], "EUR")) == ["totalRevenue",
                                                                     "transactions"]
    assert outcome_metrics(trend_report()) == []  # not asked of GA at all
    assert [k.metric for k in kpis(_outcomes([0, 0], [0.0, 0.0], "USD"))] == [
        "totalUsers", "sessions", "screenPageViews", "averageSessionDuration",
        "engagementRate", "bounceRate"]


def _sources(rows: list[tuple[str, str, str, int, int, float, float]]) -> ReportFrame:
    frame = pd.DataFrame(rows, columns=["sessionSource", "sessionMedium",
                                        "sessionDefaultChannelGroup", "sessions",
                                        "engagedSessions", "sessionKeyEventRate",
                                        "totalRevenue"])
    frame["keyEvents"] = frame["sessions"] // 10
    frame["dateRange"] = "current"
    return ReportFrame("sources", frame, frame.iloc[0:0], meta())


def test_channels_roll_up_exactly_from_sources():
    from gadash.core.transforms import channels_table

    sources = _sources([
        ("google", "organic", "Organic Search", 100, 60, 0.10, 10.0),
        ("(direct)", "(none)", "Direct", 80, 40, 0.05, 0.0),
        ("bing", "organic", "Organic Search", 20, 10, 0.20, 5.0),
        ("(other)", "(other)", "(other)", 5, 1, 0.0, 0.0),
    ])
    previous = pd.DataFrame({"sessionDefaultChannelGroup": ["Organic Search"],
                             "sessions": [60], "dateRange": ["previous"]})
    table = channels_table(sources, ReportFrame("channels", previous, previous.iloc[0:0],
                                                meta()))
    organic = table.set_index("sessionDefaultChannelGroup").loc["Organic Search"]
    assert organic["sessions"] == 120 and organic["engagedSessions"] == 70
    assert organic["engagementRate"] == pytest.approx(70 / 120)
    # 10 + 4 sessions with a key event out of 120
    assert organic["sessionKeyEventRate"] == pytest.approx(14 / 120)
    assert organic["totalRevenue"] == 15.0 and organic["share"] == pytest.approx(120 / 205)
    assert organic["sessionsChange"] == pytest.approx(1.0)
    direct = table.set_index("sessionDefaultChannelGroup").loc["Direct"]
    assert pd.isna(direct["sessionsChange"])  # not in the comparison: new
    assert list(table["isOther"]) == [False, False, True]


@pytest.mark.parametrize(("col", "cur", "prev", "expected"), [
    ("isoYearIsoWeek", ["2026-01-05", "2026-01-12"], ["2025-12-22", "2025-12-29"],
     ["2026-01-05", "2026-01-12"]),
    ("yearMonth", ["2026-01-01", "2026-02-01", "2026-03-01"],
     ["2025-10-01", "2025-11-01", "2025-12-01"], ["2026-01-01", "2026-02-01", "2026-03-01"]),
])
def test_comparison_lines_up_week_by_week_and_month_by_month(col, cur, prev, expected):
    current = pd.DataFrame({col: pd.to_datetime(cur), "sessions": range(len(cur))})
    previous = pd.DataFrame({col: pd.to_datetime(prev), "sessions": range(len(prev))})
    shifted = align_previous(current, previous, col)
    assert list(shifted[col]) == list(pd.to_datetime(expected))
    assert list(shifted["original"]) == list(pd.to_datetime(prev))


def test_fill_only_inside_the_span_ga_answered():
    from datetime import date

    from gadash.core.query import DateRange
    from gadash.core.transforms import fill_days

    rows = pd.DataFrame({"date": pd.to_datetime(["2026-01-01", "2026-01-03"]),
                         "sessions": [5, 7], "dateRange": ["current", "current"]})
    rng = (DateRange(date(2026, 1, 1), date(2026, 1, 10)),)
    assert len(fill_days(rows, rng)) == 10
    # GA's answer was cut after 3 Jan: the days after are unknown, not zero.
    assert list(fill_days(rows, rng, complete=False)["sessions"]) == [5, 0, 7]
    weeks = pd.DataFrame({"isoYearIsoWeek": pd.to_datetime(["2025-12-29", "2026-01-12"]),
                          "sessions": [5, 7], "dateRange": ["current", "current"]})
    filled = fill_days(weeks, (DateRange(date(2026, 1, 1), date(2026, 1, 14)),))
    assert list(filled["isoYearIsoWeek"]) == list(pd.to_datetime(
        ["2025-12-29", "2026-01-05", "2026-01-12"]))
    assert list(filled["sessions"]) == [5, 0, 7]


def test_other_row_is_no_link_and_no_filter():
    pages = pd.DataFrame({
        "pagePath": ["/", "(other)"], "pageTitle": ["Home", "(other)"],
        "screenPageViews": [10, 900], "totalUsers": [5, 400],
        "userEngagementDuration": [300.0, 9.0], "bounceRate": [0.3, 0.5], "sessions": [6, 300],
        "dateRange": ["current", "current"],
    })
    landing = pd.DataFrame({"landingPage": ["/"], "sessions": [4], "dateRange": ["current"]})
    table = pages_table(ReportFrame("pages", pages, pages.iloc[0:0], meta()),
                        ReportFrame("landing", landing, landing.iloc[0:0], meta()))
    assert list(table["isOther"]) == [False, True]
    assert table["entrances"].iloc[0] == 4 and pd.isna(table["entrances"].iloc[1])
    bars = bar_figure(pd.DataFrame({"c": ["(other)", "Peru"], "v": [9, 3]}), "c", "v", "users")
    # (other) is drawn, but clicking it filters by nothing
    assert list(bars["data"][0]["y"]) == ["Peru", "(other)"]
    assert list(bars["data"][0]["customdata"]) == ["Peru", ""]


def test_an_all_zero_trend_says_no_data_instead_of_drawing_ticks():
    rows = pd.DataFrame({"date": pd.date_range("2026-01-01", periods=3), "sessions": [0, 0, 0],
                         "totalUsers": [0, 0, 0], "dateRange": ["current"] * 3})
    fig = trend_figure(rows, "date")
    assert fig["layout"]["annotations"][0]["text"] == "No data for this period" and not fig["data"]


def test_fetch_times_say_their_zone():
    from gadash.web.components.cards import fetched_clock

    report = ReportFrame("trend", pd.DataFrame(), pd.DataFrame(),
                         ReportMeta("properties/1", "Europe/Berlin",
                                    fetched_at=datetime(2026, 7, 1, 12, 5, tzinfo=UTC)))
    assert fetched_clock(report) == "14:05 CEST"


def _weeks(sessions_now, sessions_before, now=None):
    """A weekly trend: this period Wed 3 Dec - Tue 30 Dec 2025 (5 and 2 days in its
    first and last weeks), the comparison Wed 5 Nov - Wed 3 Dec 2025 (5 and 3 days)."""
    from datetime import date

    from gadash.core.query import DateRange
    from gadash.core.transforms import fill_days

    cur = DateRange(date(2025, 12, 3), date(2025, 12, 30))
    prev = DateRange(date(2025, 11, 5), date(2025, 12, 3))  # Wed to Wed: 3 days at the end
    rows = pd.DataFrame({
        "isoYearIsoWeek": pd.to_datetime(["2025-12-01", "2025-12-08", "2025-12-15",
                                          "2025-12-22", "2025-12-29", "2025-11-03",
                                          "2025-11-10", "2025-11-17", "2025-11-24",
                                          "2025-12-01"]),
        "sessions": [*sessions_now, *sessions_before],
        "totalUsers": [*sessions_now, *sessions_before],
        "dateRange": ["current"] * 5 + ["previous"] * 5,
    })
    return fill_days(rows, (cur, prev), now=now)


def test_fill_days_marks_each_point_with_the_days_it_covers():
    from gadash.core.transforms import BUCKET

    filled = _weeks([500, 700, 700, 700, 322], [500, 700, 700, 700, 445])
    current = filled[filled.dateRange == "current"]
    assert [b.days for b in current[BUCKET]] == [5, 7, 7, 7, 2]
    assert [b.partial for b in current[BUCKET]] == [True, False, False, False, True]
    previous = filled[filled.dateRange == "previous"]
    assert [b.days for b in previous[BUCKET]] == [5, 7, 7, 7, 3]


def test_partial_points_are_hollow_on_a_dotted_segment_and_out_of_the_solid_line():
    fig = trend_figure(_weeks([500, 700, 710, 690, 322], [500, 650, 700, 720, 445]),
                       "isoYearIsoWeek")
    traces = {t["name"]: t for t in fig["data"]}
    assert [t["name"] for t in fig["data"]][:4] == [
        "Sessions", "Sessions (comparison)", "Users", "Users (comparison)"]
    solid = traces["Sessions"]
    assert solid["y"] == [None, 700.0, 710.0, 690.0, None]
    dotted, hollow = [t for t in fig["data"] if t["name"] == "Sessions (partial)"]
    assert dotted["line"]["dash"] == "dot" and dotted["hoverinfo"] == "skip"
    assert dotted["y"] == [500.0, 700.0, None, 690.0, 322.0]  # reaching the solid line
    assert hollow["marker"]["symbol"] == "circle-open"
    assert hollow["x"] == ["2025-12-01 00:00", "2025-12-29 00:00"] and \
        hollow["y"] == [500.0, 322.0]
    assert not hollow["showlegend"]
    first, last = hollow["customdata"]
    assert "partial: 5 of 7 days, 03–07 Dec" in first
    assert "on the comparison's 5 days" in first  # as long as each other: totals compare
    # 322 in 2 days against 445 in 3 reads as -28%; per day it is +8.5%
    assert "partial: 2 of 7 days, 29–30 Dec" in last
    assert "161 a day against 148 in the comparison's 3 days: +8.5% a day" in last
    # the comparison's own partial point is hollow too, and says so on hover
    comparison = traces["Sessions (comparison)"]
    assert comparison["marker"]["size"][-1] > 0 and comparison["marker"]["size"][1] == 0
    assert comparison["customdata"][-1] == \
        "week of 01 Dec 2025 (partial: 3 of 7 days, 01–03 Dec)"
    users = [t for t in fig["data"] if t["name"] == "Users (partial)"][1]
    assert "not compared" in users["customdata"][1]


def test_a_week_not_over_is_partial_and_not_compared():
    from datetime import datetime

    fig = trend_figure(_weeks([500, 700, 710, 690, 322], [500, 650, 700, 720, 445],
                              now=datetime(2025, 12, 30, 15, 0)), "isoYearIsoWeek")
    hollow = [t for t in fig["data"] if t["name"] == "Sessions (partial)"][1]
    assert "today is not over<br>not compared: not over yet" in hollow["customdata"][1]


def test_trend_series_gives_the_figures_traces_for_a_patch():
    from gadash.web.figures import trend_series

    rows = _weeks([500, 700, 710, 690, 322], [500, 650, 700, 720, 445])
    fig = trend_figure(rows, "isoYearIsoWeek")
    series = trend_series(rows, "isoYearIsoWeek", ("sessions", "totalUsers"))
    assert series == [(t["x"], t["y"]) for t in fig["data"]]


def test_today_in_a_daily_trend_and_the_current_hour_are_partial():
    from datetime import date, datetime

    from gadash.core.query import DateRange
    from gadash.core.transforms import fill_days

    rng = DateRange(date(2026, 1, 1), date(2026, 1, 3))
    rows = pd.DataFrame({"date": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03"]),
                         "sessions": [5, 7, 2], "totalUsers": [4, 6, 2],
                         "dateRange": ["current"] * 3})
    fig = trend_figure(fill_days(rows, (rng,), now=datetime(2026, 1, 3, 9, 5)), "date")
    hollow = [t for t in fig["data"] if t["name"] == "Sessions (partial)"][1]
    assert hollow["x"] == ["2026-01-03 00:00"]
    assert "partial: today is not over" in hollow["customdata"][0]
    hours = pd.DataFrame({"dateHour": pd.to_datetime(["2026-01-03 08:00", "2026-01-03 09:00"]),
                          "sessions": [5, 1], "totalUsers": [5, 1],
                          "dateRange": ["current"] * 2})
    fig = trend_figure(fill_days(hours, (DateRange(date(2026, 1, 3), date(2026, 1, 3)),),
                                 now=datetime(2026, 1, 3, 9, 5)), "dateHour")
    assert fig["data"][0]["y"] == [5.0, None]
    hollow = [t for t in fig["data"] if t["name"] == "Sessions (partial)"][1]
    assert hollow["x"] == ["2026-01-03 09:00"]
    assert "partial: this hour is not over" in hollow["customdata"][0]
