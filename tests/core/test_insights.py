"""The insight rules as pure functions, on numbers worked out by hand."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pandas as pd
import pytest

from gadash.core.catalog import CHANGE_DIMENSIONS
from gadash.core.frames import ReportFrame, ReportMeta
from gadash.core.insights.findings import what_changed
from gadash.core.insights.rules import (
    REST,
    Band,
    contributions,
    headline,
    leading,
    robust_spread,
    same_traffic,
    sentence,
    trending,
    unusual_days,
    usual_per_window,
)


def total(cs):
    return sum(c.change for c in cs)


def test_contributions_add_up_to_the_total_change_with_new_and_lost_values():
    current = {"google": 500.0, "hn": 300.0, "bing": 50.0}
    previous = {"google": 400.0, "bing": 80.0, "facebook": 120.0}
    cs = contributions(current, previous)
    assert total(cs) == pytest.approx(850 - 600)
    by = {c.key: c for c in cs}
    assert by["hn"].status == "new" and by["hn"].change == 300
    assert by["facebook"].status == "gone" and by["facebook"].change == -120
    assert by["google"].status == "" and by["google"].share == pytest.approx(100 / 250)
    assert [c.key for c in cs] == ["hn", "facebook", "google", "bing"]  # by size of change
    assert sum(c.share for c in cs) == pytest.approx(1.0)


def test_values_ga_did_not_list_become_one_remainder_so_the_sum_still_holds():
    cs = contributions({"a": 100.0, "b": 50.0}, {"a": 80.0, "b": 70.0},
                       total_current=1_000.0, total_previous=700.0)
    assert total(cs) == pytest.approx(300.0)
    rest = next(c for c in cs if c.key == REST)
    assert (rest.current, rest.previous) == (850.0, 550.0)
    assert leading(cs).key == "a"  # the remainder is no value one can act on


def test_a_zero_previous_period():
    cs = contributions({"a": 30.0, "b": 10.0}, {})
    assert total(cs) == 40.0
    assert all(c.status == "new" for c in cs)
    assert [round(c.share, 2) for c in cs] == [0.75, 0.25]
    assert [c.excess for c in cs] == [30.0, 10.0]  # no earlier shares: the whole change
    assert headline("Sessions", 40, 0) == "Sessions 40, none in the comparison period."


def test_nothing_changed_in_total():
    cs = contributions({"a": 60.0, "b": 40.0}, {"a": 40.0, "b": 60.0})
    assert total(cs) == 0 and all(c.share is None for c in cs)
    assert headline("Sessions", 100, 100) == "Sessions unchanged (100)."
    assert sentence(cs[0], "a") == "a changed by +20, while the total held."


def test_one_source_ten_times_while_every_other_doubled_explains_most():
    before = {"news.ycombinator.com / referral": 300.0, "google / organic": 2_000.0,
              "(direct) / (none)": 1_000.0, "bing / organic": 200.0}
    after = {k: v * (10 if k.startswith("news") else 2) for k, v in before.items()}
    sources = contributions(after, before)
    # google doubled: +2,000; HN 10x: +2,700; ranked by the size of the contribution
    assert sources[0].key == "news.ycombinator.com / referral"
    # Channels hold HN among other referrals; countries hold everything: their leading
    # values carry more sessions but explain less beyond their share.
    channels = contributions({"Referral": 3_000 + 400.0, "Organic Search": 4_400.0,
                              "Direct": 2_000.0},
                             {"Referral": 300 + 200.0, "Organic Search": 2_200.0,
                              "Direct": 1_000.0})
    countries = contributions({"United States": 6_000.0, "Germany": 3_800.0},
                              {"United States": 2_100.0, "Germany": 1_400.0})
    assert abs(leading(sources).excess) > abs(leading(channels).excess)
    assert abs(leading(sources).excess) > abs(leading(countries).excess)
    assert sentence(sources[0], sources[0].key) == (
        "46% of the rise came from news.ycombinator.com / referral (+2,700).")


def test_sentences_say_new_gone_and_against_the_trend():
    cs = {c.key: c for c in contributions({"hn": 1_960.0, "x": 100.0},
                                          {"x": 300.0, "gone": 50.0}, 5_000.0, 3_000.0)}
    assert sentence(cs["hn"], "news.ycombinator.com / referral") == (
        "98% of the rise came from news.ycombinator.com / referral (+1,960), new this period.")
    assert sentence(cs["x"], "x") == "x fell (−200) while the total rose."
    assert sentence(cs["gone"], "gone") == "gone fell (−50) while the total rose, gone this period."
    fall = contributions({"a": 10.0}, {"a": 110.0})
    assert sentence(fall[0], "a") == "100% of the fall was a (−100)."
    assert headline("Sessions", 21_000, 17_790) == "Sessions +18% (+3,210)."
    assert headline("Key events", 95, 100) == "Key events −5% (−5)."


def shares_said(text):
    return [int(n) for n in re.findall(r"(\d+)%", text)]


def test_a_value_that_changed_more_than_the_total_is_more_than_the_whole_change():
    # google rose by 3,954 while the whole rose by 3,100: the other sources fell by 854.
    rise = {c.key: c for c in contributions(
        {"google / organic": 8_954.0, "bing / organic": 2_146.0, "t.co / referral": 1_000.0},
        {"google / organic": 5_000.0, "bing / organic": 3_000.0, "t.co / referral": 1_000.0})}
    google = rise["google / organic"]
    assert google.share > 1  # 127%: right, but it reads like a bug
    assert sentence(google, "google / organic", "other sources") == (
        "google / organic (+3,954) is more than the whole rise (+3,100): the other sources "
        "together fell (−854).")
    # A fall, the value gone: 420 of a fall of 100, the rest rose.
    fall = {c.key: c for c in contributions({"/b": 1_320.0}, {"/a": 420.0, "/b": 1_000.0})}
    assert sentence(fall["/a"], "/a", "other landing pages") == (
        "/a (−420, gone this period) is more than the whole fall (−100): the other landing "
        "pages together rose (+320).")
    assert sentence(fall["/b"], "/b") == "/b grew (+320) while the total fell."


def test_no_sentence_says_a_share_above_100_percent():
    # Changes of both signs, one beyond the total, a remainder of values GA did not list.
    cs = contributions({"a": 900.0, "b": 10.0, "c": 300.0, "d": 50.0},
                       {"a": 200.0, "b": 400.0, "c": 350.0, "e": 80.0},
                       total_current=1_400.0, total_previous=1_100.0)
    texts = [sentence(c, c.key) for c in cs]
    assert cs[0].key == "a" and cs[0].share > 2  # +700 of +300
    assert texts[0] == ("a (+700) is more than the whole rise (+300): the other values "
                        "together fell (−400).")
    assert all(n <= 100 for t in texts for n in shares_said(t)), texts
    assert any(shares_said(t) for t in texts)  # the rest still speak in shares
    # the same against a fall
    down = contributions({"a": 100.0, "b": 500.0}, {"a": 600.0, "b": 300.0})
    assert all(n <= 100 for c in down for n in shares_said(sentence(c, c.key)))
    assert sentence(down[0], "a") == ("a (−500) is more than the whole fall (−300): the "
                                      "other values together rose (+200).")


def test_same_traffic_is_both_periods_within_five_percent():
    def c(current, previous):
        return contributions({"x": current}, {"x": previous})[0]

    assert same_traffic(c(1_000.0, 800.0), c(1_040.0, 830.0))
    assert not same_traffic(c(1_000.0, 800.0), c(1_000.0, 900.0))  # the same now only
    assert not same_traffic(c(1_000.0, 800.0), c(1_100.0, 800.0))
    assert same_traffic(c(30.0, 0.0), c(31.0, 0.0))  # new in both
    assert not same_traffic(c(3.0, 1.0), c(4.0, 1.0))


def frame(name, rows, totals, row_count=None, metric="sessions"):
    dims = list(CHANGE_DIMENSIONS[name])
    data = pd.DataFrame([(*v, r, n) for v, r, n in rows], columns=[*dims, "dateRange", metric])
    tot = pd.DataFrame([(r, n) for r, n in totals.items()], columns=["dateRange", metric])
    count = len(data) if row_count is None else row_count
    return ReportFrame(f"changes_{name}", data, tot, ReportMeta("properties/1",
                                                                  row_count=count))


def both(values, cur, prev):
    return [(values, "current", cur), (values, "previous", prev)]


def test_a_dimension_whose_leading_value_is_the_same_traffic_is_left_out():
    totals = {"current": 10_000.0, "previous": 8_000.0}
    reports = {
        # google is nearly all of Organic Search: the same +1,500, said once
        "source": frame("source", both(("google", "organic"), 6_000, 4_500)
                        + both(("bing", "organic"), 100, 100)
                        + both(("(direct)", "(none)"), 3_900, 3_400), totals),
        "channel": frame("channel", both(("Organic Search",), 6_100, 4_600)
                         + both(("Direct",), 3_900, 3_400), totals),
        "landing": frame("landing", both(("/",), 5_000, 3_900)
                         + both(("/docs",), 5_000, 4_100), totals),
        "device": frame("device", both(("desktop",), 6_000, 5_000)
                        + both(("mobile",), 4_000, 3_000), totals),
    }
    changes = what_changed({f"changes_{k}": v for k, v in reports.items()})
    findings = changes.groups[0].findings
    said = [(f.dimension, f.value) for f in findings]
    assert ("source", "google / organic") in said
    assert ("channel", "Organic Search") not in said
    assert {"landing", "device"} <= {d for d, _ in said}  # other stories stay
    assert len({f.text for f in findings}) == len(findings)


def source_frame(rows, totals):
    cols = ["sessionSource", "sessionMedium", "sessionDefaultChannelGroup"]
    data = pd.DataFrame([(*v, r, n) for v, r, n in rows], columns=[*cols, "dateRange",
                                                                     "sessions"])
    tot = pd.DataFrame(list(totals.items()), columns=["dateRange", "sessions"])
    return ReportFrame("changes_source", data, tot, ReportMeta("properties/1",
                                                                 row_count=len(data)))


def test_a_source_that_is_all_of_its_channels_change_is_told_once():
    # Hacker News +713, every other referral as before: Referral's +713 says nothing new.
    totals = {"current": 5_713.0, "previous": 5_000.0}
    sources = source_frame(
        both(("news.ycombinator.com", "referral", "Referral"), 1_613, 900)
        + both(("github.com", "referral", "Referral"), 1_200, 1_200)
        + both(("google", "organic", "Organic Search"), 2_900, 2_900), totals)
    channels = frame("channel", both(("Referral",), 2_813, 2_100)
                     + both(("Organic Search",), 2_900, 2_900), totals)
    changes = what_changed({"changes_source": sources, "changes_channel": channels})
    assert [f.value for f in changes.groups[0].findings] == ["news.ycombinator.com / referral"]


def test_the_same_change_in_another_channel_is_another_story():
    # HN (Organic Social here) +713; Referral +713 too, from github and Stack Overflow.
    totals = {"current": 6_926.0, "previous": 5_800.0}
    sources = source_frame(
        both(("news.ycombinator.com", "referral", "Organic Social"), 1_613, 900)
        + both(("t.co", "referral", "Organic Social"), 300, 600)
        + both(("github.com", "referral", "Referral"), 1_700, 1_200)
        + both(("stackoverflow.com", "referral", "Referral"), 413, 200)
        + both(("google", "organic", "Organic Search"), 2_900, 2_900), totals)
    channels = frame("channel", both(("Organic Social",), 1_913, 1_500)
                     + both(("Referral",), 2_113, 1_400)
                     + both(("Organic Search",), 2_900, 2_900), totals)
    changes = what_changed({"changes_source": sources, "changes_channel": channels})
    assert [f.value for f in changes.groups[0].findings] == [
        "news.ycombinator.com / referral", "Referral"]


def weeks_of(start: date, values: list[float]) -> dict[date, float]:
    return {start + timedelta(days=i): v for i, v in enumerate(values)}


def test_the_band_on_a_known_series():
    # Eight earlier Mondays; median 100, deviations 0,2,2,1,1,0,3,3 -> MAD 1.5; the chance
    # variation of a count of 100 (sqrt 100 = 10) is the larger spread: band 70..130.
    monday = date(2026, 11, 2)
    earlier = [100, 102, 98, 101, 99, 100, 103, 97]
    history = {monday - timedelta(weeks=w + 1): v for w, v in enumerate(earlier)}
    assert robust_spread(earlier) == pytest.approx(10.0)
    (band,) = unusual_days({monday: 240.0}, history, today=date(2026, 11, 20))
    assert isinstance(band, Band)
    assert (band.expected, band.low, band.high) == (100.0, 70.0, 130.0)
    assert band.spreads_off == pytest.approx(14.0)
    assert band.describe("Sessions", "Monday").startswith(
        "Unusual sessions: 2.4x the usual Monday (240 against 70–130 expected, 14.0 spreads "
        "above the median of 8 earlier Mondays)")
    assert not unusual_days({monday: 125.0}, history, today=date(2026, 11, 20))
    assert unusual_days({monday: 60.0}, history, today=date(2026, 11, 20))[0].spreads_off < -3


def test_a_weekly_rhythm_is_not_unusual_and_one_odd_week_does_not_move_the_band():
    # weekdays 1,000, weekends 300, for 12 weeks, one earlier Tuesday at 5,000 (a spike)
    start = date(2026, 8, 3)  # a Monday
    values = [(300.0 if (start + timedelta(days=i)).weekday() >= 5 else 1_000.0)
              for i in range(84)]
    values[36] = 5_000.0
    series = weeks_of(start, values)
    flagged = unusual_days(series, {}, today=start + timedelta(days=100))
    assert [b.day for b in flagged] == [start + timedelta(days=36)]


def test_the_last_two_days_are_provisional_and_short_histories_are_not_judged():
    today = date(2026, 11, 26)
    history = {today - timedelta(days=d): 100.0 for d in range(2, 80)}
    series = {today: 900.0, today - timedelta(days=1): 900.0, today - timedelta(days=2): 900.0}
    assert [b.day for b in unusual_days(series, history, today)] == [today - timedelta(days=2)]
    short = {today - timedelta(days=9): 100.0, today - timedelta(days=16): 100.0}
    assert unusual_days({today - timedelta(days=2): 900.0}, short, today) == []


def test_trending_ranks_by_ratio_above_a_minimum_volume():
    usual = {"Post": usual_per_window(28 * 48 * 4.0), "Home": usual_per_window(28 * 48 * 30.0),
             "Quiet": usual_per_window(28 * 48 * 0.1), "Shared": usual_per_window(28 * 48 * 2.0)}
    assert usual["Post"] == pytest.approx(4.0)
    now = {"Post": 40.0, "Home": 33.0, "Quiet": 6.0, "Shared": 30.0, "Brand new": 25.0}
    paths = {"Shared": ["/a", "/b"], "Post": ["/post"]}
    found = trending(now, usual, paths, min_views=20, min_ratio=3)
    assert [t.title for t in found] == ["Brand new", "Shared", "Post"]
    post = found[-1]
    assert post.ratio == pytest.approx(10.0) and post.label() == "×10 usual"
    assert found[1].ambiguous and found[1].label() == "×15 usual"
    assert found[0].new and found[0].label() == "new"
    assert "Home" not in [t.title for t in found]  # at about its usual rate
    assert "Quiet" not in [t.title for t in found]  # too few views to speak of


def test_a_page_read_before_is_never_new_however_little():
    # 557 views in 28 days: 0.41 a window; 30 views now is 72 times that, not "new".
    usual = {"Old post": usual_per_window(557.0), "One view": usual_per_window(1.0)}
    found = trending({"Old post": 30.0, "One view": 21.0, "Fresh": 20.0}, usual, {},
                     min_views=20, min_ratio=3)
    by = {t.title: t for t in found}
    assert not by["Old post"].new and by["Old post"].ratio == pytest.approx(30 * 1344 / 557)
    assert by["Old post"].label() == "×72 usual"
    assert not by["One view"].new and by["One view"].label() == "×28,224 usual"
    assert by["Fresh"].new and by["Fresh"].label() == "new"
    assert [t.title for t in found] == ["Fresh", "One view", "Old post"]
    # below ten times, one decimal
    slow = trending({"Old post": 2.0}, usual, {}, min_views=1, min_ratio=3)
    assert slow[0].label() == "×4.8 usual"


def test_a_page_missing_from_a_cut_baseline_is_not_new():
    from gadash.core.insights.findings import trending_pages

    def usual(row_count):
        rows = pd.DataFrame({"pageTitle": ["Home", "Old post"], "pagePath": ["/", "/old"],
                             "screenPageViews": [40_000.0, 672.0]})
        return ReportFrame("trending_usual", rows, rows.iloc[0:0],
                           ReportMeta("properties/1", row_count=row_count))

    now = pd.DataFrame({"unifiedScreenName": ["Unlisted", "Old post"],
                        "screenPageViews": [30.0, 25.0]})
    reading = ReportFrame("trending_now", now, now.iloc[0:0], ReportMeta("properties/1"))
    whole = {p.title: p.trend for p in trending_pages(reading, None, usual(2), 20, 3)}
    assert whole["Unlisted"].new and whole["Unlisted"].label() == "new"
    assert whole["Old post"].label() == "×50 usual"
    # GA had 10 rows and listed 2: the unlisted page had at most 672 views (the fewest
    # listed), so it is read at least 60 times its usual rate, and may be old.
    cut = {p.title: p.trend for p in trending_pages(reading, None, usual(10), 20, 3)}
    assert not cut["Unlisted"].new and cut["Unlisted"].label() == "×60+ usual"
    assert cut["Old post"].label() == "×50 usual"


def test_gas_other_row_never_leads_a_dimension():
    cs = contributions({"(other)": 900.0, "/a": 120.0}, {"(other)": 100.0, "/a": 100.0})
    assert cs[0].key == "(other)" and leading(cs).key == "/a"


def test_a_filter_offered_twice_gets_one_button():
    from gadash.core.insights.findings import Changes, Finding, Group
    from gadash.web.components.analyst.layout import create_changes

    desktop = (("device", "desktop"),)
    changes = Changes((
        Group("sessions", "Sessions +5% (+10).", (Finding("a", "sessions", "device", "desktop",
                                                          desktop),)),
        Group("keyEvents", "Key events +3% (+1).", (Finding("b", "keyEvents", "device",
                                                            "desktop", desktop),))))
    ids = [str(node.id) for node in _walk(create_changes(changes, True)) if
           getattr(node, "id", None)]
    assert len(ids) == 1  # pattern ids must be unique on the page


def _walk(nodes):
    for node in nodes if isinstance(nodes, list) else [nodes]:
        yield node
        children = getattr(node, "children", None)
        if isinstance(children, list | tuple):
            yield from _walk(list(children))
        elif children is not None and not isinstance(children, str):
            yield from _walk([children])
