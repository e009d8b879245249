"""The analyst view's URL: every control round-trips; bad input falls back with a note."""

from __future__ import annotations

from datetime import date

import pytest

from gadash.query import DateRange, Filters
from gadash.viewstate import ViewState, parse_query_string

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
                              device="mobile", page="/blog/a b?&x"))
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
    assert state.range == "last90" and state.filters.device == "mobile"


def test_ranges_follow_comparison():
    state = ViewState("Blog", "last7", "previous")
    cur, prev = state.ranges(TODAY)
    assert cur == DateRange(date(2026, 11, 19), date(2026, 11, 25))
    assert prev == DateRange(date(2026, 11, 12), date(2026, 11, 18))
    assert len(ViewState("Blog", "today", "none").ranges(TODAY)) == 1


def test_filter_helpers():
    state = ViewState("Blog").with_filter("country", "Germany").with_filter("device", "mobile")
    assert state.filters.active() == {"country": "Germany", "device": "mobile"}
    assert state.without_filter("country").filters.active() == {"device": "mobile"}
