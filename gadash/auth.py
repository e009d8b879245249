"""Access: OIDC sign-in (Google by default) limited to allowed domains or emails,
read-only links for TVs, and the checks every request passes first.

Every request but the health check and the sign-in pages goes through
``guard`` before Dash sees it, so nothing below (callbacks, the data service,
the cache) ever runs for a request that may not read data.

- Sign-in: authlib's Flask client (authorization code flow with state, nonce
  and PKCE); the ID token's claims decide, on the server: ``email_verified``,
  one ``@``, and the email in GADASH_ALLOWED_EMAILS or its domain in
  GADASH_ALLOWED_DOMAINS with a matching ``hd`` claim.
- Session: Flask's signed cookie, HttpOnly, SameSite=Lax, Secure when served
  over HTTPS; it expires after GADASH_SESSION_HOURS without use and is renewed
  while in use; it is cleared at sign-in (no session fixation).
- Callbacks: a CSRF token (Dash sends the ``_csrf_token`` cookie back as the
  ``X-CSRFToken`` header) and an Origin check.
- TV links (``gadash.tvlinks``): rows in the team's database; a link's session
  opens the big screen and nothing else, pinned to the link's query.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import time
from datetime import datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode, urlsplit

import dash
from authlib.integrations.flask_client import OAuth
from dash_auth.auth import Auth as DashAuth
from dash_auth.public_routes import PUBLIC_ROUTES as DASH_AUTH_PUBLIC_ROUTES
from dash_auth.public_routes import get_public_routes
from flask import (
    Flask,
    Request,
    Response,
    abort,
    has_request_context,
    jsonify,
    redirect,
    request,
    session,
)
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from itsdangerous import BadSignature
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import Map, Rule

from gadash.errors import StoreError
from gadash.memo import Recent
from gadash.settings import LOOPBACK, Settings
from gadash.store import Store
from gadash.tvlinks import TvLinks, session_expiry, start_tv_session
from gadash.tvlinks import register_routes as register_tv_links
from gadash.validation import Refused, callback_body

log = logging.getLogger(__name__)

AUTH_EXTENSION = "gadash_auth"
CSRF_COOKIE = "_csrf_token"
CSRF_HEADER = "X-CSRFToken"
MAX_COOKIE_AGE = 366 * 86400  # the longest TV link, and a day
# Load balancers call these by address: they answer whatever the Host header says.
SIGNOUT_RECHECK = 5.0  # seconds a process trusts what it knows of a person's sign-out
HOST_FREE_PATHS = {"/healthz", "/readyz", "/metrics"}
PUBLIC_PATHS = {"/healthz", "/readyz", "/login", "/login/start", "/auth/callback",
                "/favicon.ico", "/robots.txt", "/whoami"}
# What a TV link may reach besides /tv: the page's scripts, layout and callbacks.
TV_PREFIXES = ("/_dash-component-suites/", "/assets/", "/_dash-layout", "/_dash-dependencies",
               "/_dash-update-component", "/_favicon.ico", "/_reload-hash")


# ----------------------------------------------------------------- access rules

def check_claims(claims: dict[str, Any], settings: Settings) -> str | None:
    """Why these ID-token claims may not sign in, or None when they may."""
    email = normal_email(claims.get("email"))
    if email is None:
        return "The account has no single, plain email address."
    verified = claims.get("email_verified")
    if verified is not True and verified != "true":  # 1 or "yes" are not true
        return f"Google has not verified the address {email}."
    address = email
    domain = address.rsplit("@", 1)[1]
    if address in settings.allowed_emails:
        return None
    if settings.allowed_domains:
        hd = claims.get("hd")
        if domain not in settings.allowed_domains:
            allowed = ", ".join(settings.allowed_domains)
            return f"{email} is not an address of {allowed}."
        if not isinstance(hd, str) or hd.lower() != domain:
            return (f"{email} is not signed in through the {domain} Google Workspace "
                    "(the hosted-domain claim is missing or different).")
        return None
    return f"{email} is not on the list of people who may sign in."


def normal_email(value: object) -> str | None:
    """An address trimmed and in lower case, or None when it is not one plain address
    (no spaces or control characters inside, exactly one ``@``, text on both sides)."""
    if not isinstance(value, str):
        return None
    address = value.strip().lower()
    if address.count("@") != 1 or any(c.isspace() or ord(c) < 32 for c in address):
        return None
    local, domain = address.split("@")
    return address if local and domain else None


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


# ----------------------------------------------------------------- sessions

class GadashSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session; Secure exactly when the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(request.is_secure) if has_request_context() else True

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        # Flask refuses a cookie signed longer ago than the (people's) session lifetime;
        # a TV's session lasts as long as its link, so the signature may be as old as
        # the longest link. People stay bounded by current_user's idle check.
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        try:
            return self.session_class(serializer.loads(value, max_age=MAX_COOKIE_AGE))
        except BadSignature:
            return self.session_class()

    def get_expiration_time(self, app: Flask, session: SessionMixin) -> datetime | None:
        # A TV's session lasts as long as its link, not the idle timeout of people.
        return session_expiry(session) or super().get_expiration_time(app, session)


def current_user(settings: Settings) -> dict[str, Any] | None:
    """The signed-in user, if the session is valid and in use recently enough."""
    user = session.get("user")
    seen = session.get("seen")
    since = session.get("since")
    if not isinstance(user, dict) or not isinstance(seen, int | float) \
            or not isinstance(since, int | float):
        return None
    now = time.time()
    if now - seen > settings.session_hours * 3600 or \
            now - since > settings.session_max_hours * 3600:
        session.clear()
        return None
    if time.time() - seen > 60:  # renew while in use, without a cookie on every request
        session["seen"] = int(time.time())
    return user


def local_secret(data_dir: Path) -> str:
    """The open demo's signing key: made once in the data directory and shared by every
    worker of this machine (a key per process would refuse each other's cookies)."""
    path = data_dir / "secret_key"
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another worker is writing it this very moment
            text = path.read_text().strip()
            if text:
                return text
            time.sleep(0.02)
        raise
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def same_token(sent: str, expected: str) -> bool:
    """Compare tokens in constant time; any text (é included) is just a wrong token."""
    return hmac.compare_digest(sent.encode("utf-8", "replace"),
                               expected.encode("utf-8", "replace"))


def csrf_token() -> str:
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(24)
        session["csrf"] = token
    return token


# ----------------------------------------------------------------- pages

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title} – gadash</title>
<style>body{{font-family:system-ui,sans-serif;background:#f6f7f9;color:#202124;margin:0}}
main{{max-width:560px;margin:12vh auto;background:#fff;border:1px solid #e3e5e8;border-radius:12px;
padding:28px 32px}}h1{{font-size:22px;margin:0 0 12px}}.logo{{font-weight:800;font-size:26px}}
.logo b{{color:#1a73e8}}.btn{{display:inline-block;background:#1a73e8;color:#fff;border:0;
border-radius:6px;padding:10px 18px;font-size:15px;text-decoration:none;cursor:pointer}}
.err{{background:#fce8e6;border:1px solid #f5b9b3;color:#a50e0e;padding:10px 14px;
border-radius:8px}}
.note{{color:#5f6368}}table{{border-collapse:collapse;width:100%;margin:12px 0}}
td,th{{text-align:left;padding:6px;border-bottom:1px solid #eee;font-size:14px}}
input,select{{padding:6px;margin:4px 0 10px;width:100%;box-sizing:border-box}}
code{{word-break:break-all}}</style></head><body><main>
<div class="logo"><b>ga</b>dash</div>{body}</main></body></html>"""


def page(title: str, body: str, status: int = 200) -> Response:
    return Response(_PAGE.format(title=escape(title), body=body), status=status,
                    mimetype="text/html")


class Auth(DashAuth):  # type: ignore[misc]  # dash-auth ships no type information
    """Sign-in, sessions, CSRF and TV links for one Dash app, on dash-auth's ``Auth``.

    dash-auth gives the shape (``is_authorized`` / ``login_request``, a ``_protect``
    hook, the public-routes map in the server's config and its ``public_callback``);
    gadash overrides what falls short for a team dashboard:
    - ``_protect``: dash-auth's check reads ``body["output"]`` unchecked (a malformed
      body gives 500) and lets a callback through when its ``pathname`` input names a
      public route; gadash's gate (``guard``) keeps its own rules: allowed domains and
      ``hd``, ``email_verified``, session expiry, CSRF, Origin, TV-link scope.
    - the public routes: dash-auth's base list makes ``/_dash-layout`` and
      ``/_dash-dependencies`` public; here only the routes in ``PUBLIC_ROUTES`` are.
    - ``login_request``: a redirect for pages, 401 JSON for callbacks (not a 302 a
      renderer cannot follow).
    """

    def __init__(self, app: dash.Dash, settings: Settings, db: Store):
        server = cast(Flask, app.server)
        self.settings = settings
        self.enabled = settings.sign_in
        server.session_interface = GadashSessionInterface()
        secret = settings.secret_key.get_secret_value() if settings.secret_key else \
            local_secret(settings.data_dir)  # open demo: sessions only carry the CSRF token
        server.config.update(
            SECRET_KEY=secret,
            SESSION_COOKIE_NAME="gadash_session",
            SESSION_COOKIE_HTTPONLY=True,
            SESSION_COOKIE_SAMESITE="Lax",
            PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
        )
        if settings.proxy_hops:
            # Forwarded headers are trusted only when a proxy is said to be in front.
            n = settings.proxy_hops
            server.wsgi_app = ProxyFix(  # type: ignore[method-assign]
                server.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)
        self.db = db
        self._signouts: Recent[str, float | None] = Recent(SIGNOUT_RECHECK)
        self._public_host = urlsplit(settings.public_url or "").netloc
        self.links = TvLinks(db, secret)
        self.oauth = OAuth(server)
        if self.enabled:
            assert settings.oidc_client_secret is not None
            self.oauth.register(
                "oidc",
                client_id=settings.oidc_client_id,
                client_secret=settings.oidc_client_secret.get_secret_value(),
                server_metadata_url=settings.oidc_discovery_url,
                client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"},
            )
        # dash-auth's public-routes map, holding gadash's routes only (see the docstring).
        server.config[DASH_AUTH_PUBLIC_ROUTES] = Map(
            [Rule(path) for path in sorted(PUBLIC_PATHS)]).bind("")
        DashAuth.__init__(self, app)  # calls _protect
        server.add_url_rule("/login", "login", self.login)
        server.add_url_rule("/login/start", "login_start", self.login_start)
        server.add_url_rule("/auth/callback", "auth_callback", self.callback)
        server.add_url_rule("/logout", "logout", self.logout, methods=["GET", "POST"])
        register_tv_links(server, self)
        server.add_url_rule("/whoami", "whoami", self.whoami)

    # -- the gate -------------------------------------------------------------------
    def _protect(self) -> None:
        """dash-auth's hook: gadash's gate before every request, its CSRF cookie after."""
        server = self.app.server
        server.before_request(self.guard)
        server.after_request(self.set_csrf_cookie)

    def is_authorized(self) -> bool:
        """dash-auth's question: may this request see the dashboard (a person signed in,
        or sign-in off)? TV sessions are judged by ``guard``, per path."""
        return not self.enabled or current_user(self.settings) is not None

    def login_request(self) -> Response:
        """dash-auth's answer to a request that is not authorised."""
        return self._refuse(401, "sign in to see this dashboard")

    def guard(self) -> Any:
        path = request.path
        if path in HOST_FREE_PATHS:
            return None
        if self.enabled and self.settings.public_url and request.host != self._public_host:
            # Sign-in redirects and cookies are for the public address only.
            return self._refuse(421, f"this gadash answers at {self.settings.public_url}")
        if get_public_routes(self.app).test(path):
            return None
        if request.method == "POST" and not self._same_origin():
            return self._refuse(403, "cross-site request refused")
        if not self.enabled:
            if not self.settings.allow_open and request.remote_addr not in LOOPBACK:
                return self._refuse(403, "this gadash runs without sign-in and only answers on "
                                         "the machine it runs on")
            return self._check_csrf()
        if path == "/tv" and request.args.get("key"):
            return self._open_tv_link(request.args["key"])
        user = current_user(self.settings)
        if user is not None:
            if self._signed_out_since(str(user.get("email", "")), session.get("since", 0)):
                session.clear()
                return self._refuse(401, "you signed out (perhaps in another browser)")
            return self._check_csrf()
        tv = session.get("tv")
        if isinstance(tv, dict):
            return self._tv_request(tv, path)
        return self._refuse(401, "sign in to see this dashboard")

    def _signed_out_since(self, email: str, since: float) -> bool:
        """Did this person sign out after this session began (on any browser)?

        Looked up at most every few seconds per person and process; while the
        database is down, what it said last stands.
        """
        def last() -> float | None:
            when = self.db.audit.last(email, "sign_out")
            return when.timestamp() if when else None

        try:
            out = self._signouts.get(email, last)
        except StoreError:
            return False  # never seen, database down: the session stands meanwhile
        return out is not None and out >= since

    def _tv_request(self, tv: dict[str, Any], path: str) -> Response | None:
        """A TV session: its link must still be current; it reaches /tv and nothing else."""
        until = tv.get("until")
        if not isinstance(until, int) or until <= time.time():
            session.clear()
            return self._refuse(401, "this TV link has expired")
        link_id = str(tv.get("id"))
        try:
            link = self.links.current(link_id)
        except StoreError:
            # The database is down: no revocation can have happened meanwhile (it
            # would have been refused), so the TV keeps showing its screen.
            link = None
        else:
            if link is None or not link.active:
                session.clear()
                return self._refuse(401, "this TV link has expired or was revoked")
        if path == "/tv" or path.startswith(TV_PREFIXES):
            if path == "/_dash-update-component":
                if not self._tv_callback():
                    return self._refuse(403, "a TV link only reaches the big screen")
                self.links.seen(link_id)
            return self._check_csrf()
        return self._refuse(403, "a TV link only opens the big screen (/tv)")

    def refuse(self, status: int, reason: str) -> Response:
        """Refuse a request: a sign-in redirect or page for browsers, JSON for scripts."""
        return self._refuse(status, reason)

    def _refuse(self, status: int, reason: str) -> Response:
        wants_html = request.method == "GET" and "text/html" in request.headers.get("Accept", "")
        if status == 401 and wants_html:
            nxt = request.full_path.rstrip("?") if request.query_string else request.path
            target = "/login?" + urlencode({"next": safe_next(nxt)})
            return redirect(target)  # type: ignore[return-value]
        if wants_html:
            return page("Not allowed", f"<h1>Not allowed</h1><p class='err'>{escape(reason)}.</p>"
                        "<p><a class='btn' href='/login'>Sign in</a></p>", status)
        response = jsonify(error="signed_out" if status == 401 else "forbidden", message=reason,
                           login="/login")
        response.status_code = status
        return response

    def _same_origin(self) -> bool:
        origin = request.headers.get("Origin")
        if origin is None:
            return True  # not a browser cross-site request (SameSite=Lax covers the cookie)
        return origin.rstrip("/") == request.host_url.rstrip("/")

    def _check_csrf(self) -> Response | None:
        if request.method == "POST" and request.path.startswith("/_dash-update-component"):
            sent = request.headers.get(CSRF_HEADER, "")
            if not sent or not same_token(sent, csrf_token()):
                return self._refuse(403, "the request carried no valid CSRF token; reload the "
                                         "page")
        return None

    def set_csrf_cookie(self, response: Response) -> Response:
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
            return page("TV link not valid", "<h1>This TV link does not work</h1><p class='err'>"
                        "It has expired, was revoked, or is not a gadash link.</p><p class="
                        "'note'>Ask someone who can sign in for a new link.</p>", 403)
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

    # -- sign-in ----------------------------------------------------------------------
    def login(self) -> Response:
        nxt = safe_next(request.args.get("next"))
        if not self.enabled:
            return redirect(nxt)  # type: ignore[return-value]
        who = ", ".join(self.settings.allowed_domains + self.settings.allowed_emails)
        start = "/login/start?" + urlencode({"next": nxt})
        note = "<p class='note'>You have signed out.</p>" if request.args.get("out") else ""
        return page("Sign in", f"<h1>Sign in</h1>{note}<p>This dashboard is for "
                    f"{escape(who)}.</p><p><a class='btn' href='{escape(start)}'>"
                    "Sign in with Google</a></p>")

    def login_start(self) -> Response:
        if not self.enabled:
            return redirect("/")  # type: ignore[return-value]
        session["next"] = safe_next(request.args.get("next"))
        extra: dict[str, str] = {"prompt": "select_account"}
        if self.settings.allowed_domains:
            extra["hd"] = self.settings.allowed_domains[0]  # a hint only; checked on return
        response: Response = self.oauth.oidc.authorize_redirect(self._redirect_uri(), **extra)
        return response

    def _redirect_uri(self) -> str:
        if self.settings.public_url:
            return self.settings.public_url.rstrip("/") + "/auth/callback"
        # Without ProxyFix (no proxy trusted) this is the Host the server was reached on;
        # X-Forwarded-Host is ignored.
        return request.host_url.rstrip("/") + "/auth/callback"

    def callback(self) -> Response:
        if not self.enabled:
            return redirect("/")  # type: ignore[return-value]
        if request.args.get("error"):
            return self._login_failed(f"Google answered: {request.args['error']}")
        try:
            token = self.oauth.oidc.authorize_access_token()
        except Exception as exc:  # noqa: BLE001 -- state, PKCE, signature, nonce, expiry ...
            # Whatever fails while verifying the answer, the sign-in cannot be trusted.
            log.warning("sign-in refused: %s: %s", type(exc).__name__, exc)
            return self._login_failed("The sign-in could not be verified (it may have been "
                                      "started in another tab, or taken too long).")
        claims = dict(token.get("userinfo") or {})
        reason = check_claims(claims, self.settings)
        if reason is not None:
            log.info("sign-in refused for %s: %s", claims.get("email"), reason)
            session.clear()
            again = "/login/start?" + urlencode({"next": "/"})
            who = ", ".join(self.settings.allowed_domains + self.settings.allowed_emails)
            return page("Access refused", f"<h1>Access refused</h1><p class='err'>"
                        f"{escape(reason)}</p><p class='note'>This dashboard is for "
                        f"{escape(who)}. Sign in with one of their accounts.</p><p><a "
                        f"class='btn' href='{escape(again)}'>Sign in with another account</a>"
                        "</p>", 403)
        nxt = safe_next(session.get("next"))
        session.clear()  # a fresh session at sign-in
        session["user"] = {"email": normal_email(claims["email"]), "name": claims.get("name", ""),
                           "picture": claims.get("picture", "")}
        session["seen"] = session["since"] = time.time()
        session.permanent = True
        try:
            self.db.audit.record(str(normal_email(claims["email"])), "sign_in")
        except StoreError as exc:  # the sign-in stands; only its trace is missing
            log.warning("sign-in of %s not written to the audit log: %s", claims["email"], exc)
        return redirect(nxt)  # type: ignore[return-value]

    def _login_failed(self, reason: str) -> Response:
        return page("Sign-in failed", f"<h1>Sign-in failed</h1><p class='err'>{escape(reason)}"
                    "</p><p><a class='btn' href='/login'>Try again</a></p>", 400)

    def logout(self) -> Response:
        if request.method == "GET":
            return page("Sign out", "<h1>Sign out?</h1><form method='post'><input type='hidden'"
                        f" name='csrf' value='{escape(csrf_token())}'><button class='btn'>"
                        "Sign out</button></form>")
        if not same_token(request.form.get("csrf", ""), csrf_token()):
            abort(403)
        user = session.get("user")
        session.clear()
        if isinstance(user, dict) and user.get("email"):
            email = str(user["email"])
            try:  # a copy of the cookie made before now no longer works either
                self.db.audit.record(email, "sign_out")
                self._signouts.forget(email)
            except StoreError as exc:
                log.warning("sign-out of %s not recorded on the server: %s", email, exc)
                return page("Signed out", "<h1>Signed out in this browser</h1><p class='err'>"
                            "The sign-out could not be recorded on the server, so a copy of "
                            f"this session elsewhere may still work: {escape(exc.message)}</p>"
                            "<p><a class='btn' href='/login'>Sign in</a></p>", 503)
        return redirect("/login?out=1")  # type: ignore[return-value]

    def whoami(self) -> Response:
        user = current_user(self.settings) if self.enabled else None
        return jsonify(user=user, sign_in=self.enabled, csrf=csrf_token())
