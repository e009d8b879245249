"""Hacker News, through Algolia's HN Search API (no key needed)."""

from __future__ import annotations

from typing import Any

from gadash.data.shares.base import ParseError, Provider, Request
from gadash.data.shares.canonical import canonical_url


class HackerNews(Provider):
    name = "hackernews"
    label = "Hacker News"
    short = "HN"
    headline = "points"
    rate = 2.5  # Algolia allows 10,000 requests an hour per IP
    burst = 10

    def __init__(self, base_url: str):
        self.base_url = base_url

    def request(self, url: str) -> Request:
        # Search by the address without scheme; hits are matched exactly in parse().
        bare = url.split("://", 1)[-1]
        return Request(self.base_url, {"query": bare, "restrictSearchableAttributes": "url",
                                       "tags": "story", "hitsPerPage": "100"})

    def parse(self, url: str, payload: Any) -> dict[str, int]:
        try:
            hits = payload["hits"]
            mine = [h for h in hits if h.get("url") and canonical_url(h["url"]) == url]
            return {
                "stories": len(mine),
                "points": sum(int(h.get("points") or 0) for h in mine),
                "comments": sum(int(h.get("num_comments") or 0) for h in mine),
            }
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ParseError(f"unexpected answer from Hacker News search: {exc!r}") from None
