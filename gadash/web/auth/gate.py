"""The gate: the checks every request passes before Dash sees it, on dash-auth's ``Auth``.

Every request but the probes (``/healthz``, ``/readyz``, ``/metrics``) goes through
``Gate.guard``, so nothing below (callbacks, the data service, the cache) ever runs
for a request that may not read data:

- the Host must be GADASH_PUBLIC_URL's (sign-in redirects and cookies are for it);
  past that, dash-auth's public routes (gadash's only) are let through;
- a POST must come from the same origin, and a callback must carry the session's
  CSRF token (Dash sends the ``_csrf_token`` cookie back as ``X-CSRFToken``);
- a callback marked ``dash_auth.public_callback`` (none of gadash's is) needs no
  sign-in, only the two checks above;
- without sign-in (the open demo), only the machine gadash runs on is answered,
  unless GADASH_ALLOW_OPEN says otherwise;
- with sign-in or without, a TV link's session reaches the big screen (``/tv``)
  and nothing else, pinned to its link's playlist, while its link is current; once
  it is revoked or expired the browser is refused with the reason until it opens a
  current link, signs in, or stops being a TV (``/tv-links/leave``);
- with sign-in, a person's session must be current (``sessions.current_user``) and
  not signed out since on another browser.
"""

from __future__ import annotations

import functools
import time
from html import escape
from typing import Any, cast
from urllib.parse import urlencode, urlsplit

import dash
from dash_auth.auth import Auth as DashAuth
from dash_auth.public_routes import PUBLIC_ROUTES, get_public_callbacks
from flask import Flask, Response, jsonify, redirect, request, session
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import Map, MapAdapter, Rule
from werkzeug.sansio.utils import get_current_url

from gadash.errors import StoreError
from gadash.memo import Recent
from gadash.settings import LOOPBACK_ADDRS, Settings
from gadash.store import Store
from gadash.store.tvlinks import TvLinks
from gadash.web.auth.sessions import (
    CSRF_COOKIE,
    CSRF_HEADER,
    TV_ENDED,
    TV_LEAVE_PATH,
    csrf_token,
    current_user,
    is_tv_session,
    same_token,
    start_tv_session,
)
from gadash.web.html import page
from gadash.web.middleware.callbacks import DASH_CALLBACK_PATH, Refused, callback_body

SIGNOUT_RECHECK = 5.0  # seconds a process trusts what it knows of a person's sign-out
# Load balancers call these by address: they answer whatever the Host header says.
HOST_FREE_PATHS = {"/healthz", "/readyz", "/metrics"}
# The gate's own public routes; sign-in adds its pages (``add_public_routes``).
# A digest's trend picture: chat servers fetch it signed out; its token is the key.
PUBLIC_PATHS = ["/healthz", "/readyz", "/favicon.ico", "/robots.txt",
                "/digest-images/<token>.png"]
# What a TV link may reach besides /tv: the page's scripts, layout and callbacks.
TV_PREFIXES = ("/_dash-component-suites/", "/assets/", "/_dash-layout", "/_dash-dependencies",
               "/_dash-update-component", "/_favicon.ico", "/_reload-hash")


def safe_next(target: str | None) -> str:
    """A path within this app to go to after sign-in; anything else becomes "/"."""
    if not target:
        return "/"
    target = target.strip()
    if any(ord(c) < 32 or c == "\\" for c in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def tv_leave_form() -> str:
    """The button that makes a TV's browser an ordinary one again (a POST with the
    CSRF token): without sign-in there is no sign-in to replace its session."""
    return (f"<form method='post' action='{TV_LEAVE_PATH}'><input type='hidden' name='csrf' "
            f"value='{escape(csrf_token())}'><button class='btn'>Stop using this browser as a "
            "TV</button></form>")


@functools.lru_cache(maxsize=1024)
def _public_path(routes: MapAdapter, rules: int, path: str) -> bool:
    """dash-auth's public-routes map's answer for ``path``, remembered per map and
    number of rules (rules are only ever added): werkzeug raises and catches an
    exception for every path that is not public, about 10 us a request."""
    return bool(routes.test(path))


@functools.lru_cache(maxsize=256)  # the few hosts this app is called by
def _origin_of(scheme: str, host: str) -> str:
    """The Origin a page of this scheme and host sends: werkzeug's ``request.host_url``
    without its slash (werkzeug builds it anew for every request, about 8 us)."""
    return get_current_url(scheme, host).rstrip("/")


class Gate(DashAuth):  # type: ignore[misc]  # dash-auth ships no type information
    """dash-auth's ``Auth`` with gadash's gate as its ``_protect`` hook, and dash-auth's
    public-routes map holding gadash's routes only. Each override says what dash-auth
    does and why gadash differs.

    The gate's state is set by ``init_gate`` before dash-auth's ``__init__`` runs
    ``_protect``. Where dash-auth answers an unauthorised request with
    ``login_request``, the gate answers with ``refuse``; ``login_request`` only starts
    a sign-in (``SignIn``).
    """

    app: dash.Dash
    settings: Settings
    enabled: bool
    db: Store
    links: TvLinks
    signouts: Recent[str, float | None]

    def init_gate(self, app: dash.Dash, settings: Settings, db: Store, secret: str) -> None:
        """The gate's state: settings, the trusted proxies, TV links, the public routes."""
        server = cast(Flask, app.server)
        self.settings = settings
        self.enabled = settings.sign_in
        self.db = db
        self.links = TvLinks(db, secret)
        self.signouts = Recent(SIGNOUT_RECHECK)
        self._public_host = urlsplit(settings.public_url or "").netloc
        if settings.proxy_hops:
            # Forwarded headers are trusted only when a proxy is said to be in front.
            n = settings.proxy_hops
            server.wsgi_app = ProxyFix(  # type: ignore[method-assign]
                server.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)
        # dash-auth's public-routes map, started with the gate's routes: add_public_routes
        # starts an empty map with dash-auth's base list, which makes /_dash-layout and
        # /_dash-dependencies (the layout and the callback graph), the scripts and the
        # assets readable signed out. Later add_public_routes calls add only theirs.
        server.config[PUBLIC_ROUTES] = Map([Rule(path) for path in PUBLIC_PATHS]).bind("")

    # -- dash-auth's hooks ------------------------------------------------------------
    def _protect(self) -> None:
        """dash-auth's hook: gadash's gate before every request, its CSRF cookie after."""
        # dash-auth's check reads body["output"] unchecked (a malformed body gives 500),
        # lets a callback through when its pathname input names a public route, and
        # knows no CSRF, Origin, Host or TV-link rule.
        server = self.app.server
        server.before_request(self.guard)
        server.after_request(self.set_csrf_cookie)

    def is_authorized(self) -> bool:
        """dash-auth's question: may this request see the dashboard (a person signed in,
        or sign-in off)? TV sessions are judged by ``guard``, per path."""
        # OIDCAuth's asks only whether the session holds a user: it never expires.
        return not self.enabled or current_user(self.settings) is not None

    # -- the gate -----------------------------------------------------------------------
    def guard(self) -> Response | None:
        """None to let the request through, else the refusal."""
        path = request.path
        if path in HOST_FREE_PATHS:
            return None
        if self.enabled and self.settings.public_url and request.host != self._public_host:
            # Sign-in redirects and cookies are for the public address only.
            return self.refuse(421, f"this gadash answers at {self.settings.public_url}")
        # init_gate set the map (get_public_routes builds a spare empty one every call).
        routes: MapAdapter = self.app.server.config[PUBLIC_ROUTES]
        if _public_path(routes, sum(1 for _ in routes.map.iter_rules()), path):
            return None
        if request.method == "POST" and not self._same_origin():
            return self.refuse(403, "cross-site request refused")
        if self._public_callback():
            return self._check_csrf()
        if not self.enabled and not self.settings.allow_open \
                and request.remote_addr not in LOOPBACK_ADDRS:
            return self.refuse(403, "this gadash runs without sign-in and only answers "
                                    "on the machine it runs on")
        # TV links behave the same with sign-in and without: pinned, revocable, /tv only.
        if path == "/tv" and request.args.get("key"):
            return self._open_tv_link(request.args["key"])
        tv = session.get("tv")
        if isinstance(tv, dict):
            return self._tv_request(tv, path)
        ended = session.get(TV_ENDED)
        if isinstance(ended, str):
            # A browser whose link ended stays refused (it must not fall back to the
            # open demo's full access); it may reopen a link or stop being a TV.
            return self._check_csrf() if path == TV_LEAVE_PATH else self.refuse(401, ended)
        if not self.enabled:
            return self._check_csrf()
        user = current_user(self.settings)
        if user is not None:
            if self._signed_out_since(str(user.get("email", "")), session.get("since", 0)):
                session.clear()
                return self.refuse(401, "you signed out (perhaps in another browser)")
            return self._check_csrf()
        return self.refuse(401, "sign in to see this dashboard")

    def _public_callback(self) -> bool:
        """Is this a callback request for a callback marked ``dash_auth.public_callback``?

        dash-auth reads ``body["output"]`` unchecked; here a body that is not a JSON
        object naming one output is simply not a public callback."""
        if request.path != DASH_CALLBACK_PATH or request.method != "POST":
            return False
        public = get_public_callbacks(self.app)
        if not public:
            return False
        try:
            body = callback_body()
        except Refused:
            return False
        output = body.get("output") if isinstance(body, dict) else None
        return isinstance(output, str) and output in public

    def _signed_out_since(self, email: str, since: float) -> bool:
        """Did this person sign out after this session began (on any browser)?

        Looked up at most every few seconds per person and process; while the
        database is down, what it said last stands.
        """
        def last() -> float | None:
            when = self.db.audit.last(email, "sign_out")
            return when.timestamp() if when else None

        try:
            out = self.signouts.get(email, last)
        except StoreError:
            return False  # never seen, database down: the session stands meanwhile
        return out is not None and out >= since

    def _tv_request(self, tv: dict[str, Any], path: str) -> Response | None:
        """A TV session: its link must still be current; it reaches /tv and nothing else."""
        until = tv.get("until")
        if not isinstance(until, int) or until <= time.time():
            return self._end_tv("this TV link has expired")
        link_id = str(tv.get("id"))
        try:
            link = self.links.current(link_id)
        except StoreError:
            # The database is down: no revocation can have happened meanwhile (it
            # would have been refused), so the TV keeps showing its screen.
            link = None
        else:
            if link is None:
                return self._end_tv("this TV link no longer exists")
            if link.revoked_at is not None:
                return self._end_tv("this TV link was revoked")
            if not link.active:
                return self._end_tv("this TV link has expired")
        if path == TV_LEAVE_PATH:
            return self._check_csrf()
        if path == "/tv" or path.startswith(TV_PREFIXES):
            if path == DASH_CALLBACK_PATH:
                if not self._tv_callback():
                    return self.refuse(403, "a TV link only reaches the big screen")
                self.links.seen(link_id)
            return self._check_csrf()
        return self.refuse(403, "a TV link only opens the big screen (/tv)")

    def _end_tv(self, reason: str) -> Response:
        """The link of this browser's TV session ended: the session is replaced by one
        that remembers why, so every later request is refused with the reason (without
        sign-in it would otherwise fall back to the open demo's full access)."""
        session.clear()
        session[TV_ENDED] = reason
        return self.refuse(401, reason)

    def refuse(self, status: int, reason: str) -> Response:
        """Refuse a request: a sign-in redirect or page for browsers, JSON for scripts.

        Without sign-in there is nothing to sign in to: a browser that is (or was) a TV
        is offered to stop being one instead."""
        wants_html = request.method == "GET" and "text/html" in request.headers.get("Accept", "")
        if status == 401 and wants_html and self.enabled:
            nxt = request.full_path.rstrip("?") if request.query_string else request.path
            target = "/login?" + urlencode({"next": safe_next(nxt)})
            return redirect(target)  # type: ignore[return-value]
        if wants_html:
            way_out = "<p><a class='btn' href='/login'>Sign in</a></p>" if self.enabled else \
                tv_leave_form() if is_tv_session() else ""
            return page("Not allowed", f"<h1>Not allowed</h1><p class='err'>{escape(reason)}.</p>"
                        f"{way_out}", status)
        response = jsonify(error="signed_out" if status == 401 else "forbidden", message=reason,
                           login="/login" if self.enabled else None)
        response.status_code = status
        return response

    def _same_origin(self) -> bool:
        origin = request.headers.get("Origin")
        if origin is None:
            return True  # not a browser cross-site request (SameSite=Lax covers the cookie)
        return origin.rstrip("/") == _origin_of(request.scheme, request.host)

    def _check_csrf(self) -> Response | None:
        if request.method == "POST" and request.path.startswith(DASH_CALLBACK_PATH):
            sent = request.headers.get(CSRF_HEADER, "")
            if not sent or not same_token(sent, csrf_token()):
                return self.refuse(403, "the request carried no valid CSRF token; reload the "
                                        "page")
        return None

    def set_csrf_cookie(self, response: Response) -> Response:
        """After a request: the CSRF cookie the page's script sends back as a header."""
        if request.path in HOST_FREE_PATHS:  # probes and scrapers: no session, no cookie
            return response
        token = csrf_token()
        if request.cookies.get(CSRF_COOKIE) != token:
            # Readable by the page's script (Dash sends it back as a header), useless cross-site.
            response.set_cookie(CSRF_COOKIE, token, samesite="Lax", secure=request.is_secure,
                                httponly=False)
        return response

    def _tv_callback(self) -> bool:
        """Only the big screen's callbacks, and the page router when it routes to /tv."""
        try:
            body = callback_body()
        except Refused:
            return False
        if not isinstance(body, dict):
            return False
        outputs = body.get("outputs")
        items = outputs if isinstance(outputs, list) else [outputs]
        ids = [str(o.get("id", "")) for o in items if isinstance(o, dict)]
        if not ids:
            return False
        if all(i.startswith("tv-") for i in ids):
            return True
        if all(i.startswith("_pages_") for i in ids):
            paths = [i.get("value") for i in body.get("inputs", [])
                     if isinstance(i, dict) and i.get("property") == "pathname"]
            return paths == ["/tv"]
        return False

    def _open_tv_link(self, token: str) -> Response | None:
        """``/tv?key=…``: check the link, make this browser its TV and serve the page.

        The key stays in the URL, so a TV whose session is gone reopens its link
        by reloading. Someone signed in keeps their own session.
        """
        try:
            link = self.links.open(token)
        except StoreError as exc:
            return page("TV link", "<meta http-equiv='refresh' content='30'><h1>This TV link "
                        f"cannot be checked right now</h1><p class='err'>{escape(exc.message)}"
                        "</p><p class='note'>This page tries again every 30 seconds.</p>", 503)
        if link is None:
            ask = "Ask someone who can sign in for a new link." if self.enabled else \
                "Make a new one on <a href='/tv-links'>/tv-links</a> or with <code>gadash " \
                "tv-links create</code>."
            way_out = tv_leave_form() if not self.enabled and is_tv_session() else ""
            return page("TV link not valid", "<h1>This TV link does not work</h1><p class='err'>"
                        "It has expired, was revoked, or is not a gadash link.</p><p class="
                        f"'note'>{ask}</p>{way_out}", 403)
        user = current_user(self.settings) if self.enabled else None
        if user is not None:
            # Ask before replacing a person's session with a TV's (never by a GET).
            mine = escape("/tv" + link.query)
            return page("TV link", f"<h1>{escape(link.label)}</h1><p>You are signed in as "
                        f"{escape(str(user.get('email', '')))}.</p><p><a class='btn' href="
                        f"'{mine}'>Open the big screen as yourself</a></p><form method='post' "
                        "action='/tv-links/open'><input type='hidden' name='csrf' value="
                        f"'{escape(csrf_token())}'><input type='hidden' name='key' value="
                        f"'{escape(token)}'><button class='btn'>Make this browser the TV "
                        "(signs you out here)</button></form>")
        tv = session.get("tv")
        if not (isinstance(tv, dict) and tv.get("id") == link.id):
            start_tv_session(link)
        return self._check_csrf()
