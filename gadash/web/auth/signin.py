"""Sign-in: OIDC (Google by default) for the allowed domains or emails, and sign-out.

On dash-auth's ``OIDCAuth`` (see ``SignIn`` for what gadash overrides): the
authorization code flow with state, nonce and PKCE (authlib); the ID token's
claims decide, on the server (``check_claims``): ``email_verified``, one ``@``, and
the email in GADASH_ALLOWED_EMAILS or its domain in GADASH_ALLOWED_DOMAINS with a
matching ``hd`` claim. The session is replaced at sign-in (no session fixation);
signing out is a POST with the CSRF token, and is written to the audit log so that
copies of the session elsewhere end too (``Gate.guard`` rechecks).
"""

from __future__ import annotations

import logging
import time
from html import escape
from typing import Any, cast
from urllib.parse import urlencode

import dash
from dash_auth import OIDCAuth, add_public_routes
from flask import Flask, Response, abort, jsonify, redirect, request, session

from gadash.errors import StoreError
from gadash.memo import Recent
from gadash.settings import Settings
from gadash.store import Store
from gadash.web.auth.gate import safe_next
from gadash.web.auth.sessions import csrf_token, current_user, same_token
from gadash.web.html import page

log = logging.getLogger(__name__)

OIDC_REDIRECT_PATH = "/auth/callback"  # the redirect URI registered with the provider
# Public: the sign-in pages and the provider's way back (and OIDCAuth's routes).
SIGNIN_PATHS = ["/login", "/login/start", OIDC_REDIRECT_PATH, "/whoami"]


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


class SignIn(OIDCAuth):  # type: ignore[misc]  # dash-auth ships no type information
    """dash-auth's ``OIDCAuth`` with one provider (``IDP``), gadash's pages and rules.

    From dash-auth: the provider's registration (``register_provider``), its client
    and arguments (``get_oauth_client``, ``get_oauth_kwargs``), the authorization
    redirect (``login_request``) and its routes ``/oidc/<idp>/login`` and
    ``/oidc/<idp>/callback``. Each override says what dash-auth does and why gadash
    differs.
    """

    IDP = "google"
    app: dash.Dash
    settings: Settings
    enabled: bool
    db: Store
    signouts: Recent[str, float | None]  # the gate's memory of sign-outs

    def init_sign_in(self, app: dash.Dash, secret: str) -> None:
        """OIDCAuth (and through it dash-auth's ``Auth``), the provider, the routes."""
        # The key is always passed: OIDCAuth's default is ``Optional[None]`` (a type, not
        # None), which it sets as the server's key, so its own check never fires and
        # the first session written answers 500.
        OIDCAuth.__init__(self, app, secret_key=secret, logout_route="/logout")
        server = cast(Flask, app.server)
        add_public_routes(app, [*SIGNIN_PATHS, self.login_route, self.callback_route])
        if self.enabled:
            assert self.settings.oidc_client_secret is not None
            extra: dict[str, str] = {"prompt": "select_account"}
            if self.settings.allowed_domains:
                extra["hd"] = self.settings.allowed_domains[0]  # a hint; checked on return
            self.register_provider(
                self.IDP,
                client_id=self.settings.oidc_client_id,
                client_secret=self.settings.oidc_client_secret.get_secret_value(),
                server_metadata_url=self.settings.oidc_discovery_url,
                client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"},
                authorize_redirect_kwargs=extra,
            )
        server.add_url_rule("/login", "login", self.login)
        server.add_url_rule("/login/start", "login_start", self.login_request)
        server.add_url_rule(OIDC_REDIRECT_PATH, "auth_callback", self.callback,
                            defaults={"idp": self.IDP})
        # OIDCAuth registers /logout for GET (the question); signing out is a POST.
        server.add_url_rule("/logout", "oidc_logout", self.logout, methods=["POST"])
        server.add_url_rule("/whoami", "whoami", self.whoami)

    def login(self) -> Response:
        """``/login``: the page with the "Sign in with Google" button."""
        nxt = safe_next(request.args.get("next"))
        if not self.enabled:
            return redirect(nxt)  # type: ignore[return-value]
        who = ", ".join(self.settings.allowed_domains + self.settings.allowed_emails)
        start = "/login/start?" + urlencode({"next": nxt})
        note = "<p class='note'>You have signed out.</p>" if request.args.get("out") else ""
        return page("Sign in", f"<h1>Sign in</h1>{note}<p>This dashboard is for "
                    f"{escape(who)}.</p><p><a class='btn' href='{escape(start)}'>"
                    "Sign in with Google</a></p>")

    def login_request(self, idp: str | None = None) -> Response:
        """``/login/start`` and ``/oidc/<idp>/login``: off to the provider (OIDCAuth's
        redirect, with state, nonce and PKCE), back to ``?next=`` afterwards."""
        # OIDCAuth also answers unauthorised requests with this (a 302 to the provider,
        # for a callback too, which the renderer cannot follow); here the gate refuses
        # those (``Gate.refuse``), and this only starts a sign-in.
        if not self.enabled:
            return redirect("/")  # type: ignore[return-value]
        session["next"] = safe_next(request.args.get("next"))
        try:  # reads the provider's discovery document (once, then cached by authlib)
            response: Response = super().login_request(idp)
        except Exception as exc:  # noqa: BLE001 -- unreachable, not JSON, TLS ...
            log.warning("sign-in could not start: %s: %r", type(exc).__name__, str(exc))
            return page("Sign-in unavailable", "<h1>Sign-in unavailable</h1><p class='err'>"
                        "The sign-in provider could not be reached. Try again in a minute."
                        "</p><p><a class='btn' href='/login'>Try again</a></p>", 503)
        return response

    def _create_redirect_uri(self, idp: str) -> str:
        """``/auth/callback`` at GADASH_PUBLIC_URL, whatever the idp."""
        # OIDCAuth builds its <idp> route's URL from the request and puts X-Forwarded-Host
        # in place of the Host whether or not a proxy is trusted (a forged header would
        # send the code elsewhere); existing OAuth clients list /auth/callback.
        if self.settings.public_url:
            return self.settings.public_url.rstrip("/") + OIDC_REDIRECT_PATH
        # Without ProxyFix (no proxy trusted) this is the Host the server was reached on;
        # X-Forwarded-Host is ignored.
        return request.host_url.rstrip("/") + OIDC_REDIRECT_PATH

    def callback(self, idp: str) -> Response:
        """``/auth/callback`` and ``/oidc/<idp>/callback``: verify the provider's answer
        (OIDCAuth's client), check the claims, sign in."""
        # OIDCAuth catches only OAuthError (a wrong nonce, an expired or foreign ID token,
        # an unreachable provider give 500), echoes an unknown idp unescaped, keeps the
        # session it had (fixation) and stores whatever the provider said; here any
        # failure is the "Sign-in failed" page, the claims decide, the session is new.
        if not self.enabled:
            return redirect("/")  # type: ignore[return-value]
        if request.args.get("error"):
            return self._login_failed(f"Google answered: {request.args['error']}")
        try:
            client = self.get_oauth_client(idp)  # ValueError: not the registered idp
            token = client.authorize_access_token(
                **self.get_oauth_kwargs(idp).get("authorize_token_kwargs", {}))
        except Exception as exc:  # noqa: BLE001 -- state, PKCE, signature, nonce, expiry ...
            # Whatever fails while verifying the answer, the sign-in cannot be trusted.
            # %r: the message may quote the URL's idp, which may hold a newline
            log.warning("sign-in refused: %s: %r", type(exc).__name__, str(exc))
            return self._login_failed("The sign-in could not be verified (it may have been "
                                      "started in another tab, or taken too long).")
        claims = dict(token.get("userinfo") or {})
        reason = check_claims(claims, self.settings)
        if reason is not None:
            log.info("sign-in refused for %r: %s", claims.get("email"), reason)
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
        """``/logout``: GET asks, POST with the CSRF token signs out (here and, through
        the audit log, in every copy of the session)."""
        # OIDCAuth signs out on a GET, so any page can sign a visitor out (an image will
        # do), and only in this browser.
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
                self.signouts.forget(email)
            except StoreError as exc:
                log.warning("sign-out of %s not recorded on the server: %s", email, exc)
                return page("Signed out", "<h1>Signed out in this browser</h1><p class='err'>"
                            "The sign-out could not be recorded on the server, so a copy of "
                            f"this session elsewhere may still work: {escape(exc.message)}</p>"
                            "<p><a class='btn' href='/login'>Sign in</a></p>", 503)
        return redirect("/login?out=1")  # type: ignore[return-value]

    def whoami(self) -> Response:
        """``/whoami``: who is signed in, whether sign-in is on, the CSRF token."""
        user = current_user(self.settings) if self.enabled else None
        return jsonify(user=user, sign_in=self.enabled, csrf=csrf_token())
