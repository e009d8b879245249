""""What changed" in the analyst view, through Dash's HTTP callback and the stand-in."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from gadash.core import catalog
from gadash.web.components import ids
from tests.servers import callback_body

# The news site's last month, desktop only: no other test asks this view.
STORE = {"property": "News", "range": "lastmonth", "compare": "previous",
         "filters": {"source": "", "medium": "", "country": "", "device": "desktop",
                     "page": ""}}


def explain(client) -> dict[str, Any]:
    body = callback_body(client.get("/_dash-dependencies").get_json(), f"..{ids.CHANGES}.",
                         [{"id": ids.STATE, "property": "data", "value": STORE}])
    client.get("/")  # the CSRF cookie, as a page load sets it
    token = client.get_cookie("_csrf_token").value
    response = client.post("/_dash-update-component", data=json.dumps(body),
                           content_type="application/json", headers={"X-CSRFToken": token})
    assert response.status_code == 200, response.data[:500]
    return response.get_json()["response"]


def test_an_answer_cut_at_its_cap_says_so_under_the_panel(app, monkeypatch):
    # The month's landing pages are far more than 300 rows: GA's answer is cut.
    panel = catalog.PANELS["changes_landing"]
    monkeypatch.setitem(catalog.PANELS, "changes_landing", replace(panel, limit=150, cap=300))
    out = explain(app.server.test_client())
    text = json.dumps(out[ids.CHANGES]["children"], ensure_ascii=False)
    footer = json.dumps(out[ids.footer("changes")]["children"], ensure_ascii=False)
    assert "Sessions" in text
    assert ("GA has more values than the 300 rows fetched: a value listed in one period "
            "only counts in the other values") in footer
