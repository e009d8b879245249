"""The gate in-process (Flask's test client): answers it remembers between requests
(public paths, this app's origin) follow changes and differences as before; dash-auth's
public callbacks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from dash_auth.public_routes import PUBLIC_CALLBACKS, add_public_routes
from flask import Flask

from gadash.settings import Settings
from gadash.store import Store
from gadash.web.auth import Auth

SECRET = "test-secret-key-0123456789"


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[Flask]:
    """A server behind the gate with sign-in on, answering at http://localhost."""
    server = Flask("gate")
    settings = Settings(_env_file=None, oidc_client_id="x", oidc_client_secret="y",
                        secret_key=SECRET, public_url="http://localhost",
                        allowed_domains="example.com", data_dir=tmp_path)
    db = Store.from_settings(settings)
    db.migrate()
    try:
        Auth(SimpleNamespace(server=server), settings, db)  # what dash-auth uses of a Dash app
        server.add_url_rule("/later", "later", lambda: "reached")
        yield server
    finally:
        db.dispose()


def test_a_route_made_public_later_is_public_at_once(server):
    client = server.test_client()
    for _ in range(2):  # refused, and remembered as not public
        assert client.get("/later").status_code == 401
    add_public_routes(SimpleNamespace(server=server), ["/later"])
    assert client.get("/later").text == "reached"
    assert client.get("/later/more").status_code == 401  # only the route added


@pytest.mark.parametrize(("origin", "allowed"), [
    ("http://localhost", True), ("http://localhost/", True), ("https://localhost", False),
    ("http://localhost:8050", False), ("http://evil.example", False), ("null", False),
])
def test_a_post_must_come_from_this_origin(server, origin, allowed):
    client = server.test_client()
    for _ in range(2):  # the second time from what the gate remembers
        answer = client.post("/later", headers={"Origin": origin})
        # Past the gate's Origin check a signed-out POST is asked to sign in.
        assert answer.status_code == (401 if allowed else 403), origin


def test_the_origin_follows_the_host_of_each_request(tmp_path):
    server = Flask("open")
    settings = Settings(_env_file=None, data_dir=tmp_path)  # open demo: any Host
    db = Store.from_settings(settings)
    db.migrate()
    try:
        Auth(SimpleNamespace(server=server), settings, db)
        server.add_url_rule("/echo", "echo", lambda: "reached", methods=["POST"])
        client = server.test_client()
        for base in ("http://localhost", "http://dash.example:8050", "https://dash.example"):
            assert client.post("/echo", base_url=base, headers={"Origin": base}).text \
                == "reached", base
            assert client.post("/echo", base_url=base,
                               headers={"Origin": "http://localhost:1"}).status_code == 403, base
    finally:
        db.dispose()


def test_public_callbacks_skip_sign_in_but_not_csrf(server):
    """dash-auth's public-callback list (``dash_auth.public_callback``) is honoured by the
    gate, with the CSRF and Origin checks kept; no gadash callback is public."""
    server.config[PUBLIC_CALLBACKS] = ["open.children"]
    server.add_url_rule("/_dash-update-component", "dispatch", lambda: "reached",
                        methods=["POST"])
    client = server.test_client()
    token = client.get("/whoami").json["csrf"]

    def post(body: Any, csrf: str = token, origin: str | None = None) -> Any:
        headers = {"X-CSRFToken": csrf} | ({"Origin": origin} if origin else {})
        return client.post("/_dash-update-component", json=body, headers=headers)

    reached = post({"output": "open.children", "inputs": []})
    assert reached.status_code == 200 and reached.text == "reached"
    assert post({"output": "open.children"}, csrf="wrong").status_code == 403
    assert post({"output": "open.children"}, origin="https://evil.example").status_code == 403
    for body in ({"output": "secret.children"}, {"output": ["open.children"]},
                 ["open.children"], None, {"outputs": "open.children"}):
        refused = post(body)
        assert refused.status_code == 401 and refused.json["error"] == "signed_out", body
    raw = client.post("/_dash-update-component", data=b"{not json",
                      headers={"Content-Type": "application/json", "X-CSRFToken": token})
    assert raw.status_code == 401
