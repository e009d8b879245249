"""The big screen's URL and settings."""

from __future__ import annotations

from datetime import date

import pytest

from gadash.core.urls import parse_tv_query
from gadash.errors import ConfigError
from gadash.settings import Settings, load_settings, parse_screens

TODAY = date(2026, 11, 26)


def settings(**kw):
    return Settings(_env_file=None, **kw)


def test_defaults_come_from_settings():
    s = settings(tv_screens="realtime,overview", tv_rotate=45, tv_refresh=90)
    config, notes = parse_tv_query("", ["Blog"], TODAY, s)
    assert config.screens == ("realtime", "overview")
    assert (config.rotate, config.refresh, config.realtime) == (45, 90, 20)
    assert config.range == "last7" and notes == []


def test_url_overrides_and_round_trips():
    s = settings()
    config, notes = parse_tv_query(
        "?screens=sources,realtime,sources&rotate=10&refresh=5&realtime=3&reload=6"
        "&property=Shop&range=yesterday&compare=none", ["Blog", "Shop"], TODAY, s)
    assert notes == []
    assert config.screens == ("sources", "realtime")
    assert (config.rotate, config.refresh, config.realtime, config.reload_hours) == (10, 5, 3, 6)
    assert (config.property, config.range, config.compare) == ("Shop", "yesterday", "none")
    again, _ = parse_tv_query(config.to_query_string(), ["Blog", "Shop"], TODAY, s)
    assert again == config


@pytest.mark.parametrize(("search", "note"), [
    ("?screens=weather", "unknown screen 'weather'"),
    ("?rotate=1", "rotate='1' ignored"),
    ("?refresh=abc", "refresh='abc' ignored"),
    ("?range=someday", "Unknown date range"),
    ("?property=Nope", "Unknown property"),
])
def test_bad_values_keep_defaults(search, note):
    config, notes = parse_tv_query(search, ["Blog"], TODAY, settings())
    assert any(note in n for n in notes), notes
    assert config.screens == ("overview", "realtime", "pages", "sources")
    assert config.rotate == 30 and config.refresh == 60


def test_screens_setting_is_validated():
    with pytest.raises(ConfigError, match="unknown screen 'tv'"):
        load_settings(_env_file=None, tv_screens="overview,tv")
    assert parse_screens(" Overview , pages ") == ("overview", "pages")


@pytest.mark.parametrize("rng", ["2030-01-01..2030-01-31", "2010-01-01..2010-01-31"])
def test_a_range_ga_cannot_answer_says_so_and_shows_the_default(rng):
    config, notes = parse_tv_query(f"?range={rng}", ["Blog"], date(2026, 6, 1),
                                   Settings(_env_file=None))
    assert config.range == "last7"
    assert notes and "Showing the last 7 days instead" in notes[0]


def test_a_range_is_future_or_not_by_the_propertys_own_calendar():
    """A playlist's range is judged on its property's day, not the server's: Tokyo is
    a day ahead of Honolulu."""
    days = {"Tokyo": date(2026, 11, 27), "Honolulu": date(2026, 11, 26)}
    wanted = "?property={}&range=2026-11-20..2026-11-27"
    config, notes = parse_tv_query(wanted.format("Tokyo"), list(days), days.__getitem__,
                                   settings())
    assert config.range == "2026-11-20..2026-11-27" and notes == []
    config, notes = parse_tv_query(wanted.format("Honolulu"), list(days), days.__getitem__,
                                   settings())
    assert config.range == "last7" and "Showing the last 7 days instead" in notes[0]
