"""Reddit: posts linking to a URL, from ``/api/info.json?url=``."""

from __future__ import annotations

from typing import Any

from gadash.data.shares.base import ParseError, Provider, Request


class Reddit(Provider):
    name = "reddit"
    label = "Reddit"
    short = "Reddit"
    headline = "score"
    rate = 1.0  # Reddit asks unauthenticated clients to stay around 60 a minute
    burst = 10

    def __init__(self, base_url: str, user_agent: str):
        self.base_url = base_url
        self.user_agent = user_agent

    def request(self, url: str) -> Request:
        # Reddit refuses anonymous clients without a descriptive User-Agent.
        return Request(self.base_url, {"url": url, "limit": "100"},
                       {"User-Agent": self.user_agent})

    def parse(self, url: str, payload: Any) -> dict[str, int]:
        try:
            posts = [c["data"] for c in payload["data"]["children"] if c.get("kind") == "t3"]
            return {
                "posts": len(posts),
                "score": sum(int(p.get("score") or 0) for p in posts),
                "comments": sum(int(p.get("num_comments") or 0) for p in posts),
            }
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ParseError(f"unexpected answer from Reddit: {exc!r}") from None
