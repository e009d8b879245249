"""Facebook: a URL's engagement from the Graph API (needs an app token)."""

from __future__ import annotations

from typing import Any

from gadash.data.shares.base import ParseError, Provider, Request


class Facebook(Provider):
    name = "facebook"
    label = "Facebook"
    short = "FB"
    headline = "engagement"
    rate = 0.5  # app tokens get about 200 calls per user an hour
    burst = 10

    def __init__(self, base_url: str, token: str):
        self.base_url = base_url
        self.token = token

    def request(self, url: str) -> Request:
        return Request(self.base_url, {"id": url, "fields": "engagement",
                                       "access_token": self.token})

    def parse(self, url: str, payload: Any) -> dict[str, int]:
        try:
            if "error" in payload:
                raise ParseError(f"Facebook: {payload['error'].get('message', 'error')}")
            e = payload["engagement"]
            counts = {
                "reactions": int(e.get("reaction_count") or 0),
                "comments": int(e.get("comment_count") or 0) + int(
                    e.get("comment_plugin_count") or 0),
                "shares": int(e.get("share_count") or 0),
            }
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ParseError(f"unexpected answer from Facebook: {exc!r}") from None
        return {"engagement": sum(counts.values()), **counts}
