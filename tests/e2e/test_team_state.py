"""TV links, saved views and annotations in the team's database, end to end.

Apps run as server processes (gunicorn where several workers matter) with sign-in
against a local OIDC provider, a real Valkey and the GA4 stand-in.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from gadash.core.query import DateRange
from gadash.data.service import DataService
from gadash.settings import Settings
from tests.conftest import BLOG, SHOP, free_port
from tests.e2e.test_signin import ANN, HTML, SECRET, _dash_body, _post, sign_in
from tests.servers import start_app, stop_app

TV_CONFIG = {"property": "Shop", "range": "2026-01-01..2026-03-31", "compare": "none",
             "screens": ["overview", "realtime"], "rotate": 30, "refresh": 1, "realtime": 1,
             "reload_hours": 0}


def app_env(standin, oidc: str, redis_port: int, data_dir: Path, **extra: str) -> dict[str, str]:
    """Settings of an app with sign-in; GADASH_PORT and GADASH_PUBLIC_URL agree."""
    port = free_port()
    return {
        "GADASH_PORT": str(port), "GADASH_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "GADASH_GA_ENDPOINT": standin.endpoint, "GADASH_PROPERTIES": f"Blog={BLOG},Shop={SHOP}",
        "GADASH_OIDC_DISCOVERY_URL": f"{oidc}/.well-known/openid-configuration",
        "GADASH_OIDC_CLIENT_ID": "gadash-test", "GADASH_OIDC_CLIENT_SECRET": "client-secret",
        "GADASH_SECRET_KEY": SECRET, "GADASH_ALLOWED_DOMAINS": "example.com",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "GADASH_SHARE_PROVIDERS": "",
        "GADASH_DATA_DIR": str(data_dir), "GADASH_GA_TIMEOUT": "2", **extra,
    }


@pytest.fixture()
def valkey() -> Iterator[dict[str, Any]]:
    from tests.valkey import Valkey

    holder: dict[str, Any] = {"port": free_port()}
    holder["server"] = Valkey(port=holder["port"])
    holder["server"].start()
    yield holder
    if holder["server"].is_running():
        holder["server"].stop()


def create_link(app_url: str, owner: requests.Session, query: str, label: str = "Office"
                ) -> str:
    token = owner.get(f"{app_url}/whoami").json()["csrf"]
    page = owner.post(f"{app_url}/tv-links", data={"csrf": token, "label": label,
                                                    "query": query, "days": "7"})
    assert page.status_code == 200, page.text[:300]
    start = page.text.index("<code id='tv-link'>") + len("<code id='tv-link'>")
    return page.text[start:page.text.index("</code>", start)].replace("&amp;", "&")


def listed_ids(app_url: str, owner: requests.Session) -> list[str]:
    listing = owner.get(f"{app_url}/tv-links").text
    return [part.split("'")[0] for part in listing.split("name='revoke' value='")[1:]]


DEPS: list[dict[str, Any]] = []


def load_deps(app_url: str, s: requests.Session) -> None:
    if not DEPS:
        DEPS.extend(s.get(f"{app_url}/_dash-dependencies").json())


def tv_poll(app_url: str, tv: requests.Session, config: dict[str, Any] | None = None
            ) -> requests.Response:
    """One poll of the TV overview, with whatever store the browser claims."""
    from tests.servers import callback_body

    body = callback_body(DEPS, "..tv-status.data", [
        {"id": "tv-refresh", "property": "n_intervals", "value": 1},
        {"id": "tv-config", "property": "data", "value": config or TV_CONFIG}])
    body["state"] = [{"id": "tv-status", "property": "data", "value": None},
                     {"id": "tv-drawn", "property": "data", "value": None}]
    return _post(app_url, tv, body)


def test_a_tv_survives_valkey_going_away_and_revocations_hold(standin_clean, oidc, valkey,
                                                               tmp_path):
    import redis as redis_client

    from tests.valkey import Valkey

    env = app_env(standin_clean, oidc, valkey["port"], tmp_path / "data")
    proc, app_url = start_app(env, tmp_path / "app.log", workers=2)
    try:
        owner, _ = sign_in(app_url, oidc, ANN)
        load_deps(app_url, owner)
        keep, drop = (create_link(app_url, owner, "property=Blog&screens=overview", label)
                      for label in ("Keep", "Drop"))
        tvs = {}
        for name, link in (("keep", keep), ("drop", drop)):
            tvs[name] = requests.Session()
            assert tvs[name].get(link, headers=HTML).status_code == 200
            assert tv_poll(app_url, tvs[name]).status_code == 200

        redis_client.from_url(f"redis://127.0.0.1:{valkey['port']}/0").shutdown(nosave=True)
        time.sleep(0.5)
        # Valkey is gone: no TV is signed out.
        for _ in range(4):
            assert tv_poll(app_url, tvs["keep"]).status_code == 200
        # A revocation during the outage is a database write: it happens.
        drop_id = listed_ids(app_url, owner)[0]  # newest first: "Drop"
        token = owner.get(f"{app_url}/whoami").json()["csrf"]
        assert owner.post(f"{app_url}/tv-links", data={"csrf": token, "revoke": drop_id},
                          allow_redirects=False).status_code == 302
        valkey["server"] = Valkey(port=valkey["port"])
        valkey["server"].start()
        time.sleep(11)  # past the 10 s a worker trusts a link it looked up
        for _ in range(4):  # whichever worker answers
            assert tv_poll(app_url, tvs["keep"]).status_code == 200
            assert tv_poll(app_url, tvs["drop"]).status_code == 401
        assert requests.get(drop, headers=HTML).status_code == 403
    finally:
        stop_app(proc)


def test_links_are_pinned_concurrent_and_outlive_idle_sessions(standin_clean, oidc, valkey,
                                                               tmp_path):
    env = app_env(standin_clean, oidc, valkey["port"], tmp_path / "data",
                  GADASH_SESSION_HOURS="0.001", GADASH_CACHE_TTL="1")  # people: 3.6 s idle
    proc, app_url = start_app(env, tmp_path / "app.log", workers=2)
    try:
        owner, _ = sign_in(app_url, oidc, ANN)
        load_deps(app_url, owner)
        # Eight people create links at the same moment: all are listed and revocable.
        with ThreadPoolExecutor(max_workers=8) as pool:
            links = list(pool.map(lambda i: create_link(app_url, owner, "screens=overview",
                                                        f"TV {i}"), range(8)))
        ids = listed_ids(app_url, owner)
        assert len(set(links)) == 8 and len(ids) == 8

        link = create_link(app_url, owner, "property=Blog&range=last7&screens=overview,"
                                           "realtime&realtime=1")
        tv = requests.Session()
        assert tv.get(link, headers=HTML).status_code == 200
        standin_clean.servicer.property_calls.clear()
        # The TV's browser store asks for the shop and another range: it gets the blog.
        answer = tv_poll(app_url, tv, TV_CONFIG)
        assert answer.status_code == 200
        realtime = _dash_body(app_url, tv, "..tv-rt-status.data", [
            {"id": "tv-realtime-tick", "property": "n_intervals", "value": 1},
            {"id": "tv-config", "property": "data", "value": TV_CONFIG}])
        realtime["state"] = [{"id": "tv-rt-status", "property": "data", "value": None},
                             {"id": "tv-spark-drawn", "property": "data", "value": False}]
        assert _post(app_url, tv, realtime).status_code == 200
        assert standin_clean.servicer.property_calls[BLOG] >= 1
        assert standin_clean.servicer.property_calls[SHOP] == 0

        # Idle past the people's session lifetime: the TV carries on, the person does not.
        time.sleep(4.5)
        assert tv_poll(app_url, tv).status_code == 200
        assert owner.get(f"{app_url}/whoami").json()["user"] is None
        # A TV whose cookie is gone reopens its link from its URL.
        fresh = requests.Session()
        assert fresh.get(link, headers=HTML).status_code == 200
        assert tv_poll(app_url, fresh).status_code == 200

        owner, _ = sign_in(app_url, oidc, ANN)
        token = owner.get(f"{app_url}/whoami").json()["csrf"]
        for link_id in ids:
            assert owner.post(f"{app_url}/tv-links", data={"csrf": token, "revoke": link_id},
                              allow_redirects=False).status_code == 302
        assert len(listed_ids(app_url, owner)) == 1  # only the pinned one is left
        listing = owner.get(f"{app_url}/tv-links").text
        assert "UTC" in listing.split("property=Blog")[1]  # last seen is shown
        # The app restarts on the same embedded database: the TV carries on.
        stop_app(proc)
        proc, app_url = start_app(env, tmp_path / "again.log", workers=2)
        assert tv_poll(app_url, tv).status_code == 200
        owner, _ = sign_in(app_url, oidc, ANN)
        assert len(listed_ids(app_url, owner)) == 1
    finally:
        stop_app(proc)


def test_team_state_survives_a_restart_with_the_embedded_database(standin_clean, tmp_path):
    env = {"GADASH_GA_ENDPOINT": standin_clean.endpoint,
           "GADASH_PROPERTIES": f"Blog={BLOG},Shop={SHOP}", "GADASH_SHARE_PROVIDERS": "",
           "GADASH_DATA_DIR": str(tmp_path / "data")}
    proc, url = start_app(env, tmp_path / "first.log")
    try:
        s = requests.Session()
        csrf = s.get(f"{url}/whoami").json()["csrf"]
        from gadash.store import Store

        store = Store(f"sqlite:///{tmp_path / 'data' / 'gadash.db'}")
        try:
            view = store.views.save("Organic last week", "?property=Blog&range=last7&source="
                                    "google", 1, "Blog", "ann@example.com")
            from datetime import date

            store.annotations.add("Blog", date(2026, 3, 2), date(2026, 3, 4), "Launch week",
                                  "ann@example.com")
        finally:
            store.dispose()
        # Saved in URL grammar 1 (filters exact and case-sensitive): opened translated,
        # so it still shows exactly what it showed when it was saved.
        assert s.get(f"{url}/v/{view.slug}", allow_redirects=False).headers["Location"] == \
            "/?property=Blog&range=last7&source.case=google"
        assert csrf
    finally:
        stop_app(proc)
    proc, url = start_app(env, tmp_path / "second.log")  # the same data directory
    try:
        s = requests.Session()
        assert s.get(f"{url}/v/{view.slug}", allow_redirects=False).status_code == 302
        assert "Organic last week" in s.get(f"{url}/views").text
        rows = list(csv.DictReader(io.StringIO(s.get(f"{url}/annotations.csv",
                                                     params={"property": "Blog"}).text)))
        assert [(r["start"], r["end"], r["note"]) for r in rows] == [
            ("2026-03-02", "2026-03-04", "Launch week")]
        assert s.get(f"{url}/v/nope", allow_redirects=False).status_code == 404
        assert (Path(tmp_path / "data" / "gadash.db")).is_file()
    finally:
        stop_app(proc)


def _call(url: str, s: requests.Session, prefix: str, inputs: list[dict[str, Any]],
          state: list[dict[str, Any]]) -> dict[str, Any]:
    body = _dash_body(url, s, prefix, inputs)
    body["state"] = state
    answer = _post(url, s, body)
    assert answer.status_code == 200, answer.text[:300]
    return answer.json()["response"]


def test_saved_views_and_notes_from_the_analyst_view(standin_clean, tmp_path):
    from gadash.store import Store
    from gadash.web.components import ids

    env = {"GADASH_GA_ENDPOINT": standin_clean.endpoint, "GADASH_SHARE_PROVIDERS": "",
           "GADASH_PROPERTIES": f"Blog={BLOG},Shop={SHOP}",
           "GADASH_DATA_DIR": str(tmp_path / "data")}
    proc, url = start_app(env, tmp_path / "app.log")
    try:
        s = requests.Session()
        s.get(f"{url}/", headers=HTML)  # the CSRF cookie, as a page load sets it
        state = {"property": "Shop", "range": "last28", "compare": "previous",
                 "grain": "week", "filters": {"country": "Germany"}}

        def save(name: str) -> dict[str, Any]:
            return _call(url, s, f"..{ids.SAVED}.options", [
                {"id": ids.SAVE, "property": "n_clicks", "value": 1},
                {"id": ids.SAVE_NAME, "property": "n_submit", "value": 0},
                {"id": ids.URL, "property": "pathname", "value": "/"}], [
                {"id": ids.SAVE_NAME, "property": "value", "value": name},
                {"id": ids.URL, "property": "search", "value": ""},
                {"id": ids.STATE, "property": "data", "value": state}])

        out = save("  Germany  weekly ")
        [option] = out[ids.SAVED]["options"]
        assert option["label"] == "Germany weekly · Shop"
        assert "Saved" in str(out[ids.SAVE_STATUS]["children"])
        opened = s.get(f"{url}/v/{option['value']}", allow_redirects=False)
        assert opened.headers["Location"] == \
            "/?property=Shop&range=last28&compare=previous&grain=week&country=Germany"
        assert "Give the view a name" in str(save("   ")[ids.SAVE_STATUS]["children"])

        def note(start: str, end: str | None, text: str) -> dict[str, Any]:
            return _call(url, s, f"..{ids.NOTES_VERSION}.data", [
                {"id": ids.NOTE_ADD, "property": "n_clicks", "value": 1},
                {"id": ids.NOTE_TEXT, "property": "n_submit", "value": 0}], [
                {"id": ids.STATE, "property": "data", "value": state},
                {"id": ids.NOTE_DATES, "property": "start_date", "value": start},
                {"id": ids.NOTE_DATES, "property": "end_date", "value": end},
                {"id": ids.NOTE_TEXT, "property": "value", "value": text},
                {"id": ids.NOTES_VERSION, "property": "data", "value": 0}])

        out = note("2026-03-02", None, "Sale starts")
        assert out[ids.NOTES_VERSION]["data"] == 1
        assert "before it starts" in str(note("2026-03-05", "2026-03-01", "Oops")
                                         [ids.NOTE_STATUS]["children"])
        store = Store(f"sqlite:///{tmp_path / 'data' / 'gadash.db'}")
        try:
            [row] = store.annotations.list("Shop")
            assert (str(row.start), str(row.end), row.note) == ("2026-03-02", "2026-03-02",
                                                                "Sale starts")
            assert [e.action for e in store.audit.recent()][:2] == ["annotation.add",
                                                                    "view.save"]
        finally:
            store.dispose()
        # The note is drawn on the trend of a view that covers its day.
        trend = _call(url, s, f"..{ids.KPIS}.children", [
            {"id": ids.STATE, "property": "data",
             "value": {**state, "range": "2026-02-20..2026-03-10", "grain": "day"}},
            {"id": ids.NOTES_VERSION, "property": "data", "value": 1}], [])
        traces = trend[ids.TREND]["figure"]["data"]
        notes = next(tr for tr in traces if tr.get("name") == "Notes")
        assert notes["text"] == ["Sale starts (local demo)"]
    finally:
        stop_app(proc)


def test_the_warmer_keeps_a_bounded_set(standin):
    from gadash.core.plans import tv_query
    from gadash.data.cache import CacheStore
    from gadash.web.app import cache, init_cache

    settings = Settings(ga_endpoint=standin.endpoint, warm_max=50, _env_file=None,
                        properties={"Blog": BLOG})
    from flask import Flask

    server = Flask(__name__)
    init_cache(server, settings)
    with server.app_context():
        from gadash.data.sources import create_source

        service = DataService(settings, create_source(settings), CacheStore(cache.cache),
                              dict(settings.properties))
        from datetime import date, timedelta

        start = date(2025, 1, 1)
        for i in range(1_000):
            rng = DateRange(start + timedelta(days=i % 300), start + timedelta(days=i % 300 + i))
            query = tv_query(BLOG, (rng,), frozenset())
            service.keep_warm(query.cache_key(), query)
        assert len(service.warm) == 50
        assert next(reversed(service.warm.values()))[0] == query  # the latest polled stays


def test_with_postgresql_down_revoking_is_refused_visibly_and_tvs_carry_on(
        standin_clean, oidc, valkey, tmp_path):
    from tests.store.postgres import running_postgres

    with running_postgres() as pg:
        env = app_env(standin_clean, oidc, valkey["port"], tmp_path / "data",
                      GADASH_DATABASE_URL=pg.new_database("app"))
        proc, app_url = start_app(env, tmp_path / "app.log", workers=2)
        try:
            owner, _ = sign_in(app_url, oidc, ANN)
            load_deps(app_url, owner)
            link = create_link(app_url, owner, "property=Blog&screens=overview")
            tv = requests.Session()
            assert tv.get(link, headers=HTML).status_code == 200
            assert tv_poll(app_url, tv).status_code == 200
            link_id = listed_ids(app_url, owner)[0]
            token = owner.get(f"{app_url}/whoami").json()["csrf"]

            pg.stop()  # the database goes away
            refused = owner.post(f"{app_url}/tv-links", data={"csrf": token,
                                                              "revoke": link_id})
            assert refused.status_code == 503 and "Nothing was changed" in refused.text
            assert owner.get(f"{app_url}/tv-links").status_code == 503  # says so, not empty
            for _ in range(4):  # the TV keeps its screen meanwhile
                assert tv_poll(app_url, tv).status_code == 200

            pg.start()
            done = owner.post(f"{app_url}/tv-links", data={"csrf": token, "revoke": link_id},
                              allow_redirects=False)
            assert done.status_code == 302
            assert requests.get(link, headers=HTML).status_code == 403
        finally:
            stop_app(proc)


def test_a_session_ends_after_its_absolute_lifetime_even_in_use(standin_clean, oidc, valkey,
                                                                tmp_path):
    env = app_env(standin_clean, oidc, valkey["port"], tmp_path / "data",
                  GADASH_SESSION_MAX_HOURS="0.001")  # 3.6 s, however busy
    proc, app_url = start_app(env, tmp_path / "app.log")
    try:
        s, _ = sign_in(app_url, oidc, ANN)
        codes = []
        for _ in range(6):
            codes.append(s.get(f"{app_url}/", headers=HTML, allow_redirects=False).status_code)
            time.sleep(1)
        assert codes[0] == 200 and codes[-1] == 302
    finally:
        stop_app(proc)


def test_rate_limits_on_sign_in_links_and_refusals(standin_clean, oidc, valkey, tmp_path):
    env = app_env(standin_clean, oidc, valkey["port"], tmp_path / "data",
                  GADASH_RATE_SIGNIN="3/minute", GADASH_RATE_LINKS="2/minute",
                  GADASH_RATE_REFUSED="6/minute")
    proc, app_url = start_app(env, tmp_path / "app.log")
    try:
        codes = [requests.get(f"{app_url}/login/start", allow_redirects=False).status_code
                 for _ in range(4)]
        assert codes == [302, 302, 302, 429]
        guesses = [requests.get(f"{app_url}/tv?key=guess{i}", headers=HTML).status_code
                   for i in range(8)]
        assert guesses[:6] == [403] * 6 and guesses[6:] == [429, 429]
        assert requests.get(f"{app_url}/healthz").status_code == 200  # not refused, not limited
    finally:
        stop_app(proc)


def test_dash_auth_sign_in_routes_are_rate_limited_too(standin_clean, oidc, valkey, tmp_path):
    env = app_env(standin_clean, oidc, valkey["port"], tmp_path / "data",
                  GADASH_RATE_SIGNIN="3/minute")
    proc, app_url = start_app(env, tmp_path / "app.log")
    try:
        for path, answer in (("/oidc/google/login", 302), ("/oidc/google/callback", 400)):
            codes = [requests.get(f"{app_url}{path}?code=x&state=y",
                                  allow_redirects=False).status_code for _ in range(4)]
            assert codes == [answer] * 3 + [429], path
        # gadash's routes for the same steps share their budgets (not twice the limit)
        for path in ("/login/start", "/auth/callback"):
            assert requests.get(f"{app_url}{path}?code=x&state=y",
                                allow_redirects=False).status_code == 429, path
    finally:
        stop_app(proc)


def test_an_unreachable_provider_is_a_page_not_a_500(standin_clean, valkey, tmp_path):
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    env = app_env(standin_clean, nowhere, valkey["port"], tmp_path / "data")
    proc, app_url = start_app(env, tmp_path / "app.log")
    try:
        for path in ("/login/start", "/oidc/google/login"):
            r = requests.get(f"{app_url}{path}", headers=HTML, allow_redirects=False)
            assert r.status_code == 503 and "could not be reached" in r.text, path
    finally:
        stop_app(proc)


def test_only_the_admins_create_and_revoke_tv_links_when_named(standin_clean, oidc, valkey,
                                                               tmp_path):
    boss = {**ANN, "email": "boss@example.com", "name": "Boss"}
    env = app_env(standin_clean, oidc, valkey["port"], tmp_path / "data",
                  GADASH_ADMIN_EMAILS="Boss@example.com")
    proc, app_url = start_app(env, tmp_path / "app.log")
    try:
        admin, _ = sign_in(app_url, oidc, boss)
        create_link(app_url, admin, "property=Blog&screens=overview")
        [link_id] = listed_ids(app_url, admin)
        ann, _ = sign_in(app_url, oidc, ANN)
        listing = ann.get(f"{app_url}/tv-links", headers=HTML)
        assert listing.status_code == 200 and "Only the TV-link admins" in listing.text
        assert listed_ids(app_url, ann) == []  # no revoke buttons
        token = ann.get(f"{app_url}/whoami").json()["csrf"]
        for form in ({"label": "Mine", "query": "", "days": "7"}, {"revoke": link_id}):
            refused = ann.post(f"{app_url}/tv-links", data={"csrf": token, **form},
                               headers={"Origin": app_url})
            assert refused.status_code == 403 and "nothing was changed" in refused.text
        assert listed_ids(app_url, admin) == [link_id]  # still there, nothing added
    finally:
        stop_app(proc)
