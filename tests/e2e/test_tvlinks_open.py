"""TV links in the open demo (no sign-in), end to end: the app as a server process on
loopback, links made on ``/tv-links`` and with ``gadash tv-links``, every request over
real HTTP. A link behaves as it does with sign-in: it shows its own playlist whatever
its URL or browser store says, and once revoked it opens nothing and its open screens
are refused at their next poll, with the reason.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from gadash import cli
from gadash.settings import Settings
from gadash.store import Store
from tests.conftest import BLOG, SHOP
from tests.e2e.test_signin import HTML, _post
from tests.e2e.test_team_state import DEPS, TV_CONFIG, load_deps, tv_poll
from tests.servers import callback_body, start_app, stop_app

BLOG_STORE = {**TV_CONFIG, "property": "Blog", "range": "last7", "screens": ["overview"]}


@pytest.fixture(scope="module")
def open_app(standin, tmp_path_factory) -> Iterator[dict[str, Any]]:
    """An app without sign-in; its data dir (the team database and the signing key)."""
    data = tmp_path_factory.mktemp("open")
    env = {"GADASH_GA_ENDPOINT": standin.endpoint,
           "GADASH_PROPERTIES": f"Blog={BLOG},Shop={SHOP}", "GADASH_DATA_DIR": str(data),
           "GADASH_SHARE_PROVIDERS": "", "GADASH_GA_TIMEOUT": "2"}
    proc, url = start_app(env, data / "app.log")
    try:
        load_deps(url, requests.Session())  # the callbacks tv_poll posts to
        yield {"url": url, "env": env, "data": data}
    finally:
        stop_app(proc)


def _csrf(url: str, s: requests.Session) -> str:
    return str(s.get(f"{url}/whoami").json()["csrf"])


def _create(url: str, owner: requests.Session, query: str, label: str) -> str:
    page = owner.post(f"{url}/tv-links", data={"csrf": _csrf(url, owner), "label": label,
                                                "query": query, "days": "7"})
    assert page.status_code == 200, page.text[:300]
    start = page.text.index("<code id='tv-link'>") + len("<code id='tv-link'>")
    return page.text[start:page.text.index("</code>", start)].replace("&amp;", "&")


def _id_of(url: str, owner: requests.Session, label: str) -> str:
    row = owner.get(f"{url}/tv-links").text.split(f"<td>{label}</td>", 1)[1]
    return row.split("name='revoke' value='", 1)[1].split("'", 1)[0]


def _config(url: str, tv: requests.Session, search: str) -> requests.Response:
    """The TV page's first callback: the playlist read from the URL's query."""
    return _post(url, tv, callback_body(DEPS, "..tv-config.data",
                                        [{"id": "tv-url", "property": "search", "value": search}]))


def test_a_link_shows_its_playlist_whatever_its_url_says(open_app, standin):
    url = open_app["url"]
    owner = requests.Session()
    listing = owner.get(f"{url}/tv-links", headers=HTML)
    assert listing.status_code == 200 and "runs without sign-in" in listing.text
    link = _create(url, owner, "property=Shop&screens=realtime&refresh=5", "Shop TV")

    tv = requests.Session()
    edited = link + "&property=Blog&screens=overview&refresh=60"  # someone edits the URL
    assert tv.get(edited, headers=HTML).status_code == 200
    config = _config(url, tv, "?" + edited.split("?", 1)[1])
    assert config.status_code == 200
    data = config.json()["response"]["tv-config"]["data"]
    assert (data["property"], data["screens"], data["refresh"]) == ("Shop", ["realtime"], 5)

    # The browser store claims the blog's overview: the poll asks GA for the shop.
    standin.servicer.property_calls.clear()
    assert tv_poll(url, tv, BLOG_STORE).status_code == 200
    assert standin.servicer.property_calls[SHOP] >= 1
    assert standin.servicer.property_calls[BLOG] == 0
    # The same poll from a browser without a link follows its store (the blog).
    standin.servicer.property_calls.clear()
    assert tv_poll(url, owner, BLOG_STORE).status_code == 200
    assert standin.servicer.property_calls[BLOG] >= 1

    # The TV reaches the big screen and nothing else, and is told how to stop being one.
    home = tv.get(f"{url}/", headers=HTML, allow_redirects=False)
    assert home.status_code == 403 and "only opens the big screen" in home.text
    assert "Stop using this browser as a TV" in home.text and "/login" not in home.text
    assert tv.get(f"{url}/tv-links", headers=HTML).status_code == 403
    left = tv.post(f"{url}/tv-links/leave", data={"csrf": _csrf(url, tv)},
                   allow_redirects=False)
    assert left.status_code == 302
    assert tv.get(f"{url}/", headers=HTML).status_code == 200
    config = _config(url, tv, "?property=Blog&screens=overview")  # no longer pinned
    assert config.json()["response"]["tv-config"]["data"]["property"] == "Blog"
    assert tv.post(f"{url}/tv-links/leave", data={"csrf": "wrong"}).status_code == 403


def test_a_revoked_link_opens_nothing_and_its_screens_stop(open_app):
    url = open_app["url"]
    owner = requests.Session()
    link = _create(url, owner, "property=Blog&screens=overview", "Lobby")
    tv = requests.Session()
    assert tv.get(link, headers=HTML).status_code == 200
    assert tv_poll(url, tv).status_code == 200

    done = owner.post(f"{url}/tv-links", data={"csrf": _csrf(url, owner),
                                               "revoke": _id_of(url, owner, "Lobby")},
                      allow_redirects=False)
    assert done.status_code == 302
    # The open screen's next poll is refused with the reason, and so is every later
    # request: the browser does not fall back to the open demo.
    for _ in range(2):
        polled = tv_poll(url, tv)
        assert polled.status_code == 401 and polled.json()["message"] == \
            "this TV link was revoked"
    assert _config(url, tv, "").status_code == 401
    assert tv.get(f"{url}/_dash-layout").status_code == 401
    home = tv.get(f"{url}/", headers=HTML, allow_redirects=False)
    assert home.status_code == 401 and "this TV link was revoked" in home.text
    assert "Stop using this browser as a TV" in home.text
    # Opening the link again, here or in a new browser, is refused.
    for browser in (tv, requests.Session()):
        reopened = browser.get(link, headers=HTML)
        assert reopened.status_code == 403 and "does not work" in reopened.text
    assert owner.get(f"{url}/", headers=HTML).status_code == 200  # the demo itself is open
    # The ended TV's browser becomes an ordinary one when asked to (a POST, with the token).
    assert tv.post(f"{url}/tv-links/leave", data={"csrf": _csrf(url, tv)},
                   allow_redirects=False).status_code == 302
    assert tv.get(f"{url}/", headers=HTML).status_code == 200


def test_links_from_the_command_line_are_pinned_and_revocable(open_app, monkeypatch,
                                                              capsys):
    url = open_app["url"]
    for name in [n for n in os.environ if n.startswith("GADASH_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(open_app["data"])  # no .env of the checkout
    for name, value in open_app["env"].items():
        monkeypatch.setenv(name, value)
    assert cli.main(["tv-links", "create", "Wall", "--playlist",
                     "property=Shop&screens=overview"]) == 0
    out, err = capsys.readouterr()
    assert "without sign-in" in err and "only on this machine" in err
    link = url + "/tv?" + out.strip().splitlines()[-1].split("/tv?", 1)[1]
    link_id = out.split()[2]

    tv = requests.Session()
    assert tv.get(link + "&property=Blog", headers=HTML).status_code == 200
    data = _config(url, tv, "?property=Blog").json()["response"]["tv-config"]["data"]
    assert data["property"] == "Shop"
    assert tv_poll(url, tv, BLOG_STORE).status_code == 200

    assert cli.main(["tv-links", "revoke", link_id]) == 0
    assert requests.get(link, headers=HTML).status_code == 403  # at once, in a new browser
    # Another process revoked it: the app notices within the 10 s it trusts a lookup.
    deadline = time.monotonic() + 12
    while (polled := tv_poll(url, tv, BLOG_STORE)).status_code == 200:
        assert time.monotonic() < deadline, "the revoked screen kept its data"
        time.sleep(1)
    assert polled.status_code == 401 and polled.json()["message"] == "this TV link was revoked"


def test_an_expired_link_opens_nothing(open_app):
    url = open_app["url"]
    owner = requests.Session()
    link = _create(url, owner, "screens=overview", "Old")
    link_id = _id_of(url, owner, "Old")
    from sqlalchemy import text

    store = Store.from_settings(Settings(data_dir=Path(open_app["data"]), _env_file=None))
    try:
        with store._db.engine.begin() as conn:  # the test ages the row by hand
            conn.execute(text("UPDATE tv_links SET expires_at = :t WHERE id = :id"),
                         {"t": datetime(2020, 1, 1), "id": link_id})
    finally:
        store.dispose()
    assert requests.get(link, headers=HTML).status_code == 403
