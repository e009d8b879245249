"""A malformed Google key file: a readable error in every panel, on the TV, in /readyz,
in ``gadash check`` and in the log; never a 500. The app runs as a real process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from gadash.data.sources.ga4 import GA4Source
from gadash.errors import ConfigError, CredentialsError
from gadash.settings import Settings
from gadash.web.components import ids
from tests.e2e.test_instances import TV_CONFIG, screen_poll, status_of, tv_request
from tests.servers import callback_body, start_app, stop_app

KEYS = {
    "malformed": ('{"type": "service_account"}', "is not a usable service-account key"),
    "not-json": ("-----BEGIN PRIVATE KEY-----", "is not JSON"),
    "bad-pem": ('{"type": "service_account", "client_email": "a@b.example", '
                '"private_key": "nope", "token_uri": "https://oauth2.example/token"}',
                "is not a usable service-account key"),
}


@pytest.mark.parametrize("kind", [*KEYS, "missing"])
def test_the_client_says_what_is_wrong_with_the_key_file(tmp_path, kind):
    key = tmp_path / "key.json"
    key.write_text(KEYS.get(kind, ("{}",))[0])
    source = GA4Source(Settings(credentials_file=key, properties={"Blog": "properties/1"},
                                _env_file=None))
    if kind == "missing":  # removed after the app started (a rotated key, say)
        key.unlink()
    with pytest.raises(CredentialsError) as caught:
        source.time_zone("properties/1")
    reason = KEYS[kind][1] if kind != "missing" else "does not exist"
    assert f"The key file {key} {reason}" in caught.value.message
    assert isinstance(caught.value, ConfigError)  # a setting to fix, and a GA failure
    assert "GADASH_CREDENTIALS_FILE" in caught.value.message


@pytest.fixture()
def broken_app(tmp_path) -> Iterator[tuple[str, Path]]:
    key = tmp_path / "key.json"
    key.write_text(KEYS["malformed"][0])
    log = tmp_path / "app.log"
    proc, url = start_app({"GADASH_CREDENTIALS_FILE": str(key),
                           "GADASH_PROPERTIES": "Blog=123,Shop=456",
                           "GADASH_DATABASE_URL": f"sqlite:///{tmp_path / 'team.db'}",
                           "GADASH_SHARE_PROVIDERS": ""}, log)
    try:
        yield url, log
    finally:
        stop_app(proc)


def _post(s: requests.Session, url: str, body: dict[str, Any]) -> requests.Response:
    return s.post(url + "/_dash-update-component", data=json.dumps(body), headers={
        "Content-Type": "application/json", "X-CSRFToken": s.cookies.get("_csrf_token") or ""})


def test_a_malformed_key_file_is_a_readable_error_everywhere(broken_app):
    url, log = broken_app
    s = requests.Session()
    assert s.get(url + "/", headers={"Accept": "text/html"}).status_code == 200
    deps = s.get(url + "/_dash-dependencies").json()
    store = {"property": "Blog", "range": "last28", "compare": "previous", "filters": []}
    kpis = _post(s, url, callback_body(deps, f"..{ids.KPIS}.children", [
        {"id": ids.STATE, "property": "data", "value": store},
        {"id": ids.NOTES_VERSION, "property": "data", "value": 0}]))
    assert kpis.status_code == 200
    assert "is not a usable service-account key" in kpis.text
    assert "Google credentials cannot be used" in kpis.text
    grid = _post(s, url, callback_body(deps, f"..{ids.SOURCES}.rowData", [
        {"id": ids.STATE, "property": "data", "value": store}]))
    assert grid.status_code == 200 and "Google credentials cannot be used" in grid.text
    # The big screen says so in its status, and keeps going.
    tv = tv_request(url)
    status, answer = screen_poll(url, *tv)
    assert status == 200 and not status_of(answer)["ok"]
    assert "key file" in json.dumps(status_of(answer))
    assert TV_CONFIG["property"] == "Blog"
    ready = s.get(url + "/readyz").json()
    assert ready["ga"] == "failing" and ready["status"] == "degraded"
    text = log.read_text()
    assert "is not a usable service-account key" in text
    assert "Traceback" not in text
