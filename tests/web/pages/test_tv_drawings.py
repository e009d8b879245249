"""The big screen's drawings per process: one thread draws a new answer, the others
answer at once with what was drawn before."""

from __future__ import annotations

import threading
import time
from typing import Any

import orjson
import pytest
from dash import Patch, no_update
from dash.exceptions import PreventUpdate

from gadash.core.frames import ViewResult
from gadash.core.query import ReportQuery
from gadash.web.context import get_service
from tests.conftest import BLOG


class Drawing:
    def __init__(self, key: str):
        self.key = key


def _slow_second_drawing(prefix: str) -> tuple[list[str], threading.Event, Any]:
    """A draw function whose second and later drawings wait for the event."""
    calls: list[str] = []
    release = threading.Event()

    def draw(result: ViewResult) -> Any:
        calls.append(result.version)
        if len(calls) > 1:
            release.wait(10)  # a slow drawing of the second answer
        return Drawing(f"{prefix}#{result.version}")

    return calls, release, draw


def _start_drawing(app, drawings: Any, prefix: str, query: ReportQuery, draw: Any,
                   calls: list[str], got: list[Any]) -> threading.Thread:
    """A poll in a thread of its own that draws (and holds the prefix until released)."""

    def poll() -> None:
        with app.server.test_request_context():
            got.append(drawings.once(prefix, query, draw))

    drawer = threading.Thread(target=poll)
    drawer.start()
    for _ in range(100):  # the drawer holds the prefix
        if len(calls) == 2:
            break
        time.sleep(0.01)
    assert len(calls) == 2
    return drawer


def test_a_new_answer_is_drawn_once_while_other_polls_show_the_latest_drawing(app):
    from gadash.web.components.tv import REALTIME_PANELS
    from gadash.web.pages.drawings import Drawings

    query = ReportQuery(BLOG, REALTIME_PANELS, ())
    drawings: Drawings[Any] = Drawings(600, size=8)
    calls, release, draw = _slow_second_drawing("p")
    with app.server.test_request_context():
        first = drawings.once("p", query, draw)
        assert drawings.once("p", query, draw) is first and len(calls) == 1  # remembered
        drawings.memo.forget(first.key)  # as when the cache holds newer numbers

    got: list[Any] = []
    drawer = _start_drawing(app, drawings, "p", query, draw, calls, got)
    try:
        with app.server.test_request_context():
            started = time.monotonic()
            others = [drawings.once("p", query, draw) for _ in range(5)]
        assert time.monotonic() - started < 1  # nobody waited for the drawing
        assert all(o is first for o in others) and len(calls) == 2  # nor drew it again
        assert not got
    finally:
        release.set()
        drawer.join(10)
    assert len(got) == 1 and got[0] is not first
    with app.server.test_request_context():
        assert drawings.once("p", query, draw) is got[0]  # the next poll gets it
    assert len(calls) == 2  # drawn once


def test_a_failed_refresh_is_waited_for_so_every_screen_learns_of_it(app):
    """Polls that find an answer carrying GA's failure wait for its drawing rather than
    show the latest one: every screen marks its numbers stale at once."""
    from dataclasses import replace

    from gadash.web.components.tv import REALTIME_PANELS
    from gadash.web.pages.drawings import Drawings

    query = ReportQuery(BLOG, REALTIME_PANELS, ())
    drawings: Drawings[Any] = Drawings(600, size=8)
    calls, release, draw = _slow_second_drawing("f")
    with app.server.test_request_context():
        first = drawings.once("f", query, draw)
        flight = get_service().flight
        key = query.cache_key()
        entry = flight.peek(key)
        assert entry is not None and not entry.error
        # The last refresh failed: the entry keeps its numbers and says why.
        flight._write(key, replace(entry, error="Google Analytics did not answer",
                                   error_short="GA not answering",
                                   retry_at=time.time() + 60))
    got: list[Any] = []
    try:
        drawer = _start_drawing(app, drawings, "f", query, draw, calls, got)
        others = [threading.Thread(target=lambda: got.append(_poll(app, drawings, query, draw)))
                  for _ in range(3)]
        for t in others:
            t.start()
        time.sleep(0.2)
        assert not got  # they wait for the failure's drawing rather than show the last
        release.set()
        for t in [drawer, *others]:
            t.join(10)
        assert len(got) == 4 and all(g is got[0] for g in got) and got[0] is not first
        assert got[0].key.endswith(":Google Analytics did not answer") and len(calls) == 2
    finally:
        release.set()
        with app.server.test_request_context():
            get_service().flight._write(key, entry)  # the other tests' answer back


def _poll(app, drawings: Any, query: ReportQuery, draw: Any) -> Any:
    with app.server.test_request_context():
        return drawings.once("f", query, draw)


def test_the_first_drawing_is_waited_for_and_made_once(app):
    from gadash.web.components.tv import REALTIME_PANELS
    from gadash.web.pages.drawings import Drawings

    query = ReportQuery(BLOG, REALTIME_PANELS, ())
    drawings: Drawings[Any] = Drawings(600, size=8)
    calls: list[str] = []

    def draw(result: ViewResult) -> Any:
        calls.append(result.version)
        time.sleep(0.2)
        return Drawing(f"q#{result.version}")

    got: list[Any] = []

    def poll() -> None:
        with app.server.test_request_context():
            get_service()
            got.append(drawings.once("q", query, draw))

    threads = [threading.Thread(target=poll) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(got) == 4 and len(calls) == 1
    assert all(g is got[0] for g in got)


def test_each_property_gets_its_own_drawing(app):
    from gadash.web.pages import tv

    config = {"range": "last7", "compare": "previous", "screens": ["overview"],
              "rotate": 30, "refresh": 60, "realtime": 60, "reload_hours": 0}
    with app.server.test_request_context():
        polls = {p: tv.refresh(1, {**config, "property": p}, None, None) for p in ("Blog", "Shop")}
        drawn = {p: tv.draw(polls[p][-1], {**config, "property": p}, None) for p in polls}
        # A screen that shows what the poll named gets no rendering, only the times.
        again = tv.refresh(2, {**config, "property": "Blog"}, None, drawn["Blog"][-1])
    # the poll names a rendering; its last output names what was drawn
    assert [drawn[p][-1] for p in polls] == [polls[p][-1] for p in polls]
    # a screen of one property never gets another's
    blog, shop = drawn["Blog"], drawn["Shop"]
    assert blog[-1] != shop[-1] and blog[-1].split("#")[0] != shop[-1].split("#")[0]
    assert blog[0] != shop[0]  # their users differ
    assert again[0]["ok"] and again[1].startswith("updated ") and again[-1] is no_update


def test_a_rendering_this_process_never_made_is_drawn_from_the_cache(app):
    """The poll and the draw of a screen can reach different workers: a draw for a
    rendering this process does not hold draws what the cache holds now."""
    from gadash.web.pages import tv

    config = {"property": "Blog", "range": "last7", "compare": "previous",
              "screens": ["overview"], "rotate": 30, "refresh": 60, "realtime": 60,
              "reload_hours": 0}
    with app.server.test_request_context():
        named = tv.refresh(1, config, None, None)[-1]
        tv._DRAWN.memo.forget(named)  # as in a worker that never drew it
        drawn = tv.draw(named, config, None)
        assert drawn[-1] == named and drawn[0] not in ("", "–")
        # The screen then shows it: drawing it again sends nothing.
        with pytest.raises(PreventUpdate):
            tv.draw(named, config, named)
        # A screen showing an older answer of the same traces gets only new points.
        patch = tv.draw(named, config, named.split("#")[0] + "#0:")
        assert isinstance(patch[len(tv.OVERVIEW_OUTPUTS) - 6], Patch)


def test_the_realtime_poll_names_its_rendering_and_the_draw_sends_it(app):
    from gadash.web.pages import tv

    config = {"property": "Blog", "range": "last7", "compare": "previous",
              "screens": ["realtime"], "rotate": 30, "refresh": 60, "realtime": 20,
              "reload_hours": 0}
    with app.server.test_request_context():
        status, named = tv.refresh_realtime(1, config, None, False)
        assert status["ok"] and named.startswith(f"{BLOG}#")
        active, figure, _items, label, key = tv.draw_realtime(named, config, False)
        assert key == named and active.replace(",", "").isdigit() and label.startswith("updated")
        assert figure["data"][0]["type"] == "bar"  # a screen without bars gets the figure
        # The screen shows it now: the poll names nothing, the draw sends nothing.
        assert tv.refresh_realtime(2, config, status, named)[1] is no_update
        with pytest.raises(PreventUpdate):
            tv.draw_realtime(named, config, named)
        # A screen with older bars gets only their heights.
        assert isinstance(tv.draw_realtime(named, config, f"{BLOG}#0:")[1], Patch)
        # A screen whose playlist has no realtime screen is not polled for it.
        with pytest.raises(PreventUpdate):
            tv.refresh_realtime(3, {**config, "screens": ["overview"]}, None, False)


def test_a_draw_never_sends_another_playlists_rendering(app):
    """The name a draw carries comes from the browser: a screen (a TV link pinned to one
    property, say) that names another property's rendering gets its own."""
    from gadash.web.pages import tv

    base = {"range": "last7", "compare": "previous", "rotate": 30, "refresh": 60,
            "realtime": 20, "reload_hours": 0, "screens": ["overview", "realtime"]}
    blog, shop = ({**base, "property": p} for p in ("Blog", "Shop"))
    with app.server.test_request_context():
        shop_named = tv.refresh(1, shop, None, None)[-1]
        blog_named = tv.refresh(1, blog, None, None)[-1]
        shop_rt = tv.refresh_realtime(1, shop, None, False)[1]
        blog_rt = tv.refresh_realtime(1, blog, None, False)[1]
        assert tv.draw(shop_named, blog, None)[-1] == blog_named
        assert tv.draw_realtime(shop_rt, blog, False)[-1] == blog_rt


def test_the_tv_compares_today_like_for_like_and_says_to_what_hour(app):
    """Today against yesterday: both to the same whole hour, never all of yesterday."""
    from gadash.web.pages import tv

    config = {"property": "Blog", "range": "today", "compare": "previous",
              "screens": ["overview"], "rotate": 30, "refresh": 60, "realtime": 60,
              "reload_hours": 0}
    with app.server.test_request_context():
        plan = tv._plan(tv._config(config))
        drawn = tv.draw(tv.refresh(1, config, None, None)[-1], config, None)
        now = get_service().now(BLOG)
    n = len(tv.TV_KPIS)
    deltas, label = drawn[n:2 * n], drawn[len(tv.OVERVIEW_OUTPUTS) - 2]
    if now.hour == 0:  # no whole hour yet: not compared at all
        assert plan.query.cutoff is None and set(deltas) == {""}
    else:
        assert plan.query.cutoff == now.hour
        assert label.endswith(f", both to {now.hour:02d}:00")


def test_the_tvs_top_pages_set_gas_other_row_apart():
    import pandas as pd

    from gadash.core.frames import ReportFrame, ReportMeta
    from gadash.web.components.tv import LIST_ROWS, pages_items, top_pages

    paths = ["(other)", *(f"/p{i}" for i in range(12))]
    rows = pd.DataFrame({"pagePath": paths, "pageTitle": ["(other)", *paths[1:]],
                         "screenPageViews": [15_500, *range(1200, 0, -100)],
                         "dateRange": "current"})
    report = ReportFrame("pages", rows, rows.iloc[0:0], ReportMeta(property_id=BLOG))
    top = top_pages(report)
    assert len(top) == LIST_ROWS and list(top["pagePath"])[-1] == "(other)"
    items = pages_items(top)
    assert items[0].children[0].children == "/p0"  # the first real page leads
    assert items[-1].className == "tv-item tv-item-other"
    assert items[-1].children[0].children == "All other pages"
    assert items[-1].children[2].children == "15.5K"


def test_a_drawing_made_by_one_worker_is_read_by_the_others(app):
    """A change costs one drawing across workers: another process (here another
    Drawings) reads it from the shared cache, the same bytes, instead of drawing it."""
    import pickle

    from gadash.web.components.tv import REALTIME_PANELS
    from gadash.web.pages import tv
    from gadash.web.pages.drawings import Drawings, DrawnRealtime

    query = ReportQuery(BLOG, REALTIME_PANELS, ())
    calls: list[str] = []

    def draw(result: ViewResult) -> DrawnRealtime:
        calls.append(result.version)
        return tv._draw_realtime(result, BLOG, "UTC")

    prefix = f"{BLOG}-shared-test"
    one, two = (Drawings[DrawnRealtime](600, size=8, shared=DrawnRealtime) for _ in "12")
    with app.server.test_request_context():
        get_service().store.delete(one._shared_key(f"{prefix}#x"))  # any earlier run's
        mine = one.once(prefix, query, lambda r: replace_key(draw(r), prefix, BLOG))
        theirs = two.once(prefix, query, lambda r: replace_key(draw(r), prefix, BLOG))
    assert len(calls) == 1  # drawn once, read by the other
    assert theirs is not mine and theirs.key == mine.key and theirs.active == mine.active
    sent = orjson.dumps({"items": mine.items.to_plotly_json()})  # what a response carries
    assert orjson.dumps({"items": theirs.items.to_plotly_json()}) == sent
    assert len(sent) > 20
    again = pickle.loads(pickle.dumps(mine.y))
    assert orjson.dumps(again.to_plotly_json()) == orjson.dumps(mine.y.to_plotly_json())
    # Without sharing, each process draws its own.
    alone = Drawings[DrawnRealtime](600, size=8)
    with app.server.test_request_context():
        alone.once(prefix + "-alone", query, lambda r: replace_key(draw(r), prefix + "-alone",
                                                                    BLOG))
    assert len(calls) == 2


def replace_key(done: Any, prefix: str, old: str) -> Any:
    """The drawing under this test's own prefix (its key is prefix#version)."""
    from dataclasses import replace

    return replace(done, key=prefix + done.key.removeprefix(old))
