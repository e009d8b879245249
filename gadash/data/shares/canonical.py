"""One page, one URL: GA page paths become canonical absolute URLs."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

# Query parameters that only say where a visitor came from.
TRACKING = frozenset({
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "mc_cid", "mc_eid", "igshid",
    "ref", "ref_src", "_ga", "_gl", "yclid", "twclid", "li_fat_id",
})


def canonical_url(url: str) -> str:
    """https, lower-case host without www. or default port, no tracking parameters,
    no fragment, and a trailing slash on paths without a file extension."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.")
    port = parts.port
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    path = parts.path or "/"
    last = path.rsplit("/", 1)[-1]
    if not path.endswith("/") and "." not in last:
        path += "/"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k.lower() not in TRACKING and not k.lower().startswith("utm_")]
    return urlunsplit(("https", host, path, urlencode(sorted(query)), ""))


def page_url(site: str, page_path: str) -> str:
    """A GA page path (from the host's root, maybe with a query string) on a site."""
    return canonical_url(urljoin(site, "/" + page_path.lstrip("/")))
