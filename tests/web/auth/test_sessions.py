"""The session cookie in-process (Flask's test client): what a remembered, already
verified cookie still does not let through, and when the cookie is sent again."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask, session

from gadash.settings import Settings
from gadash.web.auth import sessions
from gadash.web.auth.sessions import (
    COOKIE_NAME,
    MAX_COOKIE_AGE,
    GadashSessionInterface,
    current_user,
    init_sessions,
)

SECRET = "test-secret-key-0123456789"
SETTINGS = Settings(_env_file=None, session_hours=12)


def make_app(secret: str = SECRET) -> Flask:
    """An app with gadash's sessions and routes that show and change the session."""
    app = Flask("sessions")
    init_sessions(app, SETTINGS, secret)

    @app.get("/show")
    def show() -> dict[str, Any]:
        user = current_user(SETTINGS)
        return {"session": dict(session), "user": user}

    @app.get("/nest")
    def nest() -> str:
        # Changes a nested value in place: Flask does not see it, nothing is saved.
        session["tv"]["id"] = "changed"
        return "ok"

    @app.get("/sign-in-as")
    def sign_in_as() -> str:
        session["user"] = {"email": "ann@example.com"}
        session["seen"] = session["since"] = time.time()
        session.permanent = True
        return "ok"

    return app


def cookie(payload: dict[str, Any], secret: str = SECRET) -> str:
    app = Flask("forge")
    app.secret_key = secret
    serializer = GadashSessionInterface().get_signing_serializer(app)
    assert serializer is not None
    return serializer.dumps(payload)


def show(app: Flask, value: str) -> dict[str, Any]:
    client = app.test_client()
    client.set_cookie(COOKIE_NAME, value)
    answer: dict[str, Any] = client.get("/show").get_json()
    return answer


def fresh_person(email: str = "bea@example.com") -> dict[str, Any]:
    now = int(time.time())
    return {"user": {"email": email}, "seen": now - 5, "since": now - 5, "_permanent": True}


def test_a_remembered_cookie_opens_its_session():
    app = make_app()
    good = cookie(fresh_person())
    for _ in range(3):  # verified once, then remembered
        assert show(app, good)["user"] == {"email": "bea@example.com"}


def test_tampered_and_foreign_cookies_are_refused_after_a_good_one():
    app = make_app()
    good = cookie(fresh_person())
    assert show(app, good)["user"] is not None
    payload, _, signature = good.rpartition(".")
    tampered = f"{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    assert show(app, tampered) == {"session": {}, "user": None}
    # The same payload signed with another key, and a payload swapped under the
    # good cookie's signature.
    assert show(app, cookie(fresh_person(), "another-key-9876543210"))["user"] is None
    # payload.timestamp.signature; a compressed payload starts with a dot of its own.
    other_payload = cookie(fresh_person("mal@example.com")).rsplit(".", 2)[0]
    swapped = ".".join([other_payload, *good.rsplit(".", 2)[1:]])
    assert swapped != good
    assert show(app, swapped)["user"] is None
    assert show(app, good)["user"] == {"email": "bea@example.com"}  # the good one still works


def test_a_new_key_refuses_cookies_remembered_under_the_old_one():
    app = make_app()
    good = cookie(fresh_person())
    assert show(app, good)["user"] is not None
    app.secret_key = "rotated-key-0123456789"
    assert show(app, good)["user"] is None
    assert show(app, cookie(fresh_person(), "rotated-key-0123456789"))["user"] is not None


def test_expired_sessions_are_refused_remembered_or_not():
    app = make_app()
    now = int(time.time())
    idle = cookie({"user": {"email": "ann@example.com"}, "seen": now - 13 * 3600,
                   "since": now - 13 * 3600})
    for _ in range(2):
        assert show(app, idle)["user"] is None
    ancient = cookie({"user": {"email": "ann@example.com"}, "seen": now - 60,
                      "since": now - 169 * 3600})
    for _ in range(2):
        assert show(app, ancient)["user"] is None


def test_a_cookie_that_grows_too_old_while_remembered_is_refused(monkeypatch):
    app = make_app()
    tv = cookie({"tv": {"id": "1", "query": "", "until": int(time.time()) + 86400}})
    assert show(app, tv)["session"]["tv"]["id"] == "1"
    later = time.time() + MAX_COOKIE_AGE + 1
    monkeypatch.setattr(sessions.time, "time", lambda: later)
    assert show(app, tv)["session"] == {}


def test_changing_a_session_in_place_does_not_change_what_is_remembered():
    app = make_app()
    tv = cookie({"tv": {"id": "1", "query": "", "until": int(time.time()) + 86400}})
    client = app.test_client()
    client.set_cookie(COOKIE_NAME, tv)
    assert client.get("/nest").status_code == 200
    assert client.get("/show").get_json()["session"]["tv"]["id"] == "1"


@pytest.mark.parametrize(("seen_ago", "sent"), [(5, False), (120, True)])
def test_a_persons_cookie_is_sent_again_only_when_renewed(seen_ago, sent):
    app = make_app()
    now = int(time.time())
    person = {"user": {"email": "bea@example.com"}, "seen": now - seen_ago, "since": now - 600,
              "_permanent": True}
    client = app.test_client()
    client.set_cookie(COOKIE_NAME, cookie(person))
    answer = client.get("/show")
    assert answer.get_json()["user"] == {"email": "bea@example.com"}
    assert ("Set-Cookie" in answer.headers) is sent
    if sent:  # renewed: a new "seen" and the idle timeout counted from now
        assert "Expires=" in answer.headers["Set-Cookie"]
        assert client.get("/show").get_json()["session"]["seen"] >= now


def test_a_tv_cookie_is_not_sent_on_every_poll():
    app = make_app()
    client = app.test_client()
    client.set_cookie(COOKIE_NAME, cookie({"tv": {"id": "1", "query": "",
                                                  "until": int(time.time()) + 86400},
                                           "_permanent": True}))
    for _ in range(3):
        answer = client.get("/show")
        assert answer.get_json()["session"]["tv"]["id"] == "1"
        assert "Set-Cookie" not in answer.headers


def test_signing_in_sends_the_cookie():
    app = make_app()
    client = app.test_client()
    answer = client.get("/sign-in-as")
    assert "gadash_session=" in answer.headers["Set-Cookie"]
    assert client.get("/show").get_json()["user"] == {"email": "ann@example.com"}
