"""Access to gadash: sign-in, sessions, TV links and the checks every request passes.

- ``gate``: the checks before Dash (Host, Origin, CSRF, session expiry, TV-link
  scope), on dash-auth's ``Auth``;
- ``signin``: OIDC sign-in limited to the allowed domains or emails, and sign-out,
  on dash-auth's ``OIDCAuth``;
- TV links (``gadash.store.tvlinks``; their pages ``gadash.web.routes.tvlinks``): a
  TV session is pinned to its link's query (``sessions.pinned_query``);
- ``sessions``: the signed session cookie, the person in it, the CSRF token;

``Auth`` puts them together for one app.
"""

from __future__ import annotations

from typing import cast

import dash
from flask import Flask

from gadash.settings import Settings, local_secret, signing_key
from gadash.store import Store
from gadash.web.auth.gate import Gate, safe_next
from gadash.web.auth.sessions import (
    CSRF_COOKIE,
    CSRF_HEADER,
    GadashSessionInterface,
    csrf_token,
    current_user,
    init_sessions,
    same_token,
)
from gadash.web.auth.signin import SignIn, check_claims, normal_email
from gadash.web.html import page

__all__ = ["AUTH_EXTENSION", "CSRF_COOKIE", "CSRF_HEADER", "Auth", "GadashSessionInterface",
           "check_claims", "csrf_token", "current_user", "local_secret", "normal_email", "page",
           "safe_next", "same_token"]

AUTH_EXTENSION = "gadash_auth"


class Auth(Gate, SignIn):
    """Sign-in, sessions, CSRF and TV links for one Dash app.

    The gate comes first: its ``_protect`` and ``is_authorized`` are the ones dash-auth
    calls, in place of OIDCAuth's.
    """

    def __init__(self, app: dash.Dash, settings: Settings, db: Store):
        server = cast(Flask, app.server)
        secret = signing_key(settings)
        init_sessions(server, settings, secret)
        self.init_gate(app, settings, db, secret)
        # The gate's state first: OIDCAuth's __init__ runs dash-auth's, which calls
        # _protect (the gate's hooks).
        self.init_sign_in(app, secret)
