"""Security at the edges of every response: headers, the favicon and robots.txt,
404 for paths that are not pages, and static files a CDN may cache.

- Headers: a Content-Security-Policy whose ``script-src`` is ``'self'`` and the
  hashes of Dash's inline scripts (the renderer bootstrap and the inline
  clientside callbacks), with neither ``'unsafe-inline'`` nor ``'unsafe-eval'``;
  frame protection (``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``
  unless GADASH_FRAME_ANCESTORS names who may frame the dashboard); ``nosniff``;
  ``Referrer-Policy``; ``Cross-Origin-Opener-Policy``; HSTS over HTTPS only.
- Dash answers any path with its page shell (component ids, property names,
  versions); paths that are not a registered page get a small plain 404 instead.
- Static files (``/assets/``, ``/_dash-component-suites/``, the favicons,
  ``/robots.txt``) leave without ``Set-Cookie`` and ``Vary: Cookie``. The session
  cookie is written after every ``after_request`` handler (Flask saves the
  session last), so this is done by a WSGI wrapper around the Flask app.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from fnmatch import fnmatch
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dash
from flask import Flask, Response, request, send_file

from gadash.settings import Settings

__all__ = ["content_security_policy", "init_security"]

ROBOTS_TXT = "User-agent: *\nDisallow: /\n"
HSTS = "max-age=31536000"  # a year; no includeSubDomains: other hosts of the domain are not ours
GOOGLE_AVATARS = "https://*.googleusercontent.com"

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def content_security_policy(script_hashes: Iterable[str], frame_ancestors: str = "",
                            avatars: str = GOOGLE_AVATARS) -> str:
    """The policy for one response: scripts from this origin and Dash's hashed inline scripts.

    ``style-src`` allows inline styles: Plotly and AG Grid's theming insert
    ``<style>`` elements at run time and Plotly writes ``style`` attributes; a
    style cannot run script, and every script source stays locked down.
    """
    directives = {
        "default-src": "'self'",
        "script-src": " ".join(["'self'", *script_hashes]),
        "style-src": "'self' 'unsafe-inline'",
        # data: for Plotly's image export and inline SVG icons; avatars of signed-in people.
        "img-src": f"'self' data: {avatars}",
        "font-src": "'self' data:",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": _ancestors(frame_ancestors),
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def _ancestors(frame_ancestors: str) -> str:
    """Who may frame the app's responses (GADASH_FRAME_ANCESTORS): nobody by default."""
    return " ".join(frame_ancestors.split()) or "'none'"


def _avatar_source(settings: Settings) -> str:
    """Where pictures of signed-in people come from: Google's, or any HTTPS for other providers."""
    host = urlsplit(settings.oidc_discovery_url).hostname or ""
    return GOOGLE_AVATARS if host == "accounts.google.com" else "https:"


class StaticWithoutCookies:
    """WSGI wrapper: responses for static paths carry no ``Set-Cookie`` nor ``Vary: Cookie``.

    It wraps the Flask app because Flask writes the session cookie (and adds
    ``Vary: Cookie`` when the session was read) after every after_request handler.
    """

    def __init__(self, app: WsgiApp, is_static: Callable[[str], bool]):
        self.app = app
        self.is_static = is_static

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if not self.is_static(environ.get("PATH_INFO", "")):
            return self.app(environ, start_response)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            kept = []
            for name, value in headers:
                lower = name.lower()
                if lower == "set-cookie":
                    continue
                if lower == "vary":
                    value = ", ".join(v.strip() for v in value.split(",")
                                      if v.strip() and v.strip().lower() != "cookie")
                    if not value:
                        continue
                kept.append((name, value))
            return start_response(status, kept, exc_info)

        return self.app(environ, start)


def init_security(server: Flask, app: dash.Dash, settings: Settings) -> None:
    """Add the security headers, /favicon.ico, /robots.txt, the 404 for non-pages and
    cookie-free static responses to this server."""
    prefix = str(app.config.routes_pathname_prefix)
    static_prefixes = (prefix + "assets/", prefix + "_dash-component-suites/")
    static_paths = {prefix + "_favicon.ico", "/favicon.ico", "/robots.txt"}
    catchall = prefix + "<path:path>"  # the endpoint of Dash's page router
    favicon = Path(str(app.config.assets_folder)) / "favicon.ico"
    avatars = _avatar_source(settings)

    def is_static(path: str) -> bool:
        return path in static_paths or path.startswith(static_prefixes)

    def is_page(path: str) -> bool:
        wanted = path.strip("/")
        for page in dash.page_registry.values():
            template = page.get("path_template")
            if template and fnmatch(wanted, _wildcards(template.strip("/"))):
                return True
            if wanted == str(page["path"]).strip("/"):
                return True
        return False

    def refuse_unknown() -> Response | None:
        rule = request.url_rule
        if rule is not None and rule.endpoint == catchall and not is_page(request.path):
            return Response("Not found\n", status=404, mimetype="text/plain")
        return None

    @functools.cache
    def fixed_headers(document: bool) -> tuple[tuple[str, str, str], ...]:
        """(lower-case name, name, value) of the headers every response gets unless it
        has its own: the app's inline scripts are fixed once it is built.

        A policy governs what a document (or a worker's script) may load: JSON (the
        callbacks' answers, a screen's polls every second) gets the short one an API
        gets, not the page's 1.5 KB of script hashes."""
        if document:
            policy = content_security_policy(app.csp_hashes(), settings.frame_ancestors,
                                             avatars)
        else:
            policy = f"default-src 'none'; frame-ancestors {_ancestors(settings.frame_ancestors)}"
        fixed = [("Content-Security-Policy", policy)]
        if not settings.frame_ancestors.strip():
            fixed.append(("X-Frame-Options", "DENY"))
        fixed += [("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin"),
                  ("Cross-Origin-Opener-Policy", "same-origin")]
        return tuple((name.lower(), name, value) for name, value in fixed)

    def add_headers(response: Response) -> Response:
        headers = response.headers
        # One pass over the response's headers, not one per header added.
        present = {name.lower() for name, _ in headers}
        for lower, name, value in fixed_headers(response.mimetype != "application/json"):
            if lower not in present:
                headers.add(name, value)
        if request.is_secure and "strict-transport-security" not in present:
            headers.add("Strict-Transport-Security", HSTS)
        return response

    def favicon_ico() -> Response:
        return send_file(favicon, mimetype="image/x-icon", max_age=86400)

    def robots_txt() -> Response:
        return Response(ROBOTS_TXT, mimetype="text/plain")

    # Registered before the sign-in gate: an unknown path is 404 for everyone.
    server.before_request(refuse_unknown)
    server.after_request(add_headers)
    server.add_url_rule("/favicon.ico", "favicon", favicon_ico)
    server.add_url_rule("/robots.txt", "robots", robots_txt)
    server.wsgi_app = StaticWithoutCookies(  # type: ignore[method-assign]
        server.wsgi_app, is_static)


def _wildcards(template: str) -> str:
    """A Dash ``path_template`` (``/report/<id>``) as an fnmatch pattern."""
    out, depth = [], 0
    for char in template:
        if char == "<":
            depth += 1
            out.append("*")
        elif char == ">":
            depth = max(0, depth - 1)
        elif not depth:
            out.append(char)
    return "".join(out)
