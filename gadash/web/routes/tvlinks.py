"""``/tv-links``: create, list and revoke TV links; ``/tv-links/open``."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from flask import Flask, Response, abort, redirect, request, session

from gadash.errors import StoreError
from gadash.store.panels import panel_lookup
from gadash.store.tvlinks import TV_LINK_DAYS, link_label, playlist_problems
from gadash.web.answers import today_of
from gadash.web.auth.sessions import (
    TV_LEAVE_PATH,
    csrf_token,
    current_user,
    is_tv_session,
    same_token,
    start_tv_session,
)
from gadash.web.context import get_service
from gadash.web.html import page

if TYPE_CHECKING:
    from gadash.web.auth import Auth


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "never"


def register_routes(server: Flask, auth: Auth) -> None:
    """``/tv-links``: create, list (with when each TV was last seen) and revoke."""

    def tv_links() -> Response:
        user = current_user(auth.settings) if auth.enabled else {"email": "local demo"}
        if user is None:
            return auth.refuse(401, "sign in to manage TV links")
        links = auth.links
        csrf = escape(csrf_token())
        admins = auth.settings.admin_emails
        manages = not auth.enabled or not admins or str(user.get("email", "")).lower() in admins
        if request.method == "POST":
            if not same_token(request.form.get("csrf", ""), csrf_token()):
                abort(403)
            if not manages:
                return page("TV links", "<h1>Not allowed</h1><p class='err'>Only the TV-link "
                            "admins (GADASH_ADMIN_EMAILS) create and revoke TV links; nothing "
                            "was changed.</p><p><a href='/tv-links'>All TV links</a></p>", 403)
            try:
                if request.form.get("revoke"):
                    if not links.revoke(request.form["revoke"], str(user["email"])):
                        return page("TV link", "<h1>No such TV link</h1><p><a href="
                                    "'/tv-links'>All TV links</a></p>", 404)
                    return redirect("/tv-links")  # type: ignore[return-value]
                days = _days(request.form.get("days", "7"))
                label = link_label(request.form.get("label", ""))
                query = request.form.get("query", "")
                problems = playlist_problems(query, list(get_service().properties),
                                             auth.settings, panels=panel_lookup(links.store),
                                             today=today_of)
                if problems:
                    items = "".join(f"<li>{escape(p)}</li>" for p in problems)
                    return page("TV link", "<h1>The playlist needs a change</h1><p class='err'>"
                                f"Nothing was created:</p><ul>{items}</ul><p><a href="
                                "'/tv-links'>Back to the TV links</a></p>", 400)
                link, token = links.create(query, label, str(user["email"]), days)
            except StoreError as exc:
                return page("Not saved", f"<h1>Nothing was changed</h1><p class='err'>"
                            f"{escape(exc.message)}</p><p><a href='/tv-links'>Back to the TV "
                            "links</a></p>", 503)
            url = request.host_url.rstrip("/") + "/tv?" + urlencode({"key": token})
            return page("TV link", f"<h1>Link for {escape(link.label)}</h1><p>Open this on "
                        f"the TV (it shows the big screen only, until it expires in {days} "
                        f"day{'s' if days > 1 else ''}):</p>"
                        f"<p><code id='tv-link'>{escape(url)}</code></p>"
                        "<p><a href='/tv-links'>All TV links</a></p>")
        try:
            rows = links.store.links.list()
        except StoreError as exc:
            return page("TV links", f"<h1>TV links</h1><p class='err'>{escape(exc.message)}"
                        "</p>", 503)
        table = "".join(
            f"<tr><td>{escape(link.label)}</td><td>{escape(link.query or '(defaults)')}</td>"
            f"<td>{escape(link.created_by)}</td><td>{_when(link.expires_at)}</td>"
            f"<td>{_when(link.last_seen_at)}</td><td>"
            + (f"<form method='post'><input type='hidden' name='csrf' value='{csrf}'>"
               f"<button name='revoke' value='{escape(link.id)}'>Revoke</button></form>"
               if manages else "") + "</td></tr>"
            for link in rows)
        options = "".join(f"<option value='{d}'>{d} day{'s' if d > 1 else ''}</option>"
                          for d in TV_LINK_DAYS)
        form = ("<form method='post'>"
                f"<input type='hidden' name='csrf' value='{csrf}'>"
                "<label>Name<input name='label' placeholder='Office TV'></label>"
                "<label>Playlist (the /tv query string)<input name='query' "
                "placeholder='screens=overview,realtime&amp;rotate=30'></label>"
                f"<label>Expires after<select name='days'>{options}</select></label>"
                "<button class='btn'>Create link</button></form>") if manages else (
            "<p class='note'>Only the TV-link admins create and revoke TV links: "
            f"{escape(', '.join(admins))}.</p>")
        where = "" if auth.enabled else (
            " This gadash runs without sign-in, so its links open only on the machine it "
            "runs on" + (" and wherever GADASH_ALLOW_OPEN lets it be reached"
                         if auth.settings.allow_open else "") + "; they are pinned and "
            "revocable all the same.")
        return page("TV links", f"<h1>TV links</h1><p class='note'>A TV link opens the big "
                    "screen without signing in, and nothing else: the property, range and "
                    "screens it was made with, whatever its URL says. Revoking it stops its "
                    f"screens at their next update.{where}</p>{form}"
                    "<table><tr><th>Name</th><th>Playlist</th><th>By</th><th>Expires</th>"
                    f"<th>Last seen</th><th></th></tr>{table}</table>")

    def open_here() -> Response:
        """A signed-in person makes this browser the TV of a link (asked, by POST)."""
        if not same_token(request.form.get("csrf", ""), csrf_token()):
            abort(403)
        key = request.form.get("key", "")
        try:
            link = auth.links.open(key)
        except StoreError as exc:
            return page("TV link", f"<h1>Not now</h1><p class='err'>{escape(exc.message)}</p>",
                        503)
        if link is None:
            return page("TV link not valid", "<h1>This TV link does not work</h1>", 403)
        start_tv_session(link)
        return redirect("/tv?" + urlencode({"key": key}))  # type: ignore[return-value]

    def leave() -> Response:
        """This browser stops being a TV (by POST); a person's session is left alone."""
        if not same_token(request.form.get("csrf", ""), csrf_token()):
            abort(403)
        if is_tv_session():
            session.clear()
        return redirect("/")  # type: ignore[return-value]

    server.add_url_rule("/tv-links", "tv_links", tv_links, methods=["GET", "POST"])
    server.add_url_rule("/tv-links/open", "tv_link_open", open_here, methods=["POST"])
    server.add_url_rule(TV_LEAVE_PATH, "tv_link_leave", leave, methods=["POST"])


def _days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        abort(400)
    if days not in TV_LINK_DAYS:
        abort(400)
    return days
