"""The session cookie: how it is signed and when it expires, the person in it, and the
CSRF token it carries.

Flask's signed cookie, HttpOnly, SameSite=Lax, Secure when served over HTTPS. A
person's session expires after GADASH_SESSION_HOURS without use (renewed while in
use) and after GADASH_SESSION_MAX_HOURS in any case; a TV's lasts as long as its link.

A cookie is re-signed and sent only when its session changed (a person's is renewed
at most once a minute, ``current_user``), not on every response; a cookie whose
signature was checked is trusted for ``VERIFIED_SECONDS`` in this process, so a TV
polling twice a second does not pay for both on every poll.
"""

from __future__ import annotations

import hmac
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from flask import Flask, Request, Response, has_request_context, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from itsdangerous import BadSignature, URLSafeTimedSerializer

from gadash.memo import Recent
from gadash.settings import Settings
from gadash.store import TvLinkRow

if TYPE_CHECKING:
    from gadash.settings import Settings

COOKIE_NAME = "gadash_session"
CSRF_COOKIE = "_csrf_token"
CSRF_HEADER = "X-CSRFToken"
MAX_COOKIE_AGE = 366 * 86400  # the longest TV link, and a day
VERIFIED_SECONDS = 2.0  # a cookie whose signature was checked, trusted meanwhile
VERIFIED_SIZE = 4096  # cookies remembered at once, per process (sessions polling it)
# A TV session whose link ended (revoked, expired, deleted) keeps only why, under this key.
TV_ENDED = "tv_ended"
TV_LEAVE_PATH = "/tv-links/leave"  # where a browser stops being a TV (a POST)


def init_sessions(server: Flask, settings: Settings, secret: str) -> None:
    """Sign the server's sessions with ``secret``; its cookie's name, flags and lifetime."""
    server.session_interface = GadashSessionInterface()
    server.config.update(
        SECRET_KEY=secret,
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
        # Flask would re-sign and send a permanent session's cookie on every response
        # (every TV poll). A session is saved when it changes instead: a person's
        # "seen" is renewed at most once a minute (current_user), which renews the
        # cookie's expiry with it; a TV's cookie expires with its link anyway.
        SESSION_REFRESH_EACH_REQUEST=False,
    )


class GadashSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session; Secure exactly when the request came over HTTPS.

    The serializer is made once per key (Flask makes one per request), and a cookie
    whose signature was checked is remembered, with its payload and when it was
    signed, for ``VERIFIED_SECONDS``: the same cookie again meanwhile is not checked
    again, any other cookie (tampered, signed with another key) is.
    """

    def __init__(self) -> None:
        # The keys, their serializer and the cookies it verified (cookie -> payload,
        # when it was signed), replaced together when the keys change.
        self._signing: tuple[tuple[str | bytes, ...], URLSafeTimedSerializer,
                             Recent[str, tuple[dict[str, Any], float]]] | None = None

    def _signing_for(self, app: Flask) -> tuple[URLSafeTimedSerializer,
                                                Recent[str, tuple[dict[str, Any], float]]
                                                ] | None:
        if not app.secret_key:
            return None
        keys = (*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)
        signing = self._signing
        if signing is None or signing[0] != keys:
            serializer = cast(URLSafeTimedSerializer, super().get_signing_serializer(app))
            # A new key: cookies checked with the old one are checked again.
            signing = self._signing = (keys, serializer,
                                       Recent(VERIFIED_SECONDS, VERIFIED_SIZE))
        return signing[1], signing[2]

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        signing = self._signing_for(app)
        return signing[0] if signing else None

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(request.is_secure) if has_request_context() else True

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        # Flask refuses a cookie signed longer ago than the (people's) session lifetime;
        # a TV's session lasts as long as its link, so the signature may be as old as
        # the longest link. People stay bounded by current_user's idle check.
        signing = self._signing_for(app)
        if signing is None:
            return None
        serializer, verified = signing
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        known = verified.peek(value)
        if known is None:
            try:
                data, signed = serializer.loads(value, max_age=MAX_COOKIE_AGE,
                                                return_timestamp=True)
            except BadSignature:
                return self.session_class()
            if not isinstance(data, dict):  # never signed by gadash; as Flask does
                return self.session_class(data)
            known = (data, signed.timestamp())
            verified.put(value, known)
        elif time.time() - known[1] > MAX_COOKIE_AGE:
            return self.session_class()  # it grew too old while remembered
        # The remembered payload is never handed out: a request changing its session
        # (nested values included) must not change what the next request opens.
        return self.session_class(_copy(known[0]))

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        # Most responses (every poll) neither change nor renew the session: Flask's
        # answer for them is the Vary header alone, without working out the cookie's
        # seven attributes first.
        if not self.should_set_cookie(app, session):
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)

    def get_expiration_time(self, app: Flask, session: SessionMixin) -> datetime | None:
        # A TV's session lasts as long as its link, not the idle timeout of people.
        return session_expiry(session) or super().get_expiration_time(app, session)


def _copy(value: Any) -> Any:
    """A copy of a session payload deep enough that changing it leaves ``value`` as it was
    (the containers JSON and Flask's tagged JSON make; the rest is immutable)."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_copy(v) for v in value)
    return value


def session_expiry(data: Any) -> datetime | None:
    """When a TV session's cookie should expire: with its link (None for people)."""
    tv = data.get("tv") if hasattr(data, "get") else None
    if isinstance(tv, dict) and isinstance(tv.get("until"), int):
        return datetime.fromtimestamp(tv["until"], UTC)
    return None


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


def same_token(sent: str, expected: str) -> bool:
    """Compare tokens in constant time; any text (é included) is just a wrong token."""
    return hmac.compare_digest(sent.encode("utf-8", "replace"),
                               expected.encode("utf-8", "replace"))


def csrf_token() -> str:
    """This session's CSRF token, made at first use."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(24)
        session["csrf"] = token
    return token


def pinned_query() -> str | None:
    """The query a TV session is pinned to (its link's), or None for people."""
    tv = session.get("tv")
    if isinstance(tv, dict) and isinstance(tv.get("query"), str):
        return str(tv["query"])
    return None


def is_tv_session() -> bool:
    """Is this browser a TV, or one whose link ended?"""
    return isinstance(session.get("tv"), dict) or isinstance(session.get(TV_ENDED), str)


def start_tv_session(link: TvLinkRow) -> None:
    """Make this browser a TV of ``link``: pinned to its query, until it expires."""
    session.clear()
    session["tv"] = {"id": link.id, "query": link.query,
                     "until": int(link.expires_at.timestamp())}
    session.permanent = True
