"""Stand-ins for the share-count APIs, answering in each real API's JSON shape.

Counts are deterministic per URL (a hash), so the demo shows the same numbers
on every run; articles get more attention than static pages.
"""

from __future__ import annotations

import asyncio
import hashlib

from aiohttp import web

from gadash.data.shares.canonical import canonical_url


def _seed(url: str, salt: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{salt}:{canonical_url(url)}".encode()).digest()[:8])


def _count(url: str, salt: str, scale: int) -> int:
    weight = 3 if "/blog/" in url else 1
    return (_seed(url, salt) % scale) * weight


def create_share_app(latency: float = 0.0) -> web.Application:
    """Hacker News (Algolia), Reddit and Facebook Graph under /hn, /reddit, /facebook."""

    async def pause() -> None:
        if latency:
            await asyncio.sleep(latency)

    async def hackernews(request: web.Request) -> web.Response:
        await pause()
        bare = request.query.get("query", "")
        url = f"https://{bare}"
        stories = _seed(url, "hn-stories") % 3
        hits = [
            {"objectID": str(_seed(url, f"hn{i}") % 10**8), "title": f"Discussion {i + 1}",
             "url": url, "points": _count(url, f"hn-points{i}", 150),
             "num_comments": _count(url, f"hn-comments{i}", 60), "_tags": ["story"]}
            for i in range(stories)
        ]
        return web.json_response({"hits": hits, "nbHits": len(hits), "page": 0,
                                  "hitsPerPage": 100, "query": bare})

    async def reddit(request: web.Request) -> web.Response:
        await pause()
        url = request.query.get("url", "")
        posts = _seed(url, "rd-posts") % 4
        children = [
            {"kind": "t3", "data": {"url": url, "subreddit": "programming",
                                    "score": _count(url, f"rd-score{i}", 400),
                                    "num_comments": _count(url, f"rd-comments{i}", 80)}}
            for i in range(posts)
        ]
        return web.json_response({"kind": "Listing", "data": {"children": children,
                                                              "after": None, "dist": posts}})

    async def facebook(request: web.Request) -> web.Response:
        await pause()
        if not request.query.get("access_token"):
            return web.json_response({"error": {
                "message": "An access token is required to request this resource.",
                "type": "OAuthException", "code": 104}}, status=400)
        url = request.query.get("id", "")
        return web.json_response({"id": url, "engagement": {
            "reaction_count": _count(url, "fb-reactions", 300),
            "comment_count": _count(url, "fb-comments", 50),
            "share_count": _count(url, "fb-shares", 120),
            "comment_plugin_count": 0}})

    app = web.Application()
    app.router.add_get("/hn/api/v1/search", hackernews)
    app.router.add_get("/reddit/api/info.json", reddit)
    app.router.add_get("/facebook/v19.0/", facebook)
    return app


def standin_urls(base: str) -> dict[str, str]:
    """Settings that point every provider at a share stand-in served at ``base``."""
    return {
        "hackernews_url": f"{base}/hn/api/v1/search",
        "reddit_url": f"{base}/reddit/api/info.json",
        "facebook_url": f"{base}/facebook/v19.0/",
    }
