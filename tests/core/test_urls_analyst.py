"""The analyst view's URL: every control round-trips; bad input falls back with a note."""

from __future__ import annotations

from datetime import date

import pytest

from gadash.core.query import Condition, DateRange, Filters
from gadash.core.urls import ViewState, parse_query_string
from gadash.store.team import view_url

PROPS = ["Blog", "Shop"]
TODAY = date(2026, 11, 26)


def parse(search: str):
    return parse_query_string(search, PROPS, TODAY)


def test_empty_url_gives_defaults():
    state, notes = parse("")
    assert state == ViewState("Blog", "last28", "previous", Filters())
    assert notes == []


def test_round_trip_of_every_parameter():
    state = ViewState("Shop", "2026-01-01..2026-01-31", "year",
                      Filters(source="google", medium="organic", country="Côte d'Ivoire",
                              device="mobile", page="/blog/a b?&x", landing="/blog/a b?&x"))
    again, notes = parse(state.to_query_string())
    assert again == state and notes == []


@pytest.mark.parametrize(("search", "field", "expected", "note"), [
    ("?property=Nope", "property", "Blog", "Unknown property 'Nope'"),
    ("?range=forever", "range", "last28", "Unknown date range 'forever'"),
    ("?range=2026-05-02..2026-05-01", "range", "last28", "before it starts"),
    ("?range=2026-12-01..2026-12-31", "range", "last28", "in the future"),
    ("?range=2026-02-30..2026-03-01", "range", "last28", "not a valid date range"),
    ("?range=2010-01-01..2010-02-01", "range", "last28", "keeps no data before"),
    ("?compare=tomorrow", "compare", "previous", "Unknown comparison 'tomorrow'"),
])
def test_bad_values_fall_back_with_a_note(search, field, expected, note):
    state, notes = parse(search)
    assert getattr(state, field) == expected
    assert any(note in n for n in notes), notes


def test_tampered_filters_are_dropped_with_notes():
    state, notes = parse("?device=toaster&country=" + "x" * 500 + "&page=%00evil&utm_source=x")
    assert state.filters == Filters()
    text = " ".join(notes)
    assert "device filter 'toaster'" in text and "not a plausible value" in text
    assert "utm_source" in text


def test_repeated_parameter_takes_the_last():
    state, _ = parse("?range=last7&range=last90&device=Mobile")
    assert state.range == "last90" and state.filters.device == Condition(("mobile",))


@pytest.mark.parametrize(("search", "name", "condition"), [
    ("?source=google", "source", Condition(("google",))),
    ("?source=google&source=bing", "source", Condition(("google", "bing"))),
    ("?source.not=google", "source", Condition(("google",), exclude=True)),
    ("?country.contains=land", "country", Condition(("land",), "contains")),
    ("?page=/blog/", "page", Condition(("/blog/",), "contains")),
    ("?page.is=/", "page", Condition(("/",))),
    ("?page.regex=%5E/blog/%5Cd%2B$", "page", Condition((r"^/blog/\d+$",), "regex")),
    ("?page.not.regex=/tag/", "page", Condition(("/tag/",), "regex", exclude=True)),
    ("?medium.case=CPC", "medium", Condition(("CPC",), case=True)),
    ("?channel.case.not=Email", "channel", Condition(("Email",), exclude=True, case=True)),
    # A landing page is exact unless told: "landing=/" is the home page, not every page.
    ("?landing=/", "landing", Condition(("/",))),
    ("?landing=/&landing=/blog/", "landing", Condition(("/", "/blog/"))),
    ("?landing.contains=/blog/", "landing", Condition(("/blog/",), "contains")),
    ("?landing.not.regex=%5E/tag/", "landing", Condition(("^/tag/",), "regex", exclude=True)),
    ("?landing.case=/About", "landing", Condition(("/About",), case=True)),
])
def test_filter_grammar(search, name, condition):
    state, notes = parse(search)
    assert getattr(state.filters, name) == condition and notes == []
    again, notes = parse(state.to_query_string())  # and back
    assert again == state and notes == []


@pytest.mark.parametrize(("search", "note"), [
    ("?page.regex=(unclosed", "not a regular expression"),
    ("?page.regex=%28%3F%3D/blog%29", "look-around"),
    ("?page.regex=(a)%5C1", "back-references"),
    ("?source=a&source.not=b", "one per filter"),
    ("?source.is.contains=a", "Ignored unknown parameter(s): source.is.contains"),
    ("?source.nope=a", "Ignored unknown parameter(s): source.nope"),
    ("?device.not=toaster", "devices are"),
])
def test_filter_grammar_refusals(search, note):
    state, notes = parse(search)
    assert any(note in n for n in notes), notes
    assert state.filters in (Filters(), Filters(source="a"))


def test_grammar_1_views_open_as_they_were_saved():
    # Grammar 1: exact filters matched case; page was "contains", any case.
    url = view_url("?property=Blog&source=Google&page=/Blog/&device=mobile", 1)
    state, notes = parse(url[1:])
    assert notes == []
    assert state.filters == Filters(source=Condition(("Google",), case=True),
                                    page=Condition(("/Blog/",), "contains"),
                                    device=Condition(("mobile",), case=True))
    assert view_url("?property=Blog&source.not=x", 2) == "/?property=Blog&source.not=x"


def test_page_and_landing_are_two_filters_and_old_urls_keep_their_meaning():
    # page= is still any page viewed (contains); landing= is the page a session began on.
    state, notes = parse("?page=/&landing=/")
    assert notes == []
    assert state.filters == Filters(page=Condition(("/",), "contains"),
                                    landing=Condition(("/",)))
    assert state.to_query_string().endswith("&page=%2F&landing=%2F")
    # A grammar-1 view had no landing filter: the parameter meant nothing then, and
    # means nothing when the view is opened now.
    url = view_url("?property=Blog&page=/Blog/&landing=/&source.not=x", 1)
    assert parse(url[1:])[0].filters == Filters(page=Condition(("/Blog/",), "contains"))


def test_ranges_follow_comparison():
    state = ViewState("Blog", "last7", "previous")
    cur, prev = state.ranges(TODAY)
    assert cur == DateRange(date(2026, 11, 19), date(2026, 11, 25))
    assert prev == DateRange(date(2026, 11, 12), date(2026, 11, 18))
    assert len(ViewState("Blog", "today", "none").ranges(TODAY)) == 1


def test_filter_helpers():
    state = ViewState("Blog").with_filter("country", "Germany").with_filter("device", "mobile")
    assert state.filters.active() == {"country": Condition(("Germany",)),
                                      "device": Condition(("mobile",))}
    assert state.without_filter("country").filters.active() == {
        "device": Condition(("mobile",))}


def test_values_past_the_limit_are_said_once_however_many():
    from gadash.core.urls import MAX_FILTER_VALUES

    search = "?" + "&".join(f"source=v{i}" for i in range(300))
    state, notes = parse_query_string(search, PROPS, TODAY)
    assert len(state.filters.source.values) == MAX_FILTER_VALUES  # type: ignore[union-attr]
    assert notes == [f"Ignored source values past the first {MAX_FILTER_VALUES}."]
