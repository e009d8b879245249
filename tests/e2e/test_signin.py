"""Sign-in and TV links, end to end: the app as a server process, a local OIDC provider.

The provider is ``oidc-provider-mock`` on loopback; every request goes over
real HTTP, so the checks run exactly where a browser's requests would meet them.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
import requests
from flask import Flask

from gadash.settings import Settings
from gadash.web.auth import GadashSessionInterface, check_claims, safe_next
from tests.conftest import BLOG, SHOP, free_port
from tests.servers import callback_body, start_app, stop_app

SECRET = "test-secret-key-0123456789"


@pytest.fixture(scope="module")
def app_url(oidc, standin, valkey_url, tmp_path_factory) -> Iterator[str]:
    env = {
        "GADASH_GA_ENDPOINT": standin.endpoint, "GADASH_PROPERTIES": f"Blog={BLOG},Shop={SHOP}",
        "GADASH_OIDC_DISCOVERY_URL": f"{oidc}/.well-known/openid-configuration",
        "GADASH_OIDC_CLIENT_ID": "gadash-test", "GADASH_OIDC_CLIENT_SECRET": "client-secret",
        "GADASH_SECRET_KEY": SECRET, "GADASH_ALLOWED_DOMAINS": "example.com",
        "GADASH_ALLOWED_EMAILS": "guest@partner.org", "GADASH_SESSION_HOURS": "12",
        "REDIS_URL": valkey_url, "GADASH_SHARE_PROVIDERS": "",
    }
    port = free_port()
    env["GADASH_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    proc, url = start_app(env, tmp_path_factory.mktemp("auth") / "app.log", port=port)
    try:
        yield url
    finally:
        stop_app(proc)


HTML = {"Accept": "text/html"}


def sign_in(app_url: str, oidc: str, claims: dict[str, Any], next_path: str = "/",
            session: requests.Session | None = None) -> tuple[requests.Session, requests.Response]:
    """Run the whole authorization-code flow; return the session and the callback's answer."""
    sub = str(claims.get("email", "someone"))
    assert requests.put(f"{oidc}/users/{quote(sub, safe='')}", json=claims).status_code == 204
    s = session or requests.Session()
    start = s.get(f"{app_url}/login/start", params={"next": next_path}, allow_redirects=False)
    assert start.status_code == 302
    authorize = requests.post(start.headers["Location"], data={"sub": sub},
                              allow_redirects=False)
    assert authorize.status_code == 302, authorize.text[:300]
    back = s.get(authorize.headers["Location"], allow_redirects=False, headers=HTML)
    return s, back


ANN = {"email": "ann@example.com", "email_verified": True, "hd": "example.com", "name": "Ann"}


def test_allowed_domain_signs_in_and_lands_on_next(app_url, oidc):
    s, back = sign_in(app_url, oidc, ANN, "/?range=last7")
    assert back.status_code == 302 and back.headers["Location"] == "/?range=last7"
    cookie = next(c for c in back.raw.headers.getlist("Set-Cookie")
                  if c.startswith("gadash_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    me = s.get(f"{app_url}/whoami").json()
    assert me["user"]["email"] == "ann@example.com"
    assert s.get(f"{app_url}/", headers=HTML).status_code == 200


def test_allowed_email_signs_in_without_a_workspace(app_url, oidc):
    _, back = sign_in(app_url, oidc, {"email": "guest@partner.org", "email_verified": True})
    assert back.status_code == 302 and back.headers["Location"] == "/"


@pytest.mark.parametrize(("claims", "reason"), [
    ({"email": "bob@other.com", "email_verified": True, "hd": "other.com"},
     "is not an address of example.com"),
    ({"email": "carl@example.com", "email_verified": True}, "hosted-domain claim is missing"),
    ({"email": "dora@example.com", "email_verified": True, "hd": "evil.com"},
     "hosted-domain claim is missing or different"),
    ({"email": "x@evil.com@example.com", "email_verified": True, "hd": "example.com"},
     "no single, plain email address"),
    ({"email": "eve@example.com.evil.net", "email_verified": True,
      "hd": "example.com.evil.net"}, "is not an address of example.com"),
    ({"email": "fay@sub.example.com", "email_verified": True, "hd": "sub.example.com"},
     "is not an address of example.com"),
    ({"email": "gus@example.com", "email_verified": False, "hd": "example.com"},
     "has not verified"),
    ({"email": "hal@example.com", "hd": "example.com"}, "has not verified"),
])
def test_refused_accounts_see_why(app_url, oidc, claims, reason):
    s, back = sign_in(app_url, oidc, claims)
    assert back.status_code == 403
    assert reason in back.text.replace("&#x27;", "'")
    assert "Sign in with another account" in back.text
    assert s.get(f"{app_url}/whoami").json()["user"] is None
    assert s.get(f"{app_url}/", headers=HTML, allow_redirects=False).status_code == 302


def _callback_url(app_url: str, oidc: str, claims: dict[str, Any], s: requests.Session) -> str:
    sub = claims["email"]
    requests.put(f"{oidc}/users/{quote(sub, safe='')}", json=claims)
    start = s.get(f"{app_url}/login/start", allow_redirects=False)
    return requests.post(start.headers["Location"], data={"sub": sub},
                         allow_redirects=False).headers["Location"]


def test_forged_and_replayed_state_are_refused(app_url, oidc):
    s = requests.Session()
    url = _callback_url(app_url, oidc, ANN, s)
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    forged = f"{app_url}{parts.path}?" + urlencode({"code": query["code"][0], "state": "forged"})
    assert s.get(forged, allow_redirects=False).status_code == 400
    first = s.get(url, allow_redirects=False)  # the genuine one still works once ...
    assert first.status_code == 302
    s2 = requests.Session()
    url2 = _callback_url(app_url, oidc, ANN, s2)
    assert s2.get(url2, allow_redirects=False).status_code == 302
    replay = s2.get(url2, allow_redirects=False, headers=HTML)  # ... but not twice
    assert replay.status_code == 400 and "could not be verified" in replay.text


def test_code_from_another_login_is_refused(app_url, oidc):
    # Mallory's code (her nonce and PKCE verifier) pasted into Ann's callback.
    ann = requests.Session()
    ann_url = _callback_url(app_url, oidc, ANN, ann)
    mallory = requests.Session()
    mallory_url = _callback_url(app_url, oidc, {**ANN, "email": "mal@example.com"}, mallory)
    state = parse_qs(urlsplit(ann_url).query)["state"][0]
    code = parse_qs(urlsplit(mallory_url).query)["code"][0]
    mixed = f"{app_url}/auth/callback?" + urlencode({"code": code, "state": state})
    assert ann.get(mixed, allow_redirects=False).status_code == 400
    assert ann.get(f"{app_url}/whoami").json()["user"] is None


def test_provider_denial_is_a_clear_page(app_url, oidc):
    s = requests.Session()
    start = s.get(f"{app_url}/login/start", allow_redirects=False)
    denied = requests.post(start.headers["Location"], data={"action": "deny"},
                           allow_redirects=False)
    back = s.get(denied.headers["Location"], allow_redirects=False)
    assert back.status_code == 400 and "access_denied" in back.text


def _session_cookie(payload: dict[str, Any]) -> str:
    app = Flask("forge")
    app.secret_key = SECRET
    return GadashSessionInterface().get_signing_serializer(app).dumps(payload)


def test_tampered_and_expired_cookies_are_refused(app_url, oidc):
    s, _ = sign_in(app_url, oidc, ANN)
    good = s.cookies.get("gadash_session")
    tampered = requests.Session()
    tampered.cookies.set("gadash_session", good[:-3] + ("AAA" if good[-3:] != "AAA" else "BBB"))
    assert tampered.get(f"{app_url}/whoami").json()["user"] is None
    old = requests.Session()
    old.cookies.set("gadash_session", _session_cookie({
        "user": {"email": "ann@example.com"}, "seen": int(time.time()) - 13 * 3600}))
    assert old.get(f"{app_url}/", headers=HTML, allow_redirects=False).status_code == 302
    fresh = requests.Session()
    fresh.cookies.set("gadash_session", _session_cookie({
        "user": {"email": "bea@example.com"}, "seen": int(time.time()) - 3600,
        "since": int(time.time()) - 3600}))
    assert fresh.get(f"{app_url}/whoami").json()["user"]["email"] == "bea@example.com"
    # Past the absolute lifetime (168 h), however recently used.
    ancient = requests.Session()
    ancient.cookies.set("gadash_session", _session_cookie({
        "user": {"email": "bea@example.com"}, "seen": int(time.time()) - 60,
        "since": int(time.time()) - 169 * 3600}))
    assert ancient.get(f"{app_url}/whoami").json()["user"] is None


@pytest.mark.parametrize("target", ["//evil.example", "/\\evil.example", "\t//evil.example",
                                    "https://ours@evil.example", "https://evil.example/",
                                    "javascript:alert(1)", "/%0a//evil"])
def test_open_redirects_in_next_go_home(app_url, oidc, target):
    _, back = sign_in(app_url, oidc, ANN, target)
    location = back.headers["Location"]
    assert location == "/" or (location.startswith("/") and not location.startswith("//"))
    assert "evil" not in urlsplit(location).netloc


def test_safe_next():
    assert safe_next("/tv?screens=overview") == "/tv?screens=overview"
    for bad in ("//evil", "/\\evil", "\t//evil", "https://ours@evil", "evil", "", None):
        assert safe_next(bad) == "/"


def test_spoofed_forwarded_host_is_ignored(app_url):
    start = requests.get(f"{app_url}/login/start", allow_redirects=False,
                         headers={"X-Forwarded-Host": "evil.example",
                                  "X-Forwarded-Proto": "https"})
    redirect_uri = parse_qs(urlsplit(start.headers["Location"]).query)["redirect_uri"][0]
    assert redirect_uri == f"{app_url}/auth/callback"
    query = parse_qs(urlsplit(start.headers["Location"]).query)
    assert query["hd"] == ["example.com"]  # a hint to Google; the check is on the server
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert query["nonce"] and query["state"]


def _dash_body(app_url: str, s: requests.Session, prefix: str, inputs: list) -> dict:
    return callback_body(s.get(f"{app_url}/_dash-dependencies").json(), prefix, inputs)


def _post(app_url: str, s: requests.Session, body: dict, csrf: bool = True,
          origin: str | None = None) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if csrf:
        headers["X-CSRFToken"] = s.cookies.get("_csrf_token") or ""
    if origin:
        headers["Origin"] = origin
    return s.post(f"{app_url}/_dash-update-component", data=json.dumps(body), headers=headers)


STORE = {"property": "Blog", "range": "last7", "compare": "none",
         "filters": {"source": "", "medium": "", "country": "", "device": "", "page": ""}}


def test_signed_out_requests_never_reach_data(app_url, oidc, standin):
    s, _ = sign_in(app_url, oidc, ANN)
    body = _dash_body(app_url, s, "..an-kpis.children",
                      [{"id": "an-state", "property": "data", "value": STORE},
                       {"id": "an-notes-version", "property": "data", "value": 0}])
    ok = _post(app_url, s, body)
    assert ok.status_code == 200 and "an-kpis" in ok.json()["response"]
    calls = sum(standin.servicer.calls.values())
    # The same request, now cached server-side, from someone who is not signed in:
    stranger = requests.Session()
    refused = _post(app_url, stranger, body)
    assert refused.status_code == 401 and refused.json()["error"] == "signed_out"
    assert sum(standin.servicer.calls.values()) == calls
    for path in ("/_dash-layout", "/_dash-dependencies", "/tv-links", "/"):
        r = stranger.get(f"{app_url}{path}", allow_redirects=False)
        assert r.status_code in (401, 302), path
    assert stranger.get(f"{app_url}/healthz").status_code == 200


def test_callbacks_need_csrf_token_and_same_origin(app_url, oidc):
    s, _ = sign_in(app_url, oidc, ANN)
    s.get(f"{app_url}/", headers=HTML)
    body = _dash_body(app_url, s, "..an-kpis.children",
                      [{"id": "an-state", "property": "data", "value": STORE},
                       {"id": "an-notes-version", "property": "data", "value": 0}])
    assert _post(app_url, s, body, csrf=False).status_code == 403
    assert _post(app_url, s, body, origin="https://evil.example").status_code == 403
    assert _post(app_url, s, body, origin=app_url).status_code == 200


def test_tampered_callback_input_is_an_error_message_not_a_500(app_url, oidc):
    s, _ = sign_in(app_url, oidc, ANN)
    s.get(f"{app_url}/", headers=HTML)
    bad = {"property": "Blog", "range": "last7", "compare": "none", "filters": {"weird": "x"},
           "extra": ["x"]}
    body = _dash_body(app_url, s, "..an-kpis.children",
                      [{"id": "an-state", "property": "data", "value": bad},
                       {"id": "an-notes-version", "property": "data", "value": 0}])
    r = _post(app_url, s, body)
    assert r.status_code == 200
    assert "Ignored" in json.dumps(r.json()["response"]) or "an-kpis" in r.json()["response"]


def test_logout_needs_post_with_csrf(app_url, oidc):
    s, _ = sign_in(app_url, oidc, ANN)
    assert s.post(f"{app_url}/logout", data={"csrf": "wrong"}).status_code == 403
    assert s.get(f"{app_url}/whoami").json()["user"] is not None
    token = s.get(f"{app_url}/whoami").json()["csrf"]
    out = s.post(f"{app_url}/logout", data={"csrf": token}, allow_redirects=False)
    assert out.status_code == 302 and out.headers["Location"] == "/login?out=1"
    assert s.get(f"{app_url}/whoami").json()["user"] is None


def _create_tv_link(app_url: str, oidc: str, query: str, days: int = 1) -> tuple[str, Any]:
    s, _ = sign_in(app_url, oidc, ANN)
    token = s.get(f"{app_url}/whoami").json()["csrf"]
    page = s.post(f"{app_url}/tv-links", data={"csrf": token, "label": "Office",
                                                "query": query, "days": str(days)})
    assert page.status_code == 200
    start = page.text.index("<code id='tv-link'>") + len("<code id='tv-link'>")
    link = page.text[start:page.text.index("</code>", start)].replace("&amp;", "&")
    return link, s


def test_tv_link_opens_the_big_screen_and_nothing_else(app_url, oidc):
    link, _ = _create_tv_link(app_url, oidc, "screens=overview&refresh=5")
    tv = requests.Session()
    # The page is served at the link itself: the key stays in the TV's URL.
    opened = tv.get(link, headers=HTML, allow_redirects=False)
    assert opened.status_code == 200
    cookie = next(c for c in opened.raw.headers.getlist("Set-Cookie")
                  if c.startswith("gadash_session="))
    assert "Expires=" in cookie  # the link's expiry, not the idle timeout
    assert tv.get(link, headers=HTML, allow_redirects=False).status_code == 200  # reopens
    body = _dash_body(app_url, tv, "..tv-config.data",
                      [{"id": "tv-url", "property": "search", "value": "?screens=pages"}])
    config = _post(app_url, tv, body)
    assert config.status_code == 200
    data = config.json()["response"]["tv-config"]["data"]
    assert data["screens"] == ["overview"] and data["refresh"] == 5  # the link's, not the URL's
    analyst = _dash_body(app_url, tv, "..an-kpis.children",
                         [{"id": "an-state", "property": "data", "value": STORE},
                          {"id": "an-notes-version", "property": "data", "value": 0}])
    assert _post(app_url, tv, analyst).status_code == 403
    home = tv.get(f"{app_url}/", headers=HTML, allow_redirects=False)
    assert home.status_code == 403 and "only opens the big screen" in home.text
    assert tv.get(f"{app_url}/tv-links", allow_redirects=False).status_code == 403
    # Someone signed in who opens a TV link is asked; a GET never replaces the session.
    person, _ = sign_in(app_url, oidc, ANN)
    asked = person.get(link, headers=HTML, allow_redirects=False)
    assert asked.status_code == 200 and "Open the big screen as yourself" in asked.text
    assert person.get(f"{app_url}/whoami").json()["user"]["email"] == ANN["email"]
    key = parse_qs(urlsplit(link).query)["key"][0]
    token = person.get(f"{app_url}/whoami").json()["csrf"]
    made = person.post(f"{app_url}/tv-links/open", data={"csrf": token, "key": key},
                       allow_redirects=False)
    assert made.status_code == 302 and made.headers["Location"].startswith("/tv?key=")
    assert person.get(f"{app_url}/whoami").json()["user"] is None  # now this browser is a TV


def test_tampered_revoked_and_expired_tv_links(app_url, oidc):
    link, owner = _create_tv_link(app_url, oidc, "screens=realtime")
    tampered = link[:-2] + ("xx" if not link.endswith("xx") else "yy")
    assert requests.get(tampered, allow_redirects=False).status_code == 403

    tv = requests.Session()
    assert tv.get(link, allow_redirects=False).status_code == 200
    body = _dash_body(app_url, tv, "..tv-config.data",
                      [{"id": "tv-url", "property": "search", "value": ""}])
    token = owner.get(f"{app_url}/whoami").json()["csrf"]
    listing = owner.get(f"{app_url}/tv-links").text
    link_id = listing.split("name='revoke' value='")[1].split("'")[0]
    done = owner.post(f"{app_url}/tv-links", data={"csrf": token, "revoke": link_id},
                      allow_redirects=False)
    assert done.status_code == 302
    for _ in range(2):  # the next poll, and every one after it, says why
        revoked = _post(app_url, tv, body)
        assert revoked.status_code == 401
        assert revoked.json()["message"] == "this TV link was revoked"
    assert requests.get(link, allow_redirects=False).status_code == 403
    # Signing in replaces the ended TV's session.
    sign_in(app_url, oidc, ANN, session=tv)
    assert tv.get(f"{app_url}/whoami").json()["user"]["email"] == ANN["email"]

    # Expiry: age a fresh link's row in the app's database.
    link2, _ = _create_tv_link(app_url, oidc, "screens=pages")
    from sqlalchemy import text

    from gadash.store import Store

    store = Store.from_settings(Settings(_env_file=None))
    link2_id = owner.get(f"{app_url}/tv-links").text.split("name='revoke' value='")[1].split(
        "'")[0]  # the newest link is listed first
    with store._db.engine.begin() as conn:  # the test ages the row by hand
        conn.execute(text("UPDATE tv_links SET expires_at = :t WHERE id = :id"),
                     {"t": datetime(2020, 1, 1), "id": link2_id})
    store.dispose()
    assert requests.get(link2, allow_redirects=False).status_code == 403


def test_secure_cookie_only_over_https():
    app = Flask("cookie")
    app.secret_key = SECRET
    app.session_interface = GadashSessionInterface()

    @app.get("/set")
    def set_() -> str:
        from flask import session

        session["x"] = 1
        return "ok"

    client = app.test_client()
    plain = client.get("/set").headers["Set-Cookie"]
    secure = app.test_client().get("/set", base_url="https://dash.example").headers["Set-Cookie"]
    assert "Secure" not in plain and "Secure" in secure


@pytest.mark.parametrize(("claims", "allowed"), [
    ({"email": "ann@example.com", "email_verified": 1, "hd": "example.com"}, False),
    ({"email": "ann@example.com", "email_verified": "yes", "hd": "example.com"}, False),
    ({"email": "  Ann@Example.COM\n", "email_verified": True, "hd": "example.com"}, True),
    ({"email": "ann @example.com", "email_verified": True, "hd": "example.com"}, False),
    ({"email": "ann@exa\nmple.com", "email_verified": True, "hd": "example.com"}, False),
])
def test_verified_must_be_true_and_addresses_are_normalised(claims, allowed):
    from gadash.web.auth import normal_email

    s = Settings(_env_file=None, allowed_domains="example.com")
    assert (check_claims(claims, s) is None) is allowed
    assert normal_email("  Ann@Example.COM\n") == "ann@example.com"


def test_claims_rules_unit():
    s = Settings(_env_file=None, allowed_domains="example.com", allowed_emails="a@b.org")
    assert check_claims({"email": "z@example.com", "email_verified": True,
                         "hd": "example.com"}, s) is None
    assert check_claims({"email": "A@B.org", "email_verified": "true"}, s) is None
    assert check_claims({"email": 5, "email_verified": True}, s) is not None


def test_sign_in_settings_are_required_together():
    from gadash.errors import ConfigError
    from gadash.settings import load_settings

    with pytest.raises(ConfigError, match="GADASH_SECRET_KEY"):
        load_settings(_env_file=None, oidc_client_id="x", oidc_client_secret="y",
                      allowed_domains="example.com")
    with pytest.raises(ConfigError, match="GADASH_PUBLIC_URL is not set"):
        load_settings(_env_file=None, oidc_client_id="x", oidc_client_secret="y",
                      secret_key="k" * 20, allowed_domains="example.com")
    with pytest.raises(ConfigError, match="who may sign in"):
        load_settings(_env_file=None, oidc_client_id="x", oidc_client_secret="y",
                      secret_key="k" * 20, public_url="https://dash.example.com")
    with pytest.raises(ConfigError, match="not a site address"):
        load_settings(_env_file=None, public_url="dash.example.com/path")
    with pytest.raises(ConfigError, match="only listens on this machine"):
        load_settings(_env_file=None, host="0.0.0.0")
    assert load_settings(_env_file=None, host="0.0.0.0", allow_open=True).allow_open


def test_a_forged_host_is_refused_but_health_answers(app_url):
    forged = {"Host": "evil.example:8050", "Accept": "text/html"}
    refused = requests.get(f"{app_url}/login/start", headers=forged, allow_redirects=False)
    assert refused.status_code == 421 and "http://127.0.0.1" in refused.text
    assert requests.get(f"{app_url}/healthz", headers=forged).status_code == 200
    start = requests.get(f"{app_url}/login/start", allow_redirects=False)
    redirect_uri = parse_qs(urlsplit(start.headers["Location"]).query)["redirect_uri"][0]
    assert redirect_uri == f"{app_url}/auth/callback"  # from GADASH_PUBLIC_URL


def test_odd_tokens_and_forms_are_refused_not_errors(app_url, oidc):
    s, _ = sign_in(app_url, oidc, ANN)
    body = _dash_body(app_url, s, "..an-kpis.children",
                      [{"id": "an-state", "property": "data", "value": STORE},
                       {"id": "an-notes-version", "property": "data", "value": 0}])
    headers = {"Content-Type": "application/json", "X-CSRFToken": "é".encode().decode("latin-1")}
    assert s.post(f"{app_url}/_dash-update-component", data=json.dumps(body),
                  headers=headers).status_code == 403
    assert s.post(f"{app_url}/logout", data={"csrf": "é"}).status_code == 403
    token = s.get(f"{app_url}/whoami").json()["csrf"]
    for days in ("abc", "", "7.0", "0x10", "8"):
        answer = s.post(f"{app_url}/tv-links", data={"csrf": token, "days": days})
        assert answer.status_code == 400, days
    bad = s.post(f"{app_url}/tv-links", data={"csrf": token, "days": "7", "label": "x",
                                              "query": "screens=overview\r\nSet-Cookie: a=b"})
    assert bad.status_code == 400 and "playlist" in bad.text.lower()
    assert "a=b" not in bad.headers.get("Set-Cookie", "")


def test_signing_out_ends_copies_of_the_session(app_url, oidc):
    s, _ = sign_in(app_url, oidc, ANN)
    copy = requests.Session()
    copy.cookies.update(s.cookies)
    assert copy.get(f"{app_url}/", headers=HTML, allow_redirects=False).status_code == 200
    token = s.get(f"{app_url}/whoami").json()["csrf"]
    assert s.post(f"{app_url}/logout", data={"csrf": token}, allow_redirects=False
                  ).status_code == 302
    time.sleep(5.5)  # a process trusts what it knows of a sign-out for 5 s
    assert copy.get(f"{app_url}/", headers=HTML, allow_redirects=False).status_code == 302
    again, _ = sign_in(app_url, oidc, ANN)  # a new sign-in is a new session
    assert again.get(f"{app_url}/", headers=HTML, allow_redirects=False).status_code == 200


# ----------------------------------------------------------------- on dash-auth's OIDCAuth

def test_dash_auth_idp_routes_sign_in_too(app_url, oidc):
    # OIDCAuth's own routes start and finish a sign-in like /login/start and /auth/callback.
    s = requests.Session()
    requests.put(f"{oidc}/users/{quote(ANN['email'], safe='')}", json=ANN)
    start = s.get(f"{app_url}/oidc/google/login", params={"next": "/tv"}, allow_redirects=False,
                  headers={"X-Forwarded-Host": "evil.example"})
    assert start.status_code == 302
    query = parse_qs(urlsplit(start.headers["Location"]).query)
    assert query["redirect_uri"] == [f"{app_url}/auth/callback"]  # not its <idp> route
    assert query["hd"] == ["example.com"] and query["prompt"] == ["select_account"]
    back = requests.post(start.headers["Location"], data={"sub": ANN["email"]},
                         allow_redirects=False).headers["Location"]
    parts = urlsplit(back)
    done = s.get(f"{app_url}/oidc/google/callback?{parts.query}", allow_redirects=False)
    assert done.status_code == 302 and done.headers["Location"] == "/tv"
    assert s.get(f"{app_url}/whoami").json()["user"]["email"] == ANN["email"]


def test_an_unknown_idp_is_a_failed_sign_in_page(app_url, oidc):
    s = requests.Session()
    url = _callback_url(app_url, oidc, ANN, s)
    query = urlsplit(url).query
    evil = quote("<b>evil", safe="")
    answer = s.get(f"{app_url}/oidc/{evil}/callback?{query}", allow_redirects=False)
    assert answer.status_code == 400 and "Sign-in failed" in answer.text
    assert "<b>evil" not in answer.text
    assert s.get(f"{app_url}/whoami").json()["user"] is None


@pytest.mark.parametrize("forged", [{"nonce": "forged"}, {"exp": 1_000_000_000},
                                    {"iss": "https://evil.example"}, {"aud": "someone-else"}])
def test_id_tokens_authlib_refuses_are_a_failed_sign_in_page(app_url, oidc, forged):
    # The provider puts these claims in the ID token; authlib refuses them with its JOSE
    # errors, not OAuthError (the only exception dash-auth's callback catches).
    claims = {**ANN, "email": f"ivy.{next(iter(forged))}@example.com", **forged}
    s, back = sign_in(app_url, oidc, claims)
    assert back.status_code == 400 and "could not be verified" in back.text
    assert s.get(f"{app_url}/whoami").json()["user"] is None


def test_logout_by_get_only_asks(app_url, oidc):
    s, _ = sign_in(app_url, oidc, ANN)
    asked = s.get(f"{app_url}/logout", headers=HTML, allow_redirects=False)
    assert asked.status_code == 200 and "<form method='post'>" in asked.text
    assert s.get(f"{app_url}/whoami").json()["user"]["email"] == ANN["email"]


def test_dash_auth_base_routes_are_not_public(app_url, oidc):
    s, _ = sign_in(app_url, oidc, ANN)
    html = s.get(f"{app_url}/", headers=HTML).text
    suite = re.findall(r'src="(/_dash-component-suites/[^"]+)"', html)[0]
    assert s.get(f"{app_url}{suite}").status_code == 200
    stranger = requests.Session()
    for path in (suite, "/assets/gadash.css", "/_reload-hash", "/_favicon.ico",
                 "/_dash-layout", "/_dash-dependencies"):
        assert stranger.get(f"{app_url}{path}", allow_redirects=False).status_code == 401, path
