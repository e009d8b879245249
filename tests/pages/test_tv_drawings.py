"""The big screen's drawings per process: one thread draws a new answer, the others
answer at once with what was drawn before."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from gadash.query import ReportQuery
from gadash.service import ViewResult, get_service
from gadash.settings import Settings
from tests.conftest import BLOG, SHOP


@pytest.fixture(scope="module")
def app(standin):  # pages register once the app exists
    from gadash import create_app

    return create_app(Settings(ga_endpoint=standin.endpoint,
                               properties={"Blog": BLOG, "Shop": SHOP}, _env_file=None))


class Drawing:
    def __init__(self, key: str):
        self.key = key


def test_a_new_answer_is_drawn_once_and_polls_meanwhile_wait_for_it(app):
    from gadash.components.tv import REALTIME_PANELS
    from gadash.pages.tv import Drawings

    query = ReportQuery(BLOG, REALTIME_PANELS, ())
    drawings: Drawings[Any] = Drawings(600, size=8)
    calls: list[str] = []
    release = threading.Event()

    def draw(result: ViewResult) -> Any:
        calls.append(result.version)
        if len(calls) > 1:
            release.wait(10)  # a slow drawing of the second answer
        return Drawing(f"p#{result.version}")

    with app.server.test_request_context():
        first = drawings.once("p", query, draw)
        assert drawings.once("p", query, draw) is first and len(calls) == 1  # remembered
        drawings.memo.forget(first.key)  # as when the cache holds a newer answer

    got: list[Any] = []

    def poll() -> None:
        with app.server.test_request_context():
            got.append(drawings.once("p", query, draw))

    drawer = threading.Thread(target=poll)
    drawer.start()
    for _ in range(100):  # the drawer holds the prefix
        if len(calls) == 2:
            break
        time.sleep(0.01)
    assert len(calls) == 2
    others = [threading.Thread(target=poll) for _ in range(3)]
    for t in others:
        t.start()
    time.sleep(0.2)
    assert not got  # they wait for the drawing rather than show an older one
    release.set()
    for t in [drawer, *others]:
        t.join(10)
    assert len(got) == 4 and all(g is got[0] for g in got) and got[0] is not first
    assert len(calls) == 2  # drawn once


def test_the_first_drawing_is_waited_for_and_made_once(app):
    from gadash.components.tv import REALTIME_PANELS
    from gadash.pages.tv import Drawings

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
    from gadash.pages import tv

    config = {"range": "last7", "compare": "previous", "screens": ["overview"],
              "rotate": 30, "refresh": 60, "realtime": 60, "reload_hours": 0}
    with app.server.test_request_context():
        blog = tv.refresh(1, {**config, "property": "Blog"}, None, None)
        shop = tv.refresh(1, {**config, "property": "Shop"}, None, None)
    # the last output names what was drawn: a screen of one property never gets another's
    assert blog[-1] != shop[-1] and blog[-1].split("#")[0] != shop[-1].split("#")[0]
    assert blog[0] != shop[0]  # their users differ
