"""The session cookie: how it is signed and when it expires, the person in it, and the
CSRF token it carries.

Flask's signed cookie, HttpOnly, SameSite=Lax, Secure when served over HTTPS. A
person's session expires after GADASH_SESSION_HOURS without use (renewed while in
use) and after GADASH_SESSION_MAX_HOURS in any case; a TV's lasts as long as its link.
"""

from __future__ import annotations

import hmac
import os
import secrets
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask, Request, has_request_context, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from itsdangerous import BadSignature

from gadash.settings import Settings

COOKIE_NAME = "gadash_session"
CSRF_COOKIE = "_csrf_token"
CSRF_HEADER = "X-CSRFToken"
MAX_COOKIE_AGE = 366 * 86400  # the longest TV link, and a day


def init_sessions(server: Flask, settings: Settings, secret: str) -> None:
    """Sign the server's sessions with ``secret``; its cookie's name, flags and lifetime."""
    server.session_interface = GadashSessionInterface()
    server.config.update(
        SECRET_KEY=secret,
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
    )


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


def signing_key(settings: Settings) -> str:
    """The key that signs sessions and TV links: GADASH_SECRET_KEY (required with
    sign-in), else the open demo's key in the data directory."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    return local_secret(settings.data_dir)  # open demo: sessions only carry the CSRF token


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
    """This session's CSRF token, made at first use."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(24)
        session["csrf"] = token
    return token
